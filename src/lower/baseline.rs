//! An `evaluate` block's baselines: predictions to compare the model with,
//! scored in the eval step by the same loss and metrics.
//!
//! A baseline is an expression over the batch's fields (`x[:, -1, :]`, the
//! last value of a window) and over whole fields of other data sets
//! (`mean(gdp_train.y)`, a constant). Those fields are inputs of the eval
//! step named `data.field`, with their full shapes, which the runtime feeds
//! unchanged with every batch. The baseline is broadcast to the
//! prediction's shape.

use crate::ir::{DType, InputKind, NodeId};
use crate::syntax::ast::{EvalDef, Expr, ExprKind, IndexItem};

use super::eval::Lowerer;
use super::step::{batch_loss, metric, Field, LossCall, TrainSpec};
use super::value::{Frame, Val};
use super::{LowerError, Result};

/// An `evaluate` block's baselines and the whole fields they read.
pub struct Baselines<'a> {
    /// The `baselines = [...]` expressions, in order.
    pub exprs: Vec<&'a Expr>,
    /// The whole fields of other data sets the expressions name, as
    /// `gdp_train.y`, with their *full* shapes (sample count first); each
    /// is an input of the eval step under that name. The caller fills this
    /// from [`baseline_fields`].
    pub external: Vec<Field>,
}

/// The baselines of an `evaluate` block (none when it names none), with
/// `external` left empty.
pub fn baselines(e: &EvalDef) -> Result<Baselines<'_>> {
    let mut exprs = Vec::new();
    if let Some(s) = e.settings.iter().find(|s| s.key.name == "baselines") {
        let ExprKind::List(items) = &s.value.kind else {
            return Err(LowerError::at(
                s.value.span,
                "baselines are a list: `[mean(d.y)]`",
            ));
        };
        exprs = items.iter().collect();
    }
    Ok(Baselines {
        exprs,
        external: Vec::new(),
    })
}

/// Adds `baseline:<k>`, `baseline:<k>:loss` and `baseline:<k>:metric:<m>`
/// to the eval step for every baseline.
pub(super) fn lower_baselines(
    lw: &mut Lowerer,
    spec: &TrainSpec,
    baselines: &Baselines,
    call: &LossCall,
    frame: &mut Frame,
    weights: NodeId,
) -> Result<()> {
    for f in &baselines.external {
        let node = lw.g.input(&f.name, InputKind::Data, &f.shape, f.dtype)?;
        frame.vars.insert(f.name.clone(), Val::Tensor(node));
    }
    for (k, b) in baselines.exprs.iter().enumerate() {
        let v = lw.expr(b, frame)?;
        let v = lw.tensor(v, b.span)?;
        let v = match lw.g.node(v).dtype {
            DType::F32 => v,
            DType::I32 => lw.g.add(crate::ir::Op::Cast { to: DType::F32 }, &[v])?,
        };
        let shape = lw.g.shape(call.pred).to_vec();
        let fits =
            super::statics::broadcast_shape(lw.g.shape(v), &shape).as_deref() == Some(&shape);
        if !fits {
            return Err(LowerError::at(
                b.span,
                format!(
                    "a baseline of shape {:?} cannot stand for predictions of shape {shape:?}",
                    lw.g.shape(v)
                ),
            ));
        }
        let pred = lw.broadcast_to(v, shape)?;
        lw.g.output(format!("baseline:{k}"), pred);
        let loss = batch_loss(lw, call, pred, weights, b.span)?;
        lw.g.output(format!("baseline:{k}:loss"), loss);
        for m in &spec.metrics {
            let node = metric(lw, m, pred, call.target, b.span)?;
            lw.g.output(format!("baseline:{k}:metric:{m}"), node);
        }
    }
    Ok(())
}

/// The `(data, field)` pairs the baselines refer to, in order of first
/// use, without repeats: what [`Baselines::external`] must hold.
pub fn baseline_fields(baselines: &Baselines) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for b in &baselines.exprs {
        field_refs(b, &mut out);
    }
    out
}

fn field_refs(e: &Expr, out: &mut Vec<(String, String)>) {
    let mut add = |d: &str, f: &str| {
        let pair = (d.to_string(), f.to_string());
        if !out.contains(&pair) {
            out.push(pair);
        }
    };
    match &e.kind {
        ExprKind::Field(base, field) => match &base.kind {
            ExprKind::Name(d) => add(&d.name, &field.name),
            _ => field_refs(base, out),
        },
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Name(_) => {}
        ExprKind::Unary(_, x) => field_refs(x, out),
        ExprKind::Binary(_, a, b) | ExprKind::Range(a, b) => {
            field_refs(a, out);
            field_refs(b, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| field_refs(&a.value, out)),
        ExprKind::Index(x, items) => {
            field_refs(x, out);
            for item in items {
                match item {
                    IndexItem::Full(_) => {}
                    IndexItem::At(i) => field_refs(i, out),
                    IndexItem::Range(a, b, _) => {
                        a.iter().chain(b.iter()).for_each(|x| field_refs(x, out));
                    }
                }
            }
        }
        ExprKind::Tuple(xs) | ExprKind::List(xs) => xs.iter().for_each(|x| field_refs(x, out)),
        // Baselines are expressions over data; blocks do not occur in them.
        ExprKind::If(..) | ExprKind::Scan(_) => {}
    }
}
