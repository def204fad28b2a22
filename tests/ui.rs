//! UI tests: every `tests/ui/*.dlm` is a broken program whose expected
//! diagnostics are written inline, and whose rendered report is snapshotted.
//!
//! An annotation `//~ code: fragment` expects an error with that code, whose
//! message contains `fragment`, with its primary span on the line the
//! annotation is on; `//~^ code: fragment` means the line above (one `^` per
//! line). The set of errors must match the annotations exactly: an
//! unexpected error fails the test as much as a missing one.

use std::path::Path;

use dlc::diag::render_plain;

struct Expected {
    line: usize,
    code: String,
    fragment: String,
}

fn annotations(text: &str) -> Vec<Expected> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find("//~") else { continue };
        let rest = &line[at + 3..];
        let ups = rest.chars().take_while(|c| *c == '^').count();
        let rest = rest[ups..].trim();
        let (code, fragment) = rest.split_once(": ").unwrap_or((rest, ""));
        out.push(Expected {
            line: i + 1 - ups,
            code: code.trim().to_string(),
            fragment: fragment.trim().to_string(),
        });
    }
    out
}

fn check_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let name = path.to_string_lossy().replace('\\', "/");
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let result = dlc::driver::check_source(&name, &text, base);
    let errors: Vec<_> = result.diags.iter().filter(|d| d.is_error()).collect();
    let mut problems = Vec::new();
    let expected = annotations(&text);
    if expected.is_empty() {
        problems.push("no `//~` annotation: a ui test must expect at least one error".to_string());
    }
    for e in &expected {
        let found = errors.iter().any(|d| {
            let (line, _) = result.sources.line_col(d.span);
            line == e.line && d.code == e.code && d.message.contains(&e.fragment)
        });
        if !found {
            problems.push(format!(
                "missing: line {} {}: {}",
                e.line, e.code, e.fragment
            ));
        }
    }
    for d in &errors {
        let (line, _) = result.sources.line_col(d.span);
        let wanted = expected
            .iter()
            .any(|e| e.line == line && e.code == d.code && d.message.contains(&e.fragment));
        if !wanted {
            problems.push(format!("unexpected: line {line} {}: {}", d.code, d.message));
        }
    }
    let rendered = render_plain(&result.diags, &result.sources, 80);
    if problems.is_empty() {
        Ok(rendered)
    } else {
        Err(format!(
            "{}:\n  {}\n\nrendered:\n{rendered}",
            path.display(),
            problems.join("\n  ")
        ))
    }
}

#[test]
fn ui() {
    let mut paths: Vec<_> = std::fs::read_dir("tests/ui")
        .expect("tests/ui exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dlm"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "only {} ui tests", paths.len());
    let mut failures = Vec::new();
    for path in &paths {
        match check_file(path) {
            Ok(rendered) => {
                let name = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                insta::with_settings!({ snapshot_path => "ui/snapshots", prepend_module_to_snapshot => false }, {
                    insta::assert_snapshot!(name, rendered);
                });
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} ui tests failed:\n\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n\n")
    );
}
