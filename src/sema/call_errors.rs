//! The diagnostics of calls: an argument whose type does not fit its
//! parameter, and the text, codes and help of unification issues.

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{Def, DefKind, Param};

use super::types::{Shape, Ty};
use super::unify::{dim_expr_string, tensor_type_string, Env, Issue};
use super::Checker;

impl Checker<'_> {
    pub(super) fn arg_mismatch_text(
        &self,
        def: &Def,
        p: &Param,
        span: Span,
        issue: &Issue,
    ) -> Diagnostic {
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
    pub(super) fn arg_mismatch(
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

pub(super) fn dtype_help(
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
