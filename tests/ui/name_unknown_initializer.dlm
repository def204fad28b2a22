// A misspelt initializer.
layer lin(x: f32[B, I], units: O) -> f32[B, O] {
    param w: f32[I, O] = glorot_unifrom
    //~^ name::unknown: unknown initializer `glorot_unifrom`
    x @ w
}
