// Only states can be updated; params are trained.
layer scaled(x: f32[B, D]) -> f32[B, D] {
    param s: f32[D] = ones
    update s = s * 0.9
    //~^ type::update: `s` is not a state
    x * s
}
