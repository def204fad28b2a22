// A convolution kernel larger than the image.
model M(x: f32[B, 1, 4, 4]) -> f32[B, 8, 1, 1] {
    x |> conv2d(8, kernel: 7)
    //~^ shape::size: in this call of `conv2d`
}
