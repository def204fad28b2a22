// A block must end with its value; a leading `-` continues the line above.
fn neg(x: f32[B]) -> f32[B] {
    let y = x
    -y
}
//~^ syntax::unexpected: found `}`
