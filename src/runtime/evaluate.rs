//! `evaluate` blocks: the trained model in inference mode on every sample
//! of a data set, scored with the train block's loss and the block's
//! metrics. Each baseline (a prediction computed from the batch or from
//! whole fields of other data sets, or a constant) is lowered into the
//! same eval step (`lower::baseline`) and scored by the same loss and
//! metrics.

use super::data_block::{DataLoader, Dataset};
use super::engine::Tensors;
use super::metrics::MetricValue;
use super::protocol::WHOLE_DATASET_METRICS;
use super::steps::Steps;
use super::RuntimeError;
use crate::ir::DType;
use crate::lower::{baseline_fields, Baselines, Field};
use crate::syntax::ast::{self, Expr};
use crate::syntax::print::expr_text;

/// One evaluation's results.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub data: String,
    /// `loss` first, then each metric.
    pub values: Vec<(String, MetricValue)>,
    /// Each baseline's name (its expression written back) and scores.
    pub baselines: Vec<(String, Vec<(String, MetricValue)>)>,
}

/// Loads the whole fields the baselines name (`gdp_train.y`) into
/// `baselines.external`, and returns their values to feed.
pub fn external_fields(
    baselines: &mut Baselines,
    loader: &mut DataLoader,
) -> Result<Tensors, RuntimeError> {
    let mut values = Tensors::new();
    for (block, field) in baseline_fields(baselines) {
        let span = baselines.exprs.first().map(|b| b.span).unwrap_or_default();
        let data = loader.load(&block, span)?;
        let column = data.column(&field).ok_or_else(|| RuntimeError::Invalid {
            message: format!("data block `{block}` has no field `{field}`"),
            span,
        })?;
        let name = format!("{block}.{field}");
        baselines.external.push(Field {
            name: name.clone(),
            shape: column.values.shape().to_vec(),
            dtype: match column.dtype {
                ast::DType::F32 => DType::F32,
                ast::DType::I32 | ast::DType::U8 => DType::I32,
            },
        });
        values.insert(name, column.values.to_dense());
    }
    Ok(values)
}

/// Scores the model and the baselines (both lowered into `steps`) on `data`.
pub fn evaluate(
    steps: &mut Steps,
    state: &mut Tensors,
    data: &Dataset,
    batch: usize,
    metrics: &[String],
    baselines: &[&Expr],
    external: &Tensors,
) -> Result<Evaluation, RuntimeError> {
    let whole = metrics
        .iter()
        .any(|m| WHOLE_DATASET_METRICS.contains(&m.as_str()));
    let (model, scored) = steps.evaluate(state, data, batch, external, whole)?;
    Ok(Evaluation {
        data: data.name.clone(),
        values: model.finish(metrics),
        baselines: baselines
            .iter()
            .zip(scored)
            .map(|(e, r)| (expr_text(e), r.finish(metrics)))
            .collect(),
    })
}
