// A pooling window larger than the image leaves nothing.
model M(x: f32[B, 1, 4, 4]) -> f32[B, 1, 1, 1] {
    x |> maxpool2d(5)
    //~^ shape::size: `maxpool2d` would produce f32[B, 1, 0, 0]
}
