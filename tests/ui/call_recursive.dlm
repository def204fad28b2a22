// Definitions are inlined, so they cannot call themselves.
fn forever(x: f32[B]) -> f32[B] {
    forever(x) + 1.0
    //~^ call::recursive: `forever` calls itself
}
