//! NumPy `.npy` arrays and `.npz` archives of them.
//!
//! An NPY file is the magic `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the
//! length of a header (`u16` in version 1, `u32` after), the header — a
//! Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape':
//! (3, 4), }` — and the raw values. An NPZ file is a zip archive whose
//! entries are `<key>.npy` files; errors in an entry name the archive and
//! the entry, with offsets inside the entry.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::{decode_all, Array, DataError, FileDType, Result};

/// What an NPY header declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    pub dtype: FileDType,
    pub big_endian: bool,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

/// Where the bytes being parsed come from, for error messages.
struct Source<'a> {
    path: &'a Path,
    entry: Option<&'a str>,
}

impl Source<'_> {
    fn err(&self, offset: u64, message: impl Into<String>) -> DataError {
        let message = message.into();
        DataError::Malformed {
            path: self.path.to_path_buf(),
            offset,
            message: match self.entry {
                Some(e) => format!("in `{e}`: {message}"),
                None => message,
            },
        }
    }

    fn read(&self, r: &mut dyn Read, offset: u64, len: usize, what: &str) -> Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(len);
        r.take(len as u64)
            .read_to_end(&mut buf)
            .map_err(|e| self.err(offset, format!("cannot read {what}: {e}")))?;
        if buf.len() < len {
            return Err(DataError::Truncated {
                path: self.path.to_path_buf(),
                what: match self.entry {
                    Some(e) => format!("{what} of `{e}`"),
                    None => what.to_string(),
                },
                offset,
                expected: len as u64,
                found: buf.len() as u64,
            });
        }
        Ok(buf)
    }
}

fn dtype(src: &Source, descr: &str, offset: u64) -> Result<(FileDType, bool)> {
    let (order, code) = descr.split_at(descr.len().min(1));
    let big_endian = match order {
        ">" => true,
        "<" | "|" | "=" => false,
        _ => return Err(src.err(offset, format!("unsupported dtype `{descr}`"))),
    };
    let dtype = match code {
        "u1" => FileDType::U8,
        "i1" => FileDType::I8,
        "b1" => FileDType::Bool,
        "i2" => FileDType::I16,
        "u2" => FileDType::U16,
        "i4" => FileDType::I32,
        "u4" => FileDType::U32,
        "i8" => FileDType::I64,
        "u8" => FileDType::U64,
        "f4" => FileDType::F32,
        "f8" => FileDType::F64,
        _ => {
            return Err(src.err(
                offset,
                format!("unsupported dtype `{descr}`: dlc reads integers, booleans, f4 and f8"),
            ))
        }
    };
    Ok((dtype, big_endian))
}

/// The text after `'key':` in the header dict.
fn value_of<'h>(src: &Source, dict: &'h str, key: &str, offset: u64) -> Result<&'h str> {
    let pat = format!("'{key}'");
    let at = dict
        .find(&pat)
        .ok_or_else(|| src.err(offset, format!("the header has no `{key}`: {dict}")))?;
    let rest = dict[at + pat.len()..].trim_start();
    rest.strip_prefix(':')
        .map(str::trim_start)
        .ok_or_else(|| src.err(offset, format!("expected `:` after `{key}` in the header")))
}

fn parse_dict(src: &Source, dict: &str, offset: u64) -> Result<NpyHeader> {
    let descr = value_of(src, dict, "descr", offset)?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| {
            src.err(
                offset,
                "`descr` is not a quoted string (structured dtypes are not supported)",
            )
        })?;
    let (dtype, big_endian) = dtype(src, descr, offset)?;
    let fortran = value_of(src, dict, "fortran_order", offset)?;
    let fortran_order = if fortran.starts_with("True") {
        true
    } else if fortran.starts_with("False") {
        false
    } else {
        return Err(src.err(offset, "`fortran_order` is neither True nor False"));
    };
    let shape = value_of(src, dict, "shape", offset)?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| src.err(offset, "`shape` is not a tuple"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| src.err(offset, format!("`shape` ({inner}) is not a tuple of sizes")))?;
    Ok(NpyHeader {
        dtype,
        big_endian,
        fortran_order,
        shape,
    })
}

/// Parses the magic, version and header; returns the header and the
/// offset of the first value.
fn header_from(src: &Source, r: &mut dyn Read) -> Result<(NpyHeader, u64)> {
    let pre = src.read(r, 0, 8, "the NPY magic and version")?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(src.err(0, "not an NPY file: it does not start with `\\x93NUMPY`"));
    }
    let len_size = match pre[6] {
        1 => 2,
        2 | 3 => 4,
        v => return Err(src.err(6, format!("unsupported NPY version {v}.{}", pre[7]))),
    };
    let raw = src.read(r, 8, len_size, "the header length")?;
    let len = raw
        .iter()
        .rev()
        .fold(0usize, |acc, &b| acc * 256 + b as usize);
    let start = 8 + len_size as u64;
    if len > 1 << 20 {
        return Err(src.err(8, format!("an NPY header of {len} bytes is implausible")));
    }
    let text = src.read(r, start, len, "the header")?;
    let dict = std::str::from_utf8(&text).map_err(|_| src.err(start, "the header is not text"))?;
    Ok((parse_dict(src, dict, start)?, start + len as u64))
}

fn read_from(src: &Source, r: &mut dyn Read) -> Result<Array> {
    let (header, start) = header_from(src, r)?;
    let count: usize = header.shape.iter().product();
    let len = count
        .checked_mul(header.dtype.size())
        .ok_or_else(|| src.err(start, "the declared shape is too large"))?;
    let payload = src.read(r, start, len, "the values")?;
    let values = decode_all(&payload, header.dtype, header.big_endian);
    let values = if header.fortran_order {
        from_fortran(&values, &header.shape)
    } else {
        values
    };
    Ok(Array {
        shape: header.shape,
        values,
    })
}

/// Reorders column-major values into row-major.
fn from_fortran(values: &[f32], shape: &[usize]) -> Vec<f32> {
    let reversed: Vec<usize> = shape.iter().rev().copied().collect();
    let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&reversed), values.to_vec());
    match a {
        Ok(a) => a.reversed_axes().iter().copied().collect(),
        Err(_) => values.to_vec(),
    }
}

fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| DataError::io(path, e))
}

/// Reads only the header of an NPY file: dtype, order and shape.
pub fn npy_header(path: &Path) -> Result<NpyHeader> {
    let src = Source { path, entry: None };
    header_from(&src, &mut open(path)?).map(|(h, _)| h)
}

/// Reads a whole NPY file.
pub fn read_npy(path: &Path) -> Result<Array> {
    let src = Source { path, entry: None };
    read_from(&src, &mut open(path)?)
}

fn archive(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>> {
    zip::ZipArchive::new(open(path)?).map_err(|e| {
        DataError::malformed(path, 0, format!("not a readable NPZ (zip) archive: {e}"))
    })
}

/// Runs `f` on the entry `<key>.npy` of the archive at `path`.
fn with_entry<T>(
    path: &Path,
    key: &str,
    f: impl FnOnce(&Source, &mut dyn Read) -> Result<T>,
) -> Result<T> {
    let mut zip = archive(path)?;
    let entry = format!("{key}.npy");
    let available = || {
        zip_names(&zip)
            .iter()
            .map(|n| format!("`{}`", n.trim_end_matches(".npy")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(index) = zip.index_for_name(&entry) else {
        return Err(DataError::MissingKey {
            path: PathBuf::from(path),
            key: key.to_string(),
            available: available(),
        });
    };
    let mut file = zip
        .by_index(index)
        .map_err(|e| DataError::malformed(path, 0, format!("cannot open `{entry}`: {e}")))?;
    let src = Source {
        path,
        entry: Some(&entry),
    };
    f(&src, &mut file)
}

fn zip_names(zip: &zip::ZipArchive<BufReader<File>>) -> Vec<String> {
    zip.file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .collect()
}

/// Reads only the header of the array `key` in an NPZ archive.
pub fn npz_header(path: &Path, key: &str) -> Result<NpyHeader> {
    with_entry(path, key, |src, r| header_from(src, r).map(|(h, _)| h))
}

/// Reads the array `key` of an NPZ archive.
pub fn read_npz(path: &Path, key: &str) -> Result<Array> {
    with_entry(path, key, read_from)
}
