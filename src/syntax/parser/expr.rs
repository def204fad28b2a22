//! Expressions: the Pratt parser's callbacks, operands, and the pipe rewrite.

use pest::iterators::Pair;

use super::{child_of, pratt, Cx, Rule};
use crate::diag::Diagnostic;
use crate::syntax::ast::*;

impl Cx {
    pub(super) fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        // The Pratt parser takes its callbacks by value; they all need
        // `self`, so it is shared through a RefCell for the duration.
        let cx = std::cell::RefCell::new(self);
        let expr = pratt()
            .map_primary(|p| cx.borrow_mut().postfix_expr(p))
            .map_prefix(|op, rhs| {
                let span = cx.borrow().span(&op).to(rhs.span);
                let op = match op.as_rule() {
                    Rule::neg => UnOp::Neg,
                    _ => UnOp::Not,
                };
                Expr {
                    kind: ExprKind::Unary(op, Box::new(rhs)),
                    span,
                }
            })
            .map_infix(|lhs, op, rhs| cx.borrow_mut().infix(lhs, op, rhs))
            .parse(pair.into_inner());
        expr
    }

    fn infix(&mut self, lhs: Expr, op: Pair<Rule>, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        let op = match op.as_rule() {
            Rule::pipe => return self.pipe(lhs, rhs),
            Rule::range => {
                return Expr {
                    kind: ExprKind::Range(Box::new(lhs), Box::new(rhs)),
                    span,
                }
            }
            Rule::or => BinOp::Or,
            Rule::and => BinOp::And,
            Rule::eq => BinOp::Eq,
            Rule::ne => BinOp::Ne,
            Rule::lt => BinOp::Lt,
            Rule::le => BinOp::Le,
            Rule::gt => BinOp::Gt,
            Rule::ge => BinOp::Ge,
            Rule::add => BinOp::Add,
            Rule::sub => BinOp::Sub,
            Rule::mul => BinOp::Mul,
            Rule::div => BinOp::Div,
            Rule::rem => BinOp::Rem,
            Rule::matmul => BinOp::MatMul,
            _ => BinOp::Pow,
        };
        Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        }
    }

    /// `x |> f` is `f(x)`; `x |> f(a)` is `f(x, a)`. The call keeps the span
    /// of `f(a)` alone, so a diagnostic about the call points at that stage
    /// of the pipe rather than at the whole chain.
    fn pipe(&mut self, lhs: Expr, rhs: Expr) -> Expr {
        let piped_arg = |value: Expr| Arg {
            name: None,
            span: value.span,
            value,
        };
        match rhs.kind {
            ExprKind::Name(callee) => Expr {
                span: callee.span,
                kind: ExprKind::Call {
                    callee,
                    args: vec![piped_arg(lhs)],
                    piped: true,
                },
            },
            ExprKind::Call {
                callee,
                mut args,
                piped: false,
            } => {
                args.insert(0, piped_arg(lhs));
                Expr {
                    span: rhs.span,
                    kind: ExprKind::Call {
                        callee,
                        args,
                        piped: true,
                    },
                }
            }
            kind => {
                self.diags.push(
                    Diagnostic::error(
                        "syntax::pipe",
                        "the right side of `|>` must be a function or a call",
                        rhs.span,
                    )
                    .with_label("not a function")
                    .with_help("write `x |> f` or `x |> f(a, b)`; the value on the left becomes the first argument"),
                );
                Expr {
                    kind,
                    span: rhs.span,
                }
            }
        }
    }

    fn postfix_expr(&mut self, pair: Pair<Rule>) -> Expr {
        let mut inner = pair.into_inner();
        let mut expr = self.primary(child_of(&mut inner));
        for suffix in inner {
            let span = expr.span.to(self.span(&suffix));
            let kind = match suffix.as_rule() {
                Rule::index_suffix => {
                    let items = child_of(&mut suffix.into_inner());
                    let items = items.into_inner().map(|i| self.index_item(i)).collect();
                    ExprKind::Index(Box::new(expr), items)
                }
                _ => {
                    let field = self.ident(child_of(&mut suffix.into_inner()));
                    ExprKind::Field(Box::new(expr), field)
                }
            };
            expr = Expr { kind, span };
        }
        expr
    }

    fn index_item(&mut self, pair: Pair<Rule>) -> IndexItem {
        let item = child_of(&mut pair.into_inner());
        if item.as_rule() != Rule::index_range {
            return IndexItem::At(self.expr(item));
        }
        let span = self.span(&item);
        let mut start = None;
        let mut end = None;
        for bound in item.into_inner() {
            let value = self.expr(child_of(&mut bound.clone().into_inner()));
            match bound.as_rule() {
                Rule::range_start => start = Some(value),
                _ => end = Some(value),
            }
        }
        match (start, end) {
            (None, None) => IndexItem::Full(span),
            (start, end) => IndexItem::Range(start, end, span),
        }
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Expr {
        let pair = child_of(&mut pair.into_inner());
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::int_lit => ExprKind::Int(self.int(&pair).unwrap_or(0)),
            Rule::float_lit => {
                ExprKind::Float(pair.as_str().replace('_', "").parse().unwrap_or(f64::NAN))
            }
            Rule::bool_lit => ExprKind::Bool(pair.as_str() == "true"),
            Rule::string => ExprKind::Str(unescape(child_of(&mut pair.into_inner()).as_str())),
            Rule::ident => ExprKind::Name(self.ident(pair)),
            Rule::call => self.call(pair),
            Rule::paren => {
                let mut items: Vec<Expr> = pair.into_inner().map(|p| self.expr(p)).collect();
                if items.len() == 1 {
                    // Parentheses only group; keep the outer span.
                    let mut inner = items.remove(0);
                    inner.span = span;
                    return inner;
                }
                ExprKind::Tuple(items)
            }
            Rule::list => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::if_expr => return self.if_expr(pair),
            _ => self.scan(pair),
        };
        Expr { kind, span }
    }

    fn call(&mut self, pair: Pair<Rule>) -> ExprKind {
        let mut inner = pair.into_inner();
        let callee = self.ident(child_of(&mut inner));
        let args = child_of(&mut inner)
            .into_inner()
            .map(|arg| {
                let span = self.span(&arg);
                let mut parts: Vec<Pair<Rule>> = arg.into_inner().collect();
                let value = self.expr(parts.pop().expect("grammar guarantees an argument value"));
                let name = parts.pop().map(|n| self.ident(n));
                Arg { name, value, span }
            })
            .collect();
        ExprKind::Call {
            callee,
            args,
            piped: false,
        }
    }

    fn if_expr(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // `if`
        let cond = self.expr(child_of(&mut inner));
        let then = self.block(child_of(&mut inner));
        inner.next(); // `else`
        let other = child_of(&mut inner);
        let other = match other.as_rule() {
            Rule::block => self.block(other),
            // `else if ...`: a block whose value is the nested `if`.
            _ => {
                let nested = self.if_expr(other);
                Block {
                    stmts: Vec::new(),
                    span: nested.span,
                    result: Box::new(nested),
                }
            }
        };
        Expr {
            kind: ExprKind::If(Box::new(cond), then, other),
            span,
        }
    }

    fn scan(&mut self, pair: Pair<Rule>) -> ExprKind {
        let mut inner = pair.into_inner();
        let collect = child_of(&mut inner).as_str() == "collect";
        let mut carries = Vec::new();
        while inner.peek().is_some_and(|p| p.as_rule() == Rule::carry) {
            let mut carry = child_of(&mut inner).into_inner();
            let name = self.ident(child_of(&mut carry));
            let init = self.expr(child_of(&mut carry));
            carries.push((name, init));
        }
        inner.next(); // `over`
        let var = self.ident(child_of(&mut inner));
        inner.next(); // `in`
        let seq = self.expr(child_of(&mut inner));
        inner.next(); // `along`
        let axis = self.expr(child_of(&mut inner));
        let body = self.block(child_of(&mut inner));
        ExprKind::Scan(Box::new(Scan {
            collect,
            carries,
            var,
            seq,
            axis,
            body,
        }))
    }
}

/// The value of a string literal's inside: `\"`, `\\`, `\n`, `\t`; any other
/// escaped character stands for itself.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
