//! AST back to text, for reports: `dlc check`'s summary and the names of
//! `evaluate` baselines. Close to how the program was written, not a
//! formatter: `if` and `scan` bodies are elided.

use super::ast::{BinOp, Expr, ExprKind, IndexItem, UnOp};

/// An expression as (close to how) it was written: for summaries and for
/// naming baselines in reports.
pub fn expr_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Float(v) => format!("{v:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(id) => id.name.clone(),
        ExprKind::Unary(op, x) => format!(
            "{}{}",
            if *op == UnOp::Neg { "-" } else { "!" },
            expr_text(x)
        ),
        ExprKind::Binary(op, a, b) => format!("{} {} {}", expr_text(a), op_text(*op), expr_text(b)),
        ExprKind::Call { callee, args, .. } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{}: {}", n.name, expr_text(&a.value)),
                    None => expr_text(&a.value),
                })
                .collect();
            format!("{}({})", callee.name, args.join(", "))
        }
        ExprKind::Index(x, items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    IndexItem::Full(_) => ":".into(),
                    IndexItem::At(e) => expr_text(e),
                    IndexItem::Range(a, b, _) => format!(
                        "{}:{}",
                        a.as_ref().map(expr_text).unwrap_or_default(),
                        b.as_ref().map(expr_text).unwrap_or_default()
                    ),
                })
                .collect();
            format!("{}[{}]", expr_text(x), items.join(", "))
        }
        ExprKind::Field(x, f) => format!("{}.{}", expr_text(x), f.name),
        ExprKind::Tuple(xs) => format!(
            "({})",
            xs.iter().map(expr_text).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::List(xs) => format!(
            "[{}]",
            xs.iter().map(expr_text).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Range(a, b) => format!("{}..{}", expr_text(a), expr_text(b)),
        ExprKind::If(..) => "if ...".into(),
        ExprKind::Scan(_) => "scan ...".into(),
    }
}

/// The operator as written.
pub fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        BinOp::Pow => "^",
        BinOp::MatMul => "@",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::And => "&&",
        BinOp::Or => "||",
    }
}
