//! `dlc check FILE`: the front end, and a summary of what would run.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use dlc::lower::{Pass, StepKind};
use dlc::runtime::dump::{dump_step, Stage};

use super::{print_diagnostics, Format};

#[derive(Args)]
pub struct CheckArgs {
    /// The model file (`.dlm`).
    file: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Instead of the summary, print a step graph after this stage.
    #[arg(long, value_enum)]
    dump_after: Option<StageArg>,
    /// The step `--dump-after` shows.
    #[arg(long, value_enum, default_value_t)]
    step: StepArg,
    /// The batch size the step is lowered for (default: the train block's).
    #[arg(long)]
    batch: Option<usize>,
}

/// The stages `--dump-after` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StageArg {
    /// The forward pass, loss and metrics as lowered.
    Lower,
    /// With the backward pass and the optimizer updates.
    Autodiff,
    /// The final step graph, after dead-code elimination.
    Dce,
    /// The kernels fusion makes of the final graph (FLOPs, bytes).
    Fuse,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum StepArg {
    #[default]
    Train,
    Eval,
    Predict,
}

pub fn run(args: &CheckArgs) -> i32 {
    let checked = match dlc::driver::check_file(&args.file) {
        Ok(c) => c,
        Err(err) => return super::environment_error(&err),
    };
    let errors = checked.diags.iter().filter(|d| d.is_error()).count();
    print_diagnostics(&checked.diags, &checked.sources);
    if errors > 0 {
        eprintln!(
            "error: {} has {errors} error{}",
            args.file.display(),
            if errors == 1 { "" } else { "s" }
        );
        return 1;
    }
    if let Some(stage) = args.dump_after {
        let stage = match stage {
            StageArg::Lower => Stage::Pass(Pass::Lower),
            StageArg::Autodiff => Stage::Pass(Pass::Autodiff),
            StageArg::Dce => Stage::Pass(Pass::Dce),
            StageArg::Fuse => Stage::Fuse,
        };
        let kind = match args.step {
            StepArg::Train => StepKind::Train,
            StepArg::Eval => StepKind::Eval,
            StepArg::Predict => StepKind::Predict,
        };
        return match dump_step(&checked.files, kind, args.batch, stage) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(err) => {
                match err.diagnostic() {
                    Some(d) => print_diagnostics(&[d], &checked.sources),
                    None => eprintln!("error: {err}"),
                }
                1
            }
        };
    }
    match args.format {
        Format::Text => {
            println!("{}: ok\n", args.file.display());
            print!("{}", dlc::sema::summary::render_text(&checked.program));
        }
        Format::Json => match serde_json::to_string_pretty(&checked.program) {
            Ok(json) => println!("{json}"),
            Err(err) => return super::environment_error(&err),
        },
    }
    0
}
