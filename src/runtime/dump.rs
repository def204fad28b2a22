//! `dlc check --dump-after=PASS`: a step graph of the program as it stands
//! after one stage of the pipeline, in the IR's text form (`ir::text`), or
//! the kernels fusion makes of it (`codegen::explain`).
//!
//! The step is lowered from the declared types of the train block's data,
//! so nothing is loaded and nothing runs.

use super::protocol::{self, per_sample};
use super::run::train_block;
use super::RuntimeError;
use crate::codegen::{explain, explain_text};
use crate::diag::FileId;
use crate::ir::Graph;
use crate::lower::{data_fields, lower_step_traced, train_spec, Items, Pass, StepKind};
use crate::passes::fuse::fuse;
use crate::syntax::ast::Program;

/// Where the dump is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Pass(Pass),
    /// The kernels of the final step graph, with FLOPs and bytes.
    Fuse,
}

/// The text of the `kind` step for batches of `batch` (default: the train
/// block's `batch`) after `stage`.
pub fn dump_step(
    files: &[(FileId, Program)],
    kind: StepKind,
    batch: Option<usize>,
    stage: Stage,
) -> Result<String, RuntimeError> {
    let def = train_block(files)?;
    let items = Items::new(files);
    let batch = match batch {
        Some(b) => b,
        None => protocol::protocol(def)?.batch,
    };
    let mut spec = train_spec(def)?;
    spec.metrics = per_sample(&spec.metrics);
    let data = items
        .data
        .get(def.data.name.as_str())
        .ok_or_else(|| RuntimeError::Invalid {
            message: format!("no data block `{}`", def.data.name),
            span: def.data.span,
        })?;
    let fields = data_fields(data)?;
    let mut text = None;
    let mut trace = |pass: Pass, g: &Graph| {
        if stage == Stage::Pass(pass) {
            text = Some(g.to_string());
        }
    };
    let step = lower_step_traced(&items, &spec, &fields, batch, kind, &mut trace)?;
    Ok(match stage {
        Stage::Fuse => explain_text(&explain(&step.graph, &fuse(&step.graph))),
        Stage::Pass(pass) => text.ok_or_else(|| RuntimeError::Invalid {
            message: format!(
                "a {kind:?} step has no {pass:?} stage: only train steps are differentiated"
            )
            .to_lowercase(),
            span: def.span,
        })?,
    })
}
