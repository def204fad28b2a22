//! Activation functions, elementwise or over the last axis.
//!
//! `sigmoid` and `tanh` are primitives of the language and serve as
//! activations directly (`x |> dense(64) |> tanh`); they are not redefined
//! here. Everything else is written on top of the primitives.

/// Rectified linear unit: `max(x, 0)`.
fn relu(x: f32[...]) -> f32[...] {
    max(x, 0.0)
}

/// Leaky ReLU: `x` for positive `x`, `alpha * x` otherwise (Keras' default
/// slope 0.3).
fn leaky_relu(x: f32[...], alpha: float = 0.3) -> f32[...] {
    where(x > 0.0, x, alpha * x)
}

/// Parametric ReLU: a leaky ReLU whose negative slope is learned, one per
/// feature of the last axis, starting at 0 (Keras' default).
layer prelu(x: f32[..., D]) -> f32[..., D] {
    /// The learned slope for negative inputs.
    param alpha: f32[D] = zeros
    max(x, 0.0) + alpha * min(x, 0.0)
}

/// Exponential linear unit: `x` for positive `x`, `alpha * (exp(x) - 1)`
/// otherwise. `exp` sees only non-positive values, so it never overflows.
fn elu(x: f32[...], alpha: float = 1.0) -> f32[...] {
    where(x > 0.0, x, alpha * (exp(min(x, 0.0)) - 1.0))
}

/// Softmax over the last axis. The maximum is subtracted first (it does
/// not change the result) so that `exp` cannot overflow.
fn softmax(x: f32[..., C]) -> f32[..., C] {
    let e = exp(x - stop_gradient(max_over(x, axis: -1, keep: true)))
    e / sum(e, axis: -1, keep: true)
}

/// Log of the softmax over the last axis, computed as
/// `z - log(sum(exp(z)))` with `z = x - max(x)`: no overflow, and no
/// `log(0)` for very negative logits.
fn log_softmax(x: f32[..., C]) -> f32[..., C] {
    let z = x - stop_gradient(max_over(x, axis: -1, keep: true))
    z - log(sum(exp(z), axis: -1, keep: true))
}
