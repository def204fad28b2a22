// `dense` needs its number of units.
model Mlp(x: f32[B, 784]) -> f32[B, 10] {
    x |> dense |> relu
    //~^ call::arity: missing argument `units` of `dense`
}
