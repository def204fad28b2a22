//! The training loop: epochs of seeded, shuffled batches through the train
//! step, validation after each epoch, schedules, early stopping and
//! checkpoints.
//!
//! The state (every parameter, layer state and optimizer state, by name)
//! lives in one map of contiguous arrays. Each step is fed the batch and
//! the per-step scalars beside it, and the engine puts its
//! `update:<name>` outputs into the state (`engine::Step`; the JIT writes
//! them over the state's arrays), so nothing is copied per step but the
//! batch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{ArrayD, IxDyn};

use super::batches::{augment, batches, epoch_order, gather};
use super::checkpoint::{self, Position};
use super::coded::Values;
use super::data_block::Dataset;
use super::engine::{Outputs, Tensors};
use super::metrics::{MetricValue, Running};
use super::protocol::{Protocol, Validate, WHOLE_DATASET_METRICS};
use super::schedule::{LrSchedule, Stopper, Verdict};
use super::steps::{feed, metric_sums, ones, pred_target, scalar, Steps};
use super::RuntimeError;
use crate::codegen::KernelReport;
use crate::lower::{init_value, StepKind};

/// One epoch's results.
#[derive(Clone, Debug)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// `loss` first, then each metric.
    pub train: Vec<(String, MetricValue)>,
    /// The same on the validation data (empty without validation).
    pub val: Vec<(String, MetricValue)>,
    pub lr: f64,
    /// The whole epoch, validation included.
    pub seconds: f64,
    /// The training batches alone.
    pub train_seconds: f64,
    pub samples: usize,
}

impl EpochRecord {
    /// A value by its report name: `loss`, `accuracy`, `val_loss`, ...
    pub fn get(&self, key: &str) -> Option<f64> {
        let (list, name) = match key.strip_prefix("val_") {
            Some(rest) => (&self.val, rest),
            None => (&self.train, key),
        };
        list.iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.scalar())
    }
}

/// Progress reports from the loop (the CLI prints them).
pub trait Observer {
    /// After each batch: samples done this epoch, of `total`, and the
    /// running mean loss.
    fn batch(&mut self, epoch: usize, done: usize, total: usize, loss: f64);
    fn epoch(&mut self, record: &EpochRecord);
    /// Once the train step for `batch` is compiled, before training:
    /// its kernels (`None` for an engine without kernels).
    fn compiled(&mut self, _batch: usize, _kernels: Option<&[KernelReport]>) {}
}

/// How to run, beyond what the program says.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the train block's `epochs`.
    pub epochs: Option<usize>,
    /// Overrides the train block's `batch` (training, validation and
    /// `evaluate` blocks alike).
    pub batch: Option<usize>,
    /// A checkpoint to continue from.
    pub resume: Option<PathBuf>,
    /// Where relative checkpoint paths of the program start from.
    pub base_dir: PathBuf,
}

/// The result of training.
pub struct Trained {
    pub state: Tensors,
    pub history: Vec<EpochRecord>,
    /// The epoch after which early stopping ended the run.
    pub stopped_after: Option<usize>,
    pub pos: Position,
}

/// Splits off validation data: the last fraction (before shuffling, as
/// Keras does), or a separate data set.
pub fn split_validation(
    data: Dataset,
    validate: &Option<Validate>,
    other: Option<Dataset>,
) -> (Dataset, Option<Dataset>) {
    match validate {
        Some(Validate::Split(f)) => {
            let n_val = ((data.len as f64) * f).round() as usize;
            let n_train = data.len - n_val.min(data.len);
            let train: Vec<usize> = (0..n_train).collect();
            let val: Vec<usize> = (n_train..data.len).collect();
            (data.select(&train), Some(data.select(&val)))
        }
        Some(Validate::Data(_)) => (data, other),
        None => (data, None),
    }
}

/// Fresh parameters and states from their initializers.
pub fn init_state(steps: &Steps, seed: u32) -> Tensors {
    steps
        .params
        .iter()
        .map(|p| (p.name.clone(), init_value(&p.init, &p.name, &p.shape, seed)))
        .collect()
}

/// What the loop needs to know about the data besides its values.
pub struct Roles {
    /// The field augmentation applies to (the model's input).
    pub input: Option<String>,
    /// The field `class_weights` index (integer labels).
    pub labels: Option<String>,
}

/// Trains for the protocol's epochs (from a checkpoint's position when
/// resuming).
pub fn train(
    steps: &mut Steps,
    protocol: &Protocol,
    roles: &Roles,
    train: &Dataset,
    val: Option<&Dataset>,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Trained, RuntimeError> {
    let epochs = options.epochs.unwrap_or(protocol.epochs);
    let mut schedule = LrSchedule::new(protocol.schedule.clone());
    let mut stopper = protocol.early_stopping.clone().map(Stopper::new);
    let (mut state, mut pos) = match &options.resume {
        Some(path) => resume(steps, path, &mut schedule)?,
        None => (
            init_state(steps, protocol.seed),
            Position {
                epoch: 0,
                step: 0,
                lr_scale: 1.0,
            },
        ),
    };
    let feeder = Feeder {
        weights: sample_weights(protocol, roles, train)?,
        protocol,
        roles,
        data: train,
    };
    let whole = protocol
        .metrics
        .iter()
        .any(|m| WHOLE_DATASET_METRICS.contains(&m.as_str()));
    let mut history = Vec::new();
    let mut best: Option<Tensors> = None;
    let mut stopped_after = None;
    let metrics = steps.metrics().to_vec();
    for epoch in pos.epoch..epochs {
        let started = Instant::now();
        let lr = steps.base_lr * schedule.factor(epoch);
        let mut running = Running::default();
        let order = epoch_order(train.len, protocol.seed, epoch, protocol.shuffle);
        let training = Instant::now();
        for rows in batches(&order, protocol.batch) {
            pos.step += 1;
            let out = feeder.step(steps, rows, lr, pos.step, &mut state)?;
            let sums = metric_sums(out, "", &metrics);
            let kept = if whole {
                pred_target(out, "pred")
            } else {
                None
            };
            running.add(rows.len(), scalar(out, "loss"), &sums, kept);
            observer.batch(epoch + 1, running.samples, train.len, running.mean_loss());
        }
        let train_seconds = training.elapsed().as_secs_f64();
        let names: Vec<String> = protocol
            .metrics
            .iter()
            .filter(|m| metrics.contains(m) || WHOLE_DATASET_METRICS.contains(&m.as_str()))
            .cloned()
            .collect();
        let val_values = match val {
            Some(v) => steps
                .evaluate(&mut state, v, protocol.batch, &Tensors::new(), whole)?
                .0
                .finish(&names),
            None => Vec::new(),
        };
        let record = EpochRecord {
            epoch: epoch + 1,
            train: running.finish(&names),
            val: val_values,
            lr,
            seconds: started.elapsed().as_secs_f64(),
            train_seconds,
            samples: running.samples,
        };
        schedule.observe(
            record
                .get("val_loss")
                .or(record.get("loss"))
                .unwrap_or(f64::NAN),
        );
        pos.epoch = epoch + 1;
        pos.lr_scale = schedule.plateau_scale();
        observer.epoch(&record);
        let verdict = match &mut stopper {
            Some(s) => {
                let value = record
                    .get(&s.rule.monitor)
                    .ok_or_else(|| RuntimeError::Invalid {
                        message: format!(
                            "early stopping monitors `{}`, which this run does not compute",
                            s.rule.monitor
                        ),
                        span: protocol.span,
                    })?;
                s.observe(value)
            }
            None => Verdict::Continue,
        };
        history.push(record);
        if verdict == Verdict::Improved && stopper.as_ref().is_some_and(|s| s.rule.restore_best) {
            best = Some(state.clone());
        }
        if let Some(path) = &protocol.checkpoint {
            save(steps, &state, &options.base_dir.join(path), pos)?;
        }
        if verdict == Verdict::Stop {
            stopped_after = Some(epoch + 1);
            break;
        }
    }
    if let Some(best) = best {
        state = best;
    }
    Ok(Trained {
        state,
        history,
        stopped_after,
        pos,
    })
}

/// Feeds train steps with batches of one data set, as the epoch loop does.
pub struct Feeder<'a> {
    pub protocol: &'a Protocol,
    pub roles: &'a Roles,
    pub data: &'a Dataset,
    /// Per-sample loss weights ([`sample_weights`]).
    pub weights: Vec<f32>,
}

impl Feeder<'_> {
    /// Runs train step number `step` (1-based) on the samples `rows`:
    /// gathers them, augments the input, weighs them, and updates `state`.
    pub fn step<'s>(
        &self,
        steps: &'s mut Steps,
        rows: &[usize],
        lr: f64,
        step: u64,
        state: &mut Tensors,
    ) -> Result<&'s Outputs, RuntimeError> {
        let protocol = self.protocol;
        let mut part = gather(self.data, rows);
        if let (Some(name), false) = (&self.roles.input, protocol.augment.is_empty()) {
            if let Some(Values::Dense(x)) = part
                .columns
                .iter_mut()
                .find(|c| &c.name == name)
                .map(|c| &mut c.values)
            {
                augment(x, &protocol.augment, protocol.seed, step as u32);
            }
        }
        let w = ArrayD::from_shape_vec(
            IxDyn(&[rows.len()]),
            rows.iter().map(|&r| self.weights[r]).collect(),
        )
        .unwrap_or_else(|_| ones(rows.len()));
        let fed = feed(part, w, lr as f32, step, protocol.seed);
        steps.run(StepKind::Train, rows.len(), state, &[&fed])
    }
}

/// Per-sample loss weights: `class_weights[label]`, or all ones.
pub fn sample_weights(
    protocol: &Protocol,
    roles: &Roles,
    data: &Dataset,
) -> Result<Vec<f32>, RuntimeError> {
    let Some(cw) = &protocol.class_weights else {
        return Ok(vec![1.0; data.len]);
    };
    let invalid = |message: String| RuntimeError::Invalid {
        message,
        span: protocol.span,
    };
    let labels = roles
        .labels
        .as_ref()
        .and_then(|n| data.column(n))
        .ok_or_else(|| {
            invalid(
                "`class_weights` needs the loss's target to be a field of integer labels".into(),
            )
        })?;
    labels
        .values
        .to_dense()
        .iter()
        .map(|&l| {
            cw.get(l as usize)
                .copied()
                .filter(|_| l >= 0.0)
                .ok_or_else(|| {
                    invalid(format!(
                        "label {l} has no class weight: `class_weights` lists {} classes",
                        cw.len()
                    ))
                })
        })
        .collect()
}

/// Writes every parameter and state of `steps` with the position.
pub fn save(
    steps: &Steps,
    state: &Tensors,
    path: &Path,
    pos: Position,
) -> Result<(), RuntimeError> {
    let tensors: Vec<(&str, &ArrayD<f32>)> = steps
        .params
        .iter()
        .filter_map(|p| state.get(&p.name).map(|v| (p.name.as_str(), v)))
        .collect();
    Ok(checkpoint::save(path, &tensors, pos)?)
}

fn resume(
    steps: &Steps,
    path: &Path,
    schedule: &mut LrSchedule,
) -> Result<(Tensors, Position), RuntimeError> {
    let expected: Vec<(&str, &[usize])> = steps
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.shape.as_slice()))
        .collect();
    let loaded = checkpoint::load(path, &expected)?;
    schedule.set_plateau_scale(loaded.pos.lr_scale);
    Ok((loaded.tensors, loaded.pos))
}
