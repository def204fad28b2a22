// `relu` takes one argument.
fn f(x: f32[B, 4]) -> f32[B, 4] {
    relu(x, 0.1)
    //~^ call::arity: `relu` takes 1 argument but 2 were given
}
