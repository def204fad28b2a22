// Schedules, early stopping and augmentation are checked calls.
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(10) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
train Mlp on mnist {
    loss           = cross_entropy(Mlp(x), y)
    optimizer      = adam()
    epochs         = 3
    batch          = 32
    schedule       = stepp(every: 3)
    //~^ name::unknown: unknown schedule function `stepp`
    early_stopping = early_stopping(patiance: 3)
    //~^ call::unknown_arg: `early_stopping` has no argument `patiance`
    augment        = [flip(horizontal: 1)]
    //~^ train::invalid: `horizontal` of `flip` must be `true` or `false`
}
