// `data` is a keyword and cannot name a parameter.
fn f(data: f32[B]) -> f32[B] { data }
//~^ syntax::unexpected: found `data`
