//! Evaluates a `data` block into a [`Dataset`]: loads its files, computes
//! its `let`s and fields (see `data_expr`), and converts every field to its
//! declared type.
//!
//! Conversion checks what the checker cannot see before the files are
//! read in full: every field has the same sample count, the per-sample
//! element count agrees with the declared type (a reshape that keeps it is
//! implicit: `u8[N, 28, 28]` into `f32[N, 1, 28, 28]`), constant dimensions
//! match, and `i32`/`u8` fields hold whole numbers. Each failure is a
//! [`LoadError`] located at the field or expression in the program.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};

use super::coded::Values;
use super::data::DataError;
use super::data_expr::{DVal, Fields, Scope};
use crate::diag::{Diagnostic, Span};
use crate::lower::Items;
use crate::syntax::ast::{DType, DataDef, DataItem, DimKind, Pattern, TensorType};

/// A failure to produce a data set, located in the program.
#[derive(Debug)]
pub struct LoadError {
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    /// The file error behind it, if a file could not be read or parsed.
    pub file: Option<Box<DataError>>,
}

impl LoadError {
    pub(super) fn at(span: Span, message: impl Into<String>) -> LoadError {
        LoadError {
            code: "data::invalid",
            message: message.into(),
            span,
            file: None,
        }
    }

    pub(super) fn file(span: Span, err: DataError) -> LoadError {
        LoadError {
            code: if err.is_io() {
                "data::io"
            } else {
                "data::file"
            },
            message: err.to_string(),
            span,
            file: Some(Box::new(err)),
        }
    }

    /// Whether a file could not be read at all (an environment failure).
    pub fn is_io(&self) -> bool {
        self.file.as_ref().is_some_and(|e| e.is_io())
    }

    pub fn diagnostic(&self) -> Diagnostic {
        let help = match self.code {
            "data::shape" | "data::count" => {
                "make the declared type agree with the file, or fix the file"
            }
            "data::dtype" => "declare the field `f32`, or give it whole-number values",
            "data::io" => "check the path; it is relative to the model file",
            _ => "check the data file against the declaration",
        };
        Diagnostic::error(self.code, self.message.clone(), self.span)
            .with_label("while loading this")
            .with_help(help)
    }
}

type Result<T> = std::result::Result<T, LoadError>;

/// One field of a loaded data set: `[N, ...]` values of its declared type
/// (integers are carried as exact `f32`; fields computed from a byte file
/// stay coded, see `coded`).
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub values: Values,
    pub dtype: DType,
}

/// A loaded data block.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub columns: Vec<Column>,
    pub len: usize,
}

impl Dataset {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The samples at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Dataset {
        Dataset {
            name: self.name.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    values: c.values.select(rows),
                    dtype: c.dtype,
                })
                .collect(),
            len: rows.len(),
        }
    }
}

/// Loads data blocks by name, each at most once.
pub struct DataLoader<'a> {
    items: &'a Items<'a>,
    base: PathBuf,
    cache: HashMap<String, HashMap<String, DVal>>,
}

impl<'a> DataLoader<'a> {
    /// `base` is the directory the program's relative paths start from.
    pub fn new(items: &'a Items<'a>, base: &Path) -> DataLoader<'a> {
        DataLoader {
            items,
            base: base.to_path_buf(),
            cache: HashMap::new(),
        }
    }

    /// Loads the data block `name` and converts its fields to their types.
    pub fn load(&mut self, name: &str, span: Span) -> Result<Dataset> {
        let def = self.def(name, span)?;
        let values = self.block(def)?;
        let mut columns: Vec<Column> = Vec::new();
        for item in &def.items {
            let DataItem::Field(f) = item else { continue };
            let value = values
                .get(&f.name.name)
                .and_then(DVal::values)
                .ok_or_else(|| {
                    LoadError::at(f.span, format!("field `{}` is not an array", f.name.name))
                })?;
            let value = conform(value, &f.ty, f.span, &f.name.name)?;
            if let Some(first) = columns.first() {
                let (n, m) = (first.values.shape()[0], value.shape()[0]);
                if n != m {
                    return Err(LoadError {
                        code: "data::count",
                        message: format!(
                            "field `{}` has {m} samples but field `{}` has {n}; every field of `{name}` needs the same count",
                            f.name.name, first.name
                        ),
                        span: f.span,
                        file: None,
                    });
                }
            }
            columns.push(Column {
                name: f.name.name.clone(),
                values: value,
                dtype: f.ty.dtype,
            });
        }
        let len = columns.first().map_or(0, |c| c.values.shape()[0]);
        Ok(Dataset {
            name: name.to_string(),
            columns,
            len,
        })
    }

    fn def(&self, name: &str, span: Span) -> Result<&'a DataDef> {
        self.items
            .data
            .get(name)
            .copied()
            .ok_or_else(|| LoadError::at(span, format!("no data block `{name}`")))
    }

    /// Every `let` and field of a block, evaluated in order. Coded
    /// values share their data with the cache; dense ones are copied.
    fn block(&mut self, def: &'a DataDef) -> Result<HashMap<String, DVal>> {
        if let Some(done) = self.cache.get(&def.name.name) {
            return Ok(done.clone());
        }
        let base = self.base.clone();
        let mut scope = Scope {
            env: HashMap::new(),
            base: &base,
            fields: self,
        };
        for item in &def.items {
            let (name, value) = match item {
                DataItem::Let(l) => match &l.pat {
                    Pattern::Name(id) => (id.name.clone(), &l.value),
                    Pattern::Tuple(_, s) => {
                        return Err(LoadError::at(*s, "data blocks bind one name per `let`"))
                    }
                },
                DataItem::Field(f) => (f.name.name.clone(), &f.value),
            };
            let v = scope.expr(value)?;
            scope.env.insert(name, v);
        }
        let arrays: HashMap<String, DVal> = std::mem::take(&mut scope.env)
            .into_iter()
            .filter(|(_, v)| v.values().is_some())
            .collect();
        self.cache.insert(def.name.name.clone(), arrays.clone());
        Ok(arrays)
    }
}

impl Fields for DataLoader<'_> {
    fn field(&mut self, block: &str, field: &str, span: Span) -> Result<ArrayD<f32>> {
        let def = self.def(block, span)?;
        let values = self.block(def)?;
        let declared = def.items.iter().find_map(|i| match i {
            DataItem::Field(f) if f.name.name == field => Some(f),
            _ => None,
        });
        let value = values.get(field).and_then(DVal::values).ok_or_else(|| {
            LoadError::at(span, format!("data block `{block}` has no field `{field}`"))
        })?;
        Ok(match declared {
            Some(f) => conform(value, &f.ty, f.span, field)?,
            None => value,
        }
        .to_dense())
    }
}

/// Converts a computed field to its declared type (see the module doc).
fn conform(x: Values, ty: &TensorType, span: Span, name: &str) -> Result<Values> {
    let dims = ty.dims.as_deref().unwrap_or(&[]);
    let shape_err = |message: String| LoadError {
        code: "data::shape",
        message,
        span,
        file: None,
    };
    if dims.is_empty() || x.shape().is_empty() {
        return Err(shape_err(format!(
            "field `{name}` needs a sample dimension first: its data has shape {:?}",
            x.shape()
        )));
    }
    let n = x.shape()[0];
    let declared: Vec<Option<usize>> = dims[1..]
        .iter()
        .map(|d| match d.kind {
            DimKind::Const(c) => Some(c as usize),
            _ => None,
        })
        .collect();
    let sample = &x.shape()[1..];
    let got: usize = sample.iter().product();
    let shape: Vec<usize> = if sample.len() == declared.len() {
        let fits = declared
            .iter()
            .zip(sample)
            .all(|(d, s)| d.is_none_or(|d| d == *s));
        fits.then(|| sample.to_vec())
    } else {
        let known: usize = declared.iter().flatten().product();
        let unknown = declared.iter().filter(|d| d.is_none()).count();
        match unknown {
            0 => (known == got).then(|| declared.iter().flatten().copied().collect()),
            1 if known > 0 && got.is_multiple_of(known) => {
                Some(declared.iter().map(|d| d.unwrap_or(got / known)).collect())
            }
            _ => None,
        }
    }
    .ok_or_else(|| {
        shape_err(format!(
            "field `{name}` is declared {}, but its data has shape {:?} ({got} values per sample)",
            describe(dims.len(), &declared),
            x.shape()
        ))
    })?;
    let mut full = vec![n];
    full.extend(shape);
    let reshape_err = || shape_err(format!("field `{name}` cannot be reshaped to {full:?}"));
    Ok(match x {
        Values::Dense(x) => {
            check_dtype(x.iter().copied(), ty.dtype, span, name)?;
            Values::Dense(
                x.into_shape_with_order(IxDyn(&full))
                    .map_err(|_| reshape_err())?,
            )
        }
        Values::Coded(x) => {
            check_dtype(x.used_values().into_iter(), ty.dtype, span, name)?;
            Values::Coded(x.reshape(&full).ok_or_else(reshape_err)?)
        }
    })
}

/// `[N, 1, 28, 28]` with symbols shown as `_`.
fn describe(rank: usize, declared: &[Option<usize>]) -> String {
    let rest: Vec<String> = declared
        .iter()
        .map(|d| d.map_or("_".to_string(), |d| d.to_string()))
        .collect();
    let per: usize = declared.iter().flatten().product();
    if rank == 1 {
        "[N] (1 value per sample)".to_string()
    } else {
        format!("[N, {}] ({per} values per sample)", rest.join(", "))
    }
}

fn check_dtype(
    mut x: impl Iterator<Item = f32>,
    dtype: DType,
    span: Span,
    name: &str,
) -> Result<()> {
    let bad = match dtype {
        DType::F32 => None,
        DType::I32 => x.find(|v| v.fract() != 0.0 || !v.is_finite()),
        DType::U8 => x.find(|v| v.fract() != 0.0 || !(0.0..=255.0).contains(v)),
    };
    match bad {
        Some(bad) => Err(LoadError {
            code: "data::dtype",
            message: format!(
                "field `{name}` is declared {} but holds {bad}",
                format!("{dtype:?}").to_lowercase()
            ),
            span,
            file: None,
        }),
        None => Ok(()),
    }
}
