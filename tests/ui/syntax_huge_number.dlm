// An integer that does not fit in 64 bits.
fn f(x: f32[B]) -> f32[B] { x * 123456789012345678901234567890 }
//~^ syntax::number: too large
