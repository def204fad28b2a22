// `/` in a dimension must divide exactly.
fn halves(x: f32[B, D]) -> f32[B, 2, D / 2] {
    reshape(x, [B, 2, D / 2])
}
model M(x: f32[B, 5]) -> f32[B, 2, 2] {
    halves(x)
    //~^ shape::division: 5 / 2, which leaves a remainder
}
