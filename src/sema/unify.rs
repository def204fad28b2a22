//! Matching declared types against actual ones: binding a signature's
//! symbols (`B`, `I`, `...`) at a call site, and instantiating a declared
//! type (the callee's return type, a `let` type) under those bindings.
//!
//! A dimension pattern that is a lone symbol binds it; one whose symbols are
//! bound is evaluated and compared in normal form; one linear in a single
//! unbound symbol (`2*H + 1`) is solved for it. Patterns that cannot be
//! decided yet are deferred and retried once the other arguments have bound
//! more symbols; what still cannot be decided is accepted, never guessed.

use std::collections::HashMap;

use crate::syntax::ast::{DimExpr, DimKind, DimOp, TensorType};

use super::dims::{Dim, DivError};
use super::types::{Rest, Shape};

/// The bindings of one signature.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// Bound symbols; `None` is bound to a size nobody knows.
    pub dims: HashMap<String, Option<Dim>>,
    /// What `...` stands for.
    pub rest: Option<Shape>,
}

/// Why a dimension expression has no value.
#[derive(Clone, Debug, PartialEq)]
pub enum DimErr {
    Unbound(String),
    Div(DivError, DimExpr),
    /// `...` where one size is needed.
    Rest,
}

/// How an actual shape disagrees with a pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Issue {
    /// Wrong number of dimensions: the pattern wants `expected` (at least
    /// that many when it has `...`).
    Rank {
        expected: usize,
        at_least: bool,
    },
    /// Axis `axis` of the actual shape is `found`, the pattern says `expected`.
    Dim {
        axis: usize,
        expected: String,
        found: Dim,
    },
    /// `...` was bound to `bound` earlier and is `found` here.
    Rest {
        bound: Shape,
        found: Shape,
    },
    Div(DivError, DimExpr),
}

/// A marker prefix for unbound symbols while solving; no user symbol can
/// contain it.
const FREE: &str = "'";

impl Env {
    /// The value of a dimension expression under these bindings.
    pub fn eval(&self, d: &DimExpr) -> Result<Option<Dim>, DimErr> {
        self.eval_with(d, false)
    }

    fn eval_with(&self, d: &DimExpr, free: bool) -> Result<Option<Dim>, DimErr> {
        Ok(Some(match &d.kind {
            DimKind::Const(c) => Dim::constant(i64::try_from(*c).unwrap_or(i64::MAX)),
            DimKind::Var(name) => match self.dims.get(name) {
                Some(v) => return Ok(v.clone()),
                None if free => Dim::sym(&format!("{FREE}{name}")),
                None => return Err(DimErr::Unbound(name.clone())),
            },
            DimKind::Rest => return Err(DimErr::Rest),
            DimKind::Bin(op, a, b) => {
                let (Some(a), Some(b)) = (self.eval_with(a, free)?, self.eval_with(b, free)?)
                else {
                    return Ok(None);
                };
                let div = |r: Result<Dim, DivError>| r.map_err(|e| DimErr::Div(e, d.clone()));
                match op {
                    DimOp::Add => a.add(&b),
                    DimOp::Sub => a.sub(&b),
                    DimOp::Mul => a.mul(&b),
                    DimOp::Div => div(a.div(&b))?,
                    DimOp::FloorDiv => div(a.floor_div(&b))?,
                    DimOp::CeilDiv => div(a.ceil_div(&b))?,
                }
            }
        }))
    }

    /// Matches one declared dimension against an actual one. `Ok(false)`
    /// means undecided for now.
    fn unify_dim(
        &mut self,
        pat: &DimExpr,
        actual: &Option<Dim>,
        axis: usize,
    ) -> Result<bool, Issue> {
        let mismatch = |expected: String, found: &Dim| Issue::Dim {
            axis,
            expected,
            found: found.clone(),
        };
        if let DimKind::Var(name) = &pat.kind {
            if !self.dims.contains_key(name) {
                self.dims.insert(name.clone(), actual.clone());
                return Ok(true);
            }
        }
        let Some(actual) = actual else {
            return Ok(true);
        };
        match self.eval(pat) {
            Ok(Some(v)) if v == *actual => Ok(true),
            Ok(Some(v)) => Err(mismatch(v.to_string(), actual)),
            Ok(None) | Err(DimErr::Rest) => Ok(true),
            Err(DimErr::Div(e, d)) => Err(Issue::Div(e, d)),
            Err(DimErr::Unbound(_)) => self.solve(pat, actual, axis),
        }
    }

    /// Solves `a * S + rest = actual` for the one unbound symbol `S`.
    fn solve(&mut self, pat: &DimExpr, actual: &Dim, axis: usize) -> Result<bool, Issue> {
        let Ok(Some(with_free)) = self.eval_with(pat, true) else {
            return Ok(false);
        };
        let mut syms = Vec::new();
        with_free.symbols(&mut syms);
        let free: Vec<&String> = syms.iter().filter(|s| s.starts_with(FREE)).collect();
        let [sym] = free.as_slice() else {
            return Ok(false);
        };
        let Some((a, rest)) = with_free.linear_in(sym) else {
            return Ok(false);
        };
        if a.as_const().is_none() {
            return Ok(false);
        }
        match actual.sub(&rest).div(&a) {
            Ok(v) => {
                self.dims
                    .insert(sym.trim_start_matches(FREE).to_string(), Some(v));
                Ok(true)
            }
            Err(_) => Err(Issue::Dim {
                axis,
                expected: dim_expr_string(pat),
                found: actual.clone(),
            }),
        }
    }

    /// Matches a declared tensor type's dimensions against a shape. Returns
    /// the pairs that could not be decided yet (pattern, actual, axis).
    pub fn unify_shape<'p>(
        &mut self,
        pat: &'p TensorType,
        actual: &Shape,
    ) -> Result<Vec<Deferred<'p>>, Issue> {
        let declared: &[DimExpr] = pat.dims.as_deref().unwrap_or(&[]);
        let (has_rest, tail) = match declared.split_first() {
            Some((first, tail)) if first.kind == DimKind::Rest => (true, tail),
            _ => (false, declared),
        };
        let n = actual.dims.len();
        let rank_issue = || Issue::Rank {
            expected: tail.len(),
            at_least: has_rest,
        };
        match (&actual.rest, has_rest) {
            (None, false) if n != tail.len() => return Err(rank_issue()),
            (None, true) if n < tail.len() => return Err(rank_issue()),
            (Some(Rest::Named(_)), false) => return Err(rank_issue()),
            (Some(Rest::Any), false) if n > tail.len() => return Err(rank_issue()),
            _ => {}
        }
        // Align on the right; pattern dims with no actual partner (unknown
        // leading dims) agree with anything.
        let mut deferred = Vec::new();
        let skip = tail.len().saturating_sub(n);
        for (i, p) in tail.iter().enumerate() {
            let axis = (n + i).checked_sub(tail.len());
            let actual_dim = axis.and_then(|a| actual.dims.get(a)).cloned().flatten();
            let axis = axis.unwrap_or(0);
            if i < skip {
                self.unify_dim(p, &None, axis)?;
            } else if !self.unify_dim(p, &actual_dim, axis)? {
                deferred.push(Deferred {
                    pat: p,
                    actual: actual_dim,
                    axis,
                });
            }
        }
        if has_rest {
            let prefix = if skip > 0 {
                Shape::unknown()
            } else {
                Shape {
                    rest: actual.rest.clone(),
                    dims: actual.dims.get(..n - tail.len()).unwrap_or(&[]).to_vec(),
                }
            };
            self.bind_rest(prefix)?;
        }
        Ok(deferred)
    }

    fn bind_rest(&mut self, prefix: Shape) -> Result<(), Issue> {
        match &self.rest {
            None => {
                self.rest = Some(prefix);
                Ok(())
            }
            Some(bound) if shapes_agree(bound, &prefix) => Ok(()),
            Some(bound) => Err(Issue::Rest {
                bound: bound.clone(),
                found: prefix,
            }),
        }
    }

    /// Retries deferred dimensions until none makes progress.
    pub fn settle(&mut self, mut pending: Vec<Deferred<'_>>) -> Result<(), Issue> {
        loop {
            let before = pending.len();
            let mut still = Vec::new();
            for d in pending {
                if !self.unify_dim(d.pat, &d.actual, d.axis)? {
                    still.push(d);
                }
            }
            if still.len() == before || still.is_empty() {
                return Ok(());
            }
            pending = still;
        }
    }

    /// A declared tensor type's shape under these bindings: unbound symbols
    /// are unknown sizes.
    pub fn instantiate(&self, t: &TensorType) -> Result<Shape, DimErr> {
        let declared: &[DimExpr] = t.dims.as_deref().unwrap_or(&[]);
        let mut shape = Shape::default();
        for (i, d) in declared.iter().enumerate() {
            match (&d.kind, i) {
                (DimKind::Rest, 0) => {
                    let prefix = self.rest.clone().unwrap_or_else(Shape::unknown);
                    shape.rest = prefix.rest;
                    shape.dims.extend(prefix.dims);
                }
                _ => match self.eval(d) {
                    Ok(v) => shape.dims.push(v),
                    Err(DimErr::Unbound(_)) | Err(DimErr::Rest) => shape.dims.push(None),
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(shape)
    }
}

/// A dimension pattern left for later.
pub struct Deferred<'p> {
    pat: &'p DimExpr,
    actual: Option<Dim>,
    axis: usize,
}

/// Equal shapes, where unknown sizes and unknown groups agree with anything.
pub fn shapes_agree(a: &Shape, b: &Shape) -> bool {
    if a.rest == Some(Rest::Any) || b.rest == Some(Rest::Any) {
        return true;
    }
    a.rest == b.rest
        && a.dims.len() == b.dims.len()
        && a.dims.iter().zip(&b.dims).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        })
}

/// A dimension expression as written: `floor((H - K) / S) + 1`.
pub fn dim_expr_string(d: &DimExpr) -> String {
    fn go(d: &DimExpr, parent: u8) -> String {
        let (s, prec) = match &d.kind {
            DimKind::Const(c) => (c.to_string(), 3),
            DimKind::Var(v) => (v.clone(), 3),
            DimKind::Rest => ("...".to_string(), 3),
            DimKind::Bin(op, a, b) => match op {
                DimOp::Add => (format!("{} + {}", go(a, 1), go(b, 2)), 1),
                DimOp::Sub => (format!("{} - {}", go(a, 1), go(b, 2)), 1),
                DimOp::Mul => (format!("{}*{}", go(a, 2), go(b, 3)), 2),
                DimOp::Div => (format!("{} / {}", go(a, 2), go(b, 3)), 2),
                DimOp::FloorDiv => (format!("floor({} / {})", go(a, 2), go(b, 3)), 3),
                DimOp::CeilDiv => (format!("ceil({} / {})", go(a, 2), go(b, 3)), 3),
            },
        };
        if prec < parent {
            format!("({s})")
        } else {
            s
        }
    }
    go(d, 0)
}

/// A declared tensor type as written: `f32[B, 10]`.
pub fn tensor_type_string(t: &TensorType) -> String {
    let dtype = super::types::dtype_name(t.dtype);
    match &t.dims {
        None => dtype.to_string(),
        Some(ds) => {
            let parts: Vec<String> = ds.iter().map(dim_expr_string).collect();
            format!("{dtype}[{}]", parts.join(", "))
        }
    }
}
