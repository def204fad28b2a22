//! Losses. Each returns one value per sample, `f32[B]`; `train` averages
//! them over the batch (weighted by `class_weights` when given).
//!
//! Losses on class scores take *logits* (the model's last `dense`, no
//! softmax or sigmoid): the log-sum-exp and log-sigmoid forms below are
//! then exact and stable, as Keras' `from_logits=True`. `mse` and `mae`
//! double as metrics (see `std/metrics.dlm`).

/// Mean squared error over each sample's features.
fn mse(pred: f32[B, D], target: f32[B, D]) -> f32[B] {
    mean((pred - target) ^ 2, axis: 1)
}

/// Mean absolute error over each sample's features.
fn mae(pred: f32[B, D], target: f32[B, D]) -> f32[B] {
    mean(abs(pred - target), axis: 1)
}

/// Cross-entropy of class logits against integer labels in `0..C`
/// (Keras' sparse categorical cross-entropy). With `smoothing: s` the
/// target puts `1 - s + s / C` on the label and `s / C` on every other
/// class.
fn cross_entropy(logits: f32[B, C], labels: i32[B], smoothing: float = 0.0) -> f32[B] {
    let target = one_hot(labels, C) * (1.0 - smoothing) + smoothing / C
    sum(target * -log_softmax(logits), axis: 1)
}

/// Cross-entropy of class logits against one-hot (or soft) targets, with
/// the same `smoothing` as `cross_entropy`.
fn categorical_cross_entropy(logits: f32[B, C], target: f32[B, C], smoothing: float = 0.0)
    -> f32[B] {
    let t = target * (1.0 - smoothing) + smoothing / C
    sum(t * -log_softmax(logits), axis: 1)
}

/// Binary cross-entropy of logits against 0/1 targets, averaged over the
/// features, as `max(z, 0) - z * y + log(1 + exp(-|z|))`: the same value as
/// `-y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z))` with no overflow.
fn binary_cross_entropy(logits: f32[B, D], target: f32[B, D]) -> f32[B] {
    mean(max(logits, 0.0) - logits * target + log(1.0 + exp(-abs(logits))), axis: 1)
}

/// Kullback-Leibler divergence `sum(t * log(t / p))` of predicted
/// probabilities `p` from target probabilities `t`, both clipped to
/// `[1e-7, 1]` as in Keras.
fn kl_divergence(pred: f32[B, C], target: f32[B, C]) -> f32[B] {
    let p = min(max(pred, 1e-7), 1.0)
    let t = min(max(target, 1e-7), 1.0)
    sum(t * log(t / p), axis: 1)
}

/// Hinge loss `mean(max(1 - y * pred, 0))` for labels `y` of -1 or 1; a
/// label of 0 counts as -1, so 0/1 labels work too.
fn hinge(pred: f32[B, D], target: f32[B, D]) -> f32[B] {
    let y = where(target > 0.0, 1.0, -1.0)
    mean(max(1.0 - y * pred, 0.0), axis: 1)
}

/// Binary focal loss on logits (Lin et al.; torchvision's defaults):
/// the binary cross-entropy scaled by `(1 - p_t)^gamma`, which shrinks
/// the loss of well-classified samples, and by `alpha` on positives and
/// `1 - alpha` on negatives.
fn focal(logits: f32[B, D], target: f32[B, D], gamma: float = 2.0, alpha: float = 0.25)
    -> f32[B] {
    let ce = max(logits, 0.0) - logits * target + log(1.0 + exp(-abs(logits)))
    let p = sigmoid(logits)
    let p_t = p * target + (1.0 - p) * (1.0 - target)
    let alpha_t = alpha * target + (1.0 - alpha) * (1.0 - target)
    mean(alpha_t * (1.0 - p_t) ^ gamma * ce, axis: 1)
}
