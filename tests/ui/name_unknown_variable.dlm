// A misspelt variable inside a body.
fn scale(values: f32[B, D], factor: float) -> f32[B, D] {
    value * factor
    //~^ name::unknown: unknown name `value`
}
