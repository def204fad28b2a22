// A data file that does not exist.
data mnist {
    x: f32[N, 784] = idx("data/mnist/train-images.gz") / 255
    //~^ data::file: no file `data/mnist/train-images.gz`
}
