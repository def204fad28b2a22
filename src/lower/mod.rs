//! Lower: a checked program to tensor graphs with concrete shapes.
//!
//! Lowering evaluates the AST the way the checker does, but with every
//! dimension concrete (the batch size is chosen here) and with values that
//! are graph nodes: each call of a `layer` or `fn` is inlined, each `param`
//! and `state` becomes a graph `Input`, `if training` is decided statically,
//! and `scan` is unrolled over its (known) length. The result is one graph
//! per step function — train, eval, predict — that `passes` then
//! differentiates and simplifies.
//!
//! Lowering assumes the checker has accepted the program: it reports what it
//! cannot handle as a [`LowerError`] naming the source span, never as a user
//! diagnostic, and never panics.
//!
//! Driving it, as the runtime and the tests do:
//!
//! ```text
//! let items = Items::new(&parsed.files);
//! let spec = train_spec(train_def)?;                  // or eval_spec(train_def, eval_def)
//! let fields = data_fields(data_def)?;                // per-sample shapes, N dropped
//! let step = lower_step(&items, &spec, &fields, batch, StepKind::Train)?;
//! // an eval step that also scores an evaluate block's baselines:
//! let mut b = baselines(eval_def)?;
//! b.external = /* whole fields named by baseline_fields(&b) */;
//! let eval = lower_eval_step(&items, &spec, &b, &fields, batch)?;
//! ```
//!
//! Files: `eval.rs` (expressions, blocks, calls), `sequence.rs` (indexing,
//! `scan`), `builtins.rs` (primitives), `statics.rs` (static values and
//! dimensions), `init.rs` (initializers), `step.rs` (whole steps: loss,
//! metrics, regularization, optimizer), `baseline.rs` (an `evaluate`
//! block's baselines), `spec.rs` (reading `train`/`evaluate`/`data`).

mod baseline;
mod builtins;
mod eval;
mod init;
mod sequence;
mod spec;
mod statics;
mod step;
mod value;

use std::collections::HashMap;

use crate::diag::{FileId, Span};
use crate::ir::IrError;
use crate::syntax::ast::{DataDef, Def, Item, OptimizerDef, Program};

pub use baseline::{baseline_fields, baselines, Baselines};
pub use init::{init_value, Init};
pub use spec::{data_fields, eval_spec, train_spec};
pub use statics::broadcast_shape;
pub use step::{
    lower_eval_step, lower_step, lower_step_traced, Field, ParamKind, ParamSpec, Pass, StepGraph,
    StepKind, Trace, TrainSpec,
};

/// Every definition of a program (standard library and user file) by name.
pub struct Items<'a> {
    pub defs: HashMap<&'a str, &'a Def>,
    pub optimizers: HashMap<&'a str, &'a OptimizerDef>,
    pub data: HashMap<&'a str, &'a DataDef>,
}

impl<'a> Items<'a> {
    pub fn new(files: &'a [(FileId, Program)]) -> Items<'a> {
        let mut items = Items {
            defs: HashMap::new(),
            optimizers: HashMap::new(),
            data: HashMap::new(),
        };
        for (_, program) in files {
            for item in &program.items {
                match item {
                    Item::Def(d) => {
                        items.defs.insert(d.name.name.as_str(), d);
                    }
                    Item::Optimizer(o) => {
                        items.optimizers.insert(o.name.name.as_str(), o);
                    }
                    Item::Data(d) => {
                        items.data.insert(d.name.name.as_str(), d);
                    }
                    Item::Use(_) | Item::Train(_) | Item::Evaluate(_) => {}
                }
            }
        }
        items
    }
}

/// Something lowering could not do. Since the checker ran first, each one is
/// either a construct lowering does not support yet or a compiler bug.
#[derive(Debug, thiserror::Error)]
pub enum LowerError {
    #[error("cannot lower this: {message}")]
    Unsupported { message: String, span: Span },
    #[error("internal error while lowering: {0}")]
    Ir(#[from] IrError),
}

impl LowerError {
    fn at(span: Span, message: impl Into<String>) -> LowerError {
        LowerError::Unsupported {
            message: message.into(),
            span,
        }
    }

    /// The source location the error refers to, when it has one.
    pub fn span(&self) -> Option<Span> {
        match self {
            LowerError::Unsupported { span, .. } => Some(*span),
            LowerError::Ir(_) => None,
        }
    }
}

type Result<T> = std::result::Result<T, LowerError>;
