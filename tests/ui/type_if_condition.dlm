// The condition of `if` is a static bool.
fn gate(x: f32[B, D]) -> f32[B, D] {
    if x { x } else { -x }
    //~^ type::kind: the condition of `if` must be a bool
}
