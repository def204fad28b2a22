// A user item may not reuse a std name.
layer dense(x: f32[B, I], units: O) -> f32[B, O] {
    //~^ name::duplicate: already defined by the standard library
    param w: f32[I, O] = glorot_uniform
    x @ w
}
