//! `dlc bench`: how fast a program's step functions compile and run
//! through the real runtime path.
//!
//! The program's own `train` block and data are used: train steps are fed
//! shuffled batches exactly as the epoch loop feeds them ([`Feeder`]),
//! eval steps run `Steps::evaluate` over whole batches of the training
//! data, and predict runs at batch 1 on the first sample. Data loading is
//! not timed; lowering and code generation of the train, eval and predict
//! steps at the batch size, and of predict at batch 1, are.

use std::path::Path;
use std::time::Instant;

use super::batches::{batches, epoch_order, gather};
use super::engine::{Engine, Tensors};
use super::run::setup;
use super::steps::{feed, ones, scalar};
use super::train::{init_state, sample_weights, Feeder};
use super::RuntimeError;
use crate::codegen::KernelReport;
use crate::diag::FileId;
use crate::lower::{Items, StepKind};
use crate::syntax::ast::Program;

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The batch size; the train block's when `None`.
    pub batch: Option<usize>,
    /// Timed train steps (and at most this many eval batches).
    pub steps: usize,
    /// Untimed train steps first.
    pub warmup: usize,
    /// Timed batch-1 predict calls.
    pub predict_calls: usize,
}

/// The measurements.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// The batch size used (capped at the number of training samples).
    pub batch: usize,
    /// Lowering and code generation of the four step functions.
    pub lower_codegen_ms: f64,
    /// Samples over the total time of the timed train steps (gathering,
    /// feeding and running each batch), as the peers time an epoch.
    pub train_samples_per_s: f64,
    pub train_step_ms_median: f64,
    /// The last timed step's loss.
    pub train_loss: f64,
    /// Samples over the total time of the timed eval batches.
    pub eval_samples_per_s: f64,
    pub eval_samples: usize,
    /// Median of the batch-1 predict calls.
    pub predict_latency_us: f64,
    /// The kernels of the train step, and the kernel counts of the eval
    /// and batch-1 predict steps (`None` for the reference engine).
    pub train_kernels: Option<Vec<KernelReport>>,
    pub eval_kernels: Option<usize>,
    pub predict_kernels: Option<usize>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Compiles and times the program's step functions.
pub fn bench_program(
    files: &[(FileId, Program)],
    engine: &dyn Engine,
    base_dir: &Path,
    opts: &BenchOptions,
) -> Result<BenchReport, RuntimeError> {
    let items = Items::new(files);
    let mut s = setup(&items, files, engine, base_dir)?;
    let batch = opts.batch.unwrap_or(s.protocol.batch).clamp(1, s.train.len);
    let started = Instant::now();
    s.steps.lower_train(batch)?;
    s.steps.prepare(StepKind::Eval, batch)?;
    s.steps.prepare(StepKind::Predict, batch)?;
    s.steps.prepare(StepKind::Predict, 1)?;
    let lower_codegen_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut state = init_state(&s.steps, s.protocol.seed);
    let feeder = Feeder {
        weights: sample_weights(&s.protocol, &s.roles, &s.train)?,
        protocol: &s.protocol,
        roles: &s.roles,
        data: &s.train,
    };
    let lr = s.steps.base_lr;
    let (mut times, mut loss, mut step) = (Vec::new(), f64::NAN, 0u64);
    'epochs: for epoch in 0.. {
        let order = epoch_order(s.train.len, s.protocol.seed, epoch, s.protocol.shuffle);
        for rows in batches(&order, batch).filter(|r| r.len() == batch) {
            step += 1;
            let t = Instant::now();
            let out = feeder.step(&mut s.steps, rows, lr, step, &mut state)?;
            let seconds = t.elapsed().as_secs_f64();
            loss = f64::from(scalar(out, "loss"));
            if step as usize > opts.warmup {
                times.push(seconds);
            }
            if times.len() >= opts.steps.max(1) {
                break 'epochs;
            }
        }
    }
    let timed_samples = (times.len() * batch) as f64;
    let train_seconds: f64 = times.iter().sum();
    let train_step = median(times);
    // The whole training set, still coded (a clone shares coded data): the
    // eval step gathers and decodes batch by batch, as validation does.
    let n_eval = s.train.len;
    let eval_data = s.train.clone();
    let none = Tensors::new();
    let first = s.train.select(&(0..batch).collect::<Vec<_>>());
    s.steps.evaluate(&mut state, &first, batch, &none, false)?;
    let t = Instant::now();
    s.steps
        .evaluate(&mut state, &eval_data, batch, &none, false)?;
    let eval_seconds = t.elapsed().as_secs_f64();
    let one = feed(gather(&s.train, &[0]), ones(1), 0.0, 0, 0);
    let mut latencies = Vec::with_capacity(opts.predict_calls);
    for call in 0..opts.predict_calls + 10 {
        let t = Instant::now();
        s.steps.run(StepKind::Predict, 1, &mut state, &[&one])?;
        if call >= 10 {
            latencies.push(t.elapsed().as_secs_f64());
        }
    }
    let count = |kind, b| s.steps.kernels(kind, b).map(<[KernelReport]>::len);
    Ok(BenchReport {
        batch,
        lower_codegen_ms,
        train_samples_per_s: timed_samples / train_seconds.max(1e-12),
        train_step_ms_median: train_step * 1e3,
        train_loss: loss,
        eval_samples_per_s: n_eval as f64 / eval_seconds.max(1e-12),
        eval_samples: n_eval,
        predict_latency_us: median(latencies) * 1e6,
        train_kernels: s.steps.kernels(StepKind::Train, batch).map(<[_]>::to_vec),
        eval_kernels: count(StepKind::Eval, batch),
        predict_kernels: count(StepKind::Predict, 1),
    })
}
