//! Data files: IDX, CSV, NPY and NPZ loaders, and header probes.
//!
//! Two kinds of entry points per format:
//! - **probes** (`idx_header`, `csv_columns`, `npy_header`, `npz_header`)
//!   read only what they must (an IDX header, a CSV header line plus a
//!   count of rows, an NPY header) so the checker can prove a data block's
//!   declared types before anything runs;
//! - **loaders** (`read_idx`, `read_csv`, `read_npy`, `read_npz`) read the
//!   whole payload into an [`Array`] of `f32` values.
//!
//! Every failure is a [`DataError`] that names the file and says where it
//! went wrong: the byte offset in a binary file, the line and column in a
//! CSV. None of them panics on a malformed file.
//!
//! The series helpers (`windows`, `next_values`, `normalize`) that data
//! blocks apply to loaded columns live here too.

mod csv;
mod idx;
mod npy;
mod series;

use std::path::{Path, PathBuf};

pub use self::csv::{csv_columns, read_csv, CsvHeader};
pub use idx::{idx_header, read_idx, read_idx_raw, IdxHeader, RawIdx};
pub use npy::{npy_header, npz_header, read_npy, read_npz, NpyHeader};
pub use series::{next_values, normalize, windows};

/// A dense row-major array of values, as read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The element type a file declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileDType {
    U8,
    I8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
    Bool,
}

impl FileDType {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            FileDType::U8 | FileDType::I8 | FileDType::Bool => 1,
            FileDType::I16 | FileDType::U16 => 2,
            FileDType::I32 | FileDType::U32 | FileDType::F32 => 4,
            FileDType::I64 | FileDType::U64 | FileDType::F64 => 8,
        }
    }

    /// Whether every value of this type is a whole number.
    pub fn is_integer(self) -> bool {
        !matches!(self, FileDType::F32 | FileDType::F64)
    }

    /// Decodes one element from exactly `size()` bytes.
    fn decode(self, b: &[u8], big_endian: bool) -> f32 {
        macro_rules! num {
            ($t:ty, $n:literal) => {{
                let mut a = [0u8; $n];
                a.copy_from_slice(&b[..$n]);
                if big_endian {
                    <$t>::from_be_bytes(a) as f32
                } else {
                    <$t>::from_le_bytes(a) as f32
                }
            }};
        }
        match self {
            FileDType::U8 | FileDType::Bool => b[0] as f32,
            FileDType::I8 => b[0] as i8 as f32,
            FileDType::I16 => num!(i16, 2),
            FileDType::U16 => num!(u16, 2),
            FileDType::I32 => num!(i32, 4),
            FileDType::U32 => num!(u32, 4),
            FileDType::I64 => num!(i64, 8),
            FileDType::U64 => num!(u64, 8),
            FileDType::F32 => num!(f32, 4),
            FileDType::F64 => num!(f64, 8),
        }
    }
}

/// Decodes a payload of `dtype` elements (its length is checked by callers).
fn decode_all(bytes: &[u8], dtype: FileDType, big_endian: bool) -> Vec<f32> {
    bytes
        .chunks_exact(dtype.size())
        .map(|b| dtype.decode(b, big_endian))
        .collect()
}

/// Why a data file could not be read. Each variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message} (at byte {offset})")]
    Malformed {
        path: PathBuf,
        offset: u64,
        message: String,
    },
    #[error("{path}: truncated: {what} need {expected} bytes from byte {offset}, but only {found} are there")]
    Truncated {
        path: PathBuf,
        what: String,
        offset: u64,
        expected: u64,
        found: u64,
    },
    #[error("{path}:{line}: column `{column}`: {message}")]
    Csv {
        path: PathBuf,
        line: usize,
        column: String,
        message: String,
    },
    #[error("{path}: no column `{column}`; the header has {available}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: String,
    },
    #[error("{path}: no array `{key}` in the archive; it has {available}")]
    MissingKey {
        path: PathBuf,
        key: String,
        available: String,
    },
    #[error("{path}: rows {start}..{end} asked for, but the file has {rows} data rows")]
    Rows {
        path: PathBuf,
        start: usize,
        end: usize,
        rows: usize,
    },
}

impl DataError {
    fn io(path: &Path, source: std::io::Error) -> DataError {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn malformed(path: &Path, offset: u64, message: impl Into<String>) -> DataError {
        DataError::Malformed {
            path: path.to_path_buf(),
            offset,
            message: message.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DataError::Io { path, .. }
            | DataError::Malformed { path, .. }
            | DataError::Truncated { path, .. }
            | DataError::Csv { path, .. }
            | DataError::MissingColumn { path, .. }
            | DataError::MissingKey { path, .. }
            | DataError::Rows { path, .. } => path,
        }
    }

    /// Whether the file could not be read at all (an environment error)
    /// rather than read and found wrong (a data error).
    pub fn is_io(&self) -> bool {
        matches!(self, DataError::Io { .. })
    }
}

pub type Result<T> = std::result::Result<T, DataError>;
