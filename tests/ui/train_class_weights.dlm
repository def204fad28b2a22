// One class weight per class.
model Mlp(x: f32[B, 784]) -> f32[B, 10] { x |> dense(10) }
data mnist {
    x: f32[N, 784] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    y: i32[N]      = idx("../../examples/data/mnist-10k/t10k-labels-idx1-ubyte.gz")
}
train Mlp on mnist {
    loss          = cross_entropy(Mlp(x), y)
    optimizer     = adam()
    epochs        = 3
    batch         = 32
    class_weights = [1.0, 2.0, 3.0]
    //~^ train::invalid: 3 class weights for 10 classes
}
