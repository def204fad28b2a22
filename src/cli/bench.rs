//! `dlc bench FILE [--batch N] [--threads N] [--steps N]`: compiles the
//! program's step functions and times them through the runtime, then
//! prints one JSON object on stdout:
//!
//! - `compile_ms`: parse + check (`check_ms`, which also reads the data
//!   files' headers) plus lowering and code generation to finalized code
//!   (`lower_codegen_ms`) of the train, eval and predict steps at `batch`
//!   and of predict at batch 1; data loading is not included;
//! - `train_samples_per_s`: the samples of `steps` timed steps (after
//!   `warmup_steps` untimed ones) over their **total** time, each step fed
//!   a shuffled batch of the model's own data as `dlc run` feeds it
//!   (gather, augmentation, weights, update), as the peers time an epoch;
//!   `train_step_ms_median` is the median step;
//!   `train_loss` is the last step's loss;
//! - `eval_samples_per_s`: the `eval_samples` of the whole training set
//!   over the **total** time of the eval step, after one untimed batch;
//! - `predict_latency_us`: the **median** of 1,000 batch-1 predict calls
//!   on the first sample (after 10 untimed calls);
//! - `peak_rss_mb`: the process's peak resident set (`VmHWM` of
//!   `/proc/self/status`; Linux only, `null` elsewhere);
//! - context: `file`, `engine`, `batch`, `threads`, `steps`, and the kernel
//!   counts `train_kernels`, `eval_kernels`, `predict_kernels` (`null` for
//!   the reference engine).
//!
//! `--threads` means what it means for `dlc run`: the threads the JIT's
//! contractions may use, every core by default. `--explain` prints the train step's
//! fusion report to stderr.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use dlc::runtime::bench::{bench_program, BenchOptions};
use serde_json::json;

use super::print_diagnostics;
use super::run::{print_explain, report, EngineArg};

/// Untimed train steps before the timed ones.
const WARMUP_STEPS: usize = 5;
/// Timed batch-1 predict calls.
const PREDICT_CALLS: usize = 1000;

#[derive(Args)]
pub struct BenchArgs {
    /// The model file (`.dlm`).
    file: PathBuf,
    /// The batch size (default: the train block's `batch`).
    #[arg(long, value_parser = positive)]
    batch: Option<usize>,
    /// Threads the JIT's step may use (products, convolutions, pooling and
    /// large elementwise kernels; default: every core; the
    /// reference engine uses one).
    #[arg(long, value_parser = positive)]
    threads: Option<usize>,
    /// Timed train steps.
    #[arg(long, default_value_t = 200, value_parser = positive)]
    steps: usize,
    /// What runs the step graphs.
    #[arg(long, value_enum, default_value_t)]
    engine: EngineArg,
    /// Print the train step's fusion report to stderr.
    #[arg(long)]
    explain: bool,
}

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a positive whole number")),
    }
}

/// Peak resident set in MB, from `/proc/self/status` (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(args: &BenchArgs) -> i32 {
    let started = Instant::now();
    let parsed = match dlc::driver::check_file(&args.file) {
        Ok(p) => p,
        Err(err) => return super::environment_error(&err),
    };
    let check_ms = started.elapsed().as_secs_f64() * 1e3;
    print_diagnostics(&parsed.diags, &parsed.sources);
    if parsed.has_errors() {
        eprintln!("error: {} has errors; nothing was run", args.file.display());
        return 1;
    }
    let threads = args.threads.unwrap_or_else(super::cores);
    let engine = args.engine.engine(threads);
    let opts = BenchOptions {
        batch: args.batch,
        steps: args.steps,
        warmup: WARMUP_STEPS,
        predict_calls: PREDICT_CALLS,
    };
    let r = match bench_program(&parsed.files, engine.as_ref(), &parsed.base_dir, &opts) {
        Ok(r) => r,
        Err(err) => return report(&err, &parsed.sources),
    };
    if args.explain {
        print_explain(r.batch, r.train_kernels.as_deref());
    }
    let engine_name = match args.engine {
        EngineArg::Jit => "jit",
        EngineArg::Reference => "reference",
    };
    let out = json!({
        "file": args.file.display().to_string(),
        "engine": engine_name,
        "batch": r.batch,
        "threads": threads,
        "steps": args.steps,
        "warmup_steps": WARMUP_STEPS,
        "compile_ms": check_ms + r.lower_codegen_ms,
        "check_ms": check_ms,
        "lower_codegen_ms": r.lower_codegen_ms,
        "train_samples_per_s": r.train_samples_per_s,
        "train_step_ms_median": r.train_step_ms_median,
        "train_loss": r.train_loss,
        "eval_samples_per_s": r.eval_samples_per_s,
        "eval_samples": r.eval_samples,
        "predict_latency_us": r.predict_latency_us,
        "predict_calls": PREDICT_CALLS,
        "peak_rss_mb": peak_rss_mb(),
        "train_kernels": r.train_kernels.as_ref().map(Vec::len),
        "eval_kernels": r.eval_kernels,
        "predict_kernels": r.predict_kernels,
    });
    println!("{out}");
    0
}
