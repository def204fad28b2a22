// The same through a layer that calls another: the obligation travels up
// to the call that binds the sizes.
use std.nn.{transformer_encoder}

model M(x: f32[B, 10, 64]) -> f32[B, 10, 64] {
    x |> transformer_encoder(heads: 5, ff: 128)
    //~^ shape::division: must be whole numbers, but one is 12.8
}
