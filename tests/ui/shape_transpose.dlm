// `transpose` needs a permutation of every axis.
fn swap(x: f32[B, T, D]) -> f32[B, D, T] {
    transpose(x, [0, 2, 2])
    //~^ shape::axis: is not a permutation of the 3 axes
}
