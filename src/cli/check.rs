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
