//! `evaluate` blocks: the trained model in inference mode on every sample
//! of a data set, scored with the train block's loss and the block's
//! metrics, and each baseline (a prediction computed from the data, or a
//! constant) scored with the same native metrics.

use ndarray::ArrayD;

use super::data_block::{DataLoader, Dataset};
use super::engine::Tensors;
use super::metrics::{score, MetricValue};
use super::protocol::WHOLE_DATASET_METRICS;
use super::steps::Steps;
use super::RuntimeError;
use crate::syntax::ast::{BinOp, Expr, ExprKind, IndexItem, UnOp};

/// One evaluation's results.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub data: String,
    /// `loss` first, then each metric.
    pub values: Vec<(String, MetricValue)>,
    /// Each baseline's name (its expression) and scores.
    pub baselines: Vec<(String, Vec<(String, MetricValue)>)>,
}

/// Scores the model (through `steps`, whose spec carries this block's
/// per-sample metrics) and the baselines on `data`.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    steps: &mut Steps,
    state: &mut Tensors,
    data: &Dataset,
    batch: usize,
    metrics: &[String],
    baselines: &[Expr],
    target: Option<&str>,
    loader: &mut DataLoader,
) -> Result<Evaluation, RuntimeError> {
    let whole = metrics
        .iter()
        .any(|m| WHOLE_DATASET_METRICS.contains(&m.as_str()));
    let values = steps.evaluate(state, data, batch, whole)?.finish(metrics);
    let mut scored = Vec::new();
    for e in baselines {
        let target = target
            .and_then(|t| data.column(t))
            .ok_or_else(|| RuntimeError::Invalid {
                message: "baselines need the loss's target to be a field of the data".into(),
                span: e.span,
            })?;
        let pred = loader.eval_on(e, data)?;
        let pred = broadcast(pred, &target.values).ok_or_else(|| RuntimeError::Invalid {
            message: format!(
                "this baseline does not broadcast to the target's shape {:?}",
                target.values.shape()
            ),
            span: e.span,
        })?;
        let mut names: Vec<&str> = metrics.iter().map(String::as_str).collect();
        if !names.contains(&"mae") {
            names.push("mae");
        }
        let values = names
            .iter()
            .filter_map(|m| score(m, &pred, &target.values).map(|v| (m.to_string(), v)))
            .collect();
        scored.push((render(e), values));
    }
    Ok(Evaluation {
        data: data.name.clone(),
        values,
        baselines: scored,
    })
}

fn broadcast(pred: ArrayD<f32>, target: &ArrayD<f32>) -> Option<ArrayD<f32>> {
    if pred.shape() == target.shape() {
        return Some(pred);
    }
    pred.broadcast(target.raw_dim()).map(|b| b.to_owned())
}

/// A baseline's name: its expression written back (`x[:, -1, :]`).
pub fn render(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Float(v) => v.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(n) => n.name.clone(),
        ExprKind::Field(b, f) => format!("{}.{}", render(b), f.name),
        ExprKind::Unary(op, x) => {
            format!("{}{}", if *op == UnOp::Neg { "-" } else { "!" }, render(x))
        }
        ExprKind::Binary(op, a, b) => {
            let op = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
                _ => "?",
            };
            format!("{} {op} {}", render(a), render(b))
        }
        ExprKind::Call { callee, args, .. } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{}: {}", n.name, render(&a.value)),
                    None => render(&a.value),
                })
                .collect();
            format!("{}({})", callee.name, args.join(", "))
        }
        ExprKind::Index(x, items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    IndexItem::Full(_) => ":".to_string(),
                    IndexItem::At(e) => render(e),
                    IndexItem::Range(a, b, _) => format!(
                        "{}:{}",
                        a.as_ref().map(render).unwrap_or_default(),
                        b.as_ref().map(render).unwrap_or_default()
                    ),
                })
                .collect();
            format!("{}[{}]", render(x), items.join(", "))
        }
        _ => "baseline".to_string(),
    }
}
