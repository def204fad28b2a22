//! A dense autoencoder on MNIST: 784 -> 128 -> 32 -> 128 -> 784, trained to
//! reconstruct its input under mean squared error, with the learning rate
//! halved when the validation loss stops improving.

use std.nn.{dense}
use std.activations.{relu}
use std.losses.{mse, mae}
use std.optimizers.{adam}

/// Encoder to a 32-feature code, decoder back to pixels in (0, 1).
model Autoencoder(x: f32[B, 784]) -> f32[B, 784] {
    x |> dense(128) |> relu
      |> dense(32) |> relu
      |> dense(128) |> relu
      |> dense(784) |> sigmoid
}

/// 8,000 training digits as 784-vectors in [0, 1].
data mnist {
    x: f32[N, 784] = idx("data/mnist-10k/train-images-idx3-ubyte.gz") / 255
}

/// 2,000 test digits.
data mnist_test {
    x: f32[N, 784] = idx("data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
}

train Autoencoder on mnist {
    loss      = mse(Autoencoder(x), x)
    optimizer = adam(lr: 1e-3)
    epochs    = 15
    batch     = 128
    validate  = 0.1
    metrics   = [mae]
    schedule  = reduce_on_plateau(factor: 0.5, patience: 2)
    checkpoint = "runs/autoencoder.safetensors"
}

evaluate Autoencoder on mnist_test {
    metrics = [mse, mae]
}
