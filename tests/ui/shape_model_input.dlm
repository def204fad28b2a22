// The data field's shape does not fit the model's input.
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(128) |> relu |> dense(10) }
data mnist {
    x: f32[N, 1, 28, 28] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]            = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
train Mlp on mnist {
    loss      = cross_entropy(Mlp(x), y)
    //~^ shape::rank: `Mlp` expects x: f32[B, 784] but got f32[B, 1, 28, 28]
    optimizer = adam()
    epochs    = 1
    batch     = 32
}
