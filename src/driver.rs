//! Runs the front end over a file: read it, parse it with the standard
//! library, check it. Returns values and diagnostics; never prints.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId, SourceMap};
use crate::syntax::{self, ast};

/// A failure of the environment, not of the user's program.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Every parsed file of one compilation: the standard library first, the
/// user's file last.
pub struct Parsed {
    pub sources: SourceMap,
    pub files: Vec<(FileId, ast::Program)>,
    /// The directory data paths are relative to.
    pub base_dir: PathBuf,
    pub diags: Vec<Diagnostic>,
}

/// Reads and parses `path` together with the standard library.
pub fn parse_file(path: &Path) -> Result<Parsed, DriverError> {
    let text = std::fs::read_to_string(path).map_err(|source| DriverError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(parse_source(&path.display().to_string(), &text, base_dir))
}

/// Parses `text` (named `name` in diagnostics) with the standard library.
pub fn parse_source(name: &str, text: &str, base_dir: PathBuf) -> Parsed {
    let mut sources = SourceMap::default();
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for (std_name, std_text) in crate::stdlib::FILES {
        let id = sources.add(*std_name, *std_text);
        let (program, d) = syntax::parse(id, std_text);
        files.push((id, program));
        diags.extend(d);
    }
    let id = sources.add(name, text);
    let (program, d) = syntax::parse(id, text);
    files.push((id, program));
    diags.extend(d);
    Parsed {
        sources,
        files,
        base_dir,
        diags,
    }
}

/// The front end's result for one file.
pub struct Checked {
    pub sources: SourceMap,
    pub diags: Vec<Diagnostic>,
}

/// Parses and checks `text` with the standard library.
pub fn check_source(name: &str, text: &str, base_dir: PathBuf) -> Checked {
    let parsed = parse_source(name, text, base_dir);
    Checked {
        sources: parsed.sources,
        diags: parsed.diags,
    }
}
