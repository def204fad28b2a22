//! An imbalanced binary task from the bundled data: "is this digit a 0?"
//! (about one digit in ten). A small MLP gives one logit; binary
//! cross-entropy with the positives weighted 9 to 1 by `class_weights`;
//! training images are mirrored, shifted by up to 2 pixels and jittered
//! with noise (a mirrored 0 is still a 0).
//! Reported: binary accuracy and ROC AUC.

use std.nn.{flatten, dense, dropout}
use std.activations.{relu}
use std.losses.{binary_cross_entropy}
use std.metrics.{binary_accuracy, auc}
use std.optimizers.{rmsprop}

/// One logit: positive means "a 0".
model IsZero(x: f32[B, 1, 28, 28]) -> f32[B, 1] {
    x |> flatten |> dense(64) |> relu |> dropout(0.2) |> dense(1)
}

/// 8,000 training digits; the target is 1 for a 0 and 0 otherwise.
data mnist {
    x: f32[N, 1, 28, 28] = idx("data/mnist-10k/train-images-idx3-ubyte.gz") / 255
    y: f32[N, 1]         = idx("data/mnist-10k/train-labels-idx1-ubyte.gz") == 0
}

/// 2,000 test digits, labelled the same way.
data mnist_test {
    x: f32[N, 1, 28, 28] = idx("data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: f32[N, 1]         = idx("data/mnist-10k/t10k-labels-idx1-ubyte.gz") == 0
}

train IsZero on mnist {
    loss           = binary_cross_entropy(IsZero(x), y)
    optimizer      = rmsprop(lr: 1e-3)
    epochs         = 8
    batch          = 32
    validate       = 0.1
    seed           = 3
    metrics        = [binary_accuracy, auc]
    class_weights  = [1.0, 9.0]
    augment        = [flip(horizontal: true), shift(pixels: 2), noise(std: 0.05)]
    early_stopping = early_stopping(monitor: "val_loss", patience: 2, restore_best: true)
}

evaluate IsZero on mnist_test {
    metrics = [binary_accuracy, auc]
}
