//! Calls: which function a name denotes and arguments against parameters
//! (arity, names, kinds); the callee's signature at the call is bound in
//! `signature`, and its diagnostics are written in `call_errors`.

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{Arg, Def, Ident, ScalarType, Type};

use super::expr::{kind_error, Scope};
use super::names::{suggest, INITIALIZERS};
use super::types::Ty;
use super::Checker;

pub use super::call_errors::{division_error, issue_text};

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

pub(super) fn scalar_name(s: ScalarType) -> &'static str {
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
