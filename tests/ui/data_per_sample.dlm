// The declared type must hold the file's values per sample.
data mnist {
    x: f32[N, 1, 28, 27] = idx("../../examples/data/mnist-10k/t10k-images-idx3-ubyte.gz") / 255
    //~^ data::shape: declared with 756 values per sample but its value has 784
}
