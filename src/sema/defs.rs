//! Definitions: each `layer`, `fn` and `model` body checked once against
//! its own signature with its symbols abstract, and each optimizer body
//! with `p`, `g` and `t` in scope. The result, a [`DefInfo`], is what
//! callers see: parameter counts as polynomials over the signature's
//! symbols, and for models the calls the summary lists.

use crate::diag::Diagnostic;
use crate::syntax::ast::{Def, DefKind, DimExpr, DimKind, OptimizerDef, Param, Type};

use super::calls::scalar_ty;
use super::dims::Dim;
use super::expr::{Ctx, Scope};
use super::summary::ModelSummary;
use super::types::{Rest, Shape, Ty};
use super::unify::tensor_type_string;
use super::{Checker, DefInfo};

impl<'a> Checker<'a> {
    /// The checked summary of a definition, checking it on first use.
    pub fn def_info(&mut self, name: &str) -> DefInfo {
        if let Some(info) = self.defs.get(name) {
            return info.clone();
        }
        let Some((key, def)) = self.g.defs.get_key_value(name).map(|(k, d)| (*k, *d)) else {
            return DefInfo::default();
        };
        if self.active.contains(&key) {
            return DefInfo::default();
        }
        self.active.push(key);
        let info = self.check_def(def);
        self.active.pop();
        self.defs.insert(key, info.clone());
        info
    }

    fn check_def(&mut self, def: &'a Def) -> DefInfo {
        let ctx = match def.kind {
            DefKind::Layer => Ctx::Layer,
            DefKind::Fn => Ctx::Fn,
            DefKind::Model => Ctx::Model,
        };
        let mut sc = Scope::new(ctx);
        self.bind_signature(&def.params, &mut sc);
        self.check_rest(&def.ret);
        let result = self.block(&def.body, &mut sc);
        self.check_result(def, result, &mut sc);
        DefInfo {
            params: sc.params,
            states: sc.state_count,
            rows: sc.rows.unwrap_or_default(),
            divisions: sc.divisions,
        }
    }

    /// Makes every symbol of the parameters abstract and binds each
    /// parameter to its declared type.
    fn bind_signature(&mut self, params: &[Param], sc: &mut Scope) {
        let mut syms = Vec::new();
        let mut has_rest = false;
        for p in params {
            self.check_rest(&p.ty);
            type_symbols(&p.ty, &mut syms, &mut has_rest);
        }
        for s in syms {
            sc.env.dims.insert(s.clone(), Some(Dim::sym(&s)));
        }
        if has_rest {
            sc.env.rest = Some(Shape {
                rest: Some(Rest::Named("...".into())),
                dims: vec![],
            });
        }
        for p in params {
            if let Some(d) = &p.default {
                let mut tmp = Scope::new(Ctx::Fn);
                tmp.env.dims = sc.env.dims.clone();
                self.expr(d, &mut tmp);
            }
            let t = self.param_ty(&p.ty, sc);
            sc.vars.insert(p.name.name.clone(), t);
        }
    }

    fn param_ty(&mut self, t: &Type, sc: &Scope) -> Ty {
        match t {
            Type::Tensor(tt) => {
                match sc.env.instantiate(tt) {
                    Ok(s) => Ty::Tensor(tt.dtype, s),
                    Err(super::unify::DimErr::Div(e, d)) => self.report(
                        super::calls::division_error(&e, &d, tt.span, "the signature"),
                    ),
                    Err(_) => Ty::Tensor(tt.dtype, Shape::unknown()),
                }
            }
            Type::Dim(o) => match sc.env.dims.get(&o.name) {
                Some(d) => Ty::Int(d.clone()),
                None => Ty::Int(None),
            },
            Type::Scalar(s, _) => scalar_ty(*s),
            Type::Tuple(ts, _) => Ty::Tuple(ts.iter().map(|t| self.param_ty(t, sc)).collect()),
        }
    }

    /// `...` stands for leading dimensions: first, and once per type.
    fn check_rest(&mut self, t: &Type) {
        match t {
            Type::Tensor(tt) => {
                for (i, d) in tt.dims.iter().flatten().enumerate() {
                    if d.kind == DimKind::Rest && i > 0 {
                        self.report(
                            Diagnostic::error(
                                "type::rest",
                                "`...` must come first in a tensor type",
                                d.span,
                            )
                            .with_label("not the first dimension")
                            .with_help(
                                "`...` stands for any number of leading dimensions: `f32[..., D]`",
                            ),
                        );
                    }
                }
            }
            Type::Tuple(ts, _) => ts.iter().for_each(|t| self.check_rest(t)),
            Type::Dim(_) | Type::Scalar(..) => {}
        }
    }

    /// The body's value against the declared return type; the return
    /// type's own symbols are bound by the body.
    fn check_result(&mut self, def: &Def, result: Ty, sc: &mut Scope) {
        let span = def.body.result.span;
        let declared = &def.ret;
        if let (Type::Tensor(tt), Some((dtype, shape))) = (declared, result.as_tensor()) {
            let issue = if matches!(result, Ty::Tensor(..)) && dtype != tt.dtype {
                Some(format!("element type {}", super::types::dtype_name(dtype)))
            } else {
                match sc.env.unify_shape(tt, &shape) {
                    Ok(d) => sc.env.settle(d).err().map(|i| super::calls::issue_text(&i)),
                    Err(i) => Some(super::calls::issue_text(&i)),
                }
            };
            if let Some(issue) = issue {
                let mut d = Diagnostic::error(
                    "shape::mismatch",
                    format!(
                        "`{}` returns {result} but its signature says {}",
                        def.name.name,
                        tensor_type_string(tt)
                    ),
                    span,
                )
                .with_label(issue)
                .with_related(tt.span, "declared here");
                d = d.with_help(return_help(tt, &shape));
                self.report(d);
            }
            return;
        }
        let what = format!("the result of `{}`", def.name.name);
        self.check_declared(declared, result, span, sc, &what);
    }

    pub fn check_optimizer(&mut self, o: &OptimizerDef) {
        let mut sc = Scope::new(Ctx::Optimizer);
        for p in &o.params {
            if let Some(d) = &p.default {
                let mut tmp = Scope::new(Ctx::Fn);
                self.expr(d, &mut tmp);
            }
            let t = self.param_ty(&p.ty, &sc);
            sc.vars.insert(p.name.name.clone(), t);
        }
        let param = Ty::Tensor(
            crate::syntax::ast::DType::F32,
            Shape {
                rest: Some(Rest::Named("p".into())),
                dims: vec![],
            },
        );
        sc.vars.insert("p".into(), param.clone());
        sc.vars.insert("g".into(), param.clone());
        sc.vars.insert("t".into(), Ty::Float(None));
        let out = self.block(&o.body, &mut sc);
        let ok = match &out {
            Ty::Tensor(_, s) => super::shapes::broadcast(
                s,
                &Shape {
                    rest: Some(Rest::Named("p".into())),
                    dims: vec![],
                },
            )
            .is_ok(),
            t => t.is_number() || *t == Ty::Error,
        };
        if !ok {
            self.report(
                super::expr::kind_error(
                    "an optimizer's body must give the parameter's new value",
                    &out,
                    o.body.result.span,
                )
                .with_help("end the body with the updated parameter, such as `p - lr * g`"),
            );
        }
    }

    /// The summary row list of a model, from its checked body.
    pub fn model_summary(&mut self, def: &Def) -> Option<ModelSummary> {
        let info = self.def_info(&def.name.name);
        Some(ModelSummary::new(def, info))
    }
}

fn type_symbols(t: &Type, out: &mut Vec<String>, rest: &mut bool) {
    match t {
        Type::Tensor(tt) => {
            for d in tt.dims.iter().flatten() {
                dim_symbols(d, out, rest);
            }
        }
        Type::Dim(o) => {
            if !out.contains(&o.name) {
                out.push(o.name.clone());
            }
        }
        Type::Tuple(ts, _) => ts.iter().for_each(|t| type_symbols(t, out, rest)),
        Type::Scalar(..) => {}
    }
}

fn dim_symbols(d: &DimExpr, out: &mut Vec<String>, rest: &mut bool) {
    match &d.kind {
        DimKind::Var(v) => {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        DimKind::Rest => *rest = true,
        DimKind::Bin(_, a, b) => {
            dim_symbols(a, out, rest);
            dim_symbols(b, out, rest);
        }
        DimKind::Const(_) => {}
    }
}

/// How to fix a body whose result has the wrong shape.
fn return_help(tt: &crate::syntax::ast::TensorType, found: &Shape) -> String {
    let declared_rank = tt.dims.as_ref().map_or(0, Vec::len);
    match found.rank() {
        Some(r) if r > declared_rank && declared_rank == 2 => {
            let tail = Shape { rest: None, dims: found.dims.get(1..).unwrap_or(&[]).to_vec() };
            let flat = tail.numel().map_or("?".into(), |d| d.to_string());
            format!("the result still has rank {r}: insert `flatten` before the first `dense` to turn {found} into [{}, {flat}]",
                found.dims.first().cloned().flatten().map_or("?".into(), |d| d.to_string()))
        }
        _ => "change the last layers so the result has the declared shape, or change the declared return type".into(),
    }
}
