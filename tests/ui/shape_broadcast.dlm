// Elementwise operands must broadcast.
fn add(a: f32[B, 3], b: f32[B, 4]) -> f32[B, 3] {
    a + b
    //~^ shape::broadcast: shapes [B, 3] and [B, 4] do not broadcast
}
