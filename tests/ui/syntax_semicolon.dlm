// C habit: statements ended with `;`.
fn f(x: f32[B]) -> f32[B] {
    let y = x * 2;
    //~^ syntax::unexpected: found `;`
    y
}
