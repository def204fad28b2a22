//! Evaluates a `data` block: loads its files and computes its fields.
//!
//! A data block's expressions are small and run once, so they are
//! evaluated directly on `ndarray` arrays rather than compiled: sources
//! (`idx`, `csv`, `npy`, `npz`), series helpers (`windows`, `next`,
//! `normalize`), elementwise arithmetic with broadcasting, `log`/`exp`/
//! `sqrt`/`abs`, `reshape`, and ranges of rows (`x[0:160]`). Each field is
//! then converted to its declared type: the per-sample element count must
//! agree (the reshape is implicit) and an `i32` field must hold integers.
//!
//! Other data blocks are reachable as `name.field` (for example to
//! normalise a test set with the training set's statistics).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use crate::diag::{Diagnostic, Span};
use crate::lower::Items;
use crate::runtime::data::{self as files, DataError};
use crate::syntax::ast::{BinOp, DType, DataDef, DataItem, Expr, ExprKind, IndexItem, UnOp};

/// A value while evaluating a data block.
#[derive(Clone, Debug)]
enum DVal {
    Arr(ArrayD<f32>),
    Num(f64),
    Str(String),
    List(Vec<DVal>),
    Range(i64, i64),
}

/// A failure to produce a data set, located in the program.
#[derive(Debug)]
pub struct LoadError {
    pub code: &'static str,
    pub message: String,
    pub span: Span,
}

impl LoadError {
    fn at(span: Span, message: impl Into<String>) -> LoadError {
        LoadError {
            code: "data::invalid",
            message: message.into(),
            span,
        }
    }

    fn file(span: Span, err: DataError) -> LoadError {
        LoadError {
            code: "data::file",
            message: err.to_string(),
            span,
        }
    }

    pub fn into_diagnostic(self) -> Diagnostic {
        Diagnostic::error(self.code, self.message, self.span).with_label("while loading this")
    }
}

type Result<T> = std::result::Result<T, LoadError>;

/// A loaded data block: each field's values (`[N, ...]`) and element type.
pub struct Loaded {
    pub fields: Vec<(String, ArrayD<f32>, DType)>,
}

/// Loads data blocks by name, each at most once.
pub struct DataLoader<'a> {
    items: &'a Items<'a>,
    base: PathBuf,
    cache: HashMap<String, HashMap<String, ArrayD<f32>>>,
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
    pub fn load(&mut self, name: &str, span: Span) -> Result<Loaded> {
        let def = self.def(name, span)?;
        let values = self.block(def)?;
        let mut fields = Vec::new();
        for item in &def.items {
            let DataItem::Field(f) = item else { continue };
            let value = values.get(&f.name.name).cloned().unwrap_or_else(|| ArrayD::zeros(IxDyn(&[0])));
            let declared: Vec<Option<usize>> = f
                .ty
                .dims
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .map(|d| match d.kind {
                    crate::syntax::ast::DimKind::Const(c) => Some(c as usize),
                    _ => None,
                })
                .collect();
            let value = conform(value, &declared, f.ty.dtype, f.span, &f.name.name)?;
            fields.push((f.name.name.clone(), value, f.ty.dtype));
        }
        Ok(Loaded { fields })
    }

    fn def(&self, name: &str, span: Span) -> Result<&'a DataDef> {
        self.items
            .data
            .get(name)
            .copied()
            .ok_or_else(|| LoadError::at(span, format!("no data block `{name}`")))
    }

    /// Every `let` and field of a block, evaluated in order.
    fn block(&mut self, def: &'a DataDef) -> Result<HashMap<String, ArrayD<f32>>> {
        if let Some(done) = self.cache.get(&def.name.name) {
            return Ok(done.clone());
        }
        let mut env: HashMap<String, DVal> = HashMap::new();
        for item in &def.items {
            let (name, value) = match item {
                DataItem::Let(l) => match &l.pat {
                    crate::syntax::ast::Pattern::Name(id) => (id.name.clone(), &l.value),
                    crate::syntax::ast::Pattern::Tuple(_, s) => {
                        return Err(LoadError::at(*s, "data blocks bind one name per `let`"))
                    }
                },
                DataItem::Field(f) => (f.name.name.clone(), &f.value),
            };
            let v = self.expr(value, &env)?;
            env.insert(name, v);
        }
        let arrays: HashMap<String, ArrayD<f32>> = env
            .into_iter()
            .filter_map(|(k, v)| match v {
                DVal::Arr(a) => Some((k, a)),
                _ => None,
            })
            .collect();
        self.cache.insert(def.name.name.clone(), arrays.clone());
        Ok(arrays)
    }

    fn expr(&mut self, e: &Expr, env: &HashMap<String, DVal>) -> Result<DVal> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int(v) => DVal::Num(*v as f64),
            ExprKind::Float(v) => DVal::Num(*v),
            ExprKind::Str(s) => DVal::Str(s.clone()),
            ExprKind::Name(id) => env
                .get(&id.name)
                .cloned()
                .ok_or_else(|| LoadError::at(id.span, format!("unknown name `{}`", id.name)))?,
            ExprKind::List(xs) => DVal::List(xs.iter().map(|x| self.expr(x, env)).collect::<Result<_>>()?),
            ExprKind::Range(a, b) => DVal::Range(num(&self.expr(a, env)?, a.span)? as i64, num(&self.expr(b, env)?, b.span)? as i64),
            ExprKind::Unary(UnOp::Neg, x) => match self.expr(x, env)? {
                DVal::Num(v) => DVal::Num(-v),
                DVal::Arr(a) => DVal::Arr(-a),
                _ => return Err(LoadError::at(span, "cannot negate this")),
            },
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a, env)?, self.expr(b, env)?);
                binary(*op, a, b, span)?
            }
            ExprKind::Field(base, field) => {
                let ExprKind::Name(block) = &base.kind else {
                    return Err(LoadError::at(span, "expected `data_block.field`"));
                };
                let def = self.def(&block.name, block.span)?;
                let values = self.block(def)?;
                DVal::Arr(values.get(&field.name).cloned().ok_or_else(|| {
                    LoadError::at(field.span, format!("data block `{}` has no field `{}`", block.name, field.name))
                })?)
            }
            ExprKind::Index(x, items) => {
                let x = arr(self.expr(x, env)?, span)?;
                DVal::Arr(self.index(x, items, env, span)?)
            }
            ExprKind::Call { callee, args, .. } => {
                let mut pos = Vec::new();
                let mut named = HashMap::new();
                for a in args {
                    let v = self.expr(&a.value, env)?;
                    match &a.name {
                        Some(n) => {
                            named.insert(n.name.clone(), v);
                        }
                        None => pos.push(v),
                    }
                }
                self.call(&callee.name, pos, named, span)?
            }
            _ => return Err(LoadError::at(span, "this expression cannot be used in a data block")),
        })
    }

    fn index(&mut self, mut x: ArrayD<f32>, items: &[IndexItem], env: &HashMap<String, DVal>, span: Span) -> Result<ArrayD<f32>> {
        for (axis, item) in items.iter().enumerate() {
            let len = x.shape().get(axis).copied().unwrap_or(0) as i64;
            let (a, b) = match item {
                IndexItem::Full(_) => continue,
                IndexItem::At(_) => return Err(LoadError::at(span, "data blocks take ranges of rows: `x[0:160]`")),
                IndexItem::Range(a, b, _) => {
                    let a = a.as_ref().map(|e| self.expr(e, env).and_then(|v| num(&v, e.span))).transpose()?;
                    let b = b.as_ref().map(|e| self.expr(e, env).and_then(|v| num(&v, e.span))).transpose()?;
                    let norm = |v: f64| if v < 0.0 { v as i64 + len } else { v as i64 };
                    (a.map_or(0, norm), b.map_or(len, norm))
                }
            };
            if !(0 <= a && a <= b && b <= len) {
                return Err(LoadError::at(span, format!("rows {a}..{b} are outside 0..{len}")));
            }
            x = x.slice_axis(Axis(axis), Slice::from(a as usize..b as usize)).to_owned();
        }
        Ok(x)
    }

    fn path(&self, v: Option<&DVal>, span: Span) -> Result<PathBuf> {
        match v {
            Some(DVal::Str(s)) => Ok(self.base.join(s)),
            _ => Err(LoadError::at(span, "expected a file path string")),
        }
    }

    fn call(&mut self, name: &str, pos: Vec<DVal>, named: HashMap<String, DVal>, span: Span) -> Result<DVal> {
        let get = |i: usize, n: &str| pos.get(i).or_else(|| named.get(n));
        let file = |r: std::result::Result<files::Array, DataError>| r.map(to_nd).map_err(|e| LoadError::file(span, e));
        Ok(DVal::Arr(match name {
            "idx" => file(files::read_idx(&self.path(get(0, "path"), span)?))?,
            "npy" => file(files::read_npy(&self.path(get(0, "path"), span)?))?,
            "npz" => {
                let key = string(get(1, "key"), span)?;
                file(files::read_npz(&self.path(get(0, "path"), span)?, &key))?
            }
            "csv" => {
                let path = self.path(get(0, "path"), span)?;
                let rows = match named.get("rows") {
                    Some(DVal::Range(a, b)) if 0 <= *a && a <= b => Some(*a as usize..*b as usize),
                    Some(_) => return Err(LoadError::at(span, "`rows` is a range `a..b` with 0 <= a <= b")),
                    None => None,
                };
                match (named.get("column"), named.get("columns")) {
                    (Some(c), _) => file(files::csv_column(&path, &string(Some(c), span)?, rows))?,
                    (None, Some(DVal::List(cols))) => {
                        let cols: Vec<String> = cols.iter().map(|c| string(Some(c), span)).collect::<Result<_>>()?;
                        let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
                        file(files::csv_columns(&path, &refs, rows))?
                    }
                    _ => return Err(LoadError::at(span, "csv needs `column: \"name\"` or `columns: [\"a\", \"b\"]`")),
                }
            }
            "windows" | "next" => {
                let series = series(get(0, "series"), span)?;
                let size = num(get(1, "size").ok_or_else(|| LoadError::at(span, "missing `size`"))?, span)? as usize;
                if size == 0 || size >= series.len() {
                    return Err(LoadError::at(span, format!("a window of {size} needs more than {size} values; the series has {}", series.len())));
                }
                to_nd(if name == "windows" { files::windows(&series, size) } else { files::next_values(&series, size) })
            }
            "normalize" => {
                let x = arr(pos.first().cloned().unwrap_or(DVal::Num(0.0)), span)?;
                let like = match named.get("like") {
                    Some(v) => arr(v.clone(), span)?,
                    None => x.clone(),
                };
                let values = files::normalize(x.as_slice().unwrap_or(&[]), like.as_slice().unwrap_or(&[]));
                ArrayD::from_shape_vec(x.raw_dim(), values).map_err(|e| LoadError::at(span, e.to_string()))?
            }
            "reshape" => {
                let x = arr(pos.first().cloned().unwrap_or(DVal::Num(0.0)), span)?;
                let DVal::List(dims) = get(1, "shape").cloned().unwrap_or(DVal::List(Vec::new())) else {
                    return Err(LoadError::at(span, "reshape needs a list of sizes"));
                };
                let mut shape: Vec<usize> = dims.iter().map(|d| num(d, span).map(|v| v as usize)).collect::<Result<_>>()?;
                // The sample count may be written as a symbol: infer it.
                let known: usize = shape.iter().skip(1).product();
                if let Some(first) = shape.first_mut() {
                    *first = x.len() / known.max(1);
                }
                x.into_shape_with_order(IxDyn(&shape)).map_err(|_| LoadError::at(span, "reshape changes the number of elements"))?
            }
            "log" | "exp" | "sqrt" | "abs" => {
                let x = arr(pos.first().cloned().unwrap_or(DVal::Num(0.0)), span)?;
                let f: fn(f32) -> f32 = match name {
                    "log" => f32::ln,
                    "exp" => f32::exp,
                    "sqrt" => f32::sqrt,
                    _ => f32::abs,
                };
                x.mapv(f)
            }
            other => return Err(LoadError::at(span, format!("`{other}` cannot be used in a data block"))),
        }))
    }
}

fn to_nd(a: files::Array) -> ArrayD<f32> {
    let shape = a.shape.clone();
    ArrayD::from_shape_vec(IxDyn(&shape), a.values).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape)))
}

fn num(v: &DVal, span: Span) -> Result<f64> {
    match v {
        DVal::Num(n) => Ok(*n),
        _ => Err(LoadError::at(span, "expected a number")),
    }
}

fn string(v: Option<&DVal>, span: Span) -> Result<String> {
    match v {
        Some(DVal::Str(s)) => Ok(s.clone()),
        _ => Err(LoadError::at(span, "expected a string")),
    }
}

fn arr(v: DVal, span: Span) -> Result<ArrayD<f32>> {
    match v {
        DVal::Arr(a) => Ok(a),
        DVal::Num(n) => Ok(ArrayD::from_elem(IxDyn(&[]), n as f32)),
        _ => Err(LoadError::at(span, "expected an array")),
    }
}

fn series(v: Option<&DVal>, span: Span) -> Result<Vec<f32>> {
    let a = arr(v.cloned().ok_or_else(|| LoadError::at(span, "missing the series"))?, span)?;
    if a.ndim() != 1 {
        return Err(LoadError::at(span, format!("a series is one column, got shape {:?}", a.shape())));
    }
    Ok(a.iter().copied().collect())
}

fn binary(op: BinOp, a: DVal, b: DVal, span: Span) -> Result<DVal> {
    if let (DVal::Num(x), DVal::Num(y)) = (&a, &b) {
        return Ok(DVal::Num(match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => x / y,
            _ => return Err(LoadError::at(span, "this operator cannot be used in a data block")),
        }));
    }
    let (a, b) = (arr(a, span)?, arr(b, span)?);
    if crate::lower::broadcast_shape(a.shape(), b.shape()).is_none() {
        return Err(LoadError::at(
            span,
            format!("shapes {:?} and {:?} do not broadcast", a.shape(), b.shape()),
        ));
    }
    let out = match op {
        BinOp::Add => &a + &b,
        BinOp::Sub => &a - &b,
        BinOp::Mul => &a * &b,
        BinOp::Div => &a / &b,
        _ => return Err(LoadError::at(span, "this operator cannot be used in a data block")),
    };
    Ok(DVal::Arr(out))
}

/// Converts a computed field to its declared type: the per-sample element
/// count must match (the reshape is implicit) and `i32` values must be whole.
fn conform(x: ArrayD<f32>, declared: &[Option<usize>], dtype: DType, span: Span, name: &str) -> Result<ArrayD<f32>> {
    let n = x.shape().first().copied().unwrap_or(1);
    let per_sample: usize = declared.iter().skip(1).map(|d| d.unwrap_or(1)).product();
    let got: usize = x.shape().iter().skip(1).product();
    if got != per_sample || declared.is_empty() {
        return Err(LoadError {
            code: "data::shape",
            message: format!(
                "field `{name}` is declared with {per_sample} values per sample, but its data has shape {:?} ({got} per sample)",
                x.shape()
            ),
            span,
        });
    }
    if dtype != DType::F32 {
        if let Some(bad) = x.iter().find(|v| v.fract() != 0.0) {
            return Err(LoadError {
                code: "data::dtype",
                message: format!("field `{name}` is declared integer but holds {bad}"),
                span,
            });
        }
    }
    let mut shape = vec![n];
    shape.extend(declared.iter().skip(1).map(|d| d.unwrap_or(1)));
    x.into_shape_with_order(IxDyn(&shape)).map_err(|_| LoadError::at(span, "reshape failed"))
}
