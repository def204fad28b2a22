// A parameter's size must come from the signature.
layer lin(x: f32[B, I], units: O) -> f32[B, O] {
    param w: f32[I, P] = glorot_uniform
    //~^ name::unknown: unknown dimension `P`
    x @ w
}
