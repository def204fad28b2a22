//! Types, dimensions, blocks and statements.

use pest::iterators::Pair;

use super::{child_of, Cx, Rule};
use crate::syntax::ast::*;

impl Cx {
    pub(super) fn type_(&mut self, pair: Pair<Rule>) -> Type {
        let span = self.span(&pair);
        let inner = child_of(&mut pair.into_inner());
        match inner.as_rule() {
            Rule::tensor_type => Type::Tensor(self.tensor_type(inner)),
            Rule::scalar_type => Type::Scalar(
                match inner.as_str() {
                    "int" => ScalarType::Int,
                    "float" => ScalarType::Float,
                    "bool" => ScalarType::Bool,
                    _ => ScalarType::Str,
                },
                span,
            ),
            Rule::tuple_type => {
                Type::Tuple(inner.into_inner().map(|t| self.type_(t)).collect(), span)
            }
            _ => Type::Dim(self.ident(child_of(&mut inner.into_inner()))),
        }
    }

    pub(super) fn tensor_type(&mut self, pair: Pair<Rule>) -> TensorType {
        let span = self.span(&pair);
        let has_brackets = pair.as_str().contains('[');
        let mut inner = pair.into_inner();
        let dtype = match child_of(&mut inner).as_str() {
            "f32" => DType::F32,
            "i32" => DType::I32,
            _ => DType::U8,
        };
        // `f32[]` and `f32` both mean a scalar; only the bracketed form has
        // a `dims` child when it lists dimensions.
        let dims = inner
            .next()
            .map(|d| d.into_inner().map(|p| self.dim(p)).collect());
        let dims = match (dims, has_brackets) {
            (Some(d), _) => Some(d),
            (None, true) => Some(Vec::new()),
            (None, false) => None,
        };
        TensorType { dtype, dims, span }
    }

    fn dim(&mut self, pair: Pair<Rule>) -> DimExpr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::dim_rest => DimExpr {
                kind: DimKind::Rest,
                span,
            },
            Rule::int_lit => DimExpr {
                kind: DimKind::Const(self.int(&pair).unwrap_or(0) as u64),
                span,
            },
            Rule::ident => DimExpr {
                kind: DimKind::Var(pair.as_str().to_string()),
                span,
            },
            Rule::dim_round => {
                let mut inner = pair.into_inner();
                let ceil = child_of(&mut inner).as_str() == "ceil";
                let arg = self.dim(child_of(&mut inner));
                match arg.kind {
                    DimKind::Bin(DimOp::Div, a, b) => DimExpr {
                        kind: DimKind::Bin(
                            if ceil {
                                DimOp::CeilDiv
                            } else {
                                DimOp::FloorDiv
                            },
                            a,
                            b,
                        ),
                        span,
                    },
                    // Rounding a whole number changes nothing.
                    _ => arg,
                }
            }
            // dim_sum and dim_prod: operands separated by operators, left
            // associative.
            _ => {
                let mut inner = pair.into_inner();
                let mut acc = self.dim(child_of(&mut inner));
                while let Some(op) = inner.next() {
                    let op = match op.as_str() {
                        "+" => DimOp::Add,
                        "-" => DimOp::Sub,
                        "*" => DimOp::Mul,
                        _ => DimOp::Div,
                    };
                    let rhs = self.dim(child_of(&mut inner));
                    let span = acc.span.to(rhs.span);
                    acc = DimExpr {
                        kind: DimKind::Bin(op, Box::new(acc), Box::new(rhs)),
                        span,
                    };
                }
                acc
            }
        }
    }

    pub(super) fn block(&mut self, pair: Pair<Rule>) -> Block {
        let span = self.span(&pair);
        let mut stmts = Vec::new();
        let mut result = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::param_stmt => stmts.push(Stmt::Param(self.var_decl(p))),
                Rule::state_stmt => stmts.push(Stmt::State(self.var_decl(p))),
                Rule::let_stmt => stmts.push(Stmt::Let(self.let_stmt(p))),
                Rule::update_stmt => stmts.push(Stmt::Update(self.update_stmt(p))),
                _ => result = Some(self.expr(p)),
            }
        }
        let result = Box::new(result.expect("grammar guarantees a block result"));
        Block {
            stmts,
            result,
            span,
        }
    }

    fn var_decl(&mut self, pair: Pair<Rule>) -> VarDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.docs(&mut inner);
        inner.next(); // the keyword
        let name = self.ident(child_of(&mut inner));
        let mut ty = None;
        let mut init = None;
        for p in inner {
            match p.as_rule() {
                Rule::tensor_type => ty = Some(self.tensor_type(p)),
                _ => init = Some(self.expr(p)),
            }
        }
        VarDecl {
            doc,
            name,
            ty,
            init,
            span,
        }
    }

    pub(super) fn let_stmt(&mut self, pair: Pair<Rule>) -> LetStmt {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        // A doc comment on a `let` documents nothing the tools show.
        self.docs(&mut inner);
        inner.next(); // the keyword
        let pat = self.pattern(child_of(&mut inner));
        let mut ty = None;
        let mut value = None;
        for p in inner {
            match p.as_rule() {
                Rule::type_ => ty = Some(self.type_(p)),
                _ => value = Some(self.expr(p)),
            }
        }
        LetStmt {
            pat,
            ty,
            value: value.expect("grammar guarantees a let value"),
            span,
        }
    }

    fn pattern(&mut self, pair: Pair<Rule>) -> Pattern {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        match inner.peek().map(|p| p.as_rule()) {
            Some(Rule::ident) => Pattern::Name(self.ident(child_of(&mut inner))),
            _ => Pattern::Tuple(inner.map(|p| self.pattern(p)).collect(), span),
        }
    }

    fn update_stmt(&mut self, pair: Pair<Rule>) -> UpdateStmt {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // the keyword
        let target = self.ident(child_of(&mut inner));
        let value = self.expr(child_of(&mut inner));
        UpdateStmt {
            target,
            value,
            span,
        }
    }
}

impl Cx {
    /// An integer literal, which may contain `_` separators. Reports a
    /// diagnostic and returns `None` when it does not fit.
    pub(super) fn int(&mut self, pair: &Pair<Rule>) -> Option<i64> {
        let value = pair.as_str().replace('_', "").parse::<i64>().ok();
        if value.is_none() {
            let span = self.span(pair);
            self.diags.push(
                crate::diag::Diagnostic::error(
                    "syntax::number",
                    "integer literal is too large",
                    span,
                )
                .with_label("does not fit in 64 bits"),
            );
        }
        value
    }
}
