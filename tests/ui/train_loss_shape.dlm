// A loss returns one value per sample.
fn squared(p: f32[B, C], y: f32[B, C]) -> f32[B, C] { (p - y) ^ 2 }
model Auto(x: f32[B, 784]) -> f32[B, 784] { x |> dense(784) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
}
train Auto on mnist {
    loss      = squared(Auto(x), x)
    //~^ train::loss: the loss is f32[B, 784], not one value per sample
    optimizer = adam()
    epochs    = 3
    batch     = 32
}
