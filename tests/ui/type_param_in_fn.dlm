// A `fn` is pure: no parameters.
fn biased(x: f32[B, D]) -> f32[B, D] {
    param b: f32[D] = zeros
    //~^ type::kind: `param` is not allowed here
    x + b
}
