//! The peers' `cnn` workload (../shared/bench): the seed CNN of
//! `examples/mnist_cnn.dlm` on full Fashion-MNIST (Debian's
//! `dataset-fashion-mnist`: `apt-get install -y dataset-fashion-mnist`),
//! trained as the peers train it: all 60,000 images, batch 32, Adam 1e-3,
//! 3 epochs, test accuracy after each epoch. Not run by the tests: the
//! data set is not bundled.

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

/// 60,000 training images, pixels scaled to [0, 1].
data fmnist {
    x: f32[N, 1, 28, 28] = idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") / 255
    y: i32[N]            = idx("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")
}

/// 10,000 test images, scaled the same way.
data fmnist_test {
    x: f32[N, 1, 28, 28] = idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]            = idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
}

train Cnn on fmnist {
    loss       = cross_entropy(Cnn(x), y)
    optimizer  = adam(lr: 1e-3)
    epochs     = 3
    batch      = 32
    validate   = fmnist_test
    seed       = 42
    metrics    = [accuracy]
}

evaluate Cnn on fmnist_test {
    metrics = [accuracy, confusion_matrix]
}
