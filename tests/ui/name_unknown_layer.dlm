// A misspelt layer name gets a suggestion.
model Mlp(x: f32[B, 784]) -> f32[B, 10] {
    x |> dens(128) |> relu |> dense(10)
    //~^ name::unknown: unknown function `dens`
}
