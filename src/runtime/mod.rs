//! The runtime: data loading, the training loop, metrics and checkpoints.
//!
//! Everything here runs after the checker and lowering:
//! - `data` reads files (IDX, CSV, NPY, NPZ) and probes their headers;
//! - `data_block` (with `data_expr`) evaluates `data` blocks into
//!   [`data_block::Dataset`]s of their declared types;
//! - `protocol` reads a `train` block's settings;
//! - `engine` runs step graphs (the reference interpreter; `jit` the
//!   Cranelift JIT, binding the state in place),
//!   `steps` lowers and caches them per batch size and feeds them;
//! - `train` is the epoch loop, with `batches` (seeded order,
//!   augmentation), `schedule` (learning rate, early stopping), `metrics`
//!   and `checkpoint`; `evaluate` runs `evaluate` blocks with baselines;
//! - `run` ties them together for one program; `bench` times the step
//!   functions of one program (`dlc bench`).

pub mod batches;
pub mod bench;
pub mod checkpoint;
pub mod coded;
pub mod data;
pub mod data_block;
mod data_expr;
pub mod dump;
pub mod engine;
pub mod evaluate;
pub mod jit;
pub mod metrics;
pub mod plot;
pub mod protocol;
pub mod run;
pub mod schedule;
pub mod steps;
pub mod train;

use crate::diag::{Diagnostic, Span};

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{}", .0.message)]
    Load(data_block::LoadError),
    #[error("{}", .0.message)]
    Setting(protocol::SettingError),
    #[error("{message}")]
    Invalid { message: String, span: Span },
    #[error(transparent)]
    Lower(#[from] crate::lower::LowerError),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
}

impl From<data_block::LoadError> for RuntimeError {
    fn from(e: data_block::LoadError) -> RuntimeError {
        RuntimeError::Load(e)
    }
}

impl From<protocol::SettingError> for RuntimeError {
    fn from(e: protocol::SettingError) -> RuntimeError {
        RuntimeError::Setting(e)
    }
}

impl RuntimeError {
    /// The error as a located diagnostic, when it points into the program.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        match self {
            RuntimeError::Load(e) => Some(e.diagnostic()),
            RuntimeError::Setting(e) => Some(e.diagnostic()),
            RuntimeError::Invalid { message, span } => Some(
                Diagnostic::error("run::invalid", message.clone(), *span)
                    .with_label("here")
                    .with_help("fix the program or its data so the run can start"),
            ),
            RuntimeError::Lower(e) => e.span().map(|span| {
                Diagnostic::error("lower::unsupported", e.to_string(), span)
                    .with_label("here")
                    .with_help("this construct cannot be run yet; write it another way")
            }),
            RuntimeError::Engine(_) | RuntimeError::Checkpoint(_) => None,
        }
    }

    /// Whether the environment failed (a file could not be read or
    /// written, an engine failed) rather than the program or its data.
    pub fn is_environment(&self) -> bool {
        match self {
            RuntimeError::Load(e) => e.is_io(),
            RuntimeError::Engine(_) => true,
            RuntimeError::Checkpoint(e) => matches!(
                e,
                checkpoint::CheckpointError::Write { .. }
                    | checkpoint::CheckpointError::Read { .. }
            ),
            RuntimeError::Setting(_) | RuntimeError::Invalid { .. } | RuntimeError::Lower(_) => {
                false
            }
        }
    }
}
