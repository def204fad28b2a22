// A `let` with a declared type is checked.
layer proj(x: f32[B, I], units: O) -> f32[B, O] {
    param w: f32[I, O] = glorot_uniform
    let z: f32[B, I] = x @ w
    //~^ shape::mismatch: the value is f32[B, O] but is declared f32[B, I]
    z
}
