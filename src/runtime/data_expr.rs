//! The expressions of `data` blocks,
//! evaluated directly on `ndarray` arrays.
//!
//! They are small and run once, so there is no graph: sources (`idx`,
//! `csv`, `npy`, `npz`), series helpers (`windows`, `next`, `normalize`),
//! elementwise arithmetic with NumPy broadcasting, `log`/`exp`/`sqrt`/`abs`,
//! `mean` of a whole array, `reshape`, indexing (`x[0:160]`, `x[:, -1, :]`)
//! and fields of other blocks (`gdp_train.y`, through a [`Fields`] lookup).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, Axis, IxDyn, Slice, Zip};

use super::coded::{Coded, Values};
use super::data::{self as files, DataError};
use super::data_block::LoadError;
use crate::diag::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, IndexItem, UnOp};

/// A value while evaluating a data expression.
#[derive(Clone, Debug)]
pub(super) enum DVal {
    Arr(ArrayD<f32>),
    /// Values computed from a byte file by elementwise arithmetic.
    Coded(Coded),
    Num(f64),
    Str(String),
    List(Vec<DVal>),
    Range(i64, i64),
}

type Result<T> = std::result::Result<T, LoadError>;

impl DVal {
    /// The value as a field's values, if it is an array.
    pub fn values(&self) -> Option<Values> {
        match self {
            DVal::Arr(a) => Some(Values::Dense(a.clone())),
            DVal::Coded(c) => Some(Values::Coded(c.clone())),
            _ => None,
        }
    }
}

/// Resolves `block.field` while evaluating.
pub(super) trait Fields {
    fn field(&mut self, block: &str, field: &str, span: Span) -> Result<ArrayD<f32>>;
}

/// One evaluation: local names, the directory paths start from, and a way
/// to reach other blocks.
pub(super) struct Scope<'s> {
    pub env: HashMap<String, DVal>,
    pub base: &'s Path,
    pub fields: &'s mut dyn Fields,
}

impl Scope<'_> {
    pub fn expr(&mut self, e: &Expr) -> Result<DVal> {
        let span = e.span;
        Ok(match &e.kind {
            ExprKind::Int(v) => DVal::Num(*v as f64),
            ExprKind::Float(v) => DVal::Num(*v),
            ExprKind::Str(s) => DVal::Str(s.clone()),
            ExprKind::Name(id) => self
                .env
                .get(&id.name)
                .cloned()
                .ok_or_else(|| LoadError::at(id.span, format!("unknown name `{}`", id.name)))?,
            ExprKind::List(xs) => {
                DVal::List(xs.iter().map(|x| self.expr(x)).collect::<Result<_>>()?)
            }
            ExprKind::Range(a, b) => {
                let a = num(&self.expr(a)?, a.span)? as i64;
                DVal::Range(a, num(&self.expr(b)?, b.span)? as i64)
            }
            ExprKind::Unary(UnOp::Neg, x) => match self.expr(x)? {
                DVal::Num(v) => DVal::Num(-v),
                DVal::Arr(a) => DVal::Arr(-a),
                DVal::Coded(c) => DVal::Coded(c.map(|v| -v)),
                _ => {
                    return Err(LoadError::at(
                        span,
                        "only numbers and arrays can be negated",
                    ))
                }
            },
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                binary(*op, a, b, span)?
            }
            ExprKind::Field(base, field) => {
                let ExprKind::Name(block) = &base.kind else {
                    return Err(LoadError::at(span, "expected `data_block.field`"));
                };
                DVal::Arr(self.fields.field(&block.name, &field.name, field.span)?)
            }
            ExprKind::Index(x, items) => {
                let x = arr(self.expr(x)?, span)?;
                DVal::Arr(self.index(x, items, span)?)
            }
            ExprKind::Call { callee, args, .. } => {
                let mut pos = Vec::new();
                let mut named = HashMap::new();
                for a in args {
                    let v = self.expr(&a.value)?;
                    match &a.name {
                        Some(n) => {
                            named.insert(n.name.clone(), v);
                        }
                        None => pos.push(v),
                    }
                }
                self.call(&callee.name, &pos, &named, span)?
            }
            _ => {
                return Err(LoadError::at(
                    span,
                    "this expression cannot be used in a data block",
                ))
            }
        })
    }

    /// Applies index items axis by axis; a single position drops its axis.
    fn index(
        &mut self,
        mut x: ArrayD<f32>,
        items: &[IndexItem],
        span: Span,
    ) -> Result<ArrayD<f32>> {
        let mut axis = 0;
        for item in items {
            let len = x.shape().get(axis).copied().unwrap_or(0) as i64;
            let norm = |v: f64| if v < 0.0 { v as i64 + len } else { v as i64 };
            match item {
                IndexItem::Full(_) => axis += 1,
                IndexItem::At(e) => {
                    let i = norm(num(&self.expr(e)?, e.span)?);
                    if !(0 <= i && i < len) {
                        return Err(LoadError::at(
                            e.span,
                            format!("position {i} is outside 0..{len}"),
                        ));
                    }
                    x = x.index_axis(Axis(axis), i as usize).to_owned();
                }
                IndexItem::Range(a, b, _) => {
                    let mut bound = |e: &Option<Expr>, default: i64| match e {
                        Some(e) => self.expr(e).and_then(|v| num(&v, e.span)).map(norm),
                        None => Ok(default),
                    };
                    let (a, b) = (bound(a, 0)?, bound(b, len)?);
                    if !(0 <= a && a <= b && b <= len) {
                        return Err(LoadError::at(
                            span,
                            format!("rows {a}..{b} are outside 0..{len}"),
                        ));
                    }
                    x = x
                        .slice_axis(Axis(axis), Slice::from(a as usize..b as usize))
                        .to_owned();
                    axis += 1;
                }
            }
        }
        Ok(x)
    }

    fn path(&self, v: Option<&DVal>, span: Span) -> Result<PathBuf> {
        match v {
            Some(DVal::Str(s)) => Ok(self.base.join(s)),
            _ => Err(LoadError::at(span, "expected a file path string")),
        }
    }

    fn call(
        &mut self,
        name: &str,
        pos: &[DVal],
        named: &HashMap<String, DVal>,
        span: Span,
    ) -> Result<DVal> {
        let get = |i: usize, n: &str| pos.get(i).or_else(|| named.get(n));
        let file = |r: std::result::Result<files::Array, DataError>| {
            r.map(to_nd).map_err(|e| LoadError::file(span, e))
        };
        let x = || get(0, "x").cloned().unwrap_or(DVal::Num(0.0));
        let first = || arr(x(), span);
        let math: Option<fn(f32) -> f32> = match name {
            "log" => Some(f32::ln),
            "exp" => Some(f32::exp),
            "sqrt" => Some(f32::sqrt),
            "abs" => Some(f32::abs),
            _ => None,
        };
        match (name, math, x()) {
            ("idx", _, _) => {
                let raw = files::read_idx_raw(&self.path(get(0, "path"), span)?)
                    .map_err(|e| LoadError::file(span, e))?;
                if raw.dtype != files::FileDType::U8 {
                    return Ok(DVal::Arr(to_nd(raw.decode())));
                }
                let codes = ArrayD::from_shape_vec(IxDyn(&raw.shape), raw.bytes)
                    .map_err(|e| LoadError::at(span, e.to_string()))?;
                return Ok(DVal::Coded(Coded::bytes(codes)));
            }
            ("reshape", _, DVal::Coded(c)) => {
                let shape = reshape_dims(c.shape(), get(1, "shape"), span)?;
                let from = c.shape().to_vec();
                return c
                    .reshape(&shape)
                    .map(DVal::Coded)
                    .ok_or_else(|| reshape_err(&from, &shape, span));
            }
            (_, Some(f), DVal::Coded(c)) => return Ok(DVal::Coded(c.map(f))),
            _ => {}
        }
        Ok(DVal::Arr(match name {
            "npy" => file(files::read_npy(&self.path(get(0, "path"), span)?))?,
            "npz" => {
                let key = string(get(1, "key"), span)?;
                file(files::read_npz(&self.path(get(0, "path"), span)?, &key))?
            }
            "csv" => self.csv(get(0, "path"), named, span)?,
            "windows" | "next" => {
                let series = series(get(0, "series"), span)?;
                let size = num(
                    get(1, "size").ok_or_else(|| LoadError::at(span, "missing `size`"))?,
                    span,
                )? as usize;
                if size == 0 || size >= series.len() {
                    let n = series.len();
                    return Err(LoadError::at(
                        span,
                        format!(
                            "a window of {size} needs more than {size} values; the series has {n}"
                        ),
                    ));
                }
                let out = if name == "windows" {
                    files::windows(&series, size)
                } else {
                    files::next_values(&series, size)
                };
                to_nd(out)
            }
            "normalize" => {
                let x = first()?;
                let like = named
                    .get("like")
                    .cloned()
                    .map(|v| arr(v, span))
                    .transpose()?
                    .unwrap_or_else(|| x.clone());
                let values = files::normalize(
                    &x.iter().copied().collect::<Vec<_>>(),
                    &like.iter().copied().collect::<Vec<_>>(),
                );
                ArrayD::from_shape_vec(x.raw_dim(), values)
                    .map_err(|e| LoadError::at(span, e.to_string()))?
            }
            "mean" => {
                let x = first()?;
                ArrayD::from_elem(IxDyn(&[]), x.mean().unwrap_or(0.0))
            }
            "reshape" => {
                let x = first()?;
                let shape = reshape_dims(x.shape(), get(1, "shape"), span)?;
                let from = x.shape().to_vec();
                x.into_shape_with_order(IxDyn(&shape))
                    .map_err(|_| reshape_err(&from, &shape, span))?
            }
            other => {
                if let Some(f) = math {
                    return Ok(DVal::Arr(first()?.mapv(f)));
                }
                return Err(LoadError::at(
                    span,
                    format!("`{other}` cannot be used in a data block"),
                ));
            }
        }))
    }

    fn csv(
        &self,
        path: Option<&DVal>,
        named: &HashMap<String, DVal>,
        span: Span,
    ) -> Result<ArrayD<f32>> {
        let path = self.path(path, span)?;
        let rows = match named.get("rows") {
            Some(DVal::Range(a, b)) if 0 <= *a && a <= b => Some(*a as usize..*b as usize),
            Some(_) => {
                return Err(LoadError::at(
                    span,
                    "`rows` is a range `a..b` with 0 <= a <= b",
                ))
            }
            None => None,
        };
        let (cols, single) = match (named.get("column"), named.get("columns")) {
            (Some(c), _) => (vec![string(Some(c), span)?], true),
            (None, Some(DVal::List(cols))) => (
                cols.iter()
                    .map(|c| string(Some(c), span))
                    .collect::<Result<_>>()?,
                false,
            ),
            _ => {
                return Err(LoadError::at(
                    span,
                    "csv needs `column: \"name\"` or `columns: [\"a\", \"b\"]`",
                ))
            }
        };
        let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
        let mut a = files::read_csv(&path, &refs, rows).map_err(|e| LoadError::file(span, e))?;
        if single {
            a.shape.truncate(1);
        }
        Ok(to_nd(a))
    }
}

/// The shape of `reshape(x, [N, 8, 1])`: the first size may be a symbol
/// (the sample count), which is inferred from `from`.
fn reshape_dims(from: &[usize], dims: Option<&DVal>, span: Span) -> Result<Vec<usize>> {
    let Some(DVal::List(dims)) = dims else {
        return Err(LoadError::at(span, "reshape needs a list of sizes"));
    };
    let mut shape = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        match d {
            DVal::Num(v) if *v >= 0.0 => shape.push(*v as usize),
            _ if i == 0 => shape.push(0),
            _ => {
                return Err(LoadError::at(
                    span,
                    "only the first size of a data reshape may be a symbol",
                ))
            }
        }
    }
    if !matches!(dims.first(), Some(DVal::Num(_))) {
        let known: usize = shape.iter().skip(1).product();
        shape[0] = from.iter().product::<usize>() / known.max(1);
    }
    Ok(shape)
}

fn reshape_err(from: &[usize], shape: &[usize], span: Span) -> LoadError {
    LoadError::at(
        span,
        format!("cannot reshape {from:?} to {shape:?}: the element counts differ"),
    )
}

/// Converts a loaded file array (whose size its loader checked).
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
        DVal::Coded(c) => Ok(c.decode()),
        DVal::Num(n) => Ok(ArrayD::from_elem(IxDyn(&[]), n as f32)),
        _ => Err(LoadError::at(span, "expected an array")),
    }
}

fn series(v: Option<&DVal>, span: Span) -> Result<Vec<f32>> {
    let a = arr(
        v.cloned()
            .ok_or_else(|| LoadError::at(span, "missing the series"))?,
        span,
    )?;
    if a.ndim() != 1 {
        return Err(LoadError::at(
            span,
            format!("a series is one column, got shape {:?}", a.shape()),
        ));
    }
    Ok(a.iter().copied().collect())
}

fn binary(op: BinOp, a: DVal, b: DVal, span: Span) -> Result<DVal> {
    let unsupported = || {
        LoadError::at(
            span,
            "only `+ - * / % ^` and comparisons can be used in a data block",
        )
    };
    if scalar_op(op, 0.0, 0.0).is_none() {
        return Err(unsupported());
    }
    // A number meets an array as an `f32` (see `arr`), in both paths.
    let elementwise =
        |x: f32, y: f32| scalar_op(op, f64::from(x), f64::from(y)).unwrap_or(f64::NAN) as f32;
    match (&a, &b) {
        (DVal::Num(x), DVal::Num(y)) => {
            return scalar_op(op, *x, *y).map(DVal::Num).ok_or_else(unsupported)
        }
        (DVal::Coded(c), DVal::Num(y)) => {
            let y = *y as f32;
            return Ok(DVal::Coded(c.map(|x| elementwise(x, y))));
        }
        (DVal::Num(x), DVal::Coded(c)) => {
            let x = *x as f32;
            return Ok(DVal::Coded(c.map(|y| elementwise(x, y))));
        }
        _ => {}
    }
    let (a, b) = (arr(a, span)?, arr(b, span)?);
    let Some(shape) = crate::lower::broadcast_shape(a.shape(), b.shape()) else {
        let (sa, sb) = (a.shape(), b.shape());
        return Err(LoadError::at(
            span,
            format!("shapes {sa:?} and {sb:?} do not broadcast"),
        ));
    };
    // Both broadcast to `shape`, which `broadcast_shape` just proved.
    let (Some(a), Some(b)) = (a.broadcast(shape.clone()), b.broadcast(shape)) else {
        return Err(LoadError::at(span, "shapes do not broadcast"));
    };
    Ok(DVal::Arr(
        Zip::from(&a)
            .and(&b)
            .map_collect(|&x, &y| elementwise(x, y)),
    ))
}

/// One element of a binary operator; comparisons give 1.0 or 0.0, as in
/// the language. `None` for operators a data block does not evaluate.
fn scalar_op(op: BinOp, x: f64, y: f64) -> Option<f64> {
    let truth = |b: bool| if b { 1.0 } else { 0.0 };
    Some(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Rem => x % y,
        BinOp::Pow => x.powf(y),
        BinOp::Lt => truth(x < y),
        BinOp::Le => truth(x <= y),
        BinOp::Gt => truth(x > y),
        BinOp::Ge => truth(x >= y),
        BinOp::Eq => truth(x == y),
        BinOp::Ne => truth(x != y),
        BinOp::MatMul | BinOp::And | BinOp::Or => return None,
    })
}
