//! Parse: dlm text to [`ast::Program`]. The only module that sees pest.
//!
//! pest checks the text against `grammar/dlm.pest` and yields a tree of
//! `Pair`s; the functions here turn that tree into the AST, one function per
//! grammar rule. Expressions go through a `PrattParser` that applies operator
//! precedence, and `x |> f(a)` is rewritten to the call `f(x, a)` here, so no
//! later stage sees a pipe.
//!
//! pest stops at the first syntax error, so a file yields at most one syntax
//! diagnostic; a file with a syntax error yields an empty program.

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use super::ast::*;
use crate::diag::{Diagnostic, FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/dlm.pest"]
struct DlmParser;

/// Parses one file. Returns the program and any syntax diagnostics; on a
/// syntax error the program is empty.
pub fn parse(file: FileId, text: &str) -> (Program, Vec<Diagnostic>) {
    // Detailed attempts let syntax errors name the literal token that was
    // missing. The switch is process-wide in pest; setting it is idempotent.
    pest::set_error_detail(true);
    match DlmParser::parse(Rule::program, text) {
        Ok(mut pairs) => {
            let mut cx = Cx {
                file,
                diags: Vec::new(),
            };
            let program = match pairs.next() {
                Some(root) => cx.program(root),
                None => Program::default(),
            };
            (program, cx.diags)
        }
        Err(err) => (Program::default(), vec![syntax_error(file, text, err)]),
    }
}

struct Cx {
    file: FileId,
    diags: Vec<Diagnostic>,
}

impl Cx {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn program(&mut self, root: Pair<Rule>) -> Program {
        let mut program = Program::default();
        let mut inner_docs = Vec::new();
        for pair in root.into_inner() {
            match pair.as_rule() {
                Rule::inner_doc => inner_docs.push(doc_text(pair.as_str(), "//!")),
                Rule::use_decl => program.items.push(Item::Use(self.use_decl(pair))),
                Rule::def => program.items.push(Item::Def(self.def(pair))),
                Rule::optimizer_def => program.items.push(Item::Optimizer(self.optimizer(pair))),
                Rule::data_def => program.items.push(Item::Data(self.data(pair))),
                Rule::train_def => program.items.push(Item::Train(self.train(pair))),
                Rule::eval_def => program.items.push(Item::Evaluate(self.evaluate(pair))),
                _ => {}
            }
        }
        if !inner_docs.is_empty() {
            program.doc = Some(inner_docs.join("\n"));
        }
        program
    }

    /// Splits off leading `doc` pairs and returns their joined text.
    fn docs<'a>(&self, pairs: &mut std::iter::Peekable<Pairs<'a, Rule>>) -> Option<String> {
        let mut lines = Vec::new();
        while let Some(pair) = pairs.next_if(|p| p.as_rule() == Rule::doc) {
            lines.push(doc_text(pair.as_str(), "///"));
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn use_decl(&mut self, pair: Pair<Rule>) -> UseDecl {
        let span = self.span(&pair);
        let mut path = Vec::new();
        let mut names = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => path.push(self.ident(p)),
                Rule::ident_list => names = p.into_inner().map(|i| self.ident(i)).collect(),
                _ => {}
            }
        }
        UseDecl { path, names, span }
    }

    fn def(&mut self, pair: Pair<Rule>) -> Def {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.docs(&mut inner);
        let kind = match inner.next().map(|p| p.as_str().to_string()).as_deref() {
            Some("layer") => DefKind::Layer,
            Some("fn") => DefKind::Fn,
            _ => DefKind::Model,
        };
        let name = self.ident(child_of(&mut inner));
        let params = self.params(child_of(&mut inner));
        let ret = self.type_(child_of(&mut inner));
        let body = self.block(child_of(&mut inner));
        Def {
            kind,
            doc,
            name,
            params,
            ret,
            body,
            span,
        }
    }

    fn params(&mut self, pair: Pair<Rule>) -> Vec<Param> {
        pair.into_inner().map(|p| self.param(p)).collect()
    }

    fn param(&mut self, pair: Pair<Rule>) -> Param {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.docs(&mut inner);
        let name = self.ident(child_of(&mut inner));
        let ty = self.type_(child_of(&mut inner));
        let default = inner.next().map(|p| self.expr(p));
        Param {
            doc,
            name,
            ty,
            default,
            span,
        }
    }

    fn optimizer(&mut self, pair: Pair<Rule>) -> OptimizerDef {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.docs(&mut inner);
        inner.next(); // the keyword
        let name = self.ident(child_of(&mut inner));
        let params = self.params(child_of(&mut inner));
        let body = self.block(child_of(&mut inner));
        OptimizerDef {
            doc,
            name,
            params,
            body,
            span,
        }
    }

    fn data(&mut self, pair: Pair<Rule>) -> DataDef {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.docs(&mut inner);
        inner.next(); // the keyword
        let name = self.ident(child_of(&mut inner));
        let items = inner
            .map(|p| match p.as_rule() {
                Rule::let_stmt => DataItem::Let(self.let_stmt(p)),
                _ => DataItem::Field(self.data_field(p)),
            })
            .collect();
        DataDef {
            doc,
            name,
            items,
            span,
        }
    }

    fn data_field(&mut self, pair: Pair<Rule>) -> DataField {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.docs(&mut inner);
        let name = self.ident(child_of(&mut inner));
        let ty = self.tensor_type(child_of(&mut inner));
        let value = self.expr(child_of(&mut inner));
        DataField {
            doc,
            name,
            ty,
            value,
            span,
        }
    }

    /// The shared shape of `train` and `evaluate`: keyword, model, `on`,
    /// data, settings.
    fn run_block(&mut self, pair: Pair<Rule>) -> (Ident, Ident, Vec<Setting>, Span) {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // the keyword
        let model = self.ident(child_of(&mut inner));
        inner.next(); // `on`
        let data = self.ident(child_of(&mut inner));
        let settings = inner.map(|p| self.setting(p)).collect();
        (model, data, settings, span)
    }

    fn train(&mut self, pair: Pair<Rule>) -> TrainDef {
        let (model, data, settings, span) = self.run_block(pair);
        TrainDef {
            model,
            data,
            settings,
            span,
        }
    }

    fn evaluate(&mut self, pair: Pair<Rule>) -> EvalDef {
        let (model, data, settings, span) = self.run_block(pair);
        EvalDef {
            model,
            data,
            settings,
            span,
        }
    }

    fn setting(&mut self, pair: Pair<Rule>) -> Setting {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let key = self.ident(child_of(&mut inner));
        let value = self.expr(child_of(&mut inner));
        Setting { key, value, span }
    }
}

/// The next child, which the grammar guarantees to exist. A panic here
/// means this file and `dlm.pest` disagree, which the parser tests catch.
fn child_of<'a>(pairs: &mut impl Iterator<Item = Pair<'a, Rule>>) -> Pair<'a, Rule> {
    pairs.next().expect("grammar guarantees this child")
}

/// The text of a doc comment line without its marker and one leading space.
fn doc_text(line: &str, marker: &str) -> String {
    let text = line.strip_prefix(marker).unwrap_or(line);
    text.strip_prefix(' ')
        .unwrap_or(text)
        .trim_end()
        .to_string()
}

/// The Pratt table: one line per precedence level, lowest first.
fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::pipe, Assoc::Left))
            .op(Op::infix(Rule::range, Assoc::Left))
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left)
                | Op::infix(Rule::div, Assoc::Left)
                | Op::infix(Rule::rem, Assoc::Left)
                | Op::infix(Rule::matmul, Assoc::Left))
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::not))
            .op(Op::infix(Rule::pow, Assoc::Right))
    })
}

mod expr;
mod syntax_error;
mod types;

use syntax_error::syntax_error;
