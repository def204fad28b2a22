//! Whole train steps of the example models — forward, loss, autodiff
//! backward and the optimizer update — through the JIT against the
//! reference interpreter. Both engines start from the same parameters and
//! each carries its own updated parameters and optimizer states through
//! several steps on a synthetic batch.
//!
//! With the example's optimizer swapped for SGD with momentum (linear in
//! the gradient), every output of every step (loss, predictions, metrics,
//! every `update:*`) must agree within 1e-4 (normwise relative, see
//! `codegen_common`). With the optimizer as written (Adam, AdamW, RMSprop)
//! the loss, predictions and metrics must agree within 1e-4; their
//! parameter updates are not compared elementwise, because these
//! optimizers divide the gradient by its own magnitude: a gradient that is
//! zero in exact arithmetic (the key bias of attention) or near `eps` is
//! rounding noise in both engines, and the update turns that noise into
//! steps of size `lr`.

mod codegen_common;
mod run_step;

use std::collections::HashMap;

use codegen_common::{distance, run_jit, test_options};
use dlc::codegen::compile;
use dlc::ir::interp::interp_outputs;
use dlc::lower::{data_fields, train_spec, Items, StepKind};
use ndarray::{ArrayD, IxDyn};
use run_step::{data_def, init_params, lower, parse, synthetic_data, train_def, Rng};

/// `text` with its optimizer replaced by SGD with momentum.
fn with_sgd(text: &str) -> String {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("use std.optimizers") {
                "use std.optimizers.{sgd}".to_string()
            } else if t.starts_with("optimizer") && t.contains('=') {
                "    optimizer = sgd(lr: 0.05, momentum: 0.9)".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether output `name` is compared: all of them, or (`all` false) the
/// loss, predictions and metrics only.
fn compared(name: &str, all: bool) -> bool {
    all || !name.starts_with("update:")
}

/// Runs `steps` train steps of `text` at `batch` in both engines and
/// asserts the compared outputs agree; returns the largest distance.
fn compare_steps(name: &str, text: &str, batch: usize, steps: usize, all: bool) -> f64 {
    let parsed = parse(&format!("{name}.dlm"), text);
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let spec = train_spec(t).expect("train spec");
    let fields = data_fields(data_def(&parsed, &t.data.name)).expect("fields");
    let step = lower(&items, &spec, &fields, batch, StepKind::Train);
    let mut c = compile(&step.graph, &test_options()).expect("compile");
    let data = synthetic_data(&step.graph, 10, &mut Rng::new(3));
    let mut ref_state = init_params(&step);
    let mut jit_state = ref_state.clone();
    let mut worst: HashMap<String, f64> = HashMap::new();
    for k in 1..=steps {
        let scalars = |s: &mut HashMap<String, ArrayD<f32>>| {
            s.extend(data.iter().map(|(a, b)| (a.clone(), b.clone())));
            s.insert("lr".into(), ArrayD::from_elem(IxDyn(&[]), 0.01));
            s.insert("t".into(), ArrayD::from_elem(IxDyn(&[]), k as f32));
            s.insert("seed".into(), ArrayD::from_elem(IxDyn(&[]), 42.0));
            s.insert("step".into(), ArrayD::from_elem(IxDyn(&[]), k as f32));
        };
        let (mut ri, mut ji) = (ref_state.clone(), jit_state.clone());
        scalars(&mut ri);
        scalars(&mut ji);
        let r = interp_outputs::<f32>(&step.graph, &ri).expect("interp");
        let j = run_jit(&mut c, &ji);
        for (out, v) in r.iter().filter(|(o, _)| compared(o, all)) {
            let d = distance(&j[out], v);
            let e = worst.entry(out.clone()).or_default();
            *e = e.max(d);
        }
        for p in &step.params {
            let next = format!("update:{}", p.name);
            if let (Some(a), Some(b)) = (r.get(&next), j.get(&next)) {
                ref_state.insert(p.name.clone(), a.clone());
                jit_state.insert(p.name.clone(), b.clone());
            }
        }
    }
    let mut list: Vec<(&String, &f64)> = worst.iter().collect();
    list.sort_by(|a, b| b.1.total_cmp(a.1));
    println!(
        "{name} (batch {batch}, {steps} steps, all outputs: {all}): worst outputs {:?}",
        &list[..list.len().min(4)]
    );
    let max = list.first().map_or(0.0, |w| *w.1);
    assert!(max <= 1e-4, "{name}: {} differs by {max:e}", list[0].0);
    max
}

fn both(name: &str, text: &str, batch: usize, steps: usize) {
    compare_steps(name, &with_sgd(text), batch, steps, true);
    compare_steps(name, text, batch, steps, false);
}

#[test]
fn mlp_train_steps_match_the_reference() {
    both("mlp", include_str!("../examples/mlp.dlm"), 16, 4);
}

#[test]
fn cnn_train_steps_match_the_reference() {
    both("mnist_cnn", include_str!("../examples/mnist_cnn.dlm"), 4, 3);
}

#[test]
fn lstm_train_steps_match_the_reference() {
    let text = include_str!("../examples/lstm_classifier.dlm");
    both("lstm_classifier", text, 4, 3);
}

#[test]
fn transformer_train_steps_match_the_reference() {
    let text = include_str!("../examples/transformer.dlm");
    both("transformer", text, 4, 2);
}

#[test]
fn small_examples_train_steps_match_the_reference() {
    for (name, text) in [
        ("autoencoder", include_str!("../examples/autoencoder.dlm")),
        (
            "binary_classifier",
            include_str!("../examples/binary_classifier.dlm"),
        ),
        ("gdp_rnn", include_str!("../examples/gdp_rnn.dlm")),
    ] {
        both(name, text, 8, 4);
    }
}
