//! Symbolic shapes the checker must prove (normal forms, solved patterns,
//! `...` groups, dimension parameters) and the count of parameters it
//! derives, each on a small program.

use dlc::diag::render_plain;
use dlc::sema::summary::Count;

fn check(text: &str) -> dlc::driver::Checked {
    dlc::driver::check_source("t.dlm", text, "examples".into())
}

fn assert_clean(text: &str) {
    let c = check(text);
    assert!(
        c.diags.is_empty(),
        "{}",
        render_plain(&c.diags, &c.sources, 100)
    );
}

fn codes(text: &str) -> Vec<&'static str> {
    check(text).diags.iter().map(|d| d.code).collect()
}

#[test]
fn equal_sizes_compare_equal_however_written() {
    assert_clean("fn f(x: f32[B, H]) -> f32[B, 2*H - H] { x }");
    assert_clean("fn f(x: f32[B, H, W]) -> f32[B, W * H] { reshape(x, [B, H * W]) }");
    assert_clean("fn f(x: f32[B, D]) -> f32[B, 2, D / 2] { reshape(x, [B, 2, D / 2]) }");
}

#[test]
fn call_sites_solve_linear_patterns() {
    // `2*H + 1` against 9 binds H = 4, so the result is [B, 4].
    assert_clean(
        "fn half(x: f32[B, 2*H + 1]) -> f32[B, H] { x[:, 0:H] }
         fn g(x: f32[B, 9]) -> f32[B, 4] { half(x) }",
    );
    // 8 is not 2*H + 1 for any H.
    assert_eq!(
        codes(
            "fn half(x: f32[B, 2*H + 1]) -> f32[B, H] { x[:, 0:H] }
             fn g(x: f32[B, 8]) -> f32[B, 4] { half(x) }"
        ),
        ["shape::mismatch"]
    );
}

#[test]
fn leading_groups_and_dimension_parameters() {
    assert_clean("model M(x: f32[B, T, 16]) -> f32[B, T, 4] { x |> dense(8) |> relu |> dense(4) }");
    // One `...` group binds once per call.
    assert_eq!(
        codes(
            "fn add2(a: f32[..., D], b: f32[..., D]) -> f32[..., D] { a + b }
             fn g(x: f32[B, 3, 4], y: f32[B, 4]) -> f32[B, 3, 4] { add2(x, y) }"
        ),
        ["shape::mismatch"]
    );
}

#[test]
fn one_mistake_gives_one_message() {
    // The unknown name poisons everything computed from it.
    let c = codes("model M(x: f32[B, 4]) -> f32[B, 2] { x |> dens(3) |> relu |> dense(2) }");
    assert_eq!(c, ["name::unknown"]);
}

#[test]
fn parameter_counts_are_polynomials_in_the_signature() {
    let c = check(
        "layer lin(x: f32[..., I], units: O) -> f32[..., O] {
             param w: f32[I, O] = glorot_uniform
             param b: f32[O] = zeros
             x @ w + b
         }
         model M(x: f32[B, 20]) -> f32[B, 3] { x |> lin(7) |> lin(3) |> batchnorm }",
    );
    assert!(
        c.diags.is_empty(),
        "{}",
        render_plain(&c.diags, &c.sources, 100)
    );
    let m = &c.program.models[0];
    // 20*7 + 7 + 7*3 + 3 and batchnorm's gamma and beta; its running
    // mean and variance are state.
    assert_eq!(m.params, Count::Known(20 * 7 + 7 + 7 * 3 + 3 + 2 * 3));
    assert_eq!(m.states, Count::Known(2 * 3));
}
