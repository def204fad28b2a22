//! Step graphs on demand: lowered and compiled once per (kind, batch
//! size) — a data set whose size is not a multiple of the batch gets one
//! more graph for its last, smaller batch — and fed from a [`Dataset`].

use ndarray::{ArrayD, IxDyn};

use super::batches::gather;
use super::data_block::Dataset;
use super::engine::{Engine, Outputs, Step, Tensors};
use super::metrics::Running;
use super::RuntimeError;
use crate::codegen::KernelReport;
use crate::ir::DType;
use crate::lower::{
    lower_eval_step, lower_step, Baselines, Field, Items, ParamSpec, StepKind, TrainSpec,
};
use crate::syntax::ast;

/// The step functions of one `train` (or `evaluate`) spec.
pub struct Steps<'a> {
    items: &'a Items<'a>,
    spec: TrainSpec<'a>,
    /// An `evaluate` block's baselines, lowered into its eval steps.
    baselines: Baselines<'a>,
    fields: Vec<Field>,
    engine: &'a dyn Engine,
    compiled: Vec<(StepKind, usize, Box<dyn Step>)>,
    /// Every parameter and state of the train step, in lowering's order.
    pub params: Vec<ParamSpec>,
    /// The `lr` the program wrote.
    pub base_lr: f64,
}

/// The fields a step sees, from a loaded data set.
pub fn fields_of(data: &Dataset) -> Vec<Field> {
    data.columns
        .iter()
        .map(|c| Field {
            name: c.name.clone(),
            shape: c.values.shape()[1..].to_vec(),
            dtype: match c.dtype {
                ast::DType::F32 => DType::F32,
                ast::DType::I32 | ast::DType::U8 => DType::I32,
            },
        })
        .collect()
}

impl<'a> Steps<'a> {
    /// Nothing is lowered until a step is first run (or [`Steps::lower_train`]).
    pub fn new(
        items: &'a Items<'a>,
        spec: TrainSpec<'a>,
        fields: Vec<Field>,
        engine: &'a dyn Engine,
    ) -> Steps<'a> {
        Steps {
            items,
            spec,
            baselines: Baselines {
                exprs: Vec::new(),
                external: Vec::new(),
            },
            fields,
            engine,
            compiled: Vec::new(),
            params: Vec::new(),
            base_lr: 0.0,
        }
    }

    /// Scores `baselines` alongside the model in every eval step.
    pub fn with_baselines(mut self, baselines: Baselines<'a>) -> Steps<'a> {
        self.baselines = baselines;
        self
    }

    /// Lowers and compiles the train step for `batch`, which fixes the
    /// parameter list and the written `lr`.
    pub fn lower_train(&mut self, batch: usize) -> Result<(), RuntimeError> {
        let lowered = lower_step(self.items, &self.spec, &self.fields, batch, StepKind::Train)?;
        self.params = lowered.params;
        self.base_lr = lowered.base_lr;
        let step = self.engine.compile(&lowered.graph)?;
        self.compiled.push((StepKind::Train, batch, step));
        Ok(())
    }

    pub fn metrics(&self) -> &[String] {
        &self.spec.metrics
    }

    /// Lowers and compiles the `kind` step for `batch` unless it already
    /// is; returns its index in the cache.
    pub fn prepare(&mut self, kind: StepKind, batch: usize) -> Result<usize, RuntimeError> {
        let found = self
            .compiled
            .iter()
            .position(|(k, b, _)| *k == kind && *b == batch);
        if let Some(i) = found {
            return Ok(i);
        }
        let lowered = match kind {
            StepKind::Eval => {
                lower_eval_step(self.items, &self.spec, &self.baselines, &self.fields, batch)?
            }
            StepKind::Train | StepKind::Predict => {
                lower_step(self.items, &self.spec, &self.fields, batch, kind)?
            }
        };
        let step = self.engine.compile(&lowered.graph)?;
        self.compiled.push((kind, batch, step));
        Ok(self.compiled.len() - 1)
    }

    /// The kernels of a compiled step (`None` before it is compiled, or
    /// for an engine without kernels).
    pub fn kernels(&self, kind: StepKind, batch: usize) -> Option<&[KernelReport]> {
        self.compiled
            .iter()
            .find(|(k, b, _)| *k == kind && *b == batch)
            .and_then(|(_, _, s)| s.kernels())
    }

    /// Runs the `kind` step for a batch of `batch` samples on `state` and
    /// `feeds` (see [`Step::run`]): updates land in `state`.
    pub fn run(
        &mut self,
        kind: StepKind,
        batch: usize,
        state: &mut Tensors,
        feeds: &[&Tensors],
    ) -> Result<&Outputs, RuntimeError> {
        let index = self.prepare(kind, batch)?;
        Ok(self.compiled[index].2.run(state, feeds)?)
    }

    /// Runs the eval step over all of `data` with `state` (and the whole
    /// fields `external` that baselines read, fed unchanged with every
    /// batch). Returns the model's running sums and each baseline's;
    /// whole-data-set metrics get predictions when `keep_predictions`.
    pub fn evaluate(
        &mut self,
        state: &mut Tensors,
        data: &Dataset,
        batch: usize,
        external: &Tensors,
        keep_predictions: bool,
    ) -> Result<(Running, Vec<Running>), RuntimeError> {
        let mut running = Running::default();
        let mut baselines: Vec<Running> = self
            .baselines
            .exprs
            .iter()
            .map(|_| Running::default())
            .collect();
        let metrics = self.spec.metrics.clone();
        let order: Vec<usize> = (0..data.len).collect();
        for rows in order.chunks(batch.max(1)) {
            let n = rows.len();
            let fed = feed(gather(data, rows), ones(n), 0.0, 0, 0);
            let out = self.run(StepKind::Eval, n, state, &[&fed, external])?;
            let kept = keep_predictions.then(|| pred_target(out, "pred")).flatten();
            running.add(
                n,
                scalar(out, "loss"),
                &metric_sums(out, "", &metrics),
                kept,
            );
            for (k, b) in baselines.iter_mut().enumerate() {
                let prefix = format!("baseline:{k}:");
                let kept = keep_predictions
                    .then(|| pred_target(out, &format!("baseline:{k}")))
                    .flatten();
                let loss = scalar(out, &format!("{prefix}loss"));
                b.add(n, loss, &metric_sums(out, &prefix, &metrics), kept);
            }
        }
        Ok((running, baselines))
    }
}

/// `[n]` ones: every sample weighs the same.
pub fn ones(n: usize) -> ArrayD<f32> {
    ArrayD::from_elem(IxDyn(&[n]), 1.0)
}

fn scalar_input(v: f32) -> ArrayD<f32> {
    ArrayD::from_elem(IxDyn(&[]), v)
}

/// A batch's feeds: its fields (moved, not copied) and the per-step
/// scalars.
pub fn feed(batch: Dataset, weights: ArrayD<f32>, lr: f32, t: u64, seed: u32) -> Tensors {
    let mut fed: Tensors = batch
        .columns
        .into_iter()
        .map(|c| (c.name, c.values.into_dense()))
        .collect();
    let scalars = [
        ("weights", weights),
        ("lr", scalar_input(lr)),
        ("t", scalar_input(t as f32)),
        ("seed", scalar_input(seed as f32)),
        ("step", scalar_input(t as f32)),
    ];
    for (name, v) in scalars {
        fed.insert(name.to_string(), v);
    }
    fed
}

pub fn scalar(out: &Outputs, name: &str) -> f32 {
    out.get(name)
        .and_then(|a| a.iter().next().copied())
        .unwrap_or(f32::NAN)
}

/// Per-sample metric outputs (`<prefix>metric:<name>`) summed over the batch.
pub fn metric_sums(out: &Outputs, prefix: &str, metrics: &[String]) -> Vec<(String, f64)> {
    metrics
        .iter()
        .filter_map(|m| {
            let a = out.get(&format!("{prefix}metric:{m}"))?;
            let per_sample = a.len() / a.shape().first().copied().unwrap_or(1).max(1);
            let sum: f64 = a.iter().map(|&v| f64::from(v)).sum();
            Some((m.clone(), sum / per_sample.max(1) as f64))
        })
        .collect()
}

/// The prediction output `pred` (the model's, or a baseline's) and the target.
pub fn pred_target(out: &Outputs, pred: &str) -> Option<(ArrayD<f32>, ArrayD<f32>)> {
    Some((out.get(pred)?.clone(), out.get("target")?.clone()))
}
