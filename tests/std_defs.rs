//! Every std definition lowered and run on a tiny input, one line per
//! definition through `layer`, `id_layer`, `loss` and `optimizer`; layers
//! and losses are also gradient-checked in f64 (through the lowered train
//! step's loss, with respect to every parameter and the input). Values
//! computed by hand are in `std_values.rs`.

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
    let fields: Vec<Field> = fields.iter().map(|(n, s, d)| field(n, s, *d)).collect();
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
    // The input redrawn in [-1, 1) (ids in range), so that both signs occur.
    let mut rng = grad_check::Rng::new(name);
    if let Some(x) = values.get_mut("x") {
        let is_ids = step
            .graph
            .nodes
            .iter()
            .any(|n| matches!(&n.op, Op::Input { name, dtype: DType::I32, .. } if name == "x"));
        *x = if is_ids {
            rng.ids(x.shape(), CLASSES)
        } else {
            rng.array(x.shape(), -1.0, 1.0)
        };
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
    let fields = [field("x", &[3], DType::F32), field("y", &[1], DType::F32)];
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
