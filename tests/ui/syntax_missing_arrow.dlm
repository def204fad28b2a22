// The return type needs `->`.
layer double(x: f32[B, D]) f32[B, D] {
    //~^ syntax::unexpected: found `f32`
    x * 2
}
