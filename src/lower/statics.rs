//! Values known while lowering: arithmetic on static numbers, dimension
//! expressions with their symbols bound, and NumPy broadcasting of shapes.

use std::collections::HashMap;

use crate::syntax::ast::{BinOp, DimExpr, DimKind, DimOp, TensorType};

use super::value::Val;
use super::{LowerError, Result};

/// Arithmetic on two static numbers or bools, done now rather than in the
/// graph (dimension sizes, hyper-parameters).
pub(super) fn scalar_binary(op: BinOp, a: &Val, b: &Val) -> Option<Val> {
    use Val::{Bool, Float, Int};
    Some(match (op, a, b) {
        (BinOp::And, Bool(x), Bool(y)) => Bool(*x && *y),
        (BinOp::Or, Bool(x), Bool(y)) => Bool(*x || *y),
        (BinOp::Eq, Bool(x), Bool(y)) => Bool(x == y),
        (BinOp::Ne, Bool(x), Bool(y)) => Bool(x != y),
        (BinOp::Eq, Val::Str(x), Val::Str(y)) => Bool(x == y),
        (BinOp::Ne, Val::Str(x), Val::Str(y)) => Bool(x != y),
        (_, Int(x), Int(y)) => match op {
            BinOp::Add => Int(x.checked_add(*y)?),
            BinOp::Sub => Int(x.checked_sub(*y)?),
            BinOp::Mul => Int(x.checked_mul(*y)?),
            BinOp::Div if *y != 0 && x % y == 0 => Int(x / y),
            BinOp::Rem if *y != 0 => Int(x.rem_euclid(*y)),
            BinOp::Pow if *y >= 0 => Int(x.checked_pow(u32::try_from(*y).ok()?)?),
            _ => return scalar_float(op, *x as f64, *y as f64),
        },
        (_, Int(_) | Float(_), Int(_) | Float(_)) => {
            let x = if let Int(v) = a {
                *v as f64
            } else if let Float(v) = a {
                *v
            } else {
                0.0
            };
            let y = if let Int(v) = b {
                *v as f64
            } else if let Float(v) = b {
                *v
            } else {
                0.0
            };
            return scalar_float(op, x, y);
        }
        _ => return None,
    })
}

fn scalar_float(op: BinOp, x: f64, y: f64) -> Option<Val> {
    use Val::{Bool, Float};
    Some(match op {
        BinOp::Add => Float(x + y),
        BinOp::Sub => Float(x - y),
        BinOp::Mul => Float(x * y),
        BinOp::Div => Float(x / y),
        BinOp::Rem => Float(x - y * (x / y).floor()),
        BinOp::Pow => Float(x.powf(y)),
        BinOp::Lt => Bool(x < y),
        BinOp::Le => Bool(x <= y),
        BinOp::Gt => Bool(x > y),
        BinOp::Ge => Bool(x >= y),
        BinOp::Eq => Bool(x == y),
        BinOp::Ne => Bool(x != y),
        BinOp::MatMul | BinOp::And | BinOp::Or => return None,
    })
}

/// NumPy broadcasting: align on the right; each pair equal or one is 1.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let x = if i < n - a.len() {
            1
        } else {
            a[i - (n - a.len())]
        };
        let y = if i < n - b.len() {
            1
        } else {
            b[i - (n - b.len())]
        };
        out[i] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Binds a declared type's symbols to a concrete shape (already checked).
pub(super) fn unify(t: &TensorType, shape: &[usize], dims: &mut HashMap<String, i64>) {
    let declared = t.dims.as_deref().unwrap_or(&[]);
    let rest = declared.iter().position(|d| d.kind == DimKind::Rest);
    let matched: Vec<(&DimExpr, usize)> = match rest {
        None => declared.iter().zip(shape.iter().copied()).collect(),
        Some(r) => {
            let tail = declared.len() - r - 1;
            let head = declared[..r].iter().zip(shape.iter().copied());
            let tail_dims = shape.len().saturating_sub(tail);
            head.chain(
                declared[r + 1..]
                    .iter()
                    .zip(shape[tail_dims..].iter().copied()),
            )
            .collect()
        }
    };
    for (d, size) in matched {
        if let DimKind::Var(name) = &d.kind {
            dims.entry(name.clone()).or_insert(size as i64);
        }
    }
}

/// Evaluates a dimension expression with every symbol bound.
pub fn eval_dim(d: &DimExpr, dims: &HashMap<String, i64>) -> Result<i64> {
    match &d.kind {
        DimKind::Const(v) => Ok(*v as i64),
        DimKind::Var(name) => dims
            .get(name)
            .copied()
            .ok_or_else(|| LowerError::at(d.span, format!("dimension `{name}` is not known here"))),
        DimKind::Rest => Err(LowerError::at(d.span, "`...` has no single size")),
        DimKind::Bin(op, a, b) => {
            let (a, b) = (eval_dim(a, dims)?, eval_dim(b, dims)?);
            let zero = || LowerError::at(d.span, "division by zero in a dimension");
            Ok(match op {
                DimOp::Add => a + b,
                DimOp::Sub => a - b,
                DimOp::Mul => a * b,
                DimOp::Div => a.checked_div(b).ok_or_else(zero)?,
                DimOp::FloorDiv => a.checked_div_euclid(b).ok_or_else(zero)?,
                DimOp::CeilDiv => -((-a).checked_div_euclid(b).ok_or_else(zero)?),
            })
        }
    }
}
