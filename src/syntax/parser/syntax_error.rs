//! Turns pest's error into a diagnostic a person can act on.
//!
//! pest reports the set of rules it would have accepted at the failing
//! position. Those are grammar names (`dim_sum`, `kw_on`); here they become
//! the words a user knows ("a dimension", "`on`"), and the token actually
//! found is quoted.

use pest::error::{ErrorVariant, InputLocation};

use super::Rule;
use crate::diag::{Diagnostic, FileId, Span};

pub(super) fn syntax_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    let mut pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => describe(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    // pest's rule-level report stops where the last *rule* failed; the
    // detailed attempts also see literal tokens (`->`, `=`, `)`), which
    // usually sit further right and name exactly what was missing.
    if let Some(attempts) = err.parse_attempts() {
        if attempts.max_position >= pos {
            let tokens = literal_tokens(&attempts.expected_tokens());
            if !tokens.is_empty() {
                pos = attempts.max_position;
                expected = tokens;
            }
        }
    }
    let found = token_at(text, pos);
    let span = Span::new(
        file,
        pos,
        pos + found.len().max(usize::from(pos < text.len())),
    );
    if let Some(diag) = unclosed(file, text, pos, found) {
        return diag;
    }
    let found_text = if found.is_empty() {
        "the end of the file".to_string()
    } else {
        format!("`{found}`")
    };
    let mut diag = Diagnostic::error(
        "syntax::unexpected",
        format!("expected {expected}, found {found_text}"),
        span,
    )
    .with_label(format!("unexpected {found_text}"));
    if let Some(help) = hint(text, pos, found) {
        diag = diag.with_help(help);
    }
    diag
}

/// The punctuation pest tried at the farthest position, as `` `->` or `=` ``.
/// Whitespace and comment openers are noise; so are letters, which belong
/// to keyword checks that a person does not think of as a choice.
fn literal_tokens(expected: &[impl std::fmt::Display]) -> String {
    // Tokens that could continue an expression are summarised as one word:
    // listing twenty operators helps nobody.
    const CONTINUATIONS: &[&str] = &[
        "!", "!=", "%", "&&", "*", "+", "-", "..", "/", "<", "<=", "==", ">", ">=", "@", "^", "|>",
        "||", "\"", "(", "[", ".",
    ];
    let mut tokens: Vec<String> = Vec::new();
    let mut operator = false;
    for token in expected {
        let text = token.to_string();
        let noise = text.trim().is_empty()
            || text.starts_with("//")
            || text.chars().any(|c| c.is_alphanumeric() || c == '_')
            || text.contains("..") && text.len() == 4;
        if CONTINUATIONS.contains(&text.as_str()) {
            operator = true;
        } else if !noise && !tokens.contains(&text) {
            tokens.push(format!("`{text}`"));
        }
    }
    if operator {
        tokens.push("an operator".to_string());
    }
    match tokens.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token starting at `pos`: a word, a number, or one symbol.
fn token_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos..).unwrap_or("");
    let word = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
        .map_or(rest.len(), |(i, _)| i);
    if word > 0 {
        return &rest[..word];
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

/// A readable list of what the grammar wanted.
fn describe(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for rule in rules {
        let name = rule_name(*rule);
        if !names.contains(&name) && name != "something else" {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the file",
        Rule::def
        | Rule::def_kind
        | Rule::optimizer_def
        | Rule::data_def
        | Rule::train_def
        | Rule::eval_def => {
            "an item (`layer`, `fn`, `model`, `optimizer`, `data`, `train`, `evaluate`)"
        }
        Rule::use_decl | Rule::kw_use => "`use`",
        Rule::ident | Rule::dim_binder => "a name",
        Rule::params | Rule::param => "a parameter",
        Rule::type_ | Rule::tensor_type | Rule::dtype | Rule::scalar_type | Rule::tuple_type => {
            "a type (`f32[...]`, `i32[...]`, `int`, `float`, `bool`, `str`)"
        }
        Rule::dims | Rule::dim_rest | Rule::dim_sum | Rule::dim_prod => "a dimension",
        Rule::dim_add_op | Rule::dim_mul_op => "a dimension operator",
        Rule::block => "a block `{ ... }`",
        Rule::param_stmt | Rule::state_stmt | Rule::let_stmt | Rule::update_stmt => "a statement",
        Rule::data_field => "a data field `name: type = value`",
        Rule::setting => "a setting `key = value`",
        Rule::expr | Rule::postfix_expr | Rule::primary | Rule::call | Rule::paren | Rule::list => {
            "an expression"
        }
        Rule::int_lit | Rule::float_lit => "a number",
        Rule::string | Rule::string_inner => "a string",
        Rule::bool_lit => "`true` or `false`",
        Rule::neg | Rule::not => "an operand",
        Rule::pipe
        | Rule::range
        | Rule::or
        | Rule::and
        | Rule::eq
        | Rule::ne
        | Rule::le
        | Rule::ge
        | Rule::lt
        | Rule::gt
        | Rule::add
        | Rule::sub
        | Rule::mul
        | Rule::div
        | Rule::rem
        | Rule::matmul
        | Rule::pow => "an operator",
        Rule::kw_on => "`on`",
        Rule::kw_over => "`over`",
        Rule::kw_in => "`in`",
        Rule::kw_along => "`along`",
        Rule::kw_else => "`else`",
        Rule::args | Rule::arg => "an argument",
        Rule::index_items | Rule::index_item | Rule::index_range => "an index",
        Rule::carry => "a carry `name = value`",
        Rule::pattern => "a name or a tuple pattern",
        _ => "something else",
    }
}

/// Advice for the mistakes people make most, judged from the text.
fn hint(text: &str, pos: usize, found: &str) -> Option<String> {
    let before = text.get(..pos).unwrap_or("").trim_end();
    if found == "="
        && before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
        && inside_parens(before)
    {
        return Some("a named argument is written `name: value`, not `name=value`".into());
    }
    if found == ":" && matches!(enclosing_item(before), Some("train" | "evaluate")) {
        return Some("settings in `train` and `evaluate` blocks are written `key = value`".into());
    }
    if found == "}" && expected_expression(text, pos) {
        return Some(
            "a block ends with an expression, its value; a last line that starts with `-` is read as \
             continuing the line above, so write it in parentheses: `(-x)`"
                .into(),
        );
    }
    if found == ";" {
        return Some("dlm needs no `;`: put each statement on its own line".into());
    }
    if before.ends_with(',') && (found == ")" || found == "]") {
        return None;
    }
    if found == "def" || found == "class" || found == "return" {
        return Some(format!("`{found}` is not dlm: a definition is `layer`, `fn` or `model`, and a block's last expression is its value"));
    }
    None
}

/// The keyword of the last item that starts a line before the error.
fn enclosing_item(before: &str) -> Option<&str> {
    before.lines().rev().find_map(|line| {
        let word = line.split_whitespace().next()?;
        [
            "layer",
            "fn",
            "model",
            "optimizer",
            "data",
            "train",
            "evaluate",
        ]
        .into_iter()
        .find(|k| *k == word)
    })
}

/// Whether the error at `pos` is a block that ended without a value.
fn expected_expression(text: &str, pos: usize) -> bool {
    let before = text.get(..pos).unwrap_or("").trim_end();
    !before.ends_with('{') && !before.ends_with(',')
}

/// An opening bracket left open when a closing `}` or the end of the file
/// arrives: report the opener, which is where the mistake is.
fn unclosed(file: FileId, text: &str, pos: usize, found: &str) -> Option<Diagnostic> {
    if !(found == "}" || found.is_empty()) {
        return None;
    }
    let (open, at) = *open_brackets(text.get(..pos)?).last()?;
    if open == '{' {
        return None;
    }
    let close = if open == '(' { ')' } else { ']' };
    Some(
        Diagnostic::error(
            "syntax::unclosed",
            format!("unclosed `{open}`"),
            Span::new(file, at, at + 1),
        )
        .with_label("opened here")
        .with_related(
            Span::new(file, pos, pos + found.len()),
            format!("expected `{close}` before this"),
        )
        .with_help(format!("add the missing `{close}`")),
    )
}

/// The brackets still open at the end of `text`, skipping strings and
/// comments, each with its byte offset.
fn open_brackets(text: &str) -> Vec<(char, usize)> {
    let mut stack = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' | '[' | '{' => stack.push((c, i)),
            ')' | ']' | '}' => {
                stack.pop();
            }
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek().is_some_and(|(_, c)| *c == '/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    stack
}

/// Whether the innermost open bracket at the end of `text` is a `(`.
fn inside_parens(text: &str) -> bool {
    open_brackets(text).last().is_some_and(|(c, _)| *c == '(')
}
