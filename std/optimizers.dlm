//! Optimizers. The body runs once per trained parameter with `p` (the
//! parameter), `g` (its gradient), `t` (the 1-based step, `f32`) and `lr`
//! (the learning rate of this step, after any `schedule`) in scope; each
//! `state` is shaped like `p` and kept between steps; the body's value is
//! the parameter's next value. Defaults are Keras'.

/// Stochastic gradient descent, with optional momentum and Nesterov
/// momentum (Keras' formulation: `v = momentum * v - lr * g`).
optimizer sgd(lr: float = 0.01, momentum: float = 0.0, nesterov: bool = false) {
    /// The velocity.
    state v = zeros
    let v2 = momentum * v - lr * g
    update v = v2
    if nesterov { p + momentum * v2 - lr * g } else { p + v2 }
}

/// Adam (Kingma and Ba) with bias correction folded into the step size, as
/// Keras writes it.
optimizer adam(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7) {
    /// The first moment (mean) of the gradient.
    state m = zeros
    /// The second moment (uncentered variance) of the gradient.
    state v = zeros
    let m2 = beta1 * m + (1.0 - beta1) * g
    let v2 = beta2 * v + (1.0 - beta2) * g * g
    update m = m2
    update v = v2
    let step = lr * sqrt(1.0 - beta2 ^ t) / (1.0 - beta1 ^ t)
    p - step * m2 / (sqrt(v2) + eps)
}

/// Adam with decoupled weight decay (Loshchilov and Hutter): every step also
/// shrinks the parameter by `lr * weight_decay * p`. Keras' default decay.
optimizer adamw(
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-7,
    weight_decay: float = 0.004,
) {
    /// The first moment (mean) of the gradient.
    state m = zeros
    /// The second moment (uncentered variance) of the gradient.
    state v = zeros
    let m2 = beta1 * m + (1.0 - beta1) * g
    let v2 = beta2 * v + (1.0 - beta2) * g * g
    update m = m2
    update v = v2
    let step = lr * sqrt(1.0 - beta2 ^ t) / (1.0 - beta1 ^ t)
    p - lr * weight_decay * p - step * m2 / (sqrt(v2) + eps)
}

/// Adagrad: each parameter's step shrinks with the sum of its squared
/// gradients so far.
optimizer adagrad(lr: float = 1e-3, initial_accumulator: float = 0.1, eps: float = 1e-7) {
    /// The sum of squared gradients.
    state acc = constant(initial_accumulator)
    let acc2 = acc + g * g
    update acc = acc2
    p - lr * g / (sqrt(acc2) + eps)
}

/// RMSprop: steps scaled by a moving average of squared gradients, with
/// optional momentum (Keras' formulation).
optimizer rmsprop(lr: float = 1e-3, rho: float = 0.9, momentum: float = 0.0, eps: float = 1e-7) {
    /// The moving average of squared gradients.
    state ms = zeros
    /// The momentum of the scaled steps.
    state mom = zeros
    let ms2 = rho * ms + (1.0 - rho) * g * g
    update ms = ms2
    let mom2 = momentum * mom + lr * g / (sqrt(ms2) + eps)
    update mom = mom2
    p - mom2
}
