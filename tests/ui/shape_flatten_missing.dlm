// The seed tutorial's CNN without `flatten`: dense works over the last axis,
// so the mistake shows at the model's declared result.
model Cnn(x: f32[B, 1, 28, 28]) -> f32[B, 10] {
    x |> conv2d(32, kernel: 3) |> relu
      |> maxpool2d(2)
      |> dense(10)
      //~^ shape::mismatch: `Cnn` returns f32[B, 32, 13, 10] but its signature says f32[B, 10]
}
