//! `dlc run FILE`: trains the program's model, then runs its `evaluate`
//! blocks; prints one line per epoch (and a progress bar on a terminal),
//! and optionally writes metrics as JSON Lines, a learning-curve plot and
//! the trained parameters.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use dlc::codegen::KernelReport;
use dlc::runtime::evaluate::Evaluation;
use dlc::runtime::metrics::MetricValue;
use dlc::runtime::train::{EpochRecord, Observer, RunOptions};
use dlc::runtime::{checkpoint, engine::EngineKind, run::run_program, RuntimeError};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};

use super::print_diagnostics;

/// The engines `--engine` accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// The reference interpreter: slow, the definition of every op.
    Reference,
    /// The Cranelift JIT: fused native kernels.
    #[default]
    Jit,
}

#[derive(Args)]
pub struct RunArgs {
    /// The model file (`.dlm`).
    file: PathBuf,
    /// Override the train block's `epochs`.
    #[arg(long)]
    epochs: Option<usize>,
    /// Override the train block's `batch`.
    #[arg(long)]
    batch: Option<usize>,
    /// What runs the step graphs.
    #[arg(long, value_enum, default_value_t)]
    engine: EngineArg,
    /// Threads the JIT's step may use (products, convolutions, pooling and
    /// large elementwise kernels; default: every core; the
    /// reference engine uses one).
    #[arg(long)]
    threads: Option<usize>,
    /// Write the trained parameters and optimizer state (safetensors).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Continue from a checkpoint written by `--save` or `checkpoint =`.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Write one JSON object per epoch and per evaluation (JSON Lines).
    #[arg(long)]
    metrics_out: Option<PathBuf>,
    /// Draw learning curves to a `.png` or `.svg` file.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Print the fusion report of the compiled train step to stderr before
    /// training: which ops became which kernel, each kernel's FLOPs and bytes.
    #[arg(long)]
    explain: bool,
}

impl EngineArg {
    /// The engine, with `threads` for the JIT's step.
    pub fn engine(self, threads: usize) -> Box<dyn dlc::runtime::engine::Engine> {
        match self {
            EngineArg::Reference => EngineKind::Reference,
            EngineArg::Jit => EngineKind::Jit { threads },
        }
        .engine()
    }
}

/// Prints the `--explain` report of a train step to stderr.
pub fn print_explain(batch: usize, kernels: Option<&[KernelReport]>) {
    match kernels {
        Some(k) => eprint!(
            "fusion report: train step at batch {batch}\n{}",
            dlc::codegen::explain_text(k)
        ),
        None => eprintln!("note: the reference engine interprets the graph; it runs no kernels"),
    }
}

pub fn run(args: &RunArgs) -> i32 {
    let parsed = match dlc::driver::check_file(&args.file) {
        Ok(p) => p,
        Err(err) => return super::environment_error(&err),
    };
    print_diagnostics(&parsed.diags, &parsed.sources);
    if parsed.has_errors() {
        eprintln!("error: {} has errors; nothing was run", args.file.display());
        return 1;
    }
    let engine = args
        .engine
        .engine(args.threads.unwrap_or_else(super::cores));
    let options = RunOptions {
        epochs: args.epochs,
        batch: args.batch,
        resume: args.resume.clone(),
        base_dir: parsed.base_dir.clone(),
    };
    let mut printer = Printer::new(args.explain);
    let outcome = match run_program(&parsed.files, engine.as_ref(), &options, &mut printer) {
        Ok(o) => o,
        Err(err) => {
            printer.clear();
            return report(&err, &parsed.sources);
        }
    };
    printer.clear();
    if let Some(after) = outcome.trained.stopped_after {
        println!("early stopping after epoch {after}");
    }
    for e in &outcome.evaluations {
        println!("{}", evaluation_line(e));
    }
    let mut lines: Vec<Value> = outcome.trained.history.iter().map(epoch_json).collect();
    lines.extend(outcome.evaluations.iter().map(evaluation_json));
    if let Some(path) = &args.metrics_out {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        if let Err(e) = std::fs::write(path, text) {
            return super::environment_error(&WriteError(path.clone(), e));
        }
    }
    if let Some(path) = &args.plot {
        match dlc::runtime::plot::learning_curves(&outcome.trained.history, path) {
            Ok(dlc::runtime::plot::Labels::Drawn) => {}
            Ok(dlc::runtime::plot::Labels::NoFont) => {
                eprintln!(
                    "note: no font was found, so {} has curves but no labels",
                    path.display()
                )
            }
            Err(e) => return super::environment_error(&e),
        }
    }
    if let Some(path) = &args.save {
        let tensors: Vec<_> = outcome
            .param_names
            .iter()
            .filter_map(|n| outcome.trained.state.get(n).map(|v| (n.as_str(), v)))
            .collect();
        if let Err(e) = checkpoint::save(path, &tensors, outcome.trained.pos) {
            return super::environment_error(&e);
        }
        println!("saved {}", path.display());
    }
    0
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write {}", .0.display())]
struct WriteError(PathBuf, #[source] std::io::Error);

/// Prints a run failure; returns the exit code.
pub fn report(err: &RuntimeError, sources: &dlc::diag::SourceMap) -> i32 {
    let code = if err.is_environment() { 2 } else { 1 };
    match err.diagnostic() {
        Some(d) => {
            print_diagnostics(&[d], sources);
            code
        }
        None if code == 2 => super::environment_error(err),
        None => {
            eprintln!("error: {err}");
            code
        }
    }
}

/// Progress on stderr (only on a terminal) and a line per epoch on stdout.
struct Printer {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
    explain: bool,
}

impl Printer {
    fn new(explain: bool) -> Printer {
        Printer {
            bar: None,
            started: std::time::Instant::now(),
            explain,
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Printer {
    fn compiled(&mut self, batch: usize, kernels: Option<&[KernelReport]>) {
        if self.explain {
            print_explain(batch, kernels);
        }
    }

    fn batch(&mut self, epoch: usize, done: usize, total: usize, loss: f64) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            self.started = std::time::Instant::now();
            bar
        });
        bar.set_prefix(epoch.to_string());
        bar.set_position(done as u64);
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("loss {loss:.4}  {rate:.0} samples/s"));
    }

    fn epoch(&mut self, r: &EpochRecord) {
        self.clear();
        let mut parts = Vec::new();
        for (name, v) in &r.train {
            parts.extend(show(name, v));
        }
        for (name, v) in &r.val {
            parts.extend(show(&format!("val_{name}"), v));
        }
        let rate = r.samples as f64 / r.seconds.max(1e-9);
        println!(
            "epoch {}: {}  ({:.1} s, {rate:.0} samples/s)",
            r.epoch,
            parts.join("  "),
            r.seconds
        );
        let _ = std::io::stdout().flush();
    }
}

/// `name value` for a scalar; matrices are left to the JSON output.
fn show(name: &str, v: &MetricValue) -> Option<String> {
    v.scalar().map(|x| format!("{name} {x:.4}"))
}

fn value_json(v: &MetricValue) -> Value {
    match v {
        MetricValue::Scalar(x) => json!(x),
        MetricValue::Matrix(m) => json!(m),
    }
}

fn epoch_json(r: &EpochRecord) -> Value {
    let mut o = Map::new();
    o.insert("epoch".into(), json!(r.epoch));
    for (name, v) in &r.train {
        o.insert(name.clone(), value_json(v));
    }
    for (name, v) in &r.val {
        o.insert(format!("val_{name}"), value_json(v));
    }
    o.insert("lr".into(), json!(r.lr));
    o.insert("seconds".into(), json!(r.seconds));
    o.insert("train_seconds".into(), json!(r.train_seconds));
    o.insert("samples".into(), json!(r.samples));
    Value::Object(o)
}

fn evaluation_json(e: &Evaluation) -> Value {
    let mut o = Map::new();
    o.insert("phase".into(), json!("test"));
    o.insert("data".into(), json!(e.data));
    for (name, v) in &e.values {
        o.insert(name.clone(), value_json(v));
    }
    for (baseline, values) in &e.baselines {
        for (name, v) in values {
            o.insert(format!("baseline:{baseline}:{name}"), value_json(v));
        }
    }
    Value::Object(o)
}

fn evaluation_line(e: &Evaluation) -> String {
    let mut parts: Vec<String> = e.values.iter().filter_map(|(n, v)| show(n, v)).collect();
    for (baseline, values) in &e.baselines {
        let scores: Vec<String> = values.iter().filter_map(|(n, v)| show(n, v)).collect();
        parts.push(format!("[baseline {baseline}: {}]", scores.join(", ")));
    }
    let mut line = format!("test on {}: {}", e.data, parts.join("  "));
    for (name, v) in &e.values {
        if let MetricValue::Matrix(m) = v {
            line.push_str(&format!("\n{name} (rows: true class, columns: predicted):"));
            for row in m {
                let cells: Vec<String> = row.iter().map(|c| format!("{c:>6}")).collect();
                line.push_str(&format!("\n{}", cells.join("")));
            }
        }
    }
    line
}
