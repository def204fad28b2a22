// Train names a model and a data set.
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(10) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
evaluate dense on mnist { metrics = [accuracy] }
//~^ type::kind: `dense` is a layer, not a model
evaluate Mlp on minst { metrics = [accuracy] }
//~^ name::unknown: unknown data set `minst`
