//! Engines: what runs a step graph.
//!
//! An [`Engine`] prepares a lowered graph once ([`Engine::compile`]) and
//! the runtime then calls the prepared [`Step`] once per batch. A step
//! reads its inputs by name from the per-batch feeds (data fields,
//! `weights`, `lr`, `t`, `seed`, `step`) and from the training state
//! (parameters, layer states, optimizer states), and writes each
//! `update:<name>` output back into the state as the new `name`. The JIT
//! binds the state's buffers in place and writes the updates over them (or
//! swaps its update buffers with them), so a train step copies no
//! parameter; the reference engine (the
//! interpreter in `ir::interp`) copies freely. [`EngineKind`] chooses one
//! (`dlc run --engine`).

use std::collections::HashMap;

use ndarray::ArrayD;

use crate::codegen::KernelReport;
use crate::ir::{interp::interp_outputs, Graph, IrError, Op};

/// Named arrays: the training state, or one batch's feeds.
pub type Tensors = HashMap<String, ArrayD<f32>>;

/// The prefix of the outputs that replace a state entry.
pub const UPDATE: &str = "update:";

/// A failure inside an engine (never the user's fault once the checker and
/// lowering have accepted the program).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the reference interpreter failed")]
    Interp(#[from] IrError),
    #[error("the JIT failed")]
    Codegen(#[from] crate::codegen::CodegenError),
    #[error("the step needs input `{0}`, which the runtime did not feed")]
    MissingInput(String),
    #[error("input `{name}` has {got} elements; the step was compiled for {expected}")]
    InputSize {
        name: String,
        expected: usize,
        got: usize,
    },
    #[error("internal engine error: {0}")]
    Internal(String),
}

/// A step's outputs in the graph's order. After a run, an `update:<name>`
/// entry holds what the state held for `name` before the step (the two
/// were swapped); the JIT lists no entry for an update it wrote in place.
#[derive(Default)]
pub struct Outputs {
    pub names: Vec<String>,
    pub values: Vec<ArrayD<f32>>,
}

impl Outputs {
    pub fn get(&self, name: &str) -> Option<&ArrayD<f32>> {
        let k = self.names.iter().position(|n| n == name)?;
        self.values.get(k)
    }

    /// Swaps every `update:<name>` output with `state[name]` (inserting
    /// a copy when the state has no such entry).
    pub fn swap_updates(&mut self, state: &mut Tensors) {
        for (name, value) in self.names.iter().zip(&mut self.values) {
            let Some(param) = name.strip_prefix(UPDATE) else {
                continue;
            };
            match state.get_mut(param) {
                Some(current) => std::mem::swap(current, value),
                None => {
                    state.insert(param.to_string(), value.clone());
                }
            }
        }
    }
}

/// The value fed for input `name`: the first feed that has it, else the
/// state.
pub fn lookup<'a>(
    name: &str,
    feeds: &[&'a Tensors],
    state: &'a Tensors,
) -> Result<&'a ArrayD<f32>, EngineError> {
    feeds
        .iter()
        .find_map(|f| f.get(name))
        .or_else(|| state.get(name))
        .ok_or_else(|| EngineError::MissingInput(name.to_string()))
}

/// A step graph prepared to run.
pub trait Step {
    /// Runs one step on `feeds` and `state`, moves the updates into
    /// `state`, and returns every output (valid until the next run).
    fn run(&mut self, state: &mut Tensors, feeds: &[&Tensors]) -> Result<&Outputs, EngineError>;

    /// The fused kernels the step runs, for `--explain` (an interpreter
    /// has none).
    fn kernels(&self) -> Option<&[KernelReport]> {
        None
    }
}

/// Something that prepares step graphs.
pub trait Engine {
    fn compile(&self, graph: &Graph) -> Result<Box<dyn Step>, EngineError>;
}

/// The engines `dlc run --engine` can choose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// The reference interpreter: slow, and the definition of every op.
    #[default]
    Reference,
    /// The Cranelift JIT (`codegen`), with this many threads for the
    /// contractions.
    Jit { threads: usize },
}

impl EngineKind {
    pub fn engine(self) -> Box<dyn Engine> {
        match self {
            EngineKind::Reference => Box::new(Reference),
            EngineKind::Jit { threads } => Box::new(super::jit::Jit { threads }),
        }
    }
}

/// The reference interpreter as an engine. It runs on one thread.
pub struct Reference;

struct ReferenceStep {
    graph: Graph,
    outputs: Outputs,
}

impl Engine for Reference {
    fn compile(&self, graph: &Graph) -> Result<Box<dyn Step>, EngineError> {
        Ok(Box::new(ReferenceStep {
            graph: graph.clone(),
            outputs: Outputs::default(),
        }))
    }
}

impl Step for ReferenceStep {
    fn run(&mut self, state: &mut Tensors, feeds: &[&Tensors]) -> Result<&Outputs, EngineError> {
        let mut inputs = Tensors::new();
        for node in &self.graph.nodes {
            if let Op::Input { name, .. } = &node.op {
                inputs.insert(name.clone(), lookup(name, feeds, state)?.clone());
            }
        }
        let values = interp_outputs::<f32>(&self.graph, &inputs)?;
        let names: Vec<String> = self.graph.outputs.iter().map(|(n, _)| n.clone()).collect();
        let values = names
            .iter()
            .map(|n| {
                values
                    .get(n)
                    .cloned()
                    .ok_or_else(|| EngineError::Internal(format!("no output `{n}`")))
            })
            .collect::<Result<_, _>>()?;
        self.outputs = Outputs { names, values };
        self.outputs.swap_updates(state);
        Ok(&self.outputs)
    }
}
