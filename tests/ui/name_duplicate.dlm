// Two definitions of one name: the second is reported, pointing at the first.
fn half(x: f32[B]) -> f32[B] { x / 2.0 }
fn half(x: f32[B]) -> f32[B] { x * 0.5 }
//~^ name::duplicate: `half` is defined twice
