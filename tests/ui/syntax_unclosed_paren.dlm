// A call's parenthesis left open: the report points at the opener.
model Mlp(x: f32[B, 784]) -> f32[B, 10] {
    x |> dense(128 |> relu |> dense(10)
    //~^ syntax::unclosed: unclosed `(`
}
