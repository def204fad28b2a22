//! A definition's signature at a call site: its parameters bound against
//! the arguments' types (symbols from shapes, `units: O` from numbers),
//! symbols only the return type names bound by re-checking the body, the
//! body re-checked too when it divides sizes, and the return type
//! instantiated with the call's sizes.

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{Def, DefKind, Param, ScalarType, Type};

use super::call_errors::{division_error, dtype_help, issue_text};
use super::calls::{scalar_name, scalar_ty};
use super::dims::Dim;
use super::expr::{kind_error, Scope};
use super::summary::Row;
use super::types::{Shape, Ty};
use super::unify::{tensor_type_string, Deferred, Env};
use super::Checker;

impl<'a> Checker<'a> {
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
