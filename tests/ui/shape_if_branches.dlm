// Both branches of `if` must have one type.
fn pick(x: f32[B, 3]) -> f32[B, 3] {
    if training { x } else { x[:, 0] }
    //~^ shape::mismatch: the branches of `if` differ
}
