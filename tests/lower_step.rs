//! Lowering whole steps: a small program's train step, run by the reference
//! interpreter, lowers its loss, and the step graphs verify.

use std::collections::HashMap;
use std::path::PathBuf;

use dlc::ir::{interp::interp_outputs, verify::verify, DType};
use dlc::lower::{init_value, lower_step, Field, Items, StepKind, TrainSpec};
use dlc::syntax::ast::{Item, TrainDef};
use ndarray::{ArrayD, IxDyn};

const PROGRAM: &str = r#"
layer lin(x: f32[B, I], units: O) -> f32[B, O] {
    param w: f32[I, O] = glorot_uniform
    param b: f32[O] = zeros
    x @ w + b
}
fn sq_err(p: f32[B, O], y: f32[B, O]) -> f32[B] { mean((p - y) ^ 2, axis: 1) }
fn abs_err(p: f32[B, O], y: f32[B, O]) -> f32[B] { mean(abs(p - y), axis: 1) }
optimizer momentum(lr: float = 0.1, beta: float = 0.9) {
    state v = zeros
    let v2 = beta * v + g
    update v = v2
    p - lr * v2
}
model Net(x: f32[B, 3]) -> f32[B, 1] {
    x |> lin(8) |> tanh |> lin(1)
}
train Net on d {
    loss = sq_err(Net(x), y)
    optimizer = momentum(lr: 0.05)
    metrics = [abs_err]
}
"#;

fn parse() -> dlc::driver::Parsed {
    let parsed = dlc::driver::parse_source("t.dlm", PROGRAM, PathBuf::from("."));
    assert!(parsed.diags.is_empty(), "{:?}", parsed.diags);
    parsed
}

fn train_def(parsed: &dlc::driver::Parsed) -> &TrainDef {
    parsed
        .files
        .iter()
        .flat_map(|(_, p)| &p.items)
        .find_map(|i| {
            if let Item::Train(t) = i {
                Some(t)
            } else {
                None
            }
        })
        .expect("a train block")
}

fn spec<'a>(t: &'a TrainDef) -> TrainSpec<'a> {
    let get = |k: &str| {
        &t.settings
            .iter()
            .find(|s| s.key.name == k)
            .expect("setting")
            .value
    };
    TrainSpec {
        model: &t.model.name,
        loss: get("loss"),
        optimizer: get("optimizer"),
        metrics: vec!["abs_err".into()],
        regularize: Some(("l2".into(), 1e-4)),
    }
}

fn fields() -> Vec<Field> {
    vec![
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
    ]
}

#[test]
fn train_step_lowers_verifies_and_learns() {
    let parsed = parse();
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let batch = 16;
    let step = lower_step(&items, &spec(t), &fields(), batch, StepKind::Train).expect("lowering");
    verify(&step.graph).expect("verified graph");
    assert_eq!(step.base_lr, 0.05);
    let names: Vec<&str> = step.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "lin.w",
            "lin.b",
            "lin_1.w",
            "lin_1.b",
            "opt:lin.w:v",
            "opt:lin.b:v",
            "opt:lin_1.w:v",
            "opt:lin_1.b:v"
        ]
    );

    // A fixed regression problem: y = x0 - 2 x1 + 0.5 x2.
    let xs: Vec<f32> = (0..batch * 3)
        .map(|i| ((i * 7919 % 97) as f32 / 48.0) - 1.0)
        .collect();
    let ys: Vec<f32> = xs
        .chunks(3)
        .map(|r| r[0] - 2.0 * r[1] + 0.5 * r[2])
        .collect();
    let mut state: HashMap<String, ArrayD<f32>> = step
        .params
        .iter()
        .map(|p| (p.name.clone(), init_value(&p.init, &p.name, &p.shape, 7)))
        .collect();
    let mut losses = Vec::new();
    for t in 1..=60 {
        let mut inputs = state.clone();
        inputs.insert(
            "x".into(),
            ArrayD::from_shape_vec(IxDyn(&[batch, 3]), xs.clone()).unwrap(),
        );
        inputs.insert(
            "y".into(),
            ArrayD::from_shape_vec(IxDyn(&[batch, 1]), ys.clone()).unwrap(),
        );
        inputs.insert("weights".into(), ArrayD::from_elem(IxDyn(&[batch]), 1.0));
        inputs.insert("lr".into(), ArrayD::from_elem(IxDyn(&[]), 0.05));
        inputs.insert("t".into(), ArrayD::from_elem(IxDyn(&[]), t as f32));
        let out = interp_outputs::<f32>(&step.graph, &inputs).expect("interpreted");
        let out: HashMap<String, ArrayD<f32>> = out.into_iter().collect();
        losses.push(out["loss"][[]]);
        assert_eq!(out["metric:abs_err"].shape(), &[batch]);
        for p in &step.params {
            state.insert(p.name.clone(), out[&format!("update:{}", p.name)].clone());
        }
    }
    assert!(
        losses[59] < losses[0] * 0.05,
        "loss went from {} to {}",
        losses[0],
        losses[59]
    );
}

#[test]
fn eval_and_predict_steps_lower() {
    let parsed = parse();
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let eval = lower_step(&items, &spec(t), &fields(), 5, StepKind::Eval).expect("eval");
    verify(&eval.graph).expect("verified eval graph");
    assert!(eval
        .graph
        .outputs
        .iter()
        .all(|(n, _)| !n.starts_with("update:")));
    let predict = lower_step(&items, &spec(t), &fields(), 1, StepKind::Predict).expect("predict");
    let outs: Vec<&str> = predict
        .graph
        .outputs
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(outs, ["pred"]);
    assert_eq!(predict.graph.shape(predict.graph.outputs[0].1), &[1, 1]);
}
