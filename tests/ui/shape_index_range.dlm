// A position must lie inside its axis.
fn last(x: f32[B, 3]) -> f32[B] {
    x[:, 5]
    //~^ shape::index: position 5 is out of range for axis 1
}
