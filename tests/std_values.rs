//! Std definitions against values computed by hand: stable softmax and
//! cross-entropy, the metrics, dropout and batch norm in and out of
//! training, the positional encoding, and Adam's first step.

mod run_step;

use std::collections::HashMap;

use dlc::ir::DType;
use dlc::lower::{Field, Items, StepKind};
use ndarray::{ArrayD, IxDyn};
use run_step::*;

/// Lowers a step of `text` with batch inputs `values` (their first
/// dimension is the batch) and initial parameters, runs it once and
/// returns its outputs.
fn outputs(
    text: &str,
    values: &[(&str, DType, ArrayD<f32>)],
    kind: StepKind,
) -> HashMap<String, ArrayD<f32>> {
    let parsed = parse("values.dlm", text);
    let items = Items::new(&parsed.files);
    let spec = dlc::lower::train_spec(train_def(&parsed)).expect("spec");
    let fields: Vec<Field> = values
        .iter()
        .map(|(n, d, v)| field(n, &v.shape()[1..], *d))
        .collect();
    let batch = values[0].2.shape()[0];
    let step = lower(&items, &spec, &fields, batch, kind);
    let mut inputs = init_params(&step);
    for (n, _, v) in values {
        inputs.insert(n.to_string(), v.clone());
    }
    inputs.insert("weights".into(), ArrayD::from_elem(IxDyn(&[batch]), 1.0));
    for (k, v) in [("lr", 0.01), ("t", 1.0), ("seed", 9.0), ("step", 1.0)] {
        inputs.insert(k.into(), ArrayD::from_elem(IxDyn(&[]), v));
    }
    dlc::ir::interp::interp_outputs::<f32>(&step.graph, &inputs).expect("interpreted")
}

fn arr(shape: &[usize], v: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).expect("shape")
}

fn close(a: &ArrayD<f32>, b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{a} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a} vs {b:?}");
    }
}

/// `model M(x) { body }` with `loss` and `metrics`, for value tests.
fn program(body: &str, loss: &str, metrics: &str) -> String {
    format!(
        "model M(x: f32[...]) -> f32[...] {{ {body} }}\n\
         train M on d {{ loss = {loss} optimizer = sgd() metrics = [{metrics}] }}\n"
    )
}

#[test]
fn softmax_and_log_softmax_are_stable_at_extreme_logits() {
    let x = arr(&[1, 3], &[1000.0, 0.0, -1000.0]);
    let text = program("log_softmax(x)", "mse(M(x), x)", "");
    let out = outputs(&text, &[("x", DType::F32, x.clone())], StepKind::Predict);
    close(&out["pred"], &[0.0, -1000.0, -2000.0], 1e-3);
    let text = program("softmax(x)", "mse(M(x), x)", "");
    let out = outputs(&text, &[("x", DType::F32, x)], StepKind::Predict);
    close(&out["pred"], &[1.0, 0.0, 0.0], 1e-6);
    // Random logits: every row of a softmax sums to 1.
    let mut rng = Rng::new(11);
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[4, 5]), || 60.0 * rng.uniform() - 30.0);
    let text = program("sum(softmax(x), axis: 1)", "mse(M(x), x)", "");
    let out = outputs(&text, &[("x", DType::F32, x)], StepKind::Predict);
    close(&out["pred"], &[1.0; 4], 1e-5);
}

#[test]
fn cross_entropy_values() {
    // logits [2, 0, 0]: log-sum-exp is ln(e^2 + 2).
    let lse = (2f32.exp() + 2.0).ln();
    let x = arr(&[1, 3], &[2.0, 0.0, 0.0]);
    let y = arr(&[1], &[0.0]);
    let values = [("x", DType::F32, x), ("y", DType::I32, y)];
    let text = program("x", "cross_entropy(M(x), y)", "");
    close(
        &outputs(&text, &values, StepKind::Eval)["loss"],
        &[lse - 2.0],
        1e-5,
    );
    // Smoothing 0.3 puts 0.8 on the label and 0.1 on the others.
    let text = program("x", "cross_entropy(M(x), y, smoothing: 0.3)", "");
    let want = lse - 0.8 * 2.0;
    close(
        &outputs(&text, &values, StepKind::Eval)["loss"],
        &[want],
        1e-5,
    );
}

#[test]
fn binary_cross_entropy_is_finite_for_large_logits() {
    let x = arr(&[2, 1], &[100.0, -100.0]);
    let y = arr(&[2, 1], &[0.0, 0.0]);
    let text = program("x", "binary_cross_entropy(M(x), y)", "binary_accuracy");
    let out = outputs(
        &text,
        &[("x", DType::F32, x), ("y", DType::F32, y)],
        StepKind::Eval,
    );
    // (100 + ~0) / 2 samples.
    close(&out["loss"], &[50.0], 1e-3);
    close(&out["metric:binary_accuracy"], &[0.0, 1.0], 0.0);
}

#[test]
fn classification_metrics() {
    let x = arr(&[3, 3], &[0.1, 0.9, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 5.0]);
    let y = arr(&[3], &[1.0, 1.0, 2.0]);
    let text = program("x", "cross_entropy(M(x), y)", "accuracy, confusion_matrix");
    let out = outputs(
        &text,
        &[("x", DType::F32, x), ("y", DType::I32, y)],
        StepKind::Eval,
    );
    close(&out["metric:accuracy"], &[1.0, 0.0, 1.0], 0.0);
    let counts = out["metric:confusion_matrix"].sum_axis(ndarray::Axis(0));
    // Rows: true class; columns: predicted class.
    close(&counts, &[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0], 0.0);
}

#[test]
fn auc_rows_are_score_and_label() {
    let x = arr(&[2, 1], &[0.5, -2.0]);
    let y = arr(&[2, 1], &[1.0, 0.0]);
    let text = program("x", "binary_cross_entropy(M(x), y)", "auc");
    let out = outputs(
        &text,
        &[("x", DType::F32, x), ("y", DType::F32, y)],
        StepKind::Eval,
    );
    close(&out["metric:auc"], &[0.5, 1.0, -2.0, 0.0], 0.0);
}

#[test]
fn dropout_is_the_identity_outside_training_and_scales_in_training() {
    let x = arr(&[1, 64], &[1.0; 64]);
    let text = program("dropout(x, 0.5)", "mse(M(x), x)", "");
    let out = outputs(&text, &[("x", DType::F32, x.clone())], StepKind::Predict);
    close(&out["pred"], &[1.0; 64], 0.0);
    let out = outputs(&text, &[("x", DType::F32, x)], StepKind::Train);
    let kept = out["pred"].iter().filter(|v| **v == 2.0).count();
    let dropped = out["pred"].iter().filter(|v| **v == 0.0).count();
    assert_eq!(kept + dropped, 64);
    assert!((16..=48).contains(&kept), "{kept} of 64 kept");
}

#[test]
fn batchnorm_uses_batch_statistics_in_training_and_running_ones_after() {
    let x = arr(&[2, 2], &[1.0, 10.0, 3.0, 30.0]);
    let text = program("batchnorm(x)", "mse(M(x), x)", "");
    let out = outputs(&text, &[("x", DType::F32, x.clone())], StepKind::Train);
    // Batch means [2, 20], variances [1, 100]; running stats move 1%.
    close(&out["update:batchnorm.moving_mean"], &[0.02, 0.2], 1e-6);
    close(
        &out["update:batchnorm.moving_var"],
        &[0.99 + 0.01, 0.99 + 1.0],
        1e-5,
    );
    let s = |v: f32| 1.0 / (v + 1e-3f32).sqrt();
    close(
        &out["pred"],
        &[-s(1.0), -10.0 * s(100.0), s(1.0), 10.0 * s(100.0)],
        1e-5,
    );
    // Evaluation: the initial running statistics (mean 0, variance 1).
    let out = outputs(&text, &[("x", DType::F32, x)], StepKind::Eval);
    let k = s(1.0);
    close(&out["pred"], &[k, 10.0 * k, 3.0 * k, 30.0 * k], 1e-5);
    assert!(!out.contains_key("update:batchnorm.moving_mean"));
}

#[test]
fn positional_encoding_values() {
    let x = arr(&[1, 2, 4], &[0.0; 8]);
    let text = program("positional_encoding(x)", "mse(M(x), x)", "");
    let out = outputs(&text, &[("x", DType::F32, x)], StepKind::Predict);
    let r = 1e-2f32; // 10000^(-2/4)
    let want = [0.0, 1.0, 0.0, 1.0, 1f32.sin(), 1f32.cos(), r.sin(), r.cos()];
    close(&out["pred"], &want, 1e-6);
}

#[test]
fn adam_first_step_moves_each_parameter_by_lr() {
    let x = arr(&[2, 3], &[0.5, -1.0, 2.0, 1.0, 0.0, -0.5]);
    let y = arr(&[2, 2], &[1.0, -1.0, 0.0, 2.0]);
    let text = "model M(x: f32[B, 3]) -> f32[B, 2] { x |> dense(2) }\n\
                train M on d { loss = mse(M(x), y) optimizer = adam() }";
    let values = [("x", DType::F32, x), ("y", DType::F32, y)];
    let out = outputs(text, &values, StepKind::Train);
    let parsed = parse("p.dlm", text);
    let items = Items::new(&parsed.files);
    let spec = dlc::lower::train_spec(train_def(&parsed)).expect("spec");
    let fields = [field("x", &[3], DType::F32), field("y", &[2], DType::F32)];
    let step = lower(&items, &spec, &fields, 2, StepKind::Train);
    let before = init_params(&step);
    for name in ["dense.w", "dense.b"] {
        let moved = &out[&format!("update:{name}")] - &before[name];
        // lr 0.01 (the input), eps 1e-7 relative to |g| makes it slightly less.
        for d in moved.iter() {
            assert!((d.abs() - 0.01).abs() < 1e-4, "{name} moved by {d}");
        }
    }
}

#[test]
fn accuracy_matches_argmax_on_random_logits() {
    let mut rng = Rng::new(12);
    let x = ArrayD::from_shape_simple_fn(IxDyn(&[16, 4]), || rng.uniform());
    let y = ArrayD::from_shape_simple_fn(IxDyn(&[16]), || (rng.uniform() * 4.0).floor());
    let want: Vec<f32> = x
        .outer_iter()
        .zip(y.iter())
        .map(|(row, label)| {
            let best = (0..4).fold(0, |b, i| if row[i] > row[b] { i } else { b });
            f32::from(best as f32 == *label)
        })
        .collect();
    let text = program("x", "cross_entropy(M(x), y)", "accuracy");
    let out = outputs(
        &text,
        &[("x", DType::F32, x), ("y", DType::I32, y)],
        StepKind::Eval,
    );
    close(&out["metric:accuracy"], &want, 0.0);
}
