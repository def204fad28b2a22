//! Reading what a step needs from the program: a [`TrainSpec`] from a
//! `train` (and `evaluate`) block, and the per-sample [`Field`]s of a
//! `data` block from its declared types.
//!
//! These read the AST only; they never evaluate data. Values the runtime
//! handles itself (`epochs`, `schedule`, `class_weights`, ...) are left to
//! it.

use std::collections::HashMap;

use crate::diag::Span;
use crate::ir::DType;
use crate::syntax::ast::{self, DataDef, DataItem, EvalDef, Expr, ExprKind, Setting, TrainDef};

use super::statics::eval_dim;
use super::step::{Field, TrainSpec};
use super::{LowerError, Result};

/// The step specification of `train`: its loss, optimizer, metrics and
/// regularization. `loss` and `optimizer` are required; `metrics` defaults
/// to none.
pub fn train_spec(t: &TrainDef) -> Result<TrainSpec<'_>> {
    Ok(TrainSpec {
        model: &t.model.name,
        loss: required(&t.settings, "loss", t.span)?,
        optimizer: required(&t.settings, "optimizer", t.span)?,
        metrics: metric_names(setting(&t.settings, "metrics"))?,
        regularize: regularize(setting(&t.settings, "regularize"))?,
    })
}

/// The step specification of `evaluate`: the loss and optimizer of the
/// program's `train` block, with the `evaluate` block's metrics (or the
/// `train` block's when it names none). Its baselines are read by
/// [`baselines`](super::baselines).
pub fn eval_spec<'a>(t: &'a TrainDef, e: &'a EvalDef) -> Result<TrainSpec<'a>> {
    let mut spec = train_spec(t)?;
    if let Some(m) = setting(&e.settings, "metrics") {
        spec.metrics = metric_names(Some(m))?;
    }
    spec.model = &e.model.name;
    Ok(spec)
}

/// Every field of a data block with one sample's shape: the declared type
/// with its first dimension (the sample count) dropped. The other
/// dimensions must be constants. `u8` fields are carried as `i32`.
pub fn data_fields(d: &DataDef) -> Result<Vec<Field>> {
    let no_symbols = HashMap::new();
    let mut fields = Vec::new();
    for item in &d.items {
        let DataItem::Field(f) = item else { continue };
        let dims = f.ty.dims.as_deref().unwrap_or(&[]);
        let Some((_, sample)) = dims.split_first() else {
            return Err(LowerError::at(
                f.ty.span,
                format!(
                    "field `{}` needs the sample count as its first dimension",
                    f.name.name
                ),
            ));
        };
        let shape = sample
            .iter()
            .map(|dim| {
                let v = eval_dim(dim, &no_symbols)?;
                usize::try_from(v)
                    .map_err(|_| LowerError::at(dim.span, format!("dimension {v} is negative")))
            })
            .collect::<Result<Vec<_>>>()?;
        let dtype = match f.ty.dtype {
            ast::DType::F32 => DType::F32,
            ast::DType::I32 | ast::DType::U8 => DType::I32,
        };
        fields.push(Field {
            name: f.name.name.clone(),
            shape,
            dtype,
        });
    }
    Ok(fields)
}

fn setting<'a>(settings: &'a [Setting], key: &str) -> Option<&'a Expr> {
    settings
        .iter()
        .find(|s| s.key.name == key)
        .map(|s| &s.value)
}

fn required<'a>(settings: &'a [Setting], key: &str, span: Span) -> Result<&'a Expr> {
    setting(settings, key)
        .ok_or_else(|| LowerError::at(span, format!("the train block needs `{key}`")))
}

/// `[accuracy, auc]` as names.
fn metric_names(e: Option<&Expr>) -> Result<Vec<String>> {
    let Some(e) = e else { return Ok(Vec::new()) };
    let ExprKind::List(items) = &e.kind else {
        return Err(LowerError::at(e.span, "metrics are a list: `[accuracy]`"));
    };
    items
        .iter()
        .map(|m| match &m.kind {
            ExprKind::Name(n) => Ok(n.name.clone()),
            _ => Err(LowerError::at(m.span, "a metric is a function's name")),
        })
        .collect()
}

/// `l2(1e-4)` or `l1(1e-5)` as the kind and its factor.
fn regularize(e: Option<&Expr>) -> Result<Option<(String, f64)>> {
    let Some(e) = e else { return Ok(None) };
    let bad = || LowerError::at(e.span, "regularize is `l2(factor)` or `l1(factor)`");
    let ExprKind::Call { callee, args, .. } = &e.kind else {
        return Err(bad());
    };
    if callee.name != "l1" && callee.name != "l2" {
        return Err(bad());
    }
    let factor = match args.first().map(|a| &a.value.kind) {
        Some(ExprKind::Float(v)) => *v,
        Some(ExprKind::Int(v)) => *v as f64,
        _ => return Err(bad()),
    };
    Ok(Some((callee.name.clone(), factor)))
}
