//! The primitives (docs/language.md, "Primitives"): their arguments, with
//! the names and defaults of `lower/builtins.rs`, and their shape rules.

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{Arg, DType, Ident};

use super::calls::Formal;
use super::dims::Dim;
use super::expr::kind_error;
use super::shapes;
use super::types::{Rest, Shape, Ty};
use super::Checker;

/// Every primitive's name.
pub const PRIMITIVES: &[&str] = &[
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "sin",
    "cos",
    "abs",
    "sign",
    "floor",
    "max",
    "min",
    "where",
    "sum",
    "mean",
    "max_over",
    "min_over",
    "argmax",
    "reshape",
    "transpose",
    "concat",
    "stack",
    "broadcast",
    "one_hot",
    "gather",
    "conv2d_raw",
    "maxpool2d_raw",
    "avgpool2d_raw",
    "bernoulli",
    "normal_like",
    "arange",
    "zeros",
    "ones",
    "full",
    "cast",
    "stop_gradient",
];

const UNARY: &[&str] = &[
    "exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "abs", "sign", "floor",
];

pub fn is_primitive(name: &str) -> bool {
    PRIMITIVES.contains(&name)
}

/// `(name, required)` of each argument.
fn formals(name: &str) -> &'static [(&'static str, bool)] {
    match name {
        n if UNARY.contains(&n) => &[("x", true)],
        "max" | "min" => &[("a", true), ("b", true)],
        "where" => &[("cond", true), ("a", true), ("b", true)],
        "sum" | "mean" | "max_over" | "min_over" => {
            &[("x", true), ("axis", false), ("keep", false)]
        }
        "argmax" => &[("x", true), ("axis", false)],
        "reshape" | "broadcast" => &[("x", true), ("shape", true)],
        "transpose" => &[("x", true), ("perm", true)],
        "concat" | "stack" => &[("parts", true), ("axis", false)],
        "one_hot" => &[("labels", true), ("classes", true)],
        "gather" => &[("table", true), ("ids", true)],
        "conv2d_raw" => &[("x", true), ("w", true), ("stride", false), ("pad", false)],
        "maxpool2d_raw" | "avgpool2d_raw" => &[("x", true), ("size", true), ("stride", false)],
        "bernoulli" => &[("x", true), ("p", true)],
        "normal_like" | "stop_gradient" => &[("x", true)],
        "arange" => &[("n", true)],
        "cast" => &[("x", true), ("to", true)],
        _ => &[],
    }
}

/// The arguments of one primitive call, by formal name.
struct PArgs<'t> {
    slots: Vec<Option<(&'t Ty, Span)>>,
    names: &'static [(&'static str, bool)],
    span: Span,
}

impl<'t> PArgs<'t> {
    fn get(&self, name: &str) -> Option<(&'t Ty, Span)> {
        let i = self.names.iter().position(|(n, _)| *n == name)?;
        self.slots.get(i).copied().flatten()
    }
}

impl Checker<'_> {
    pub fn primitive(
        &mut self,
        name: &str,
        callee: &Ident,
        args: &[Arg],
        tys: &[Ty],
        span: Span,
    ) -> Ty {
        if tys.contains(&Ty::Error) {
            return Ty::Error;
        }
        if matches!(name, "zeros" | "ones" | "full") {
            return self.constant_tensor(name, args, tys, span);
        }
        let names = formals(name);
        let fs = Formal::builtin(names);
        let Some(slots) = self.match_args(&callee.name, &fs, args, span) else {
            return Ty::Error;
        };
        let slots = slots
            .into_iter()
            .map(|s| s.and_then(|i| tys.get(i).zip(args.get(i).map(|a| a.value.span))))
            .collect();
        let a = PArgs { slots, names, span };
        self.prim_rule(name, &a).unwrap_or(Ty::Error)
    }

    /// The result type; `None` after reporting.
    fn prim_rule(&mut self, name: &str, a: &PArgs) -> Option<Ty> {
        if UNARY.contains(&name) {
            let (x, s) = a.get("x")?;
            return match x {
                Ty::Int(_) | Ty::Float(_) => Some(Ty::Float(None)),
                Ty::Tensor(_, shape) => Some(Ty::Tensor(DType::F32, shape.clone())),
                t => self.kind(&format!("`{name}` needs a tensor or a number"), t, s),
            };
        }
        match name {
            "max" | "min" => {
                let (x, sx) = a.get("a")?;
                let (y, sy) = a.get("b")?;
                if x.is_number() && y.is_number() {
                    return Some(Ty::Float(None));
                }
                let op = crate::syntax::ast::BinOp::Add;
                Some(self.binary(op, (x.clone(), sx), (y.clone(), sy), a.span))
            }
            "where" => {
                let (c, sc) = a.get("cond")?;
                let (x, sx) = a.get("a")?;
                let (y, sy) = a.get("b")?;
                let op = crate::syntax::ast::BinOp::Add;
                let xy = self.binary(op, (x.clone(), sx), (y.clone(), sy), a.span);
                let out = self.binary(op, (c.clone(), sc), (xy.clone(), a.span), a.span);
                Some(match (out, xy) {
                    (Ty::Tensor(_, s), Ty::Tensor(d, _)) => Ty::Tensor(d, s),
                    (out, _) => out,
                })
            }
            "sum" | "mean" | "max_over" | "min_over" => self.reduce(a, false),
            "argmax" => self.reduce(a, true),
            "reshape" => self.reshape(a),
            "broadcast" => self.broadcast_prim(a),
            "transpose" => self.transpose(a),
            "concat" | "stack" => self.concat(name, a),
            "one_hot" => {
                let (l, sl) = a.get("labels")?;
                let (c, scn) = a.get("classes")?;
                let Ty::Tensor(d, s) = l else {
                    return self.kind("`one_hot` needs i32 labels", l, sl);
                };
                if *d == DType::F32 {
                    return self.kind("`one_hot` needs integer labels", l, sl);
                }
                let classes = self.int_arg(c, scn, "the number of classes")?;
                let mut s = s.clone();
                s.dims.push(classes);
                Some(Ty::Tensor(DType::F32, s))
            }
            "gather" => self.gather(a),
            "conv2d_raw" => self.conv(a),
            "maxpool2d_raw" | "avgpool2d_raw" => self.pool(a),
            "bernoulli" | "normal_like" | "stop_gradient" => {
                let (x, s) = a.get("x")?;
                if let Some((p, sp)) = a.get("p") {
                    if !p.is_number() && !matches!(p, Ty::Tensor(_, s) if s.is_scalar()) {
                        return self.kind("the probability `p` must be a number", p, sp);
                    }
                }
                match x {
                    Ty::Tensor(d, shape) => Some(Ty::Tensor(
                        if name == "stop_gradient" {
                            *d
                        } else {
                            DType::F32
                        },
                        shape.clone(),
                    )),
                    t => self.kind(&format!("`{name}` needs a tensor"), t, s),
                }
            }
            "arange" => {
                let (n, s) = a.get("n")?;
                let n = self.int_arg(n, s, "the length")?;
                Some(Ty::Tensor(
                    DType::F32,
                    Shape {
                        rest: None,
                        dims: vec![n],
                    },
                ))
            }
            "cast" => {
                let (x, s) = a.get("x")?;
                let (to, st) = a.get("to")?;
                let Ty::DType(d) = to else {
                    return self.kind("`cast` needs an element type: `f32` or `i32`", to, st);
                };
                match x.as_tensor() {
                    Some((_, shape)) => Some(Ty::Tensor(*d, shape)),
                    None => self.kind("`cast` needs a tensor", x, s),
                }
            }
            _ => None,
        }
    }

    fn kind(&mut self, what: &str, t: &Ty, span: Span) -> Option<Ty> {
        self.report(kind_error(what, t, span));
        None
    }

    /// A static int argument (a size): its value when known.
    fn int_arg(&mut self, t: &Ty, span: Span, what: &str) -> Option<Option<Dim>> {
        match t {
            Ty::Int(d) => Some(d.clone()),
            Ty::Float(Some(v)) if v.fract() != 0.0 => {
                let v = format!("{v:.4}").trim_end_matches('0').to_string();
                self.report(
                    Diagnostic::error(
                        "shape::division",
                        format!("{what} must be whole numbers, but one is {v}"),
                        span,
                    )
                    .with_label(format!("a division here leaves a remainder: {v}"))
                    .with_help("a size divided by a size must divide exactly: choose sizes that divide, or round with `floor(a / b)`"),
                );
                None
            }
            t => {
                self.report(kind_error(&format!("{what} must be an int"), t, span));
                None
            }
        }
    }

    /// A list of static ints (`[B, 7]`, `axis: [0, 2]`); one int is a list of one.
    fn int_list(&mut self, t: &Ty, span: Span, what: &str) -> Option<Vec<Option<Dim>>> {
        match t {
            Ty::Int(d) => Some(vec![d.clone()]),
            Ty::List(items) | Ty::Tuple(items) => {
                items.iter().map(|i| self.int_arg(i, span, what)).collect()
            }
            t => {
                self.report(kind_error(
                    &format!("{what} must be a list of ints"),
                    t,
                    span,
                ));
                None
            }
        }
    }

    fn tensor_arg(&mut self, a: &PArgs, name: &str, prim: &str) -> Option<(DType, Shape, Span)> {
        let (t, s) = a.get(name)?;
        match t.as_tensor() {
            Some((d, shape)) => Some((d, shape, s)),
            None => self
                .kind(&format!("`{name}` of `{prim}` must be a tensor"), t, s)
                .map(|_| (DType::F32, Shape::unknown(), s)),
        }
    }

    /// An axis argument resolved against `rank`.
    fn axis_arg(&mut self, k: &Option<Dim>, rank: usize, span: Span, x: &Shape) -> Option<usize> {
        let Some(k) = k.as_ref().and_then(Dim::as_const) else {
            self.report(
                Diagnostic::error("type::kind", "an axis must be a constant int", span)
                    .with_label("not a constant"),
            );
            return None;
        };
        match shapes::axis(k, rank) {
            Some(a) => Some(a),
            None => {
                self.report(
                    Diagnostic::error(
                        "shape::axis",
                        format!("axis {k} is out of range for a tensor {x}"),
                        span,
                    )
                    .with_label(format!("rank is {rank}"))
                    .with_help(format!(
                        "axes go from {} to {}",
                        -(rank as i64),
                        rank as i64 - 1
                    )),
                );
                None
            }
        }
    }

    fn reduce(&mut self, a: &PArgs, argmax: bool) -> Option<Ty> {
        let (d, x, _) = self.tensor_arg(a, "x", "sum")?;
        let out_dtype = if argmax || d == DType::I32 {
            DType::I32
        } else {
            DType::F32
        };
        let Some(rank) = x.rank() else {
            return Some(Ty::Tensor(out_dtype, Shape::unknown()));
        };
        let axes: Vec<usize> = match a.get("axis") {
            Some((t, s)) => {
                let ks = self.int_list(t, s, "`axis`")?;
                let mut axes = Vec::new();
                for k in &ks {
                    axes.push(self.axis_arg(k, rank, s, &x)?);
                }
                axes
            }
            None if argmax => vec![rank.saturating_sub(1)],
            None => (0..rank).collect(),
        };
        let keep = a
            .get("keep")
            .is_some_and(|(t, _)| matches!(t, Ty::Bool(Some(true))));
        let dims = x
            .dims
            .iter()
            .enumerate()
            .filter_map(|(i, d)| match (axes.contains(&i), keep) {
                (false, _) => Some(d.clone()),
                (true, true) => Some(Some(Dim::constant(1))),
                (true, false) => None,
            })
            .collect();
        Some(Ty::Tensor(out_dtype, Shape { rest: None, dims }))
    }

    fn reshape(&mut self, a: &PArgs) -> Option<Ty> {
        let (d, x, sx) = self.tensor_arg(a, "x", "reshape")?;
        let (t, s) = a.get("shape")?;
        let dims = self.int_list(t, s, "the new shape")?;
        let out = Shape { rest: None, dims };
        if let (Some(n), Some(m)) = (x.numel(), out.numel()) {
            if n != m {
                self.report(
                    Diagnostic::error(
                        "shape::reshape",
                        format!("cannot reshape {x} into {out}: {n} and {m} elements"),
                        a.span,
                    )
                    .with_label(format!("{m} elements"))
                    .with_related(sx, format!("this has {n} elements"))
                    .with_help(
                        "a reshape keeps every element; the products of both shapes must be equal",
                    ),
                );
                return None;
            }
        }
        Some(Ty::Tensor(d, out))
    }

    fn broadcast_prim(&mut self, a: &PArgs) -> Option<Ty> {
        let (d, x, sx) = self.tensor_arg(a, "x", "broadcast")?;
        let (t, s) = a.get("shape")?;
        let dims = self.int_list(t, s, "the target shape")?;
        let target = Shape { rest: None, dims };
        match shapes::broadcast(&x, &target) {
            Ok(out) if out.dims.len() == target.dims.len() || x.rest.is_some() => {
                Some(Ty::Tensor(d, target))
            }
            _ => {
                self.report(
                    Diagnostic::error(
                        "shape::broadcast",
                        format!("{x} does not broadcast to {target}"),
                        a.span,
                    )
                    .with_label(format!("to {target}"))
                    .with_related(sx, format!("this is {x}"))
                    .with_help("sizes are matched from the right and must be equal or 1"),
                );
                None
            }
        }
    }

    fn transpose(&mut self, a: &PArgs) -> Option<Ty> {
        let (d, x, sx) = self.tensor_arg(a, "x", "transpose")?;
        let (t, s) = a.get("perm")?;
        let perm = self.int_list(t, s, "the permutation")?;
        let Some(rank) = x.rank() else {
            return Some(Ty::Tensor(d, Shape::unknown()));
        };
        let ks: Option<Vec<i64>> = perm
            .iter()
            .map(|p| p.as_ref().and_then(Dim::as_const))
            .collect();
        let mut sorted = ks.clone().unwrap_or_default();
        sorted.sort_unstable();
        let identity: Vec<i64> = (0..rank as i64).collect();
        if sorted != identity {
            self.report(
                Diagnostic::error(
                    "shape::axis",
                    format!("{} is not a permutation of the {rank} axes of {x}", t),
                    s,
                )
                .with_label("not a permutation")
                .with_related(sx, format!("this is {x}"))
                .with_help(format!(
                    "list every axis from 0 to {} exactly once",
                    rank.saturating_sub(1)
                )),
            );
            return None;
        }
        let dims = ks
            .unwrap_or_default()
            .iter()
            .map(|k| x.dims.get(*k as usize).cloned().flatten())
            .collect();
        Some(Ty::Tensor(d, Shape { rest: None, dims }))
    }

    fn concat(&mut self, name: &str, a: &PArgs) -> Option<Ty> {
        let (parts, sp) = a.get("parts")?;
        let (Ty::List(ts) | Ty::Tuple(ts)) = parts else {
            return self.kind(&format!("`{name}` needs a list of tensors"), parts, sp);
        };
        let shapes: Vec<(DType, Shape)> = ts.iter().filter_map(Ty::as_tensor).collect();
        let Some((dtype, first)) = shapes.first().cloned() else {
            return self.kind(
                &format!("`{name}` needs a non-empty list of tensors"),
                parts,
                sp,
            );
        };
        let Some(rank) = first.rank() else {
            return Some(Ty::Tensor(dtype, Shape::unknown()));
        };
        let k = match a.get("axis") {
            Some((t, s)) => {
                let k = self.int_arg(t, s, "`axis`")?;
                self.axis_arg(&k, rank + usize::from(name == "stack"), s, &first)?
            }
            None => 0,
        };
        let mut total = Some(Dim::constant(0));
        for (_, s) in &shapes {
            let same_rank = s.rank() == Some(rank);
            let others_agree = same_rank
                && s.dims
                    .iter()
                    .zip(&first.dims)
                    .enumerate()
                    .all(|(i, (x, y))| {
                        (name == "concat" && i == k)
                            || super::unify::shapes_agree(
                                &Shape {
                                    rest: None,
                                    dims: vec![x.clone()],
                                },
                                &Shape {
                                    rest: None,
                                    dims: vec![y.clone()],
                                },
                            )
                    });
            if !others_agree && s.rest.is_none() {
                self.report(
                    Diagnostic::error(
                        "shape::mismatch",
                        format!("`{name}` of {first} and {s}"),
                        sp,
                    )
                    .with_label("parts differ")
                    .with_help(if name == "stack" {
                        "stacked tensors must have one shape".to_string()
                    } else {
                        format!("parts must agree on every axis but {k}")
                    }),
                );
                return None;
            }
            super::expr::Scope::count(&mut total, s.dims.get(k).cloned().flatten());
        }
        let mut dims = first.dims.clone();
        if name == "stack" {
            dims.insert(k.min(dims.len()), Some(Dim::constant(ts.len() as i64)));
        } else if let Some(slot) = dims.get_mut(k) {
            *slot = total;
        }
        Some(Ty::Tensor(dtype, Shape { rest: None, dims }))
    }

    fn gather(&mut self, a: &PArgs) -> Option<Ty> {
        let (d, table, st) = self.tensor_arg(a, "table", "gather")?;
        let (di, ids, si) = self.tensor_arg(a, "ids", "gather")?;
        if di == DType::F32 {
            return self.kind(
                "`ids` of `gather` must be integers",
                &Ty::Tensor(di, ids),
                si,
            );
        }
        if table.rank().is_some_and(|r| r != 2) {
            return self.kind(
                "`table` of `gather` must be f32[V, D]",
                &Ty::Tensor(d, table),
                st,
            );
        }
        let mut out = ids;
        out.dims.push(table.dims.get(1).cloned().flatten());
        Some(Ty::Tensor(d, out))
    }

    /// `[B, C, H, W]` and `[F, C, K, K]` to `[B, F, floor((H + 2P - K) / S) + 1, ...]`.
    fn conv(&mut self, a: &PArgs) -> Option<Ty> {
        let (_, x, sx) = self.tensor_arg(a, "x", "conv2d_raw")?;
        let (_, w, sw) = self.tensor_arg(a, "w", "conv2d_raw")?;
        let stride = self.opt_int(a, "stride", 1)?;
        let pad = self.opt_int(a, "pad", 0)?;
        let x4 = self.rank4(&x, sx, "the input of `conv2d_raw` must be f32[B, C, H, W]")?;
        let w4 = self.rank4(&w, sw, "the kernel of `conv2d_raw` must be f32[F, C, K, K]")?;
        let [b, c, h, wd] = x4;
        let [f, c2, kh, kw] = w4;
        if let (Some(c), Some(c2)) = (&c, &c2) {
            if c != c2 {
                self.report(
                    Diagnostic::error(
                        "shape::mismatch",
                        format!(
                            "`conv2d_raw` of {x} with a kernel {w}: channels {c} and {c2} differ"
                        ),
                        a.span,
                    )
                    .with_label("in this convolution")
                    .with_related(sx, format!("{c} input channels"))
                    .with_related(sw, format!("the kernel expects {c2}")),
                );
                return None;
            }
        }
        let out = |n: &Option<Dim>, k: &Option<Dim>| -> Option<Dim> {
            let (n, k) = (n.as_ref()?, k.as_ref()?);
            let span = n.add(&pad.mul(&Dim::constant(2))).sub(k);
            span.floor_div(&stride)
                .ok()
                .map(|q| q.add(&Dim::constant(1)))
        };
        let dims = vec![b, f, out(&h, &kh), out(&wd, &kw)];
        self.positive(&dims, a.span, "convolution")?;
        Some(Ty::Tensor(DType::F32, Shape { rest: None, dims }))
    }

    fn pool(&mut self, a: &PArgs) -> Option<Ty> {
        let (_, x, sx) = self.tensor_arg(a, "x", "pooling")?;
        let (t, s) = a.get("size")?;
        let size = self
            .int_arg(t, s, "the pool size")?
            .unwrap_or_else(|| Dim::sym("?"));
        let stride = match a.get("stride") {
            Some((t, s)) => self
                .int_arg(t, s, "the stride")?
                .unwrap_or_else(|| Dim::sym("?")),
            None => size.clone(),
        };
        let [b, c, h, w] = self.rank4(&x, sx, "pooling needs f32[B, C, H, W]")?;
        let out = |n: &Option<Dim>| -> Option<Dim> {
            n.as_ref()?
                .sub(&size)
                .floor_div(&stride)
                .ok()
                .map(|q| q.add(&Dim::constant(1)))
        };
        let dims = vec![b, c, out(&h), out(&w)];
        self.positive(&dims, a.span, "pooling")?;
        Some(Ty::Tensor(DType::F32, Shape { rest: None, dims }))
    }

    fn opt_int(&mut self, a: &PArgs, name: &str, default: i64) -> Option<Dim> {
        match a.get(name) {
            Some((t, s)) => Some(
                self.int_arg(t, s, &format!("`{name}`"))?
                    .unwrap_or_else(|| Dim::sym("?")),
            ),
            None => Some(Dim::constant(default)),
        }
    }

    fn rank4(&mut self, x: &Shape, span: Span, what: &str) -> Option<[Option<Dim>; 4]> {
        if x.rest == Some(Rest::Any) {
            return Some([None, None, None, None]);
        }
        match <[Option<Dim>; 4]>::try_from(x.dims.clone()) {
            Ok(d) if x.rest.is_none() => Some(d),
            _ => {
                self.report(
                    Diagnostic::error("shape::rank", format!("{what}, found {x}"), span)
                        .with_label(format!("this is {x}"))
                        .with_help(
                            "images are [batch, channels, height, width]; reshape the input first",
                        ),
                );
                None
            }
        }
    }

    fn positive(&mut self, dims: &[Option<Dim>], span: Span, what: &str) -> Option<()> {
        for (i, d) in dims.iter().enumerate() {
            if let Some(c) = d.as_ref().and_then(Dim::as_const).filter(|c| *c <= 0) {
                self.report(
                    Diagnostic::error("shape::size", format!("this {what} produces an axis of size {c}"), span)
                        .with_label(format!("axis {i} would be {c}"))
                        .with_help("the input is smaller than the window: use a smaller kernel, padding, or a larger input"),
                );
                return None;
            }
        }
        Some(())
    }

    /// `zeros(d, ...)`, `ones(d, ...)`, `full(v, d, ...)`.
    fn constant_tensor(&mut self, name: &str, args: &[Arg], tys: &[Ty], span: Span) -> Ty {
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            return self.report(
                Diagnostic::error(
                    "call::unknown_arg",
                    format!("`{name}` takes sizes only, as positional arguments"),
                    a.span,
                )
                .with_label("named argument"),
            );
        }
        let skip = usize::from(name == "full");
        if name == "full" {
            match tys.first() {
                Some(t) if t.is_number() => {}
                Some(t) => return self.report(kind_error("`full` needs its value first", t, span)),
                None => {
                    return self.report(
                        Diagnostic::error(
                            "call::arity",
                            "missing argument `value` of `full`",
                            span,
                        )
                        .with_label("needs a value"),
                    );
                }
            }
        }
        let mut dims = Vec::new();
        for (t, a) in tys.iter().zip(args).skip(skip) {
            match self.int_arg(t, a.value.span, "a size") {
                Some(d) => dims.push(d),
                None => return Ty::Error,
            }
        }
        Ty::Tensor(DType::F32, Shape { rest: None, dims })
    }
}
