//! Engines: what runs a step graph.
//!
//! An [`Engine`] prepares a lowered graph once ([`Engine::compile`]) and
//! the runtime then calls the prepared [`Step`] once per batch with every
//! graph input by name (parameters and states, data fields, `weights`,
//! `lr`, `t`, `seed`, `step`) and gets every named output back. The
//! reference engine is the interpreter in `ir::interp`; a JIT plugs in as
//! another `Engine` and is chosen by [`EngineKind`] (`dlc run --engine`).

use std::collections::HashMap;

use ndarray::ArrayD;

use crate::ir::{interp::interp_outputs, Graph, IrError};

/// Named arrays: a step's inputs or outputs.
pub type Tensors = HashMap<String, ArrayD<f32>>;

/// A failure inside an engine (never the user's fault once the checker and
/// lowering have accepted the program).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the reference interpreter failed")]
    Interp(#[from] IrError),
}

/// A step graph prepared to run.
pub trait Step {
    fn run(&mut self, inputs: &Tensors) -> Result<Tensors, EngineError>;
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
}

impl EngineKind {
    pub fn engine(self) -> Box<dyn Engine> {
        match self {
            EngineKind::Reference => Box::new(Reference),
        }
    }
}

/// The reference interpreter as an engine. It runs on one thread.
pub struct Reference;

struct ReferenceStep {
    graph: Graph,
}

impl Engine for Reference {
    fn compile(&self, graph: &Graph) -> Result<Box<dyn Step>, EngineError> {
        Ok(Box::new(ReferenceStep {
            graph: graph.clone(),
        }))
    }
}

impl Step for ReferenceStep {
    fn run(&mut self, inputs: &Tensors) -> Result<Tensors, EngineError> {
        Ok(interp_outputs::<f32>(&self.graph, inputs)?)
    }
}
