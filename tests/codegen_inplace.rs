//! In-place updates (`Compiled::in_place`, `Out::InPlace`): an update
//! written over its input's buffer gives bit for bit what it gives in a
//! buffer of its own, for the examples' whole train steps carried over
//! several steps, and graphs where sharing would change a result are not
//! offered it.

mod codegen_common;
mod run_step;

use std::collections::HashMap;

use codegen_common::{random_inputs, run_jit, test_options};
use dlc::codegen::{compile, CodegenError, Compiled, In, Out};
use dlc::ir::{BinaryOp, DType, Graph, InputKind};
use ndarray::{ArrayD, IxDyn};
use run_step::{example_train_step, init_params, synthetic_data, Rng};

type Tensors = HashMap<String, ArrayD<f32>>;

/// Runs `c` with every in-place pair bound in place; returns the outputs
/// by name, an in-place one read back from its input's buffer.
fn run_in_place(c: &mut Compiled, inputs: &Tensors) -> Tensors {
    let sigs_in = c.inputs().to_vec();
    let sigs_out = c.outputs().to_vec();
    let pairs = c.in_place().to_vec();
    let mut f32s: Vec<Vec<f32>> = sigs_in
        .iter()
        .map(|s| inputs[&s.name].iter().copied().collect())
        .collect();
    let i32s: Vec<Vec<i32>> = sigs_in
        .iter()
        .map(|s| inputs[&s.name].iter().map(|&v| v as i32).collect())
        .collect();
    let shared = |k: usize| pairs.iter().any(|&(_, i)| i == k);
    let mut of: Vec<Vec<f32>> = sigs_out.iter().map(|s| vec![0.0; s.len()]).collect();
    let mut oi: Vec<Vec<i32>> = sigs_out.iter().map(|s| vec![0; s.len()]).collect();
    {
        let ins: Vec<In> = f32s
            .iter_mut()
            .enumerate()
            .map(|(k, f)| match sigs_in[k].dtype {
                DType::F32 if shared(k) => In::F32Mut(f),
                DType::F32 => In::F32(f),
                DType::I32 => In::I32(&i32s[k]),
            })
            .collect();
        let mut outs: Vec<Out> = of
            .iter_mut()
            .zip(oi.iter_mut())
            .enumerate()
            .map(|(k, (f, i))| {
                if pairs.iter().any(|&(o, _)| o == k) {
                    Out::InPlace
                } else if sigs_out[k].dtype == DType::I32 {
                    Out::I32(i)
                } else {
                    Out::F32(f)
                }
            })
            .collect();
        c.run(&ins, &mut outs).expect("run");
    }
    sigs_out
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let data = match pairs.iter().find(|&&(o, _)| o == k) {
                Some(&(_, i)) => f32s[i].clone(),
                None if s.dtype == DType::I32 => oi[k].iter().map(|&v| v as f32).collect(),
                None => of[k].clone(),
            };
            let a = ArrayD::from_shape_vec(IxDyn(&s.shape), data).expect("shape");
            (s.name.clone(), a)
        })
        .collect()
}

fn assert_same(what: &str, a: &Tensors, b: &Tensors) {
    assert_eq!(a.len(), b.len(), "{what}: output count");
    for (name, x) in a {
        let y = &b[name];
        let same = x.shape() == y.shape()
            && x.iter()
                .zip(y.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits());
        assert!(same, "{what}: `{name}` differs in place");
    }
}

/// `steps` train steps, each engine binding carrying its own state.
fn check_example(name: &str, text: &str, batch: usize, steps: usize) {
    let step = example_train_step(name, text, batch);
    let mut apart = compile(&step.graph, &test_options()).expect("compile");
    let mut shared = compile(&step.graph, &test_options()).expect("compile");
    let updates = step
        .graph
        .outputs
        .iter()
        .filter(|(n, _)| n.starts_with("update:"))
        .count();
    let pairs = shared.in_place().len();
    println!("{name}: {pairs} of {updates} updates in place");
    assert!(pairs > 0, "{name}: no update is written in place");
    let data = synthetic_data(&step.graph, 10, &mut Rng::new(5));
    let mut state_a = init_params(&step);
    let mut state_b = state_a.clone();
    for k in 1..=steps {
        let feed = |s: &Tensors| {
            let mut s = s.clone();
            s.extend(data.iter().map(|(a, b)| (a.clone(), b.clone())));
            for (n, v) in [
                ("lr", 0.01),
                ("t", k as f32),
                ("seed", 7.0),
                ("step", k as f32),
            ] {
                s.insert(n.into(), ArrayD::from_elem(IxDyn(&[]), v));
            }
            s
        };
        let a = run_jit(&mut apart, &feed(&state_a));
        let b = run_in_place(&mut shared, &feed(&state_b));
        assert_same(&format!("{name} step {k}"), &a, &b);
        for (out, v) in &a {
            if let Some(p) = out.strip_prefix("update:") {
                state_a.insert(p.into(), v.clone());
                state_b.insert(p.into(), b[out].clone());
            }
        }
    }
}

#[test]
fn example_train_steps_give_the_same_bits_in_place() {
    check_example("mlp", include_str!("../examples/mlp.dlm"), 16, 3);
    check_example("mnist_cnn", include_str!("../examples/mnist_cnn.dlm"), 4, 2);
    let lstm = include_str!("../examples/lstm_classifier.dlm");
    check_example("lstm_classifier", lstm, 4, 2);
    let transformer = include_str!("../examples/transformer.dlm");
    check_example("transformer", transformer, 4, 2);
}

/// The MLP's Adam update: every parameter and moment, and the step count.
#[test]
fn the_mlp_optimizer_updates_every_state_in_place() {
    let step = example_train_step("mlp", include_str!("../examples/mlp.dlm"), 16);
    let c = compile(&step.graph, &test_options()).expect("compile");
    let names: Vec<&str> = c
        .in_place()
        .iter()
        .map(|&(o, _)| c.outputs()[o].name.as_str())
        .collect();
    let updates: Vec<&str> = c
        .outputs()
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| n.starts_with("update:"))
        .collect();
    assert_eq!(names, updates);
}

/// `update:w = f(w)` as a one-output graph over a square `w`.
fn update_graph(f: impl Fn(&mut Graph, dlc::ir::NodeId) -> dlc::ir::NodeId) -> Graph {
    let mut g = Graph::new();
    let w = g.input("w", InputKind::Param, &[6, 6], DType::F32).unwrap();
    let new = f(&mut g, w);
    g.output("update:w", new);
    g
}

fn offered(g: &Graph) -> Vec<(usize, usize)> {
    compile(g, &test_options())
        .expect("compile")
        .in_place()
        .to_vec()
}

#[test]
fn an_elementwise_update_is_offered_and_agrees() {
    let g = update_graph(|g, w| {
        let two = g.full(2.0, &[6, 6]).unwrap();
        let m = g.binary(BinaryOp::Mul, w, two).unwrap();
        g.unary(dlc::ir::UnaryOp::Exp, m).unwrap()
    });
    assert_eq!(offered(&g), [(0, 0)]);
    let inputs = random_inputs(&g, 1, 1);
    let mut c = compile(&g, &test_options()).expect("compile");
    let a = run_jit(&mut c, &inputs);
    assert_same("exp(2w)", &a, &run_in_place(&mut c, &inputs));
}

#[test]
fn an_update_reading_other_elements_is_not_offered() {
    // Each element of the transpose reads an element another iteration
    // overwrites.
    let g = update_graph(|g, w| {
        let t = g.transpose(w, &[1, 0]).unwrap();
        g.binary(BinaryOp::Add, w, t).unwrap()
    });
    assert!(offered(&g).is_empty());
    // A row sum needs the whole row before any of it is replaced.
    let g = update_graph(|g, w| {
        let s = g.sum(w, &[1]).unwrap();
        let s = g.reshape(s, &[6, 1]).unwrap();
        let s = g.broadcast(s, &[6, 6]).unwrap();
        g.binary(BinaryOp::Sub, w, s).unwrap()
    });
    let mut c = compile(&g, &test_options()).expect("compile");
    let inputs = random_inputs(&g, 2, 1);
    let a = run_jit(&mut c, &inputs);
    assert_same("w - rowsum(w)", &a, &run_in_place(&mut c, &inputs));
}

#[test]
fn an_input_also_passed_through_is_not_offered() {
    let mut g = update_graph(|g, w| g.unary(dlc::ir::UnaryOp::Neg, w).unwrap());
    let w = g
        .output_id("update:w")
        .map(|u| g.node(u).inputs[0])
        .unwrap();
    g.output("old", w);
    assert!(offered(&g).is_empty());
}

#[test]
fn binding_in_place_without_a_partner_is_an_error() {
    let g = update_graph(|g, w| {
        let t = g.transpose(w, &[1, 0]).unwrap();
        g.binary(BinaryOp::Add, w, t).unwrap()
    });
    let mut c = compile(&g, &test_options()).expect("compile");
    let mut w = vec![1.0; 36];
    let err = c
        .run(&[In::F32Mut(&mut w)], &mut [Out::InPlace])
        .expect_err("no in-place partner");
    assert!(
        matches!(err, CodegenError::InPlace(ref n) if n == "update:w"),
        "{err}"
    );
}
