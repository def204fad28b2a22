//! The peers' `lstm` workload (../shared/bench): LSTM(64) over the 28 rows
//! of each Fashion-MNIST image (28 features per step), the last hidden
//! state into dense 10; all 60,000 images, batch 32, Adam 1e-3, one
//! epoch, test accuracy after it. Needs Debian's `dataset-fashion-mnist`;
//! not run by the tests.

use std.nn.{lstm, dense}
use std.losses.{cross_entropy}
use std.metrics.{accuracy}
use std.optimizers.{adam}

/// The last hidden state of the LSTM, classified by one dense layer.
model RowLstm(x: f32[B, 28, 28]) -> f32[B, 10] {
    x |> lstm(64) |> dense(10)
}

/// 60,000 training images as 28 rows of 28 pixels in [0, 1].
data fmnist {
    x: f32[N, 28, 28] = idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") / 255
    y: i32[N]         = idx("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")
}

/// 10,000 test images, scaled the same way.
data fmnist_test {
    x: f32[N, 28, 28] = idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]         = idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
}

train RowLstm on fmnist {
    loss      = cross_entropy(RowLstm(x), y)
    optimizer = adam(lr: 1e-3)
    epochs    = 1
    batch     = 32
    validate  = fmnist_test
    seed      = 42
    metrics   = [accuracy]
}
