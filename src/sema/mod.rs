//! The checker: names, symbolic shapes and the training protocol, proven
//! before anything runs.
//!
//! The pipeline, in order:
//! 1. `names`: collect every item (std and user), report duplicates and
//!    `use` declarations that name nothing;
//! 2. `defs`: check each `layer`, `fn` and `model` body once against its
//!    own signature with its symbols abstract (`B` stays `B`), and each
//!    optimizer body; a call site is checked against the callee's
//!    signature only (`calls`), binding its symbols (`unify`);
//! 3. `data`: sources, field types, sample counts;
//! 4. `blocks`: `train` and `evaluate` settings, the loss with the data
//!    fields bound to batches `[B, ...]`;
//! 5. `summary`: what `dlc check` prints.
//!
//! Every check reports into one `Vec<Diagnostic>` and goes on; an
//! expression that had an error has the poison type [`types::Ty::Error`],
//! which agrees with everything, so one mistake gives one message.

mod blocks;
mod call_errors;
mod calls;
mod data;
mod defs;
pub mod dims;
mod expr;
mod names;
mod prims;
mod shapes;
mod signature;
mod stmts;
pub mod summary;
pub mod types;
mod unify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId};
use crate::syntax::ast::{Item, Program};

use dims::Dim;
use names::Globals;
use summary::{ModelSummary, Row, TrainSummary};
use types::Ty;

/// What the checker proved, for `dlc check`'s summary and later stages.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Checked {
    /// Every model of the user's file, in order.
    pub models: Vec<ModelSummary>,
    /// Every `train` and `evaluate` block of the user's file, in order.
    pub runs: Vec<TrainSummary>,
}

/// Checks a parsed program: `files` are the std files then the user's file,
/// `names` their names as given to the source map (`std/nn.dlm`).
pub fn check(
    files: &[(FileId, Program)],
    names: &[String],
    base_dir: &Path,
) -> (Checked, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let globals = Globals::collect(files, names, &mut diags);
    let mut ck = Checker {
        g: globals,
        diags,
        defs: HashMap::new(),
        active: Vec::new(),
        data: HashMap::new(),
        base_dir: base_dir.to_path_buf(),
    };
    let mut out = Checked::default();
    for (_, program) in files {
        for item in &program.items {
            match item {
                Item::Use(u) => ck.g.check_use(&u.path, &u.names, &mut ck.diags),
                Item::Def(d) => {
                    ck.def_info(&d.name.name);
                }
                Item::Optimizer(o) => ck.check_optimizer(o),
                Item::Data(d) => {
                    ck.data_info(&d.name.name);
                }
                Item::Train(_) | Item::Evaluate(_) => {}
            }
        }
    }
    let user = files.last().map(|(_, p)| p);
    for item in user.map(|p| p.items.as_slice()).unwrap_or(&[]) {
        match item {
            Item::Def(d) if d.kind == crate::syntax::ast::DefKind::Model => {
                if let Some(m) = ck.model_summary(d) {
                    out.models.push(m);
                }
            }
            Item::Train(t) => out.runs.push(ck.check_train(t)),
            Item::Evaluate(e) => out.runs.push(ck.check_evaluate(e)),
            _ => {}
        }
    }
    let mut diags = ck.diags;
    dedup(&mut diags);
    (out, diags)
}

/// The same message at the same place is reported once (a std layer
/// checked from two programs, a name misspelt twice on one line).
fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = Vec::new();
    diags.retain(|d| {
        let key = (d.span, d.code, d.message.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

/// What a checked definition contributes to its callers.
#[derive(Clone, Debug, Default)]
pub(crate) struct DefInfo {
    /// Trained parameters, as a polynomial over the definition's symbols.
    pub params: Option<Dim>,
    /// Layer states (not trained).
    pub states: Option<Dim>,
    /// For models: each call in the body, in order.
    pub rows: Vec<Row>,
    /// Divisions in the body that each call must make exact.
    pub divisions: Vec<expr::Division>,
}

/// A checked data block: each field's declared type.
#[derive(Clone, Debug, Default)]
pub(crate) struct DataInfo {
    pub fields: Vec<(String, Ty)>,
}

/// The checker's state for one program.
pub(crate) struct Checker<'a> {
    pub g: Globals<'a>,
    pub diags: Vec<Diagnostic>,
    defs: HashMap<&'a str, DefInfo>,
    /// Definitions being checked, to detect recursion.
    active: Vec<&'a str>,
    data: HashMap<&'a str, DataInfo>,
    pub base_dir: PathBuf,
}

impl Checker<'_> {
    pub fn report(&mut self, d: Diagnostic) -> Ty {
        self.diags.push(d);
        Ty::Error
    }
}
