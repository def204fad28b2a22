// Unknown optimizers and hyper-parameters.
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(10) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
train Mlp on mnist {
    loss      = cross_entropy(Mlp(x), y)
    optimizer = adam(learning_rate: 1e-3, beta_1: 0.9)
    //~^ call::unknown_arg: `adam` has no argument `learning_rate`
    //~^^ call::unknown_arg: `adam` has no argument `beta_1`
    epochs    = 3
    batch     = 32
}
train Mlp on mnist {
    loss      = cross_entropy(Mlp(x), y)
    optimizer = adamm(lr: 1e-3)
    //~^ name::unknown: unknown optimizer `adamm`
    epochs    = 3
    batch     = 32
}
