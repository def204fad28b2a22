// Keras names for settings get a suggestion.
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(10) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
train Mlp on mnist {
    loss      = cross_entropy(Mlp(x), y)
    optimizer = adam()
    epochs    = 3
    batch     = 32
    metric    = [accuracy]
    //~^ train::unknown_key: unknown setting `metric`
}
