// Python habit: `kernel=3` instead of `kernel: 3`.
model M(x: f32[B, 1, 28, 28]) -> f32[B, 32, 26, 26] {
    x |> conv2d(32, kernel=3)
    //~^ syntax::unexpected: found `=`
}
