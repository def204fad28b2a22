//! The seed tutorial's Keras CNN on the bundled MNIST subset: conv 32 3x3
//! relu -> max-pool 2 -> flatten -> dense 128 relu -> dropout 0.5 ->
//! dense 10, sparse cross-entropy, Adam 1e-3, 10 epochs of batches of 32,
//! 10% held out for validation; then accuracy on the 2,000 test digits.

use std.nn.{conv2d, maxpool2d, flatten, dense, dropout}
use std.activations.{relu}
use std.losses.{cross_entropy}
use std.metrics.{accuracy, confusion_matrix}
use std.optimizers.{adam}

/// The seed's CNN; the last layer gives logits (the loss applies softmax).
model Cnn(x: f32[B, 1, 28, 28]) -> f32[B, 10] {
    x |> conv2d(32, kernel: 3) |> relu
      |> maxpool2d(2)
      |> flatten
      |> dense(128) |> relu
      |> dropout(0.5)
      |> dense(10)
}

/// 8,000 training digits, pixels scaled to [0, 1].
data mnist {
    x: f32[N, 1, 28, 28] = idx("data/mnist-10k/train-images-idx3-ubyte.gz") / 255
    y: i32[N]            = idx("data/mnist-10k/train-labels-idx1-ubyte.gz")
}

/// 2,000 test digits, scaled the same way.
data mnist_test {
    x: f32[N, 1, 28, 28] = idx("data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]            = idx("data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}

train Cnn on mnist {
    loss       = cross_entropy(Cnn(x), y)
    optimizer  = adam(lr: 1e-3)
    epochs     = 10
    batch      = 32
    validate   = 0.1
    seed       = 42
    metrics    = [accuracy]
    checkpoint = "runs/mnist_cnn.safetensors"
}

evaluate Cnn on mnist_test {
    metrics = [accuracy, confusion_matrix]
}
