// Python habit: `def` instead of `fn`.
def relu2(x: f32[B]) -> f32[B] { max(x, 0.0) }
//~^ syntax::unexpected: found `def`
