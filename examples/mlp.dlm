//! A multilayer perceptron on the bundled MNIST subset: 784 -> 128 relu ->
//! 10, SGD with Nesterov momentum, a cosine learning-rate schedule, L2
//! regularization of the kernels and early stopping on the validation loss.

use std.nn.{dense}
use std.activations.{relu}
use std.losses.{cross_entropy}
use std.metrics.{accuracy}
use std.optimizers.{sgd}

/// Two dense layers on the flattened image; logits out.
model Mlp(x: f32[B, 784]) -> f32[B, 10] {
    x |> dense(128) |> relu |> dense(10)
}

/// 8,000 training digits as 784-vectors in [0, 1].
data mnist {
    x: f32[N, 784] = idx("data/mnist-10k/train-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("data/mnist-10k/train-labels-idx1-ubyte.gz")
}

/// 2,000 test digits.
data mnist_test {
    x: f32[N, 784] = idx("data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}

train Mlp on mnist {
    loss           = cross_entropy(Mlp(x), y)
    optimizer      = sgd(lr: 0.05, momentum: 0.9, nesterov: true)
    epochs         = 20
    batch          = 64
    validate       = 0.1
    seed           = 1
    metrics        = [accuracy]
    schedule       = cosine(epochs: 20)
    regularize     = l2(1e-4)
    early_stopping = early_stopping(monitor: "val_loss", patience: 3, restore_best: true)
}

evaluate Mlp on mnist_test {
    metrics = [accuracy]
}
