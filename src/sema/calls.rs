//! Calls: which function a name denotes, arguments against parameters
//! (arity, names, kinds), and a definition's signature at a call site —
//! its symbols bound from the arguments' shapes, its return type
//! instantiated. A call never looks into the callee's body.

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{Arg, Def, DefKind, Ident, Param, ScalarType, Type};

use super::dims::Dim;
use super::expr::{kind_error, Scope};
use super::names::{suggest, INITIALIZERS};
use super::summary::Row;
use super::types::{Shape, Ty};
use super::unify::{dim_expr_string, tensor_type_string, Deferred, Env, Issue};
use super::Checker;

/// A parameter as the argument matcher sees it.
pub struct Formal<'p> {
    pub name: &'p str,
    pub required: bool,
    pub span: Option<Span>,
}

impl Formal<'static> {
    /// The formals of a built-in (a primitive or a data source): `(name,
    /// required)` pairs, with no source span to point at.
    pub fn builtin(names: &[(&'static str, bool)]) -> Vec<Formal<'static>> {
        names
            .iter()
            .map(|&(name, required)| Formal {
                name,
                required,
                span: None,
            })
            .collect()
    }
}

impl<'a> Checker<'a> {
    pub fn call(&mut self, callee: &Ident, args: &[Arg], span: Span, sc: &mut Scope) -> Ty {
        let tys: Vec<Ty> = args.iter().map(|a| self.expr(&a.value, sc)).collect();
        let name = match sc.vars.get(&callee.name) {
            Some(Ty::Func(n)) => n.clone(),
            _ => callee.name.clone(),
        };
        if let Some(def) = self.g.defs.get(name.as_str()).copied() {
            return self.call_def(def, callee, args, &tys, span, sc);
        }
        if sc.ctx == super::expr::Ctx::Data && super::data::SOURCES.contains(&name.as_str()) {
            return self.source(&name, callee, args, &tys, span);
        }
        if super::prims::is_primitive(&name) {
            return self.primitive(&name, callee, args, &tys, span);
        }
        if matches!(name.as_str(), "constant" | "uniform" | "normal") {
            return self.init_call(&name, callee, args, &tys, span);
        }
        let n = name.as_str();
        let d = if self.g.optimizers.contains_key(n) {
            Diagnostic::error(
                "type::kind",
                format!("`{n}` is an optimizer, not a function"),
                callee.span,
            )
            .with_label("an optimizer")
            .with_help(format!(
                "optimizers are chosen in a train block: `optimizer = {n}(lr: 1e-3)`"
            ))
        } else if INITIALIZERS.contains(&n) {
            Diagnostic::error(
                "type::kind",
                format!("the initializer `{n}` takes no arguments"),
                span,
            )
            .with_label("an initializer")
            .with_help(format!("write `= {n}` after the declared type"))
        } else if sc.vars.contains_key(n) || sc.env.dims.contains_key(n) {
            Diagnostic::error(
                "type::kind",
                format!("`{n}` is a value, not a function"),
                callee.span,
            )
            .with_label("cannot be called")
        } else {
            let mut candidates: Vec<&str> = self.g.defs.keys().copied().collect();
            candidates.extend(super::prims::PRIMITIVES.iter().copied());
            let d = Diagnostic::error(
                "name::unknown",
                format!("unknown function `{n}`"),
                callee.span,
            )
            .with_label("not defined");
            match suggest(n, candidates) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help("define it as a `layer` or `fn`, or check the list of std layers in docs/language.md"),
            }
        };
        self.report(d)
    }

    /// Matches arguments to formals: for each formal, the index of its
    /// argument. `None` after reporting an arity or name error.
    pub fn match_args(
        &mut self,
        callee: &str,
        formals: &[Formal],
        args: &[Arg],
        span: Span,
    ) -> Option<Vec<Option<usize>>> {
        let mut slots: Vec<Option<usize>> = vec![None; formals.len()];
        let mut ok = true;
        let positional: Vec<usize> = (0..args.len())
            .filter(|i| args.get(*i).is_some_and(|a| a.name.is_none()))
            .collect();
        if positional.len() > formals.len() {
            let extra = positional
                .get(formals.len())
                .and_then(|i| args.get(*i))
                .map_or(span, |a| a.span);
            let n = formals.len();
            self.report(
                Diagnostic::error(
                    "call::arity",
                    format!(
                        "`{callee}` takes {n} argument{} but {} were given",
                        plural(n),
                        positional.len()
                    ),
                    extra,
                )
                .with_label("one too many")
                .with_help(format!(
                    "`{callee}` takes {}",
                    list_names(&formals.iter().map(|f| f.name).collect::<Vec<_>>())
                )),
            );
            return None;
        }
        for (slot, i) in slots.iter_mut().zip(&positional) {
            *slot = Some(*i);
        }
        for (i, a) in args.iter().enumerate() {
            let Some(n) = &a.name else { continue };
            match formals.iter().position(|f| f.name == n.name) {
                Some(k) if slots.get(k).is_some_and(Option::is_some) => {
                    self.report(
                        Diagnostic::error(
                            "call::arity",
                            format!("argument `{}` of `{callee}` is given twice", n.name),
                            n.span,
                        )
                        .with_label("given again here"),
                    );
                    ok = false;
                }
                Some(k) => {
                    if let Some(s) = slots.get_mut(k) {
                        *s = Some(i);
                    }
                }
                None => {
                    let names: Vec<&str> = formals.iter().map(|f| f.name).collect();
                    let d = Diagnostic::error(
                        "call::unknown_arg",
                        format!("`{callee}` has no argument `{}`", n.name),
                        n.span,
                    )
                    .with_label("unknown argument");
                    let d = match suggest(&n.name, names.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(format!("`{callee}` takes {}", list_names(&names))),
                    };
                    self.report(d);
                    ok = false;
                }
            }
        }
        for (f, slot) in formals.iter().zip(&slots) {
            if f.required && slot.is_none() {
                let mut d = Diagnostic::error(
                    "call::arity",
                    format!("missing argument `{}` of `{callee}`", f.name),
                    span,
                )
                .with_label(format!("needs `{}`", f.name));
                if let Some(s) = f.span {
                    d = d.with_related(s, format!("`{}` is declared here", f.name));
                }
                self.report(d);
                ok = false;
            }
        }
        ok.then_some(slots)
    }

    fn call_def(
        &mut self,
        def: &'a Def,
        callee: &Ident,
        args: &[Arg],
        tys: &[Ty],
        span: Span,
        sc: &mut Scope,
    ) -> Ty {
        let formals: Vec<Formal> = def
            .params
            .iter()
            .map(|p| Formal {
                name: &p.name.name,
                required: p.default.is_none(),
                span: Some(p.name.span),
            })
            .collect();
        let Some(slots) = self.match_args(&def.name.name, &formals, args, span) else {
            return Ty::Error;
        };
        let given: Vec<Option<(Ty, Span)>> = slots
            .iter()
            .map(|slot| {
                slot.and_then(|i| tys.get(i).cloned().zip(args.get(i).map(|a| a.value.span)))
            })
            .collect();
        self.apply_def(def, given, callee.span, span, sc)
    }

    /// A definition applied to arguments already matched to its parameters
    /// (`None`: left out, so its default).
    pub fn apply_def(
        &mut self,
        def: &'a Def,
        given: Vec<Option<(Ty, Span)>>,
        callee_span: Span,
        span: Span,
        sc: &mut Scope,
    ) -> Ty {
        if self.active.contains(&def.name.name.as_str()) {
            return self.report(
                Diagnostic::error(
                    "call::recursive",
                    format!("`{}` calls itself", def.name.name),
                    callee_span,
                )
                .with_label("recursive call")
                .with_help(
                    "definitions are inlined, so they cannot recurse; use `scan` to repeat a step",
                ),
            );
        }
        let mut env = Env::default();
        let mut deferred = Vec::new();
        let mut failed = false;
        let mut bound: Vec<(String, Ty)> = Vec::new();
        for (i, p) in def.params.iter().enumerate() {
            let (ty, aspan) = match given.get(i).cloned().flatten() {
                Some(x) => x,
                None => match &p.default {
                    Some(d) => {
                        let mut tmp = Scope::new(super::expr::Ctx::Fn);
                        tmp.vars.extend(bound.iter().cloned());
                        tmp.env.dims = env.dims.clone();
                        (self.expr(d, &mut tmp), span)
                    }
                    None => (Ty::Error, span),
                },
            };
            if let Err(d) = self.bind_param(&mut env, def, p, &ty, aspan, &mut deferred) {
                self.report(*d);
                failed = true;
            }
            bound.push((p.name.name.clone(), ty));
        }
        if let Err(issue) = env.settle(deferred) {
            self.report(
                Diagnostic::error(
                    "shape::mismatch",
                    format!(
                        "the arguments of `{}` disagree: {}",
                        def.name.name,
                        issue_text(&issue)
                    ),
                    span,
                )
                .with_label("in this call")
                .with_related(def.name.span, "the signature"),
            );
            failed = true;
        }
        if failed {
            return Ty::Error;
        }
        let info = self.def_info(&def.name.name);
        let by_body = ret_has_free_symbols(&def.ret, &env);
        if by_body {
            self.bind_by_body(def, &mut env, bound.clone(), span);
        }
        let out = self.instantiate_ret(&def.ret, &env, def, span);
        if out == Ty::Error || !self.check_sizes(&out, def, span) {
            return Ty::Error;
        }
        // A division in the body may be exact for some sizes only, so a body
        // that divides is re-checked with this call's sizes.
        if !by_body && !info.divisions.is_empty() {
            let reported = self.diags.len();
            self.bind_by_body(def, &mut env.clone(), bound, span);
            if self.diags.len() > reported {
                return Ty::Error;
            }
        }
        let lookup = |s: &str| env.dims.get(s).cloned().flatten();
        Self::pass_on_divisions(&info.divisions, &lookup, sc);
        let params = info.params.as_ref().and_then(|c| c.subst(&lookup));
        let states = info.states.as_ref().and_then(|c| c.subst(&lookup));
        Scope::count(&mut sc.params, params.clone());
        Scope::count(&mut sc.state_count, states);
        if let Some(rows) = &mut sc.rows {
            if def.kind != DefKind::Model {
                rows.push(Row::new(&def.name.name, def.kind, &out, params));
            }
        }
        out
    }

    /// Binds the symbols only the return type names (`Ho` of `conv2d`) by
    /// checking the body with this call's bindings. The body was checked
    /// on its own already; an error that only these arguments cause is
    /// reported once, at the call.
    fn bind_by_body(&mut self, def: &'a Def, env: &mut Env, bound: Vec<(String, Ty)>, span: Span) {
        let ctx = match def.kind {
            DefKind::Layer => super::expr::Ctx::Layer,
            DefKind::Fn => super::expr::Ctx::Fn,
            DefKind::Model => super::expr::Ctx::Model,
        };
        let mut sc = Scope::new(ctx);
        sc.rows = None;
        sc.env = env.clone();
        sc.vars.extend(bound);
        let reported = self.diags.len();
        self.active.push(def.name.name.as_str());
        let result = self.block(&def.body, &mut sc);
        self.active.pop();
        let first = self.diags.get(reported).cloned();
        self.diags.truncate(reported);
        if let Some(d) = first {
            let mut at_call = Diagnostic::error(
                d.code,
                format!("in this call of `{}`: {}", def.name.name, d.message),
                span,
            )
            .with_label("with these arguments")
            .with_related(d.span, d.label.clone());
            at_call.help = d.help;
            self.report(at_call);
        }
        if let (Type::Tensor(tt), Some((_, shape))) = (&def.ret, result.as_tensor()) {
            if let Ok(pending) = env.unify_shape(tt, &shape) {
                let _ = env.settle(pending);
            }
        }
    }

    /// Binds one parameter's declared type against its argument's type.
    fn bind_param<'p>(
        &mut self,
        env: &mut Env,
        def: &Def,
        p: &'p Param,
        ty: &Ty,
        span: Span,
        deferred: &mut Vec<Deferred<'p>>,
    ) -> Result<(), Box<Diagnostic>> {
        let callee = &def.name.name;
        let pname = &p.name.name;
        let kind = |what: &str| {
            Box::new(
                kind_error(&format!("`{pname}` of `{callee}` must be {what}"), ty, span)
                    .with_related(p.span, "declared here"),
            )
        };
        match (&p.ty, ty) {
            (_, Ty::Error) => Ok(()),
            (Type::Tensor(tt), t @ (Ty::Tensor(..) | Ty::Int(_) | Ty::Float(_) | Ty::Bool(_))) => {
                let Some((dtype, shape)) = t.as_tensor() else {
                    return Ok(());
                };
                if matches!(t, Ty::Tensor(..)) && dtype != tt.dtype {
                    return Err(Box::new(
                        Diagnostic::error(
                            "type::dtype",
                            format!(
                                "`{pname}` of `{callee}` must be {}, found {t}",
                                tensor_type_string(tt)
                            ),
                            span,
                        )
                        .with_label(format!("element type {}", super::types::dtype_name(dtype)))
                        .with_related(p.span, "declared here")
                        .with_help(dtype_help(callee, pname, tt, t)),
                    ));
                }
                match env.unify_shape(tt, &shape) {
                    Ok(d) => {
                        deferred.extend(d);
                        Ok(())
                    }
                    Err(issue) => Err(Box::new(self.arg_mismatch(def, p, tt, t, span, &issue))),
                }
            }
            (Type::Dim(o), Ty::Int(v)) => match (env.dims.get(&o.name), v) {
                (Some(Some(prev)), Some(v)) if prev != v => Err(Box::new(
                    Diagnostic::error(
                        "shape::mismatch",
                        format!(
                            "`{pname}` of `{callee}` is {v} but `{}` is already {prev}",
                            o.name
                        ),
                        span,
                    )
                    .with_label(format!("`{}` = {v} here", o.name))
                    .with_related(p.span, "declared here"),
                )),
                _ => {
                    env.dims.insert(o.name.clone(), v.clone());
                    Ok(())
                }
            },
            (Type::Dim(_), Ty::Func(_)) => Ok(()),
            (Type::Dim(o), _) => {
                let d = kind("an int");
                Err(Box::new(d.with_help(format!(
                    "`{pname}` is the size `{}`: pass a whole number, such as `{callee}(128)`",
                    o.name
                ))))
            }
            (Type::Scalar(s, _), t) => {
                let ok = matches!(
                    (s, t),
                    (ScalarType::Int, Ty::Int(_))
                        | (ScalarType::Float, Ty::Int(_) | Ty::Float(_))
                        | (ScalarType::Bool, Ty::Bool(_))
                        | (ScalarType::Str, Ty::Str(_))
                );
                if ok {
                    Ok(())
                } else {
                    Err(kind(scalar_name(*s)))
                }
            }
            (Type::Tuple(ts, _), Ty::Tuple(vs)) if ts.len() == vs.len() => {
                for (t, v) in ts.iter().zip(vs) {
                    let sub = Param {
                        ty: t.clone(),
                        ..p.clone()
                    };
                    // Tuple parts are matched one by one with the same bindings.
                    let mut tmp = Vec::new();
                    self.bind_param(env, def, &sub, v, span, &mut tmp)?;
                    env.settle(tmp)
                        .map_err(|i| Box::new(self.arg_mismatch_text(def, p, span, &i)))?;
                }
                Ok(())
            }
            (Type::Tuple(..), _) => Err(kind("a tuple")),
            (Type::Tensor(_), _) => Err(kind("a tensor")),
        }
    }

    fn arg_mismatch_text(&self, def: &Def, p: &Param, span: Span, issue: &Issue) -> Diagnostic {
        Diagnostic::error(
            "shape::mismatch",
            format!(
                "`{}` of `{}`: {}",
                p.name.name,
                def.name.name,
                issue_text(issue)
            ),
            span,
        )
        .with_related(p.span, "declared here")
    }

    /// The message for an argument whose shape does not fit.
    fn arg_mismatch(
        &self,
        def: &Def,
        p: &Param,
        tt: &crate::syntax::ast::TensorType,
        found: &Ty,
        span: Span,
        issue: &Issue,
    ) -> Diagnostic {
        let callee = &def.name.name;
        let expected = tensor_type_string(tt);
        let (code, label) = match issue {
            Issue::Rank {
                expected: n,
                at_least,
            } => {
                let rank = match found {
                    Ty::Tensor(_, s) => s.rank(),
                    _ => Some(0),
                };
                let has = rank.map_or("an unknown rank".to_string(), |r| format!("rank {r}"));
                (
                    "shape::rank",
                    format!(
                        "{has}, expected {}rank {n}",
                        if *at_least { "at least " } else { "" }
                    ),
                )
            }
            Issue::Dim {
                axis,
                expected,
                found,
            } => (
                "shape::mismatch",
                format!("axis {axis} is {found}, expected {expected}"),
            ),
            Issue::Rest { .. } | Issue::Div(..) => (issue_code(issue), issue_text(issue)),
        };
        let mut d = Diagnostic::error(
            code,
            format!(
                "`{callee}` expects {}: {expected} but got {found}",
                p.name.name
            ),
            span,
        )
        .with_label(label)
        .with_related(p.span, format!("`{}` is declared {expected}", p.name.name));
        if let Some(h) = shape_help(def, tt, found, issue) {
            d = d.with_help(h);
        }
        d
    }

    fn instantiate_ret(&mut self, ret: &Type, env: &Env, def: &Def, span: Span) -> Ty {
        match ret {
            Type::Tensor(tt) => match env.instantiate(tt) {
                Ok(s) => Ty::Tensor(tt.dtype, s),
                Err(super::unify::DimErr::Div(e, d)) => {
                    self.report(division_error(&e, &d, span, &def.name.name))
                }
                Err(_) => Ty::Tensor(tt.dtype, Shape::unknown()),
            },
            Type::Dim(o) => Ty::Int(env.dims.get(&o.name).cloned().flatten()),
            Type::Scalar(s, _) => scalar_ty(*s),
            Type::Tuple(ts, _) => Ty::Tuple(
                ts.iter()
                    .map(|t| self.instantiate_ret(t, env, def, span))
                    .collect(),
            ),
        }
    }

    /// The body's divisions that this call leaves over symbols (a call
    /// inside another definition) become the caller's, so that the calls
    /// binding those symbols re-check the bodies (see [`Checker::call_def`]).
    fn pass_on_divisions(
        divisions: &[super::expr::Division],
        lookup: &dyn Fn(&str) -> Option<Dim>,
        sc: &mut Scope,
    ) {
        for d in divisions {
            if let (Some(num), Some(den)) = (d.num.subst(lookup), d.den.subst(lookup)) {
                if num.as_const().is_none() || den.as_const().is_none() {
                    sc.divisions.push(super::expr::Division {
                        num,
                        den,
                        span: d.span,
                    });
                }
            }
        }
    }

    /// A call whose output has an empty or negative axis (an input too small
    /// for a kernel) is an error.
    fn check_sizes(&mut self, out: &Ty, def: &Def, span: Span) -> bool {
        let Ty::Tensor(_, s) = out else { return true };
        for (i, d) in s.dims.iter().enumerate() {
            if let Some(c) = d.as_ref().and_then(Dim::as_const).filter(|c| *c <= 0) {
                self.report(
                    Diagnostic::error("shape::size", format!("`{}` would produce {out}: axis {i} has size {c}", def.name.name), span)
                        .with_label(format!("axis {i} of the result is {c}"))
                        .with_related(def.name.span, "the signature")
                        .with_help("the input is too small here: use a smaller kernel or stride, padding, or fewer pooling steps"),
                );
                return false;
            }
        }
        true
    }

    /// `constant(v)`, `uniform(limit)`, `normal(std)`.
    fn init_call(
        &mut self,
        name: &str,
        callee: &Ident,
        args: &[Arg],
        tys: &[Ty],
        span: Span,
    ) -> Ty {
        let arg = match name {
            "constant" => "v",
            "uniform" => "limit",
            _ => "std",
        };
        let formals = [Formal {
            name: arg,
            required: true,
            span: None,
        }];
        let Some(slots) = self.match_args(&callee.name, &formals, args, span) else {
            return Ty::Error;
        };
        if let Some(i) = slots.first().copied().flatten() {
            if let Some(t) = tys.get(i).filter(|t| !t.is_number() && **t != Ty::Error) {
                let s = args.get(i).map_or(span, |a| a.value.span);
                return self.report(kind_error(&format!("`{name}` needs a number"), t, s));
            }
        }
        Ty::Init
    }
}

/// Whether a return type names a symbol the call has not bound.
fn ret_has_free_symbols(t: &Type, env: &Env) -> bool {
    fn dim_free(d: &crate::syntax::ast::DimExpr, env: &Env) -> bool {
        match &d.kind {
            crate::syntax::ast::DimKind::Var(v) => !env.dims.contains_key(v),
            crate::syntax::ast::DimKind::Bin(_, a, b) => dim_free(a, env) || dim_free(b, env),
            _ => false,
        }
    }
    match t {
        Type::Tensor(tt) => tt.dims.iter().flatten().any(|d| dim_free(d, env)),
        Type::Tuple(ts, _) => ts.iter().any(|t| ret_has_free_symbols(t, env)),
        Type::Dim(_) | Type::Scalar(..) => false,
    }
}

pub fn scalar_ty(s: ScalarType) -> Ty {
    match s {
        ScalarType::Int => Ty::Int(None),
        ScalarType::Float => Ty::Float(None),
        ScalarType::Bool => Ty::Bool(None),
        ScalarType::Str => Ty::Str(None),
    }
}

/// The static type a hyper-parameter of type `t` has, if `t` is a scalar.
pub fn scalar_ty_of(t: &Type) -> Option<Ty> {
    match t {
        Type::Scalar(s, _) => Some(scalar_ty(*s)),
        _ => None,
    }
}

fn scalar_name(s: ScalarType) -> &'static str {
    match s {
        ScalarType::Int => "an int",
        ScalarType::Float => "a float",
        ScalarType::Bool => "a bool",
        ScalarType::Str => "a string",
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn list_names(names: &[&str]) -> String {
    if names.is_empty() {
        return "no named arguments".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn issue_code(issue: &Issue) -> &'static str {
    match issue {
        Issue::Rank { .. } => "shape::rank",
        Issue::Dim { .. } | Issue::Rest { .. } => "shape::mismatch",
        Issue::Div(..) => "shape::division",
    }
}

pub fn issue_text(issue: &Issue) -> String {
    match issue {
        Issue::Rank { expected, at_least } => {
            format!(
                "expected {}rank {expected}",
                if *at_least { "at least " } else { "" }
            )
        }
        Issue::Dim {
            axis,
            expected,
            found,
        } => format!("axis {axis} is {found}, expected {expected}"),
        Issue::Rest { bound, found } => format!("leading dimensions `...` are {bound} and {found}"),
        Issue::Div(e, d) => division_text(e, d),
    }
}

fn division_text(e: &super::dims::DivError, d: &crate::syntax::ast::DimExpr) -> String {
    match e {
        super::dims::DivError::Zero => format!("`{}` divides by zero", dim_expr_string(d)),
        super::dims::DivError::Remainder(a, b) => format!(
            "`{}` is {a} / {b}, which leaves a remainder",
            dim_expr_string(d)
        ),
    }
}

pub fn division_error(
    e: &super::dims::DivError,
    d: &crate::syntax::ast::DimExpr,
    span: Span,
    callee: &str,
) -> Diagnostic {
    Diagnostic::error("shape::division", format!("inexact division in the result of `{callee}`: {}", division_text(e, d)), span)
        .with_label("here")
        .with_related(d.span, "this dimension")
        .with_help("`/` in a dimension must divide exactly; use `floor(a / b)` or `ceil(a / b)` to round, or pick sizes that divide")
}

/// How to fix a common shape mistake.
fn shape_help(
    def: &Def,
    tt: &crate::syntax::ast::TensorType,
    found: &Ty,
    issue: &Issue,
) -> Option<String> {
    let callee = def.name.name.as_str();
    let Ty::Tensor(_, s) = found else { return None };
    let expected = tensor_type_string(tt);
    let per_sample = |s: &Shape| {
        Shape {
            rest: None,
            dims: s.dims.get(1..).unwrap_or(&[]).to_vec(),
        }
        .numel()
    };
    let Issue::Rank { expected: want, .. } = issue else {
        return None;
    };
    if callee == "cross_entropy" && tt.dtype == crate::syntax::ast::DType::I32 {
        return Some("these look like one-hot labels: use `categorical_cross_entropy`, or integer labels i32[B]".into());
    }
    let rank = s.rank()?;
    if def.kind == DefKind::Model {
        let env = Env::default();
        let declared = env.instantiate(tt).ok()?;
        if per_sample(&declared).is_some() && per_sample(&declared) == per_sample(s) {
            let dims: Vec<String> = tt
                .dims
                .iter()
                .flatten()
                .skip(1)
                .map(dim_expr_string)
                .collect();
            return Some(format!(
                "the values per sample agree: declare the data field as {}[N, {}] (a reshape that keeps them is implicit)",
                super::types::dtype_name(tt.dtype),
                dims.join(", ")
            ));
        }
        return Some(format!("the model takes {expected}; change the data field's declared type or the model's input"));
    }
    if *want == 2 && rank > 2 {
        let flat = per_sample(s).map_or("?".to_string(), |d| d.to_string());
        let b = s
            .dims
            .first()
            .cloned()
            .flatten()
            .map_or("?".to_string(), |d| d.to_string());
        return Some(format!(
            "insert `flatten` before `{callee}`: {callee} expects {expected} but got {found}, which flattens to [{b}, {flat}]"
        ));
    }
    Some(format!("`{callee}` takes rank {want}; reshape the input first, for example with `reshape(x, [...])`"))
}

fn dtype_help(
    callee: &str,
    pname: &str,
    tt: &crate::syntax::ast::TensorType,
    found: &Ty,
) -> String {
    if callee == "cross_entropy" && tt.dtype == crate::syntax::ast::DType::I32 {
        return "`cross_entropy` takes integer class labels; for one-hot f32 labels use `categorical_cross_entropy`".into();
    }
    let want = super::types::dtype_name(tt.dtype);
    format!("convert it with `cast({pname}, {want})`, or declare the value as {want} ({found} was given)")
}
