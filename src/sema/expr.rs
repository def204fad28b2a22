//! Expressions: names, operators, indexing, `if` and `scan`, each given a
//! type with a symbolic shape.

use crate::syntax::print::op_text;
use std::collections::HashMap;

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{BinOp, Block, DType, Expr, ExprKind, Ident, IndexItem, Scan, UnOp};

use super::dims::{Dim, DivError};
use super::names::{suggest, INITIALIZERS};
use super::shapes;
use super::summary::Row;
use super::types::{Rest, Shape, Ty};
use super::unify::{shapes_agree, Env};
use super::Checker;

/// Where an expression is being checked: what it may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    Layer,
    Fn,
    Model,
    Optimizer,
    Data,
    Train,
}

/// The variables and dimension bindings in scope.
pub struct Scope {
    pub ctx: Ctx,
    pub vars: HashMap<String, Ty>,
    pub env: Env,
    /// States declared so far (the only names `update` accepts).
    pub states: Vec<String>,
    /// Parameters and layer states declared or called so far.
    pub params: Option<Dim>,
    pub state_count: Option<Dim>,
    /// A model's body records each call for the summary.
    pub rows: Option<Vec<Row>>,
    /// Divisions of symbolic sizes, which each call must make exact.
    pub divisions: Vec<Division>,
}

/// `num / den` over a definition's symbols, written at `span` in its body.
/// The body is checked once with its symbols abstract, so whether the
/// division is exact is known only at a call, once the symbols are bound.
#[derive(Clone, Debug)]
pub struct Division {
    pub num: Dim,
    pub den: Dim,
    pub span: Span,
}

impl Scope {
    pub fn new(ctx: Ctx) -> Scope {
        Scope {
            ctx,
            vars: HashMap::new(),
            env: Env::default(),
            states: Vec::new(),
            params: Some(Dim::constant(0)),
            state_count: Some(Dim::constant(0)),
            rows: (ctx == Ctx::Model).then(Vec::new),
            divisions: Vec::new(),
        }
    }

    /// Adds a contribution to a count; unknown stays unknown.
    pub fn count(total: &mut Option<Dim>, add: Option<Dim>) {
        *total = match (total.take(), add) {
            (Some(t), Some(a)) => Some(t.add(&a)),
            _ => None,
        };
    }
}

/// Whether two types are the same, where poison and unknown sizes agree.
pub fn ty_agree(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Error, _) | (_, Ty::Error) => true,
        (Ty::Tensor(d1, s1), Ty::Tensor(d2, s2)) => d1 == d2 && shapes_agree(s1, s2),
        (Ty::Tuple(x), Ty::Tuple(y)) | (Ty::List(x), Ty::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| ty_agree(p, q))
        }
        (Ty::Int(_) | Ty::Float(_), Ty::Int(_) | Ty::Float(_)) => true,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

impl Checker<'_> {
    pub fn expr(&mut self, e: &Expr, sc: &mut Scope) -> Ty {
        match &e.kind {
            ExprKind::Int(v) => Ty::Int(Some(Dim::constant(*v))),
            ExprKind::Float(v) => Ty::Float(Some(*v)),
            ExprKind::Str(s) => Ty::Str(Some(s.clone())),
            ExprKind::Bool(b) => Ty::Bool(Some(*b)),
            ExprKind::Name(id) => self.name(id, sc),
            ExprKind::Unary(op, x) => {
                let t = self.expr(x, sc);
                self.unary(*op, t, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let ta = self.expr(a, sc);
                let tb = self.expr(b, sc);
                if let (BinOp::Div, Ty::Int(Some(x)), Ty::Int(Some(y))) = (op, &ta, &tb) {
                    if x.as_const().is_none() || y.as_const().is_none() {
                        sc.divisions.push(Division {
                            num: x.clone(),
                            den: y.clone(),
                            span: e.span,
                        });
                    }
                }
                self.binary(*op, (ta, a.span), (tb, b.span), e.span)
            }
            ExprKind::Call { callee, args, .. } => self.call(callee, args, e.span, sc),
            ExprKind::Index(x, items) => {
                let t = self.expr(x, sc);
                self.index(t, x.span, items, e.span, sc)
            }
            ExprKind::Field(x, field) => self.field(x, field, sc),
            ExprKind::Tuple(xs) => Ty::Tuple(xs.iter().map(|x| self.expr(x, sc)).collect()),
            ExprKind::List(xs) => Ty::List(xs.iter().map(|x| self.expr(x, sc)).collect()),
            ExprKind::Range(a, b) => {
                let ta = self.expr(a, sc);
                let tb = self.expr(b, sc);
                let konst = |t: &Ty| match t {
                    Ty::Int(Some(d)) => d.as_const(),
                    _ => None,
                };
                for (t, x) in [(&ta, a), (&tb, b)] {
                    if !matches!(t, Ty::Int(_) | Ty::Error) {
                        self.report(kind_error("a range's ends must be ints", t, x.span));
                    }
                }
                Ty::Range(konst(&ta).zip(konst(&tb)))
            }
            ExprKind::If(c, then, other) => self.if_(c, then, other, sc),
            ExprKind::Scan(s) => self.scan(s, e.span, sc),
        }
    }

    fn name(&mut self, id: &Ident, sc: &Scope) -> Ty {
        let n = id.name.as_str();
        if let Some(t) = sc.vars.get(n) {
            return t.clone();
        }
        if let Some(d) = sc.env.dims.get(n) {
            return Ty::Int(d.clone());
        }
        match n {
            "training" => return Ty::Bool(None),
            "f32" => return Ty::DType(DType::F32),
            "i32" => return Ty::DType(DType::I32),
            "u8" => return Ty::DType(DType::U8),
            _ => {}
        }
        if self.g.defs.contains_key(n)
            || self.g.optimizers.contains_key(n)
            || self.g.data.contains_key(n)
            || super::prims::is_primitive(n)
            || INITIALIZERS.contains(&n)
        {
            return Ty::Func(n.to_string());
        }
        let mut candidates: Vec<&str> = sc.vars.keys().map(String::as_str).collect();
        candidates.extend(sc.env.dims.keys().map(String::as_str));
        candidates.extend(self.g.defs.keys().copied());
        candidates.extend(super::prims::PRIMITIVES.iter().copied());
        candidates.extend(INITIALIZERS.iter().copied());
        let d = Diagnostic::error("name::unknown", format!("unknown name `{n}`"), id.span)
            .with_label("not defined here");
        let d = match suggest(n, candidates) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help("define it with `let`, or add it as a parameter"),
        };
        self.report(d)
    }

    fn unary(&mut self, op: UnOp, t: Ty, span: Span) -> Ty {
        match (op, t) {
            (_, Ty::Error) => Ty::Error,
            (UnOp::Neg, Ty::Int(d)) => Ty::Int(d.map(|d| d.neg())),
            (UnOp::Neg, t @ (Ty::Float(_) | Ty::Tensor(..))) => match t {
                Ty::Float(v) => Ty::Float(v.map(|v| -v)),
                t => t,
            },
            (UnOp::Not, Ty::Bool(b)) => Ty::Bool(b.map(|b| !b)),
            (UnOp::Not, t @ Ty::Tensor(..)) => t,
            (op, t) => {
                let what = if op == UnOp::Neg {
                    "`-` needs a number or a tensor"
                } else {
                    "`!` needs a bool or a tensor"
                };
                self.report(kind_error(what, &t, span))
            }
        }
    }

    pub fn binary(&mut self, op: BinOp, a: (Ty, Span), b: (Ty, Span), span: Span) -> Ty {
        let ((ta, sa), (tb, sb)) = (a, b);
        if ta == Ty::Error || tb == Ty::Error {
            return Ty::Error;
        }
        if let Some(t) = static_binary(op, &ta, &tb) {
            return t;
        }
        let (Some((da, shape_a)), Some((db, shape_b))) = (ta.as_tensor(), tb.as_tensor()) else {
            let bad = if ta.as_tensor().is_none() {
                (&ta, sa)
            } else {
                (&tb, sb)
            };
            return self.report(kind_error(
                &format!("`{}` needs numbers or tensors", op_text(op)),
                bad.0,
                bad.1,
            ));
        };
        // Lowering makes numbers `f32` constants and promotes to `f32`.
        let dtype = if da == DType::F32 || db == DType::F32 || ta.is_number() || tb.is_number() {
            DType::F32
        } else {
            da
        };
        if op == BinOp::MatMul {
            return self.matmul(&shape_a, &shape_b, (sa, sb), span, dtype);
        }
        let dtype = match op {
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => DType::F32,
            _ => dtype,
        };
        match shapes::broadcast(&shape_a, &shape_b) {
            Ok(s) => Ty::Tensor(dtype, s),
            Err(e) => self.report(
                Diagnostic::error(
                    "shape::broadcast",
                    format!("shapes {shape_a} and {shape_b} do not broadcast"),
                    span,
                )
                .with_label(format!("`{}` of {shape_a} and {shape_b}", op_text(op)))
                .with_related(sa, format!("this is {ta}, axis {} is {}", e.a_axis, e.a_dim))
                .with_related(sb, format!("this is {tb}, axis {} is {}", e.b_axis, e.b_dim))
                .with_help(format!(
                    "sizes are matched from the right and must be equal or 1; {} and {} are neither",
                    e.a_dim, e.b_dim
                )),
            ),
        }
    }

    fn matmul(
        &mut self,
        a: &Shape,
        b: &Shape,
        spans: (Span, Span),
        span: Span,
        dtype: DType,
    ) -> Ty {
        match shapes::matmul(a, b) {
            Ok(s) => Ty::Tensor(dtype, s),
            Err(e) => {
                let show = |d: &Option<Dim>| d.as_ref().map_or("?".to_string(), Dim::to_string);
                let (message, help) = match e {
                    shapes::MatmulErr::Inner(k1, k2) => (
                        format!("matrix product of {a} and {b}: inner sizes {} and {} differ", show(&k1), show(&k2)),
                        "the last axis of the left operand must equal the first axis of a matrix on the right".to_string(),
                    ),
                    shapes::MatmulErr::Batch => (
                        format!("batched matrix product of {a} and {b}: leading dimensions differ"),
                        "both operands of a batched `@` need the same leading dimensions".to_string(),
                    ),
                    shapes::MatmulErr::Rank => (
                        format!("no matrix product of {a} and {b}"),
                        "`@` takes [..., M, K] @ [K, N], or two operands of equal rank".to_string(),
                    ),
                };
                self.report(
                    Diagnostic::error("shape::mismatch", message, span)
                        .with_label("in this `@`")
                        .with_related(spans.0, format!("left is {a}"))
                        .with_related(spans.1, format!("right is {b}"))
                        .with_help(help),
                )
            }
        }
    }

    fn field(&mut self, x: &Expr, field: &Ident, sc: &mut Scope) -> Ty {
        let ExprKind::Name(set) = &x.kind else {
            let t = self.expr(x, sc);
            if t == Ty::Error {
                return t;
            }
            return self.report(kind_error("only data sets have fields", &t, x.span));
        };
        let Some(name) = self
            .g
            .data
            .get_key_value(set.name.as_str())
            .map(|(k, _)| *k)
        else {
            let known: Vec<&str> = self.g.data.keys().copied().collect();
            return self.report(super::names::unknown(
                "data set", &set.name, set.span, &known,
            ));
        };
        let info = self.data_info(name);
        if let Some((_, t)) = info.fields.iter().find(|(n, _)| *n == field.name) {
            return t.clone();
        }
        let known: Vec<&str> = info.fields.iter().map(|(n, _)| n.as_str()).collect();
        let d = super::names::unknown(
            &format!("field of `{}`", set.name),
            &field.name,
            field.span,
            &known,
        );
        self.report(d)
    }

    /// A block in the current scope; its `let`s do not outlive it.
    pub fn block(&mut self, b: &Block, sc: &mut Scope) -> Ty {
        let saved = sc.vars.clone();
        for s in &b.stmts {
            self.stmt(s, sc);
        }
        let t = self.expr(&b.result, sc);
        sc.vars = saved;
        t
    }

    fn if_(&mut self, c: &Expr, then: &Block, other: &Block, sc: &mut Scope) -> Ty {
        let tc = self.expr(c, sc);
        if !matches!(tc, Ty::Bool(_) | Ty::Error) {
            self.report(
                kind_error("the condition of `if` must be a bool", &tc, c.span)
                    .with_help("conditions are static: `training`, or a comparison of ints"),
            );
        }
        let ta = self.block(then, sc);
        let tb = self.block(other, sc);
        match tc {
            Ty::Bool(Some(true)) => return ta,
            Ty::Bool(Some(false)) => return tb,
            _ => {}
        }
        if ty_agree(&ta, &tb) {
            return merge(ta, tb);
        }
        self.report(
            Diagnostic::error(
                "shape::mismatch",
                format!("the branches of `if` differ: {ta} and {tb}"),
                other.result.span,
            )
            .with_label(format!("this is {tb}"))
            .with_related(then.result.span, format!("this is {ta}"))
            .with_help("both branches must have the same type"),
        )
    }

    fn scan(&mut self, s: &Scan, span: Span, sc: &mut Scope) -> Ty {
        let seq = self.expr(&s.seq, sc);
        let axis_ty = self.expr(&s.axis, sc);
        let inits: Vec<Ty> = s.carries.iter().map(|(_, e)| self.expr(e, sc)).collect();
        let (slice, steps, axis) = self.scan_slice(&seq, &axis_ty, s);
        let saved = sc.vars.clone();
        sc.vars.insert(s.var.name.clone(), slice);
        for ((name, _), t) in s.carries.iter().zip(&inits) {
            sc.vars.insert(name.name.clone(), t.clone());
        }
        let out = self.block(&s.body, sc);
        sc.vars = saved;
        let outs = match (&out, inits.len()) {
            (Ty::Tuple(ts), n) if n > 1 && ts.len() == n => ts.clone(),
            (Ty::Error, n) => vec![Ty::Error; n],
            (t, 1) => vec![t.clone()],
            (t, n) => {
                self.report(
                    Diagnostic::error(
                        "shape::mismatch",
                        format!("the body of `scan` returns {t}, not {n} carries"),
                        s.body.result.span,
                    )
                    .with_label(format!("should be a tuple of {n}"))
                    .with_help(
                        "the body ends with the new value of every carry, in order: `(h2, c2)`",
                    ),
                );
                vec![Ty::Error; n]
            }
        };
        for (((name, _), init), new) in s.carries.iter().zip(&inits).zip(&outs) {
            if !ty_agree(init, new) {
                self.report(
                    Diagnostic::error(
                        "shape::mismatch",
                        format!(
                            "carry `{}` starts as {init} but the body makes it {new}",
                            name.name
                        ),
                        s.body.result.span,
                    )
                    .with_label(format!("`{}` becomes {new}", name.name))
                    .with_related(name.span, format!("starts as {init}"))
                    .with_help("a carry keeps one type through every step"),
                );
            }
        }
        let finals: Vec<Ty> = if s.collect {
            inits.iter().map(|t| stacked(t, axis, &steps)).collect()
        } else {
            inits
        };
        let _ = span;
        match <[Ty; 1]>::try_from(finals) {
            Ok([one]) => one,
            Err(many) => Ty::Tuple(many),
        }
    }

    /// The type of one slice of a scanned sequence, its length and the axis.
    fn scan_slice(&mut self, seq: &Ty, axis: &Ty, s: &Scan) -> (Ty, Option<Dim>, Option<usize>) {
        let Ty::Tensor(dtype, shape) = seq else {
            if *seq != Ty::Error {
                self.report(kind_error("`scan` runs over a tensor", seq, s.seq.span));
            }
            return (Ty::Error, None, None);
        };
        let k = match axis {
            Ty::Int(Some(d)) => d.as_const(),
            Ty::Error => return (Ty::Error, None, None),
            _ => None,
        };
        let Some(k) = k else {
            self.report(kind_error(
                "the axis of `scan` must be a constant int",
                axis,
                s.axis.span,
            ));
            return (Ty::Error, None, None);
        };
        let Some(rank) = shape.rank() else {
            return (Ty::Tensor(*dtype, Shape::unknown()), None, None);
        };
        let Some(a) = shapes::axis(k, rank) else {
            self.report(
                Diagnostic::error(
                    "shape::axis",
                    format!("axis {k} is out of range for {seq}"),
                    s.axis.span,
                )
                .with_label(format!("rank is {rank}")),
            );
            return (Ty::Error, None, None);
        };
        let mut dims = shape.dims.clone();
        let steps = dims.remove(a);
        (
            Ty::Tensor(*dtype, Shape { rest: None, dims }),
            steps,
            Some(a),
        )
    }

    pub fn index(
        &mut self,
        t: Ty,
        xspan: Span,
        items: &[IndexItem],
        span: Span,
        sc: &mut Scope,
    ) -> Ty {
        let positions: Vec<(Ty, Span)> = items
            .iter()
            .flat_map(|i| match i {
                IndexItem::Full(_) => vec![],
                IndexItem::At(e) => vec![(e, e.span)],
                IndexItem::Range(a, b, _) => {
                    a.iter().chain(b.iter()).map(|e| (e, e.span)).collect()
                }
            })
            .map(|(e, s)| (self.expr(e, sc), s))
            .collect();
        for (p, s) in &positions {
            if !matches!(p, Ty::Int(_) | Ty::Error) {
                self.report(kind_error("positions must be ints", p, *s));
                return Ty::Error;
            }
        }
        let Ty::Tensor(dtype, shape) = &t else {
            if t != Ty::Error {
                self.report(kind_error("only tensors can be indexed", &t, xspan));
            }
            return Ty::Error;
        };
        if shape.rest.is_some() {
            return Ty::Tensor(*dtype, Shape::unknown());
        }
        if items.len() > shape.dims.len() {
            return self.report(
                Diagnostic::error(
                    "shape::rank",
                    format!("{} positions for {t}", items.len()),
                    span,
                )
                .with_label(format!("rank is {}", shape.dims.len()))
                .with_related(xspan, format!("this is {t}")),
            );
        }
        let mut pos = positions.into_iter().map(|(p, _)| p);
        let mut dims = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let len = shape.dims.get(i).cloned().flatten();
            match item {
                IndexItem::Full(_) => dims.push(len),
                IndexItem::At(e) => {
                    let p = pos.next();
                    self.check_position(p.as_ref(), &len, e.span, &t, i, false);
                }
                IndexItem::Range(a, b, s) => {
                    let pa = if a.is_some() {
                        pos.next()
                    } else {
                        Some(Ty::Int(Some(Dim::constant(0))))
                    };
                    let pb = match b {
                        Some(_) => pos.next(),
                        None => Some(Ty::Int(len.clone())),
                    };
                    let ok_a = self.check_position(pa.as_ref(), &len, *s, &t, i, true);
                    let ok_b = self.check_position(pb.as_ref(), &len, *s, &t, i, true);
                    dims.push(ok_a.zip(ok_b).map(|(x, y)| y.sub(&x)));
                }
            }
        }
        dims.extend(shape.dims.iter().skip(items.len()).cloned());
        Ty::Tensor(*dtype, Shape { rest: None, dims })
    }

    /// A position on an axis of length `len`, normalised (negative counts
    /// from the end); reports one that is provably out of range.
    fn check_position(
        &mut self,
        p: Option<&Ty>,
        len: &Option<Dim>,
        span: Span,
        t: &Ty,
        axis: usize,
        end_ok: bool,
    ) -> Option<Dim> {
        let Some(Ty::Int(Some(p))) = p else {
            return None;
        };
        let norm = match (p.as_const(), len) {
            (Some(c), Some(l)) if c < 0 => l.add(&Dim::constant(c)),
            (Some(c), None) if c < 0 => return None,
            _ => p.clone(),
        };
        let (Some(i), Some(l)) = (norm.as_const(), len.as_ref().and_then(Dim::as_const)) else {
            return Some(norm);
        };
        let limit = if end_ok { l } else { l - 1 };
        if i < 0 || i > limit {
            self.report(
                Diagnostic::error(
                    "shape::index",
                    format!("position {} is out of range for axis {axis} of {t}", p),
                    span,
                )
                .with_label(format!("axis {axis} has length {l}"))
                .with_help(format!("positions go from {} to {}", -l, l - 1)),
            );
            return None;
        }
        Some(norm)
    }
}

/// One type for two agreeing ones: static values that differ are unknown.
fn merge(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Error, t) | (t, Ty::Error) => t,
        (Ty::Int(x), Ty::Int(y)) => Ty::Int(if x == y { x } else { None }),
        (Ty::Bool(x), Ty::Bool(y)) => Ty::Bool(if x == y { x } else { None }),
        (Ty::Float(_), Ty::Int(_) | Ty::Float(_)) | (Ty::Int(_), Ty::Float(_)) => Ty::Float(None),
        (Ty::Tensor(d, s1), Ty::Tensor(_, s2)) => {
            let dims = if s1.rest == s2.rest && s1.dims.len() == s2.dims.len() {
                s1.dims
                    .iter()
                    .zip(&s2.dims)
                    .map(|(x, y)| if x == y { x.clone() } else { None })
                    .collect()
            } else {
                return Ty::Tensor(d, Shape::unknown());
            };
            Ty::Tensor(
                d,
                Shape {
                    rest: s1.rest,
                    dims,
                },
            )
        }
        (a, _) => a,
    }
}

/// A carry's type with the steps stacked in at `axis`.
fn stacked(t: &Ty, axis: Option<usize>, steps: &Option<Dim>) -> Ty {
    match (t, axis) {
        (Ty::Tensor(d, s), Some(a)) if s.rest.is_none() && a <= s.dims.len() => {
            let mut dims = s.dims.clone();
            dims.insert(a, steps.clone());
            Ty::Tensor(*d, Shape { rest: None, dims })
        }
        (Ty::Tensor(d, _), _) => Ty::Tensor(
            *d,
            Shape {
                rest: Some(Rest::Any),
                dims: vec![],
            },
        ),
        (t, _) => t.clone(),
    }
}

/// Arithmetic on static values: ints (dimension sizes), floats, bools and
/// strings (`padding == "same"`), with the value when both are known.
fn static_binary(op: BinOp, a: &Ty, b: &Ty) -> Option<Ty> {
    use BinOp::*;
    let cmp = matches!(op, Lt | Le | Gt | Ge | Eq | Ne);
    Some(match (a, b) {
        (Ty::Bool(x), Ty::Bool(y)) if matches!(op, And | Or | Eq | Ne) => {
            Ty::Bool(x.zip(*y).map(|(x, y)| match op {
                And => x && y,
                Or => x || y,
                Eq => x == y,
                _ => x != y,
            }))
        }
        (Ty::Str(x), Ty::Str(y)) if matches!(op, Eq | Ne) => Ty::Bool(
            x.as_ref()
                .zip(y.as_ref())
                .map(|(x, y)| (x == y) == (op == Eq)),
        ),
        (Ty::Int(x), Ty::Int(y)) => match op {
            _ if cmp => {
                let konst = |d: &Option<Dim>| d.as_ref().and_then(Dim::as_const);
                Ty::Bool(konst(x).zip(konst(y)).map(|(x, y)| match op {
                    Lt => x < y,
                    Le => x <= y,
                    Gt => x > y,
                    Ge => x >= y,
                    Eq => x == y,
                    _ => x != y,
                }))
            }
            Add | Sub | Mul => Ty::Int(x.as_ref().zip(y.as_ref()).map(|(x, y)| match op {
                Add => x.add(y),
                Sub => x.sub(y),
                _ => x.mul(y),
            })),
            Div => match x.as_ref().zip(y.as_ref()).map(|(x, y)| x.div(y)) {
                Some(Ok(q)) => Ty::Int(Some(q)),
                Some(Err(DivError::Remainder(a, b))) => Ty::Float(Some(a as f64 / b as f64)),
                _ => Ty::Int(None),
            },
            Rem | Pow => Ty::Int(None),
            _ => return None,
        },
        (Ty::Int(_) | Ty::Float(_), Ty::Int(_) | Ty::Float(_)) => match op {
            _ if cmp => Ty::Bool(None),
            Add | Sub | Mul | Div | Rem | Pow => Ty::Float(None),
            _ => return None,
        },
        _ => return None,
    })
}

/// `type::kind`: a value of the wrong kind.
pub fn kind_error(what: &str, found: &Ty, span: Span) -> Diagnostic {
    Diagnostic::error(
        "type::kind",
        format!("{what}, found {}", found.describe()),
        span,
    )
    .with_label(format!("this is {}", found.describe()))
}
