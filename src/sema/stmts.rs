//! Statements: `let` (with an optional declared type), `param` and `state`
//! (a declared shape and a known initializer), and `update` (states only).

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{
    DimExpr, DimKind, Expr, ExprKind, LetStmt, Pattern, Stmt, TensorType, Type, UpdateStmt, VarDecl,
};

use super::calls::scalar_ty;
use super::expr::{kind_error, ty_agree, Ctx, Scope};
use super::names::{suggest, INITIALIZERS};
use super::types::{Shape, Ty};
use super::unify::tensor_type_string;
use super::Checker;

impl Checker<'_> {
    pub fn stmt(&mut self, s: &Stmt, sc: &mut Scope) {
        match s {
            Stmt::Let(l) => self.let_(l, sc),
            Stmt::Param(d) => self.declare(d, false, sc),
            Stmt::State(d) => self.declare(d, true, sc),
            Stmt::Update(u) => self.update(u, sc),
        }
    }

    pub fn let_(&mut self, l: &LetStmt, sc: &mut Scope) {
        let mut t = self.expr(&l.value, sc);
        if let Some(declared) = &l.ty {
            t = self.check_declared(declared, t, l.value.span, sc, "the value");
        }
        self.bind(&l.pat, t, sc);
    }

    /// Matches a value against a declared type, binding the type's new
    /// symbols in the scope; returns the type the name gets.
    pub fn check_declared(
        &mut self,
        declared: &Type,
        t: Ty,
        span: Span,
        sc: &mut Scope,
        what: &str,
    ) -> Ty {
        let Type::Tensor(tt) = declared else {
            let want = match declared {
                Type::Scalar(s, _) => scalar_ty(*s),
                _ => return t,
            };
            if !ty_agree(&want, &t) {
                self.report(kind_error(&format!("{what} should be {want}"), &t, span));
            }
            return t;
        };
        let Some((dtype, shape)) = t.as_tensor() else {
            if t != Ty::Error {
                self.report(kind_error(
                    &format!("{what} should be a tensor {}", tensor_type_string(tt)),
                    &t,
                    span,
                ));
            }
            return self.declared_ty(tt, sc);
        };
        let issue = if matches!(t, Ty::Tensor(..)) && dtype != tt.dtype {
            Some(format!("element type {}", super::types::dtype_name(dtype)))
        } else {
            match sc.env.unify_shape(tt, &shape) {
                Ok(d) => sc.env.settle(d).err().map(|i| super::calls::issue_text(&i)),
                Err(i) => Some(super::calls::issue_text(&i)),
            }
        };
        if let Some(issue) = issue {
            self.report(
                Diagnostic::error(
                    "shape::mismatch",
                    format!("{what} is {t} but is declared {}", tensor_type_string(tt)),
                    span,
                )
                .with_label(issue)
                .with_related(tt.span, "declared here")
                .with_help("change the declared type, or the computation"),
            );
            return Ty::Error;
        }
        t
    }

    fn declared_ty(&mut self, tt: &TensorType, sc: &Scope) -> Ty {
        match sc.env.instantiate(tt) {
            Ok(s) => Ty::Tensor(tt.dtype, s),
            Err(_) => Ty::Error,
        }
    }

    pub fn bind(&mut self, p: &Pattern, t: Ty, sc: &mut Scope) {
        match (p, t) {
            (Pattern::Name(id), t) => {
                sc.vars.insert(id.name.clone(), t);
            }
            (Pattern::Tuple(ps, _), Ty::Tuple(ts)) if ps.len() == ts.len() => {
                for (p, t) in ps.iter().zip(ts) {
                    self.bind(p, t, sc);
                }
            }
            (Pattern::Tuple(ps, span), t) => {
                if t != Ty::Error {
                    self.report(
                        kind_error(
                            &format!(
                                "a pattern of {} names needs a tuple of {}",
                                ps.len(),
                                ps.len()
                            ),
                            &t,
                            *span,
                        )
                        .with_label(format!("{} names", ps.len())),
                    );
                }
                for p in ps {
                    self.bind(p, Ty::Error, sc);
                }
            }
        }
    }

    fn declare(&mut self, d: &VarDecl, state: bool, sc: &mut Scope) {
        let kw = if state { "state" } else { "param" };
        let allowed = match sc.ctx {
            Ctx::Layer | Ctx::Model => true,
            Ctx::Optimizer => state,
            Ctx::Fn | Ctx::Data | Ctx::Train => false,
        };
        if !allowed {
            let help = match sc.ctx {
                Ctx::Fn => "a `fn` is pure; make it a `layer` to give it parameters".to_string(),
                Ctx::Optimizer => {
                    "an optimizer's body declares `state`s only; the parameter is `p`".to_string()
                }
                _ => format!("`{kw}` belongs in a layer"),
            };
            self.report(
                Diagnostic::error(
                    "type::kind",
                    format!("`{kw}` is not allowed here"),
                    d.name.span,
                )
                .with_label(format!("`{kw}` {}", d.name.name))
                .with_help(help),
            );
        }
        if let Some(init) = &d.init {
            self.check_init(init, sc);
        }
        let ty = match &d.ty {
            Some(tt) => self.decl_type(tt, sc),
            None if sc.ctx == Ctx::Optimizer => sc.vars.get("p").cloned().unwrap_or(Ty::Error),
            None => self.report(
                Diagnostic::error(
                    "type::kind",
                    format!("`{kw} {}` needs a type", d.name.name),
                    d.name.span,
                )
                .with_label("no type")
                .with_help(format!("write `{kw} {}: f32[...] = zeros`", d.name.name)),
            ),
        };
        if let Ty::Tensor(_, s) = &ty {
            let n = s.numel();
            if state {
                Scope::count(&mut sc.state_count, n);
            } else {
                Scope::count(&mut sc.params, n);
            }
        }
        if state {
            sc.states.push(d.name.name.clone());
        }
        sc.vars.insert(d.name.name.clone(), ty);
    }

    /// A param's type: every symbol must come from the signature.
    fn decl_type(&mut self, tt: &TensorType, sc: &Scope) -> Ty {
        let mut unbound = Vec::new();
        for d in tt.dims.iter().flatten() {
            free_symbols(d, sc, &mut unbound);
        }
        if let Some((name, span)) = unbound.first() {
            let known: Vec<&str> = sc.env.dims.keys().map(String::as_str).collect();
            let mut diag = Diagnostic::error(
                "name::unknown",
                format!("unknown dimension `{name}`"),
                *span,
            )
            .with_label("not bound by the signature");
            diag = match suggest(name, known.iter().copied()) {
                Some(s) => diag.with_help(format!("did you mean `{s}`?")),
                None => diag.with_help("a parameter's size comes from the signature: a symbol of an input's type or a dimension parameter such as `units: O`"),
            };
            return self.report(diag);
        }
        match sc.env.instantiate(tt) {
            Ok(s) => Ty::Tensor(tt.dtype, s),
            Err(_) => Ty::Tensor(tt.dtype, Shape::unknown()),
        }
    }

    fn check_init(&mut self, e: &Expr, sc: &mut Scope) {
        match &e.kind {
            ExprKind::Name(id) if INITIALIZERS.contains(&id.name.as_str()) => {}
            ExprKind::Int(_) | ExprKind::Float(_) => {}
            ExprKind::Call { callee, .. }
                if matches!(callee.name.as_str(), "constant" | "uniform" | "normal") =>
            {
                self.expr(e, sc);
            }
            ExprKind::Name(id) | ExprKind::Call { callee: id, .. } => {
                let d = Diagnostic::error(
                    "name::unknown",
                    format!("unknown initializer `{}`", id.name),
                    id.span,
                )
                .with_label("not an initializer");
                let d = match suggest(&id.name, INITIALIZERS.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("initializers: {}", INITIALIZERS.join(", "))),
                };
                self.report(d);
            }
            _ => {
                self.report(
                    Diagnostic::error(
                        "type::kind",
                        "an initializer is a name such as `zeros` or a call such as `normal(0.02)`",
                        e.span,
                    )
                    .with_label("not an initializer")
                    .with_help(format!("initializers: {}", INITIALIZERS.join(", "))),
                );
            }
        }
    }

    fn update(&mut self, u: &UpdateStmt, sc: &mut Scope) {
        let t = self.expr(&u.value, sc);
        let name = &u.target.name;
        if !sc.states.contains(name) {
            let d = if sc.vars.contains_key(name) {
                Diagnostic::error("type::update", format!("`{name}` is not a state"), u.target.span)
                    .with_label("cannot be updated")
                    .with_help("only a `state` can be updated; a `param` is trained by the optimizer, and a `let` is fixed")
            } else {
                let d = Diagnostic::error(
                    "name::unknown",
                    format!("unknown state `{name}`"),
                    u.target.span,
                )
                .with_label("not declared");
                match suggest(name, sc.states.iter().map(String::as_str)) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!(
                        "declare it first: `state {name}: f32[...] = zeros`"
                    )),
                }
            };
            self.report(d);
            return;
        }
        let declared = sc.vars.get(name).cloned().unwrap_or(Ty::Error);
        if !ty_agree(&declared, &t) && !matches!(t, Ty::Float(_) | Ty::Int(_)) {
            let broadcasts = matches!((&declared, &t), (Ty::Tensor(_, a), Ty::Tensor(_, b)) if super::shapes::broadcast(a, b).is_ok_and(|s| super::unify::shapes_agree(&s, a)));
            if !(sc.ctx == Ctx::Optimizer && broadcasts) {
                self.report(
                    Diagnostic::error(
                        "shape::mismatch",
                        format!("state `{name}` is {declared} but is updated to {t}"),
                        u.value.span,
                    )
                    .with_label(format!("this is {t}"))
                    .with_related(u.target.span, format!("`{name}` is {declared}"))
                    .with_help("a state keeps its shape from step to step"),
                );
            }
        }
    }
}

/// Symbols of a dimension expression that the scope does not bind.
fn free_symbols(d: &DimExpr, sc: &Scope, out: &mut Vec<(String, Span)>) {
    match &d.kind {
        DimKind::Var(v) if !sc.env.dims.contains_key(v) => out.push((v.clone(), d.span)),
        DimKind::Bin(_, a, b) => {
            free_symbols(a, sc, out);
            free_symbols(b, sc, out);
        }
        DimKind::Const(_) | DimKind::Var(_) | DimKind::Rest => {}
    }
}
