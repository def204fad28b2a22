//! A small transformer classifier on MNIST: the 28 image rows are 28
//! tokens, embedded by a dense layer to 64 features, plus the sinusoidal
//! position encoding; two encoder blocks (4 heads, feed-forward 128); the
//! tokens are mean-pooled and classified by a dense layer. AdamW with an
//! exponentially decaying learning rate and label smoothing.

use std.nn.{dense, positional_encoding, transformer_encoder}
use std.losses.{cross_entropy}
use std.metrics.{accuracy}
use std.optimizers.{adamw}

/// Rows as tokens through two encoder blocks; logits out.
model RowTransformer(x: f32[B, 28, 28]) -> f32[B, 10] {
    x |> dense(64)
      |> positional_encoding
      |> transformer_encoder(heads: 4, ff: 128)
      |> transformer_encoder(heads: 4, ff: 128)
      |> mean(axis: 1)
      |> dense(10)
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

train RowTransformer on mnist {
    loss      = cross_entropy(RowTransformer(x), y, smoothing: 0.1)
    optimizer = adamw(lr: 1e-3, weight_decay: 0.01)
    epochs    = 10
    batch     = 64
    validate  = 0.1
    seed      = 7
    metrics   = [accuracy]
    schedule  = exponential(rate: 0.9)
}

evaluate RowTransformer on mnist_test {
    metrics = [accuracy]
}
