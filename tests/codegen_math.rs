//! Accuracy of the JIT's polynomial exp/log/tanh/sigmoid/sin/cos over wide
//! ranges, elementwise against the reference interpreter (which uses Rust's
//! libm): relative error where the reference is normal and not tiny,
//! absolute error elsewhere, plus the special values (0, ±inf, NaN).

mod codegen_common;

use std::collections::HashMap;

use codegen_common::{run_jit, test_options};
use dlc::codegen::compile;
use dlc::ir::interp::interp_outputs;
use dlc::ir::{DType, Graph, InputKind, UnaryOp};
use ndarray::{ArrayD, IxDyn};

/// `n` points spread evenly over `[lo, hi]`, then `extra`.
fn points(lo: f32, hi: f32, n: usize, extra: &[f32]) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n)
        .map(|i| lo + (hi - lo) * i as f32 / (n - 1) as f32)
        .collect();
    v.extend_from_slice(extra);
    v
}

/// Largest relative error (|ref| >= 1e-30) and absolute error (elsewhere).
fn errors(u: UnaryOp, xs: Vec<f32>) -> (f64, f64) {
    let n = xs.len();
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Data, &[n], DType::F32).unwrap();
    let y = g.unary(u, x).unwrap();
    g.output("y", y);
    let inputs: HashMap<String, ArrayD<f32>> = [(
        "x".to_string(),
        ArrayD::from_shape_vec(IxDyn(&[n]), xs.clone()).unwrap(),
    )]
    .into();
    let mut c = compile(&g, &test_options()).unwrap();
    let jit = &run_jit(&mut c, &inputs)["y"];
    let reference = &interp_outputs::<f32>(&g, &inputs).unwrap()["y"];
    let (mut rel, mut abs) = (0f64, 0f64);
    for ((&a, &b), &x) in jit.iter().zip(reference).zip(&xs) {
        if b.is_nan() || b.is_infinite() {
            assert!(
                a.is_nan() == b.is_nan() && (b.is_nan() || a == b),
                "{u:?}({x}) = {a}, reference {b}"
            );
            continue;
        }
        let d = (f64::from(a) - f64::from(b)).abs();
        if f64::from(b).abs() >= 1e-30 {
            rel = rel.max(d / f64::from(b).abs());
        } else {
            abs = abs.max(d);
        }
    }
    println!("{u:?}: max relative error {rel:.2e}, max absolute error near 0 {abs:.2e}");
    (rel, abs)
}

const SPECIAL: [f32; 4] = [0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];

#[test]
fn exp_over_its_whole_range() {
    let (rel, abs) = errors(UnaryOp::Exp, points(-87.0, 88.0, 20001, &SPECIAL));
    assert!(rel < 5e-7 && abs < 1e-30, "{rel} {abs}");
}

#[test]
fn log_from_tiny_to_huge() {
    let mut xs: Vec<f32> = (-120..=120).map(|e| 1.37f32 * 2f32.powi(e)).collect();
    xs.extend(points(
        0.01,
        10.0,
        10001,
        &[1.0, -1.0, 0.0, f32::INFINITY, f32::NAN],
    ));
    let (rel, _) = errors(UnaryOp::Log, xs);
    // Relative error is largest next to ln 1 = 0.
    assert!(rel < 1e-5, "{rel}");
}

#[test]
fn tanh_and_sigmoid() {
    let (rel, abs) = errors(UnaryOp::Tanh, points(-20.0, 20.0, 20001, &SPECIAL));
    assert!(rel < 5e-6 && abs < 1e-30, "tanh {rel} {abs}");
    let (rel, _) = errors(UnaryOp::Sigmoid, points(-80.0, 40.0, 20001, &SPECIAL));
    assert!(rel < 2e-6, "sigmoid {rel}");
}

#[test]
fn sin_and_cos_with_absolute_error() {
    for u in [UnaryOp::Sin, UnaryOp::Cos] {
        let xs = points(-100.0, 100.0, 20001, &[0.0, f32::NAN]);
        let n = xs.len();
        let mut g = Graph::new();
        let x = g.input("x", InputKind::Data, &[n], DType::F32).unwrap();
        let y = g.unary(u, x).unwrap();
        g.output("y", y);
        let inputs: HashMap<String, ArrayD<f32>> = [(
            "x".to_string(),
            ArrayD::from_shape_vec(IxDyn(&[n]), xs).unwrap(),
        )]
        .into();
        let mut c = compile(&g, &test_options()).unwrap();
        let jit = &run_jit(&mut c, &inputs)["y"];
        let reference = &interp_outputs::<f32>(&g, &inputs).unwrap()["y"];
        let worst = jit
            .iter()
            .zip(reference)
            .filter(|(_, b)| b.is_finite())
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).abs())
            .fold(0.0, f64::max);
        println!("{u:?}: max absolute error {worst:.2e}");
        assert!(worst < 1e-6, "{u:?} {worst}");
    }
}

/// Compiled steps flush subnormal floats to zero (see
/// `codegen::subnormal`), inputs and results alike, and leave the
/// caller's floating-point state as it was.
#[test]
fn subnormals_are_flushed_inside_a_step_and_only_there() {
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Data, &[8], DType::F32).unwrap();
    let y = g.scale(x, 1e-10).unwrap();
    let z = g.scale(x, 1e30).unwrap();
    g.output("y", y);
    g.output("z", z);
    let sub = f32::MIN_POSITIVE / 4.0;
    let xs = [1e-30, -1e-30, 1.0, 0.0, sub, -sub, 1e-20, 2.0];
    let inputs: HashMap<String, ArrayD<f32>> = [(
        "x".to_string(),
        ArrayD::from_shape_vec(IxDyn(&[8]), xs.to_vec()).unwrap(),
    )]
    .into();
    let mut c = compile(&g, &test_options()).unwrap();
    let out = run_jit(&mut c, &inputs);
    let y: Vec<f32> = out["y"].iter().copied().collect();
    // 1e-30 * 1e-10 is subnormal: flushed (the sign may stay).
    assert_eq!(y[0], 0.0);
    assert_eq!(y[1], 0.0);
    assert_eq!(y[2], 1e-10);
    assert_eq!(y[6], 1e-30);
    // A subnormal input reads as zero.
    let z: Vec<f32> = out["z"].iter().copied().collect();
    assert_eq!(z[4], 0.0);
    assert_eq!(z[5], 0.0);
    assert_eq!(z[0], 1.0);
    // The caller's arithmetic keeps its subnormals.
    let tiny = std::hint::black_box(1e-30f32) * std::hint::black_box(1e-10f32);
    assert!(tiny > 0.0 && tiny < f32::MIN_POSITIVE, "{tiny}");
}
