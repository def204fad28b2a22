// A misspelt named argument.
model Cnn(x: f32[B, 1, 28, 28]) -> f32[B, 32, 26, 26] {
    x |> conv2d(32, kernal: 3)
    //~^ call::unknown_arg: `conv2d` has no argument `kernal`
}
