//! CSV files with a header line of column names.
//!
//! Fields are separated by commas; a field may be quoted (`"realgdp"`) with
//! `""` for a quote inside. Blank lines are skipped. Rows are numbered from
//! 0 after the header (`rows: 0..160` is the first 160 data rows); errors
//! give the line number in the file, counting the header as line 1.

use std::ops::Range;
use std::path::Path;

use super::{Array, DataError, Result};

/// What a CSV file's header and row count are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvHeader {
    pub names: Vec<String>,
    /// Data rows (lines after the header that are not blank).
    pub rows: usize,
}

/// Splits one line into its fields, unquoting them.
fn split(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(field);
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        DataError::malformed(
            path,
            e.utf8_error().valid_up_to() as u64,
            "the file is not UTF-8 text",
        )
    })
}

/// Numbered non-blank lines (1-based line numbers).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
}

fn header(path: &Path, text: &str) -> Result<Vec<String>> {
    let (line, first) = lines(text).next().ok_or_else(|| {
        DataError::malformed(
            path,
            0,
            "the file is empty; a CSV file starts with a header line",
        )
    })?;
    split(first).map_err(|message| DataError::Csv {
        path: path.to_path_buf(),
        line,
        column: "(header)".into(),
        message,
    })
}

/// Reads the header's column names and counts the data rows, without
/// parsing any value.
pub fn csv_columns(path: &Path) -> Result<CsvHeader> {
    let text = read_text(path)?;
    let names = header(path, &text)?;
    Ok(CsvHeader {
        names,
        rows: lines(&text).count().saturating_sub(1),
    })
}

/// Reads `columns` (by header name) of the data rows in `rows` (all when
/// `None`) as an `[n, columns.len()]` array.
pub fn read_csv(path: &Path, columns: &[&str], rows: Option<Range<usize>>) -> Result<Array> {
    let text = read_text(path)?;
    let names = header(path, &text)?;
    let mut wanted = Vec::new();
    for c in columns {
        let i = names
            .iter()
            .position(|n| n == c)
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: c.to_string(),
                available: names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        wanted.push(i);
    }
    let data: Vec<(usize, &str)> = lines(&text).skip(1).collect();
    let range = rows.unwrap_or(0..data.len());
    if range.start > range.end || range.end > data.len() {
        return Err(DataError::Rows {
            path: path.to_path_buf(),
            start: range.start,
            end: range.end,
            rows: data.len(),
        });
    }
    let mut values = Vec::with_capacity(range.len() * wanted.len());
    for &(line, text) in &data[range.clone()] {
        let err = |column: &str, message: String| DataError::Csv {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            message,
        };
        let fields = split(text).map_err(|m| err("(row)", m))?;
        if fields.len() != names.len() {
            return Err(err(
                "(row)",
                format!(
                    "the row has {} fields, the header {}",
                    fields.len(),
                    names.len()
                ),
            ));
        }
        for &i in &wanted {
            let cell = &fields[i];
            let v: f32 = cell
                .parse()
                .map_err(|_| err(&names[i], format!("`{cell}` is not a number")))?;
            values.push(v);
        }
    }
    Ok(Array {
        shape: vec![range.len(), wanted.len()],
        values,
    })
}
