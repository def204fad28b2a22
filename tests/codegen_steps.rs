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

use codegen_common::{distance, random_inputs, run_jit, test_options};
use dlc::codegen::{compile, Options};
use dlc::ir::interp::interp_outputs;
use dlc::lower::{data_fields, train_spec, Items, StepGraph, StepKind};
use ndarray::{ArrayD, IxDyn};
use run_step::{
    data_def, example_train_step, init_params, lower, parse, synthetic_data, train_def, Rng,
};

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
/// loss, predictions and metrics only; never the attention key bias's
/// update and optimizer state. Its gradient is zero in exact arithmetic
/// (`q · bk` is one constant per query across the keys, and softmax
/// ignores constants), so both engines give rounding noise there, summed
/// in different orders (the JIT's reductions keep four accumulators).
fn compared(name: &str, all: bool) -> bool {
    let noise = name.contains("multi_head_attention.bk");
    (all || !name.starts_with("update:")) && !noise
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

/// Outputs of `steps` runs of `g` compiled with `threads`, each run fed
/// the previous run's parameter updates; with how many kernels were split.
fn threaded_runs(
    step: &StepGraph,
    threads: usize,
    steps: usize,
) -> (Vec<HashMap<String, ArrayD<f32>>>, usize) {
    let opts = Options {
        threads,
        ..test_options()
    };
    let mut c = compile(&step.graph, &opts).expect("compile");
    let split = c.parts().filter(|&p| p > 1).count();
    let data = synthetic_data(&step.graph, 10, &mut Rng::new(5));
    let mut state = init_params(step);
    let mut runs = Vec::new();
    for k in 1..=steps {
        let mut ins = state.clone();
        ins.extend(data.iter().map(|(a, b)| (a.clone(), b.clone())));
        ins.insert("lr".into(), ArrayD::from_elem(IxDyn(&[]), 0.01));
        for s in ["t", "step"] {
            ins.insert(s.into(), ArrayD::from_elem(IxDyn(&[]), k as f32));
        }
        ins.insert("seed".into(), ArrayD::from_elem(IxDyn(&[]), 42.0));
        let out = run_jit(&mut c, &ins);
        for p in &step.params {
            if let Some(v) = out.get(&format!("update:{}", p.name)) {
                state.insert(p.name.clone(), v.clone());
            }
        }
        runs.push(out);
    }
    (runs, split)
}

/// Work shared among threads gives exactly the one-thread results: each
/// element is computed by the same code either way. The MLP's optimizer
/// update (its 784 x 128 weight with Adam) is a split kernel; the CNN adds
/// split ReLU gradients, the direct first convolution (images shared
/// forward, filters in the weight gradient) and max pooling (planes).
#[test]
fn work_shared_across_threads_matches_one_thread_exactly() {
    for (name, text, batch) in [
        ("mlp", include_str!("../examples/mlp.dlm"), 16),
        ("mnist_cnn", include_str!("../examples/mnist_cnn.dlm"), 8),
    ] {
        let step = example_train_step(name, text, batch);
        let (one, none_split) = threaded_runs(&step, 1, 3);
        let (two, split) = threaded_runs(&step, 2, 3);
        assert_eq!(none_split, 0, "{name}");
        assert!(split > 0, "no kernel of the {name} step was split");
        for (a, b) in one.iter().zip(&two) {
            for (out, v) in a {
                assert!(
                    v.iter()
                        .zip(b[out].iter())
                        .all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{name}: {out} differs between one and two threads"
                );
            }
        }
    }
}

/// `g` run on `inputs` compiled for one thread and for two, checking
/// that `split` of its kernels are shared with two threads (none with one).
fn one_and_two_threads(
    g: &dlc::ir::Graph,
    inputs: &HashMap<String, ArrayD<f32>>,
    split: usize,
) -> Vec<HashMap<String, ArrayD<f32>>> {
    [1, 2]
        .into_iter()
        .map(|threads| {
            let opts = Options {
                threads,
                ..test_options()
            };
            let mut c = compile(g, &opts).expect("compile");
            let shared = c.parts().filter(|&p| p > 1).count();
            assert_eq!(
                shared,
                if threads > 1 { split } else { 0 },
                "{threads} threads"
            );
            run_jit(&mut c, inputs)
        })
        .collect()
}

/// Split loops of lengths that are no multiple of the vector width or of
/// the share size (a flat loop with a scalar tail, a transposed store
/// whose outer dimension is shared) cover every element once.
#[test]
fn split_loops_with_ragged_ends_cover_every_element() {
    use dlc::ir::{BinaryOp, DType, Graph, InputKind, UnaryOp};
    let mut g = Graph::new();
    let x = g
        .input("x", InputKind::Data, &[3, 11001], DType::F32)
        .unwrap();
    let e = g.unary(UnaryOp::Exp, x).unwrap();
    let t = g.transpose(x, &[1, 0]).unwrap();
    let two = g.full(2.0, &[11001, 3]).unwrap();
    let t2 = g.binary(BinaryOp::Mul, t, two).unwrap();
    g.output("e", e);
    g.output("t2", t2);
    let inputs = random_inputs(&g, 9, 1);
    let x_val = inputs["x"]
        .clone()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    // One kernel per output: both are split with two threads.
    let results = one_and_two_threads(&g, &inputs, 2);
    let want_t2 = x_val.t().mapv(|v| 2.0 * v);
    for r in &results {
        assert_eq!(r["t2"], want_t2.clone().into_dyn());
        let e_ok = r["e"]
            .iter()
            .zip(x_val.iter())
            .all(|(a, v)| (a - v.exp()).abs() <= 1e-6 * v.exp());
        assert!(e_ok, "exp differs");
    }
    assert_eq!(results[0]["e"], results[1]["e"]);
}

/// A small loop of transcendental functions (an LSTM's gates: 2,048
/// points, a sigmoid and a tanh each) or of many buffers summed (its 28
/// time steps' weight gradients) is worth sharing among threads; a plain
/// loop of the same size is not. The shared ones match one thread
/// bitwise.
#[test]
fn small_loops_of_much_work_are_split() {
    use dlc::ir::{BinaryOp, DType, Graph, InputKind, UnaryOp};
    let mut g = Graph::new();
    let x = g
        .input("x", InputKind::Data, &[32, 64], DType::F32)
        .unwrap();
    let s = g.unary(UnaryOp::Sigmoid, x).unwrap();
    let t = g.unary(UnaryOp::Tanh, x).unwrap();
    let gate = g.binary(BinaryOp::Mul, s, t).unwrap();
    g.output("gate", gate);
    // Another shape, so it is a kernel of its own.
    let y = g.input("y", InputKind::Data, &[2048], DType::F32).unwrap();
    let sum = g.binary(BinaryOp::Add, y, y).unwrap();
    g.output("sum", sum);
    let parts: Vec<_> = (0..28)
        .map(|i| {
            g.input(&format!("p{i}"), InputKind::Data, &[128, 128], DType::F32)
                .unwrap()
        })
        .collect();
    let total = parts[1..]
        .iter()
        .fold(parts[0], |acc, &p| g.binary(BinaryOp::Add, acc, p).unwrap());
    g.output("total", total);
    let inputs = random_inputs(&g, 17, 1);
    let results = one_and_two_threads(&g, &inputs, 2);
    for out in ["gate", "sum", "total"] {
        assert_eq!(results[0][out], results[1][out], "{out}");
    }
}

/// A reduction whose outermost dimension is reduced (a bias gradient:
/// sum over batch and pixels, per channel) runs with a kept dimension
/// outermost and is shared among threads by outputs, a ragged last share
/// included; sums and maxima match the reference and one thread bitwise.
#[test]
fn split_reductions_share_their_outputs() {
    use dlc::ir::{DType, Graph, InputKind};
    let mut g = Graph::new();
    let x = g
        .input("x", InputKind::Data, &[6, 5, 1201], DType::F32)
        .unwrap();
    let s = g.sum(x, &[0, 2]).unwrap();
    let m = g.max_over(x, &[0, 2]).unwrap();
    g.output("s", s);
    g.output("m", m);
    let inputs = random_inputs(&g, 5, 1);
    let reference = interp_outputs::<f32>(&g, &inputs).unwrap();
    let results = one_and_two_threads(&g, &inputs, 2);
    for r in &results {
        assert_eq!(r["m"], reference["m"]);
        for (a, b) in r["s"].iter().zip(reference["s"].iter()) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "sum {a} vs {b}");
        }
    }
    assert_eq!(results[0]["s"], results[1]["s"]);
    assert_eq!(results[0]["m"], results[1]["m"]);
}
