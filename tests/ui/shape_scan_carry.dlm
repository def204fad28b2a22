// A carry keeps its type through every step.
fn running(x: f32[B, T, D]) -> f32[B, D] {
    scan (h = zeros(B, D)) over xt in x along 1 {
        concat([h, xt], axis: 1)
        //~^ shape::mismatch: carry `h` starts as f32[B, D] but the body makes it f32[B, 2*D]
    }
}
