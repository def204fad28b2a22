// A division inside a layer's body must be exact for each call's sizes,
// even when the result type does not show it: 3 heads do not split 64.
use std.nn.{multi_head_attention}

model M(x: f32[B, 10, 64]) -> f32[B, 10, 64] {
    x |> multi_head_attention(3)
    //~^ shape::division: must be whole numbers, but one is 21.3333
}
