//! An LSTM reading each MNIST digit as a sequence of its 28 rows (28
//! pixels each): LSTM(64) -> dense 10. Validated on the test digits, with
//! the learning rate halved every 5 epochs.

use std.nn.{lstm, dense}
use std.losses.{cross_entropy}
use std.metrics.{accuracy, confusion_matrix}
use std.optimizers.{adam}

/// The last hidden state of the LSTM, classified by one dense layer.
model RowLstm(x: f32[B, 28, 28]) -> f32[B, 10] {
    x |> lstm(64) |> dense(10)
}

/// 8,000 training digits as 28 rows of 28 pixels in [0, 1].
data mnist {
    x: f32[N, 28, 28] = idx("data/mnist-10k/train-images-idx3-ubyte.gz") / 255
    y: i32[N]         = idx("data/mnist-10k/train-labels-idx1-ubyte.gz")
}

/// 2,000 test digits.
data mnist_test {
    x: f32[N, 28, 28] = idx("data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]         = idx("data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}

train RowLstm on mnist {
    loss      = cross_entropy(RowLstm(x), y)
    optimizer = adam(lr: 2e-3)
    epochs    = 10
    batch     = 64
    validate  = mnist_test
    metrics   = [accuracy]
    schedule  = step(every: 5, factor: 0.5)
}

evaluate RowLstm on mnist_test {
    metrics = [accuracy, confusion_matrix]
}
