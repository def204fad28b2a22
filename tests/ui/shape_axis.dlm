// An axis must exist.
fn total(x: f32[B, D]) -> f32[B] {
    sum(x, axis: 3)
    //~^ shape::axis: axis 3 is out of range
}
