// Epochs and batch are positive ints; validate is a fraction in (0, 1).
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(10) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
train Mlp on mnist {
    loss      = cross_entropy(Mlp(x), y)
    optimizer = adam()
    epochs    = 0
    //~^ train::invalid: `epochs` must be a positive int
    batch     = 32.5
    //~^ train::invalid: `batch` must be a positive int
    validate  = 1.5
    //~^ train::invalid: `validate` must be a fraction in (0, 1)
}
