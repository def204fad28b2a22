//! The `dlc` command line: the only place that prints and exits.
//!
//! Each subcommand is one file; this one parses the arguments and maps every
//! outcome to an exit code: 0 success, 1 the user's program or data is wrong
//! (diagnostics were printed), 2 the environment failed (a file could not be
//! read, a checkpoint could not be written).

mod bench;
mod check;
mod run;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "dlc",
    version,
    about = "Compile, check and train deep-learning models written in dlm"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a model file: every name, every shape, the data files and the
    /// training protocol, without running anything; print a model summary.
    Check(check::CheckArgs),
    /// Train a model file's `train` block, then run its `evaluate` blocks.
    Run(run::RunArgs),
    /// Time a model file's compiled step functions; print one JSON object.
    Bench(bench::BenchArgs),
}

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// One JSON document, for tools.
    Json,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Bench(args) => bench::run(&args),
    }
}

/// Prints diagnostics to stderr as miette reports (colour only on a
/// terminal, and never when `NO_COLOR` is set).
fn print_diagnostics(diags: &[dlc::diag::Diagnostic], sources: &dlc::diag::SourceMap) {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = terminal_width();
    let theme = if colour {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(width);
    for diag in diags {
        let mut out = String::new();
        let report = dlc::diag::Report::new(diag, sources);
        if handler.render_report(&mut out, &report).is_ok() {
            eprintln!("{out}");
        }
    }
}

/// The cores this process may use: the default of `--threads`.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// Reports a failure of the environment (with its chain of causes) and
/// returns exit code 2.
fn environment_error(err: &dyn std::error::Error) -> i32 {
    let mut message = format!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
    2
}
