//! Global names: every item of the program (standard library and user
//! file), duplicates, `use` declarations, and "did you mean" suggestions.

use std::collections::HashMap;

use crate::diag::{Diagnostic, FileId, Span};
use crate::syntax::ast::{DataDef, Def, Item, OptimizerDef, Program};

/// Every item by name. The user's file is the last one; the others are the
/// standard library.
pub struct Globals<'a> {
    pub defs: HashMap<&'a str, &'a Def>,
    pub optimizers: HashMap<&'a str, &'a OptimizerDef>,
    pub data: HashMap<&'a str, &'a DataDef>,
    /// The file the user wrote.
    pub user_file: Option<FileId>,
    /// Names defined by each std module (`nn` for `std/nn.dlm`).
    pub modules: HashMap<String, Vec<&'a str>>,
}

/// Names that are values without being items: initializers and `training`.
pub const INITIALIZERS: &[&str] = &[
    "zeros",
    "ones",
    "constant",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "uniform",
    "normal",
    "orthogonal",
];

impl<'a> Globals<'a> {
    pub fn collect(
        files: &'a [(FileId, Program)],
        names: &[String],
        diags: &mut Vec<Diagnostic>,
    ) -> Globals<'a> {
        let mut g = Globals {
            defs: HashMap::new(),
            optimizers: HashMap::new(),
            data: HashMap::new(),
            user_file: files.last().map(|(id, _)| *id),
            modules: HashMap::new(),
        };
        let mut first: HashMap<&'a str, (Span, bool)> = HashMap::new();
        for (i, (id, program)) in files.iter().enumerate() {
            let is_std = Some(*id) != g.user_file;
            let module = names
                .get(i)
                .and_then(|n| n.strip_prefix("std/"))
                .and_then(|n| n.strip_suffix(".dlm"))
                .map(str::to_string);
            for item in &program.items {
                let Some((name, span)) = item_name(item) else {
                    continue;
                };
                if let Some((prev, prev_std)) = first.get(name) {
                    diags.push(duplicate(name, span, *prev, *prev_std));
                    continue;
                }
                first.insert(name, (span, is_std));
                if let (true, Some(m)) = (is_std, &module) {
                    g.modules.entry(m.clone()).or_default().push(name);
                }
                match item {
                    Item::Def(d) => {
                        g.defs.insert(name, d);
                    }
                    Item::Optimizer(o) => {
                        g.optimizers.insert(name, o);
                    }
                    Item::Data(d) => {
                        g.data.insert(name, d);
                    }
                    Item::Use(_) | Item::Train(_) | Item::Evaluate(_) => {}
                }
            }
        }
        g
    }

    /// Checks `use std.nn.{dense}`: the module and each name exist.
    pub fn check_use(
        &self,
        path: &[crate::syntax::ast::Ident],
        names: &[crate::syntax::ast::Ident],
        diags: &mut Vec<Diagnostic>,
    ) {
        let Some(root) = path.first() else { return };
        if root.name != "std" {
            diags.push(
                Diagnostic::error(
                    "name::unknown",
                    format!("unknown library `{}`", root.name),
                    root.span,
                )
                .with_label("not a library")
                .with_help("only the standard library can be used: `use std.nn.{dense}`"),
            );
            return;
        }
        let Some(module) = path.get(1) else { return };
        let Some(defined) = self.modules.get(&module.name) else {
            let known: Vec<&str> = self.modules.keys().map(String::as_str).collect();
            diags.push(unknown("module", &module.name, module.span, &known));
            return;
        };
        for n in names {
            if !defined.contains(&n.name.as_str()) {
                diags.push(unknown(
                    &format!("name in `std.{}`", module.name),
                    &n.name,
                    n.span,
                    defined,
                ));
            }
        }
    }
}

fn item_name(item: &Item) -> Option<(&str, Span)> {
    match item {
        Item::Def(d) => Some((&d.name.name, d.name.span)),
        Item::Optimizer(o) => Some((&o.name.name, o.name.span)),
        Item::Data(d) => Some((&d.name.name, d.name.span)),
        Item::Use(_) | Item::Train(_) | Item::Evaluate(_) => None,
    }
}

fn duplicate(name: &str, span: Span, prev: Span, prev_std: bool) -> Diagnostic {
    if prev_std {
        Diagnostic::error(
            "name::duplicate",
            format!("`{name}` is already defined by the standard library"),
            span,
        )
        .with_label("reuses a std name")
        .with_related(prev, format!("`{name}` is defined here"))
        .with_help(format!(
            "std names are always in scope; rename yours (for example `my_{name}`)"
        ))
    } else {
        Diagnostic::error(
            "name::duplicate",
            format!("`{name}` is defined twice"),
            span,
        )
        .with_label("second definition")
        .with_related(prev, "first defined here")
        .with_help("names are global to the program; rename one of them")
    }
}

/// The closest of `candidates` to `name`, if any is close enough.
pub fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let close = strsim::levenshtein(name, c) <= (name.len().max(c.len()) / 3).max(1);
        if (score >= 0.85 || close) && best.is_none_or(|(s, b)| score > s || (score == s && c < b))
        {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `unknown {what} `{name}``, with a suggestion among `candidates`.
pub fn unknown(what: &str, name: &str, span: Span, candidates: &[&str]) -> Diagnostic {
    let d = Diagnostic::error("name::unknown", format!("unknown {what} `{name}`"), span)
        .with_label("not defined");
    match suggest(name, candidates.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d,
    }
}
