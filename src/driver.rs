//! Runs the front end over a file: read it, parse it with the standard
//! library, check it. Returns values and diagnostics; never prints.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId, SourceMap};
use crate::sema;
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

/// The front end's result for one file: the parsed files (which
/// `lower::Items` reads), what the checker proved, and every diagnostic.
pub struct Checked {
    pub sources: SourceMap,
    pub files: Vec<(FileId, ast::Program)>,
    pub base_dir: PathBuf,
    pub program: sema::Checked,
    pub diags: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Reads, parses and checks `path` with the standard library.
pub fn check_file(path: &Path) -> Result<Checked, DriverError> {
    let parsed = parse_file(path)?;
    Ok(check_parsed(parsed))
}

/// Parses and checks `text` with the standard library.
pub fn check_source(name: &str, text: &str, base_dir: PathBuf) -> Checked {
    check_parsed(parse_source(name, text, base_dir))
}

/// Checks a parsed program. A file with a syntax error is not checked: its
/// AST is empty, so checking it would only add noise.
fn check_parsed(parsed: Parsed) -> Checked {
    let mut diags = parsed.diags;
    let program = if diags.iter().any(Diagnostic::is_error) {
        sema::Checked::default()
    } else {
        let names: Vec<String> = parsed
            .files
            .iter()
            .map(|(id, _)| parsed.sources.file(*id).name.clone())
            .collect();
        let (program, d) = sema::check(&parsed.files, &names, &parsed.base_dir);
        diags.extend(d);
        program
    };
    Checked {
        sources: parsed.sources,
        files: parsed.files,
        base_dir: parsed.base_dir,
        program,
        diags,
    }
}
