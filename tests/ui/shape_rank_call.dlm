// An LSTM needs a sequence [B, T, I].
model M(x: f32[B, 784]) -> f32[B, 10] {
    x |> lstm(64) |> dense(10)
    //~^ shape::rank: `lstm` expects x: f32[B, T, I] but got f32[B, 784]
}
