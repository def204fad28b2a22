//! Metrics. A metric is a function of the loss call's first two arguments
//! (prediction, target) returning one row per sample; the runtime averages
//! the rows over the data set. `mse` and `mae` are the losses of the same
//! name (`std/losses.dlm`), used as metrics.
//!
//! `auc` and `confusion_matrix` are whole-data-set metrics: they cannot be
//! averaged per sample. The runtime recognizes the two names and computes
//! them from every sample's prediction and target; the definitions here
//! fix their types and compute each sample's share of the result.

/// The fraction of samples whose highest logit is the label.
fn accuracy(pred: f32[B, C], labels: i32[B]) -> f32[B] {
    argmax(pred, axis: 1) == labels
}

/// The fraction of 0/1 targets predicted right from logits, averaged over
/// the features: a logit above 0 (a probability above 0.5) predicts 1.
fn binary_accuracy(logits: f32[B, D], target: f32[B, D]) -> f32[B] {
    mean((logits > 0.0) == (target > 0.5), axis: 1)
}

/// Area under the ROC curve of a binary classifier. Each row is the pair
/// (score, label) of one sample, the logit of its first output and its 0/1
/// target; the area over every row of the data set (ties counted half) is
/// the same for logits and probabilities.
fn auc(logits: f32[B, D], target: f32[B, D]) -> f32[B, 2] {
    concat([logits[:, 0:1], target[:, 0:1]], axis: 1)
}

/// The confusion matrix of a classifier: each row is the outer product of
/// the one-hot true label and the one-hot predicted class, `[C, C]`; their
/// sum over the data set is the counts (true class down, predicted class
/// across).
fn confusion_matrix(pred: f32[B, C], labels: i32[B]) -> f32[B, C, C] {
    let truth = reshape(one_hot(labels, C), [B, C, 1])
    let guess = reshape(one_hot(argmax(pred, axis: 1), C), [B, 1, C])
    truth * guess
}
