//! What `dlc check` prints: per model, each call of its body with its
//! output shape and parameter count (as Keras' `model.summary()`), and per
//! `train` / `evaluate` block the protocol that will run. The same data
//! serialises to JSON.

use std::fmt::Write;

use serde::Serialize;

use crate::syntax::ast::{Def, DefKind, Type};
pub use crate::syntax::print::expr_text;

use super::dims::Dim;
use super::types::Ty;
use super::unify::tensor_type_string;
use super::{Checked, DefInfo};

/// A parameter count: a number, a polynomial over symbols, or unknown.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Count {
    Known(i64),
    Symbolic(String),
    Unknown(Option<()>),
}

impl Count {
    pub fn of(d: Option<&Dim>) -> Count {
        match d {
            Some(d) => match d.as_const() {
                Some(c) => Count::Known(c),
                None => Count::Symbolic(d.to_string()),
            },
            None => Count::Unknown(None),
        }
    }

    fn text(&self) -> String {
        match self {
            Count::Known(c) => thousands(*c),
            Count::Symbolic(s) => s.clone(),
            Count::Unknown(_) => "?".into(),
        }
    }
}

/// One call in a model's body.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The instance name, Keras-style: `dense`, `dense_1`.
    pub name: String,
    /// The definition called.
    pub def: String,
    pub kind: &'static str,
    pub output: String,
    pub params: Count,
}

impl Row {
    pub fn new(def: &str, kind: DefKind, out: &Ty, params: Option<Dim>) -> Row {
        Row {
            name: def.to_string(),
            def: def.to_string(),
            kind: match kind {
                DefKind::Layer => "layer",
                DefKind::Fn => "fn",
                DefKind::Model => "model",
            },
            output: out.to_string(),
            params: Count::of(params.as_ref()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ModelSummary {
    pub name: String,
    pub signature: String,
    pub layers: Vec<Row>,
    pub params: Count,
    pub states: Count,
}

impl ModelSummary {
    pub(crate) fn new(def: &Def, info: DefInfo) -> ModelSummary {
        let params: Vec<String> = def
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name.name, type_string(&p.ty)))
            .collect();
        let mut layers = info.rows;
        let mut seen: Vec<(String, usize)> = Vec::new();
        for r in &mut layers {
            match seen.iter_mut().find(|(n, _)| *n == r.def) {
                Some((_, k)) => {
                    r.name = format!("{}_{k}", r.def);
                    *k += 1;
                }
                None => seen.push((r.def.clone(), 1)),
            }
        }
        ModelSummary {
            name: def.name.name.clone(),
            signature: format!(
                "{}({}) -> {}",
                def.name.name,
                params.join(", "),
                type_string(&def.ret)
            ),
            layers,
            params: Count::of(info.params.as_ref()),
            states: Count::of(info.states.as_ref()),
        }
    }
}

/// A `train` or `evaluate` block as it will run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrainSummary {
    /// `train` or `evaluate`.
    pub kind: &'static str,
    pub model: String,
    pub data: String,
    pub loss: Option<String>,
    pub loss_type: Option<String>,
    pub optimizer: Option<String>,
    pub epochs: Option<i64>,
    pub batch: Option<i64>,
    pub validate: Option<String>,
    pub metrics: Vec<String>,
    /// Every other setting as written.
    pub settings: Vec<(String, String)>,
}

/// A type as written in a signature.
pub fn type_string(t: &Type) -> String {
    match t {
        Type::Tensor(tt) => tensor_type_string(tt),
        Type::Dim(o) => o.name.clone(),
        Type::Scalar(s, _) => format!("{s:?}").to_lowercase(),
        Type::Tuple(ts, _) => format!(
            "({})",
            ts.iter().map(type_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `1199882` as `1,199,882`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The summary for people.
pub fn render_text(c: &Checked) -> String {
    let mut out = String::new();
    for m in &c.models {
        let _ = writeln!(out, "model {}", m.signature);
        let w_name = m
            .layers
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(0)
            .max(5);
        let w_out = m
            .layers
            .iter()
            .map(|r| r.output.len())
            .max()
            .unwrap_or(0)
            .max(6);
        let w_par = m
            .layers
            .iter()
            .map(|r| r.params.text().len())
            .max()
            .unwrap_or(0)
            .max(6);
        let _ = writeln!(
            out,
            "  {:<w_name$}  {:<w_out$}  {:>w_par$}",
            "layer", "output", "params"
        );
        let _ = writeln!(out, "  {}", "─".repeat(w_name + w_out + w_par + 4));
        for r in &m.layers {
            let _ = writeln!(
                out,
                "  {:<w_name$}  {:<w_out$}  {:>w_par$}",
                r.name,
                r.output,
                r.params.text()
            );
        }
        let _ = writeln!(out, "  {}", "─".repeat(w_name + w_out + w_par + 4));
        let _ = writeln!(
            out,
            "  parameters: {} trainable, {} state\n",
            m.params.text(),
            m.states.text()
        );
    }
    for t in &c.runs {
        let _ = writeln!(out, "{} {} on {}", t.kind, t.model, t.data);
        let mut line = |k: &str, v: String| {
            let _ = writeln!(out, "  {k:<15}{v}");
        };
        if let Some(l) = &t.loss {
            let ty = t
                .loss_type
                .as_deref()
                .map(|ty| format!("  -> {ty}"))
                .unwrap_or_default();
            line("loss", format!("{l}{ty}"));
        }
        if let Some(o) = &t.optimizer {
            line("optimizer", o.clone());
        }
        if let Some(e) = t.epochs {
            line("epochs", e.to_string());
        }
        if let Some(b) = t.batch {
            line("batch", b.to_string());
        }
        if let Some(v) = &t.validate {
            line("validate", v.clone());
        }
        if !t.metrics.is_empty() {
            line("metrics", t.metrics.join(", "));
        }
        for (k, v) in &t.settings {
            line(k, v.clone());
        }
        let _ = writeln!(out);
    }
    out
}
