// A tensor type left open at the end of the file.
model M(x: f32[B, 784) -> f32[B, 10] { x }
//~^ syntax::unexpected: found `)`
