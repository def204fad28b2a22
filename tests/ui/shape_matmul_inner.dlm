// The inner sizes of a matrix product must agree.
layer proj(x: f32[B, 64]) -> f32[B, 10] {
    param w: f32[32, 10] = glorot_uniform
    x @ w
    //~^ shape::mismatch: inner sizes 64 and 32 differ
}
