//! Shared by `std_examples.rs` and `std_defs.rs`: parse a program with the
//! standard library, lower its steps and run them with the reference
//! interpreter on synthetic inputs.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use dlc::driver::Parsed;
use dlc::ir::interp::interp_outputs;
use dlc::ir::verify::verify;
use dlc::ir::{DType, Graph, InputKind, Op};
use dlc::lower::{init_value, lower_step, Field, Items, StepGraph, StepKind, TrainSpec};
use dlc::syntax::ast::{DataDef, EvalDef, Item, TrainDef};
use ndarray::{ArrayD, IxDyn};

/// Parses `text` with the standard library and asserts no diagnostics.
pub fn parse(name: &str, text: &str) -> Parsed {
    let parsed = dlc::driver::parse_source(name, text, PathBuf::from("examples"));
    assert!(
        parsed.diags.is_empty(),
        "{name}:\n{}",
        dlc::diag::render_plain(&parsed.diags, &parsed.sources, 80)
    );
    parsed
}

/// The user file's train block (the last file is the user's).
pub fn train_def(parsed: &Parsed) -> &TrainDef {
    user_items(parsed)
        .find_map(|i| match i {
            Item::Train(t) => Some(t),
            _ => None,
        })
        .expect("a train block")
}

pub fn eval_def(parsed: &Parsed) -> Option<&EvalDef> {
    user_items(parsed).find_map(|i| match i {
        Item::Evaluate(e) => Some(e),
        _ => None,
    })
}

pub fn data_def<'a>(parsed: &'a Parsed, name: &str) -> &'a DataDef {
    user_items(parsed)
        .find_map(|i| match i {
            Item::Data(d) if d.name.name == name => Some(d),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no data block `{name}`"))
}

fn user_items(parsed: &Parsed) -> impl Iterator<Item = &Item> {
    parsed.files.last().into_iter().flat_map(|(_, p)| &p.items)
}

/// Lowers a step and verifies its graph.
pub fn lower(
    items: &Items,
    spec: &TrainSpec,
    fields: &[Field],
    batch: usize,
    kind: StepKind,
) -> StepGraph {
    let step = lower_step(items, spec, fields, batch, kind)
        .unwrap_or_else(|e| panic!("lowering {kind:?}: {e} at {:?}", e.span()));
    verify(&step.graph).unwrap_or_else(|e| panic!("verify {kind:?}: {e}"));
    step
}

/// The train step of the program `text` (file `name.dlm`) at `batch`.
pub fn example_train_step(name: &str, text: &str, batch: usize) -> StepGraph {
    let parsed = parse(&format!("{name}.dlm"), text);
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let spec = dlc::lower::train_spec(t).expect("train spec");
    let fields = dlc::lower::data_fields(data_def(&parsed, &t.data.name)).expect("fields");
    lower(&items, &spec, &fields, batch, StepKind::Train)
}

/// A data field of one sample's `shape`.
pub fn field(name: &str, shape: &[usize], dtype: DType) -> Field {
    Field {
        name: name.to_string(),
        shape: shape.to_vec(),
        dtype,
    }
}

/// A small deterministic generator for synthetic inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        bits as f32 / (1u64 << 24) as f32
    }
}

/// Synthetic values for every data input of `g`: `f32` uniform in
/// `[0, 1)`, `i32` labels in `0..classes`.
pub fn synthetic_data(g: &Graph, classes: usize, rng: &mut Rng) -> HashMap<String, ArrayD<f32>> {
    let mut out = HashMap::new();
    for node in &g.nodes {
        let Op::Input {
            name,
            kind: InputKind::Data,
            shape,
            dtype,
        } = &node.op
        else {
            continue;
        };
        let value = match (name.as_str(), dtype) {
            ("weights", _) => ArrayD::from_elem(IxDyn(shape), 1.0),
            (_, DType::I32) => ArrayD::from_shape_simple_fn(IxDyn(shape), || {
                (rng.uniform() * classes as f32).floor()
            }),
            (_, DType::F32) => ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform()),
        };
        out.insert(name.clone(), value);
    }
    out
}

/// The initial parameters and states of a step.
pub fn init_params(step: &StepGraph) -> HashMap<String, ArrayD<f32>> {
    step.params
        .iter()
        .map(|p| (p.name.clone(), init_value(&p.init, &p.name, &p.shape, 7)))
        .collect()
}

/// Runs `steps` train steps on the same batch, carrying parameters and
/// states, and returns the loss of each.
pub fn train_losses(
    step: &StepGraph,
    data: &HashMap<String, ArrayD<f32>>,
    steps: usize,
    lr: f32,
) -> Vec<f32> {
    let mut state = init_params(step);
    let mut losses = Vec::new();
    for t in 1..=steps {
        let mut inputs = state.clone();
        inputs.extend(data.iter().map(|(k, v)| (k.clone(), v.clone())));
        inputs.insert("lr".into(), ArrayD::from_elem(IxDyn(&[]), lr));
        inputs.insert("t".into(), ArrayD::from_elem(IxDyn(&[]), t as f32));
        inputs.insert("seed".into(), ArrayD::from_elem(IxDyn(&[]), 42.0));
        inputs.insert("step".into(), ArrayD::from_elem(IxDyn(&[]), t as f32));
        let out = interp_outputs::<f32>(&step.graph, &inputs).expect("interpreted");
        losses.push(out["loss"][[]]);
        for p in &step.params {
            let next = format!("update:{}", p.name);
            if let Some(v) = out.get(&next) {
                state.insert(p.name.clone(), v.clone());
            }
        }
    }
    losses
}

/// Runs an eval or predict step once and returns its outputs.
pub fn run_once(
    step: &StepGraph,
    data: &HashMap<String, ArrayD<f32>>,
) -> HashMap<String, ArrayD<f32>> {
    let mut inputs = init_params(step);
    inputs.extend(data.iter().map(|(k, v)| (k.clone(), v.clone())));
    interp_outputs::<f32>(&step.graph, &inputs).expect("interpreted")
}
