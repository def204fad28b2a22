// `optimizer` and `epochs` are required.
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(10) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
train Mlp on mnist {
    //~^ train::missing_key: no `optimizer`
    //~^^ train::missing_key: no `epochs`
    loss  = cross_entropy(Mlp(x), y)
    batch = 32
}
