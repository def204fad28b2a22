// Only functions and calls can stand on the right of `|>`.
fn f(x: f32[B]) -> f32[B] {
    x |> 2
    //~^ syntax::pipe: right side of `|>`
}
