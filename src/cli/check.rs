//! `dlc check FILE`: the front end, and a summary of what would run.

use std::path::PathBuf;

use clap::Args;

use super::{print_diagnostics, Format};

#[derive(Args)]
pub struct CheckArgs {
    /// The model file (`.dlm`).
    file: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: &CheckArgs) -> i32 {
    let parsed = match dlc::driver::parse_file(&args.file) {
        Ok(p) => p,
        Err(err) => return super::environment_error(&err),
    };
    let errors = parsed.diags.iter().filter(|d| d.is_error()).count();
    print_diagnostics(&parsed.diags, &parsed.sources);
    if errors > 0 {
        eprintln!(
            "error: {} has {errors} error{}",
            args.file.display(),
            if errors == 1 { "" } else { "s" }
        );
        return 1;
    }
    if args.format == Format::Text {
        println!("{}: ok", args.file.display());
    }
    0
}
