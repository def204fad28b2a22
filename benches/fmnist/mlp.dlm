//! The peers' `mlp` workload (../shared/bench): 784 -> 128 relu -> 10 on
//! full Fashion-MNIST, all 60,000 images, batch 32 (the peers also time
//! batch 256: `dlc bench benches/fmnist/mlp.dlm --batch 256`), Adam 1e-3,
//! one epoch, test accuracy after it. Needs Debian's
//! `dataset-fashion-mnist`; not run by the tests.

use std.nn.{dense}
use std.activations.{relu}
use std.losses.{cross_entropy}
use std.metrics.{accuracy}
use std.optimizers.{adam}

/// Two dense layers on the flattened image; logits out.
model Mlp(x: f32[B, 784]) -> f32[B, 10] {
    x |> dense(128) |> relu |> dense(10)
}

/// 60,000 training images as 784-vectors in [0, 1].
data fmnist {
    x: f32[N, 784] = idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")
}

/// 10,000 test images, scaled the same way.
data fmnist_test {
    x: f32[N, 784] = idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
}

train Mlp on fmnist {
    loss      = cross_entropy(Mlp(x), y)
    optimizer = adam(lr: 1e-3)
    epochs    = 1
    batch     = 32
    validate  = fmnist_test
    seed      = 42
    metrics   = [accuracy]
}
