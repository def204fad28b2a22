//! Every std definition lowered and run on a tiny input, one line per
//! definition through `layer`, `loss`, `metric` and `optimizer`; layers and
//! losses are also gradient-checked in f64 (through the lowered train
//! step's loss, with respect to every parameter and the input). Then a few
//! values computed by hand.

mod grad_check;
mod run_step;

use std::collections::HashMap;

use dlc::ir::{DType, InputKind, Op};
use dlc::lower::{Field, Items, StepGraph, StepKind};
use ndarray::{ArrayD, IxDyn};
use run_step::*;

const BATCH: usize = 2;
/// Ids and labels are drawn from `0..CLASSES`.
const CLASSES: usize = 3;

/// A field of the test program: name, per-sample shape, element type.
type F = (&'static str, &'static [usize], DType);

/// Lowers `model M(x) { body }` trained on `loss` with `optimizer`, runs
/// one train step and the eval step, checks the prediction's shape and that
/// every output is finite, and with `grad` checks the gradient of the loss.
fn run(
    name: &str,
    body: &str,
    loss: &str,
    optimizer: &str,
    fields: &[F],
    out: &[usize],
    grad: bool,
) {
    let text = format!(
        "model M(x: f32[...]) -> f32[...] {{ {body} }}\n\
         fn weighted(p: f32[...], r: f32[...]) -> f32 {{ sum(p * r) }}\n\
         train M on d {{ loss = {loss} optimizer = {optimizer} }}\n"
    );
    let parsed = parse(&format!("{name}.dlm"), &text);
    let items = Items::new(&parsed.files);
    let spec = dlc::lower::train_spec(train_def(&parsed)).expect("spec");
    let fields: Vec<Field> = fields
        .iter()
        .map(|(n, s, d)| Field {
            name: n.to_string(),
            shape: s.to_vec(),
            dtype: *d,
        })
        .collect();
    let train = lower(&items, &spec, &fields, BATCH, StepKind::Train);
    let mut rng = Rng::new(name.len() as u64);
    let data = synthetic_data(&train.graph, CLASSES, &mut rng);
    let losses = train_losses(&train, &data, 2, 0.01);
    assert!(losses.iter().all(|l| l.is_finite()), "{name}: {losses:?}");
    let eval = lower(&items, &spec, &fields, BATCH, StepKind::Eval);
    let outs = run_once(&eval, &synthetic_data(&eval.graph, CLASSES, &mut rng));
    let mut shape = vec![BATCH];
    shape.extend(out);
    assert_eq!(
        outs["pred"].shape(),
        shape.as_slice(),
        "{name}: output shape"
    );
    for (k, v) in &outs {
        assert!(v.iter().all(|x| x.is_finite()), "{name}: {k} is not finite");
    }
    if grad {
        grad_check_step(name, train, &data);
    }
}

/// Checks d loss / d (every parameter and `f32` data input but the
/// target) of a lowered train step against finite differences.
fn grad_check_step(name: &str, step: StepGraph, data: &HashMap<String, ArrayD<f32>>) {
    let mut values: HashMap<String, ArrayD<f64>> = init_params(&step)
        .into_iter()
        .chain(data.clone())
        .map(|(k, v)| (k, v.mapv(f64::from)))
        .collect();
    for (k, v) in [("lr", 0.01), ("t", 1.0), ("seed", 42.0), ("step", 1.0)] {
        values.insert(k.into(), ArrayD::from_elem(IxDyn(&[]), v));
    }
    let wrt: Vec<_> = (0..step.graph.nodes.len())
        .map(|i| dlc::ir::NodeId(i as u32))
        .filter(|&id| match &step.graph.node(id).op {
            Op::Input {
                name, kind, dtype, ..
            } => {
                *dtype == DType::F32
                    && (*kind == InputKind::Param || (*kind == InputKind::Data && name == "x"))
            }
            _ => false,
        })
        .collect();
    let loss = step.graph.output_id("loss").expect("loss output");
    grad_check::check_loss(name, step.graph, loss, &wrt, values);
}

const SGD: &str = "sgd(lr: 0.01)";

/// A layer on `x` of per-sample shape `x`, trained on `sum(out * r)`.
fn layer(name: &str, body: &str, x: &'static [usize], out: &'static [usize], grad: bool) {
    let fields = [("x", x, DType::F32), ("r", out, DType::F32)];
    run(name, body, "weighted(M(x), r)", SGD, &fields, out, grad);
}

/// A layer on `i32` ids.
fn id_layer(name: &str, body: &str, x: &'static [usize], out: &'static [usize]) {
    let fields = [("x", x, DType::I32), ("r", out, DType::F32)];
    run(name, body, "weighted(M(x), r)", SGD, &fields, out, true);
}

/// A loss on `dense(C)` logits of a 4-feature input against target `y`.
fn loss(name: &str, call: &str, y: F, c: &'static [usize]) {
    let fields = [("x", &[4][..], DType::F32), y];
    let body = format!("x |> dense({})", c[0]);
    run(name, &body, call, SGD, &fields, c, true);
}

/// An optimizer must lower the loss of a small regression over 30 steps.
fn optimizer(name: &str, opt: &str) {
    let text = format!(
        "model M(x: f32[B, 3]) -> f32[B, 1] {{ x |> dense(8) |> tanh |> dense(1) }}\n\
         train M on d {{ loss = mse(M(x), y) optimizer = {opt} }}\n"
    );
    let parsed = parse(&format!("{name}.dlm"), &text);
    let items = Items::new(&parsed.files);
    let spec = dlc::lower::train_spec(train_def(&parsed)).expect("spec");
    let fields = [
        Field {
            name: "x".into(),
            shape: vec![3],
            dtype: DType::F32,
        },
        Field {
            name: "y".into(),
            shape: vec![1],
            dtype: DType::F32,
        },
    ];
    let step = lower(&items, &spec, &fields, 16, StepKind::Train);
    let mut data = synthetic_data(&step.graph, CLASSES, &mut Rng::new(5));
    let x = data["x"].clone();
    let y: Vec<f32> = x
        .as_slice()
        .expect("contiguous")
        .chunks(3)
        .map(|r| r[0] - 2.0 * r[1] + 0.5 * r[2])
        .collect();
    data.insert(
        "y".into(),
        ArrayD::from_shape_vec(IxDyn(&[16, 1]), y).unwrap(),
    );
    let losses = train_losses(&step, &data, 30, step.base_lr as f32);
    assert!(
        losses[29] < losses[0] * 0.5,
        "{name}: loss went from {} to {}",
        losses[0],
        losses[29]
    );
}

#[test]
fn activations() {
    layer("relu", "relu(x)", &[5], &[5], true);
    layer(
        "leaky_relu",
        "leaky_relu(x - 0.5, alpha: 0.1)",
        &[5],
        &[5],
        true,
    );
    layer("prelu", "prelu(x - 0.5)", &[5], &[5], true);
    layer("elu", "elu(x - 0.5)", &[5], &[5], true);
    layer("softmax", "softmax(x)", &[2, 4], &[2, 4], true);
    layer("log_softmax", "log_softmax(x)", &[2, 4], &[2, 4], true);
}

#[test]
fn dense_conv_pool() {
    layer("dense", "x |> dense(3)", &[4], &[3], true);
    layer("dense_3d", "x |> dense(3)", &[2, 4], &[2, 3], true);
    layer(
        "conv2d",
        "x |> conv2d(2, kernel: 3)",
        &[1, 5, 5],
        &[2, 3, 3],
        true,
    );
    let same = "x |> conv2d(2, kernel: 3, stride: 2, padding: \"same\")";
    layer("conv2d_same", same, &[1, 5, 5], &[2, 3, 3], true);
    layer("maxpool2d", "maxpool2d(x, 2)", &[1, 4, 4], &[1, 2, 2], true);
    layer(
        "avgpool2d",
        "avgpool2d(x, 2, stride: 1)",
        &[1, 3, 3],
        &[1, 2, 2],
        true,
    );
    layer("flatten", "flatten(x)", &[2, 2, 3], &[12], true);
    layer("dropout", "dropout(x, 0.5)", &[6], &[6], true);
}

#[test]
fn normalization_and_embedding() {
    layer("batchnorm", "batchnorm(x)", &[3], &[3], true);
    layer(
        "batchnorm2d",
        "batchnorm2d(x)",
        &[2, 2, 2],
        &[2, 2, 2],
        true,
    );
    layer("layernorm", "layernorm(x)", &[2, 4], &[2, 4], true);
    id_layer("embedding", "embedding(x, vocab: 3, dim: 4)", &[2], &[2, 4]);
}

#[test]
fn recurrent() {
    layer("simple_rnn", "simple_rnn(x, 3)", &[3, 2], &[3], true);
    layer(
        "simple_rnn_seq",
        "simple_rnn_seq(x, 3)",
        &[3, 2],
        &[3, 3],
        true,
    );
    layer("lstm", "lstm(x, 3)", &[3, 2], &[3], true);
    layer("lstm_seq", "lstm_seq(x, 3)", &[3, 2], &[3, 3], true);
    layer("gru", "gru(x, 3)", &[3, 2], &[3], true);
    layer("gru_seq", "gru_seq(x, 3)", &[3, 2], &[3, 3], true);
}

#[test]
fn attention() {
    let mha = "multi_head_attention(x, heads: 2)";
    layer("multi_head_attention", mha, &[3, 4], &[3, 4], true);
    layer(
        "positional_encoding",
        "positional_encoding(x)",
        &[3, 4],
        &[3, 4],
        true,
    );
    let block = "transformer_encoder(x, heads: 2, ff: 5)";
    layer("transformer_encoder", block, &[3, 4], &[3, 4], true);
}

#[test]
fn losses() {
    let labels: F = ("y", &[], DType::I32);
    let probs: F = ("y", &[3], DType::F32);
    let binary: F = ("y", &[1], DType::F32);
    loss("mse", "mse(M(x), y)", probs, &[3]);
    loss("mae", "mae(M(x), y)", probs, &[3]);
    loss("cross_entropy", "cross_entropy(M(x), y)", labels, &[3]);
    let smoothed = "cross_entropy(M(x), y, smoothing: 0.1)";
    loss("cross_entropy_smoothing", smoothed, labels, &[3]);
    let cce = "categorical_cross_entropy(M(x), y)";
    loss("categorical_cross_entropy", cce, probs, &[3]);
    let bce = "binary_cross_entropy(M(x), y)";
    loss("binary_cross_entropy", bce, binary, &[1]);
    let kl = "kl_divergence(softmax(M(x)), y)";
    loss("kl_divergence", kl, probs, &[3]);
    loss("hinge", "hinge(M(x), y)", binary, &[1]);
    loss("focal", "focal(M(x), y)", binary, &[1]);
}

#[test]
fn optimizers() {
    optimizer("sgd", "sgd(lr: 0.1)");
    optimizer("sgd_momentum", "sgd(lr: 0.05, momentum: 0.9)");
    optimizer(
        "sgd_nesterov",
        "sgd(lr: 0.05, momentum: 0.9, nesterov: true)",
    );
    optimizer("adam", "adam(lr: 0.02)");
    optimizer("adamw", "adamw(lr: 0.02)");
    optimizer("adagrad", "adagrad(lr: 0.2)");
    optimizer("rmsprop", "rmsprop(lr: 0.01)");
    optimizer("rmsprop_momentum", "rmsprop(lr: 0.005, momentum: 0.9)");
}

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
        .map(|(n, d, v)| Field {
            name: n.to_string(),
            shape: v.shape()[1..].to_vec(),
            dtype: *d,
        })
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
    let mut rng = grad_check::Rng::new("softmax");
    let x = rng.array(&[4, 5], -30.0, 30.0).mapv(|v| v as f32);
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
    let fields = [
        Field {
            name: "x".into(),
            shape: vec![3],
            dtype: DType::F32,
        },
        Field {
            name: "y".into(),
            shape: vec![2],
            dtype: DType::F32,
        },
    ];
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
    let mut rng = grad_check::Rng::new("accuracy");
    let x = rng.array(&[16, 4], -1.0, 1.0).mapv(|v| v as f32);
    let y = rng.ids(&[16], 4).mapv(|v| v as f32);
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
