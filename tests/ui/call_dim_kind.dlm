// A dimension parameter needs an int.
model Mlp(x: f32[B, 784]) -> f32[B, 10] {
    x |> dense(12.5) |> dense(10)
    //~^ type::kind: `units` of `dense` must be an int
}
