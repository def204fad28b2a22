//! `train` and `evaluate` blocks: known keys, required keys, the kind of
//! each value, and the loss checked with the data fields bound to batches
//! `[B, ...]` so that the model's input and the labels meet their
//! signatures.

use crate::diag::Diagnostic;
use crate::syntax::ast::{DefKind, Expr, ExprKind, Ident, Setting};

use super::dims::Dim;
use super::expr::{kind_error, Ctx, Scope};
use super::names::{suggest, unknown};
use super::summary::{expr_text, TrainSummary};
use super::types::{Shape, Ty};
use super::Checker;

const TRAIN_KEYS: &[&str] = &[
    "loss",
    "optimizer",
    "epochs",
    "batch",
    "shuffle",
    "validate",
    "seed",
    "metrics",
    "schedule",
    "early_stopping",
    "regularize",
    "class_weights",
    "augment",
    "checkpoint",
];
const REQUIRED: &[&str] = &["loss", "optimizer", "epochs", "batch"];
const EVAL_KEYS: &[&str] = &["metrics", "baselines", "batch"];

/// The functions a setting may call, with `(argument, kind, required)`.
type Spec = &'static [(&'static str, Kind, bool)];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    PosInt,
    PosFloat,
    Bool,
    Str,
}

fn calls_of(key: &str) -> &'static [(&'static str, Spec)] {
    match key {
        "schedule" => &[
            (
                "step",
                &[
                    ("every", Kind::PosInt, true),
                    ("factor", Kind::PosFloat, false),
                ],
            ),
            ("exponential", &[("rate", Kind::PosFloat, true)]),
            ("cosine", &[("epochs", Kind::PosInt, false)]),
            (
                "reduce_on_plateau",
                &[
                    ("factor", Kind::PosFloat, false),
                    ("patience", Kind::PosInt, false),
                ],
            ),
        ],
        "early_stopping" => &[(
            "early_stopping",
            &[
                ("monitor", Kind::Str, false),
                ("patience", Kind::PosInt, false),
                ("restore_best", Kind::Bool, false),
                ("min_delta", Kind::PosFloat, false),
            ],
        )],
        "regularize" => &[
            ("l2", &[("factor", Kind::PosFloat, true)]),
            ("l1", &[("factor", Kind::PosFloat, true)]),
        ],
        "augment" => &[
            (
                "flip",
                &[
                    ("horizontal", Kind::Bool, false),
                    ("vertical", Kind::Bool, false),
                ],
            ),
            ("shift", &[("pixels", Kind::PosInt, true)]),
            ("noise", &[("std", Kind::PosFloat, true)]),
        ],
        _ => &[],
    }
}

/// The parts of a loss that metrics and class weights need.
struct LossInfo {
    pred: Ty,
    target: Ty,
}

impl Checker<'_> {
    pub fn check_train(&mut self, t: &crate::syntax::ast::TrainDef) -> TrainSummary {
        let mut sum = TrainSummary {
            kind: "train",
            model: t.model.name.clone(),
            data: t.data.name.clone(),
            ..TrainSummary::default()
        };
        let settings = self.settings(&t.settings, TRAIN_KEYS, "train");
        for key in REQUIRED {
            if !settings.iter().any(|s| s.key.name == *key) {
                self.report(
                    Diagnostic::error(
                        "train::missing_key",
                        format!("the train block has no `{key}`"),
                        t.model.span,
                    )
                    .with_label(format!("missing `{key}`"))
                    .with_help(required_help(key)),
                );
            }
        }
        let mut sc = self.block_scope(&t.model, &t.data);
        let mut loss = None;
        for s in &settings {
            let v = &s.value;
            match s.key.name.as_str() {
                "loss" => {
                    loss = self.loss(v, &t.model, &mut sc, &mut sum);
                    sum.loss = Some(expr_text(v));
                }
                "optimizer" => sum.optimizer = self.optimizer(v),
                "epochs" => sum.epochs = self.positive_int(s),
                "batch" => sum.batch = self.positive_int(s),
                "validate" => sum.validate = self.validate(s, &t.data.name),
                "shuffle" => self.literal(s, Kind::Bool),
                "seed" => self.literal(s, Kind::PosInt),
                "checkpoint" => self.literal(s, Kind::Str),
                "metrics" => sum.metrics = self.metrics(v, loss.as_ref(), &mut sc),
                "class_weights" => self.class_weights(v, loss.as_ref()),
                key @ ("schedule" | "early_stopping" | "regularize" | "augment") => {
                    self.setting_call(key, v);
                }
                _ => {}
            }
            if !matches!(
                s.key.name.as_str(),
                "loss" | "optimizer" | "epochs" | "batch" | "validate" | "metrics"
            ) {
                sum.settings.push((s.key.name.clone(), expr_text(v)));
            }
        }
        sum
    }

    pub fn check_evaluate(&mut self, e: &crate::syntax::ast::EvalDef) -> TrainSummary {
        let mut sum = TrainSummary {
            kind: "evaluate",
            model: e.model.name.clone(),
            data: e.data.name.clone(),
            ..TrainSummary::default()
        };
        let settings = self.settings(&e.settings, EVAL_KEYS, "evaluate");
        let mut sc = self.block_scope(&e.model, &e.data);
        for s in &settings {
            match s.key.name.as_str() {
                "metrics" => sum.metrics = self.metrics(&s.value, None, &mut sc),
                "batch" => sum.batch = self.positive_int(s),
                _ => {
                    let ExprKind::List(items) = &s.value.kind else {
                        self.report(
                            Diagnostic::error(
                                "train::invalid",
                                "`baselines` is a list of predictions",
                                s.value.span,
                            )
                            .with_label("not a list"),
                        );
                        continue;
                    };
                    for i in items {
                        let t = self.expr(i, &mut sc);
                        if t.as_tensor().is_none() && t != Ty::Error {
                            self.report(kind_error("a baseline is a prediction", &t, i.span));
                        }
                    }
                    sum.settings.push(("baselines".into(), expr_text(&s.value)));
                }
            }
        }
        sum
    }

    /// Known keys, each once; returns the valid settings.
    fn settings<'s>(&mut self, all: &'s [Setting], keys: &[&str], block: &str) -> Vec<&'s Setting> {
        let mut out: Vec<&Setting> = Vec::new();
        for s in all {
            let k = s.key.name.as_str();
            if !keys.contains(&k) {
                let d = Diagnostic::error(
                    "train::unknown_key",
                    format!("unknown setting `{k}` in a {block} block"),
                    s.key.span,
                )
                .with_label("unknown setting");
                let d = match suggest(k, keys.iter().copied()) {
                    Some(sug) => d.with_help(format!("did you mean `{sug}`?")),
                    None => d.with_help(format!("{block} settings: {}", keys.join(", "))),
                };
                self.report(d);
            } else if let Some(prev) = out.iter().find(|p| p.key.name == k) {
                let prev = prev.key.span;
                self.report(
                    Diagnostic::error(
                        "name::duplicate",
                        format!("setting `{k}` is given twice"),
                        s.key.span,
                    )
                    .with_label("second value")
                    .with_related(prev, "first given here"),
                );
            } else {
                out.push(s);
            }
        }
        out
    }

    /// The model and data set of a block: the fields as batches `[B, ...]`.
    fn block_scope(&mut self, model: &Ident, data: &Ident) -> Scope {
        let mut sc = Scope::new(Ctx::Train);
        match self.g.defs.get(model.name.as_str()) {
            Some(d) if d.kind == DefKind::Model => {}
            Some(d) => {
                let kind = if d.kind == DefKind::Layer {
                    "a layer"
                } else {
                    "a fn"
                };
                self.report(
                    Diagnostic::error(
                        "type::kind",
                        format!("`{}` is {kind}, not a model", model.name),
                        model.span,
                    )
                    .with_label("not a model")
                    .with_related(d.name.span, "defined here")
                    .with_help("train and evaluate name a `model`; wrap the layer in one"),
                );
            }
            None => {
                let models: Vec<&str> = self
                    .g
                    .defs
                    .iter()
                    .filter(|(_, d)| d.kind == DefKind::Model)
                    .map(|(n, _)| *n)
                    .collect();
                self.report(unknown("model", &model.name, model.span, &models));
            }
        }
        if !self.g.data.contains_key(data.name.as_str()) {
            let sets: Vec<&str> = self.g.data.keys().copied().collect();
            self.report(unknown("data set", &data.name, data.span, &sets));
            return sc;
        }
        sc.env.dims.insert("B".into(), Some(Dim::sym("B")));
        for (name, t) in self.data_info(&data.name).fields {
            sc.vars.insert(name, batched(&t));
        }
        sc
    }

    fn loss(
        &mut self,
        v: &Expr,
        model: &Ident,
        sc: &mut Scope,
        sum: &mut TrainSummary,
    ) -> Option<LossInfo> {
        let ExprKind::Call { args, .. } = &v.kind else {
            self.report(
                Diagnostic::error(
                    "train::invalid",
                    "the loss must be a call such as `cross_entropy(Model(x), y)`",
                    v.span,
                )
                .with_label("not a call"),
            );
            return None;
        };
        if !calls_model(v, &model.name) {
            self.report(
                Diagnostic::error(
                    "train::invalid",
                    format!("the loss never calls the model `{}`", model.name),
                    v.span,
                )
                .with_label("the model is not used")
                .with_help(format!(
                    "apply the model to an input field: `mse({}(x), y)`",
                    model.name
                )),
            );
        }
        let t = self.expr(v, sc);
        sum.loss_type = Some(t.to_string());
        let ok = match &t {
            Ty::Tensor(crate::syntax::ast::DType::F32, s) => {
                s.is_scalar()
                    || (s.rank() == Some(1)
                        && s.dims.first().cloned().flatten() == Some(Dim::sym("B")))
            }
            Ty::Error | Ty::Float(_) => true,
            _ => false,
        };
        if !ok {
            self.report(
                Diagnostic::error("train::loss", format!("the loss is {t}, not one value per sample"), v.span)
                    .with_label(format!("this is {t}"))
                    .with_help("a loss returns f32[B] (averaged over the batch) or a scalar f32; reduce the extra axes with `mean(..., axis: 1)`"),
            );
        }
        if args.len() < 2 || args.iter().take(2).any(|a| a.name.is_some()) {
            return None;
        }
        let mut types = args.iter().take(2).map(|a| self.expr(&a.value, sc));
        let pred = types.next()?;
        let target = types.next()?;
        Some(LossInfo { pred, target })
    }

    fn optimizer(&mut self, v: &Expr) -> Option<String> {
        let (callee, args) = match &v.kind {
            ExprKind::Call { callee, args, .. } => (callee, args.as_slice()),
            ExprKind::Name(id) => (id, &[][..]),
            _ => {
                self.report(
                    Diagnostic::error(
                        "train::invalid",
                        "the optimizer must be a call such as `adam(lr: 1e-3)`",
                        v.span,
                    )
                    .with_label("not an optimizer"),
                );
                return None;
            }
        };
        let Some(opt) = self.g.optimizers.get(callee.name.as_str()).copied() else {
            let known: Vec<&str> = self.g.optimizers.keys().copied().collect();
            self.report(unknown("optimizer", &callee.name, callee.span, &known));
            return None;
        };
        let formals: Vec<super::calls::Formal> = opt
            .params
            .iter()
            .map(|p| super::calls::Formal {
                name: &p.name.name,
                required: p.default.is_none(),
                span: Some(p.name.span),
            })
            .collect();
        let slots = self.match_args(&callee.name, &formals, args, v.span)?;
        let mut parts = Vec::new();
        for (p, slot) in opt.params.iter().zip(&slots) {
            let e = slot
                .and_then(|i| args.get(i))
                .map(|a| &a.value)
                .or(p.default.as_ref());
            let Some(e) = e else { continue };
            let t = self.expr(e, &mut Scope::new(Ctx::Fn));
            let want = super::calls::scalar_ty_of(&p.ty);
            if let Some(want) = want {
                if !super::expr::ty_agree(&want, &t) {
                    self.report(kind_error(
                        &format!(
                            "`{}` of `{}` must be {}",
                            p.name.name,
                            callee.name,
                            want.describe()
                        ),
                        &t,
                        e.span,
                    ));
                }
            }
            parts.push(format!("{}: {}", p.name.name, expr_text(e)));
        }
        Some(format!("{}({})", callee.name, parts.join(", ")))
    }

    fn positive_int(&mut self, s: &Setting) -> Option<i64> {
        match &s.value.kind {
            ExprKind::Int(v) if *v > 0 => Some(*v),
            _ => {
                self.report(
                    Diagnostic::error(
                        "train::invalid",
                        format!("`{}` must be a positive int", s.key.name),
                        s.value.span,
                    )
                    .with_label("not a positive int")
                    .with_help(format!("for example `{} = 32`", s.key.name)),
                );
                None
            }
        }
    }

    fn literal(&mut self, s: &Setting, kind: Kind) {
        let ok = match (&s.value.kind, kind) {
            (ExprKind::Bool(_), Kind::Bool) => true,
            (ExprKind::Int(v), Kind::PosInt) => *v >= 0,
            (ExprKind::Str(p), Kind::Str) => !p.is_empty(),
            _ => false,
        };
        if !ok {
            self.report(
                Diagnostic::error(
                    "train::invalid",
                    format!("`{}` must be {}", s.key.name, kind_name(kind)),
                    s.value.span,
                )
                .with_label(format!("not {}", kind_name(kind))),
            );
        }
    }

    fn validate(&mut self, s: &Setting, train_data: &str) -> Option<String> {
        match &s.value.kind {
            ExprKind::Float(f) if *f > 0.0 && *f < 1.0 => {
                Some(format!("{f} of {train_data}, split off before training"))
            }
            ExprKind::Name(id) if self.g.data.contains_key(id.name.as_str()) => {
                let train = self.data_info(train_data);
                let val = self.data_info(&id.name);
                for (name, _) in &train.fields {
                    if !val.fields.iter().any(|(n, _)| n == name) {
                        self.report(
                            Diagnostic::error(
                                "train::invalid",
                                format!("validation data `{}` has no field `{name}`", id.name),
                                id.span,
                            )
                            .with_label(format!("no `{name}`"))
                            .with_help(format!(
                                "a validation set needs the same fields as `{train_data}`"
                            )),
                        );
                    }
                }
                Some(format!("the data set {}", id.name))
            }
            ExprKind::Name(id) => {
                let sets: Vec<&str> = self.g.data.keys().copied().collect();
                self.report(unknown("data set", &id.name, id.span, &sets));
                None
            }
            _ => {
                self.report(
                    Diagnostic::error("train::invalid", "`validate` must be a fraction in (0, 1) or a data set", s.value.span)
                        .with_label("not a fraction or a data set")
                        .with_help("`validate = 0.1` keeps 10% of the samples aside; `validate = my_test_data` uses another data block"),
                );
                None
            }
        }
    }

    fn metrics(&mut self, v: &Expr, loss: Option<&LossInfo>, sc: &mut Scope) -> Vec<String> {
        let items = match &v.kind {
            ExprKind::List(items) => items.as_slice(),
            _ => std::slice::from_ref(v),
        };
        let mut names = Vec::new();
        for item in items {
            let ExprKind::Name(id) = &item.kind else {
                self.report(
                    Diagnostic::error(
                        "train::invalid",
                        "a metric is the name of a function, such as `accuracy`",
                        item.span,
                    )
                    .with_label("not a name"),
                );
                continue;
            };
            let Some(def) = self
                .g
                .defs
                .get(id.name.as_str())
                .copied()
                .filter(|d| d.kind == DefKind::Fn)
            else {
                let fns: Vec<&str> = self
                    .g
                    .defs
                    .iter()
                    .filter(|(_, d)| d.kind == DefKind::Fn)
                    .map(|(n, _)| *n)
                    .collect();
                self.report(unknown("metric", &id.name, id.span, &fns));
                continue;
            };
            names.push(id.name.clone());
            if let Some(l) = loss {
                let mut given = vec![
                    Some((l.pred.clone(), id.span)),
                    Some((l.target.clone(), id.span)),
                ];
                given.resize(def.params.len().max(2), None);
                let before = self.diags.len();
                let saved_rows = sc.rows.take();
                self.apply_def(def, given, id.span, id.span, sc);
                sc.rows = saved_rows;
                if self.diags.len() > before {
                    if let Some(d) = self.diags.get_mut(before) {
                        d.message = format!(
                            "metric `{}` does not fit the loss' prediction {} and target {}: {}",
                            id.name, l.pred, l.target, d.message
                        );
                    }
                }
            }
        }
        names
    }

    fn class_weights(&mut self, v: &Expr, loss: Option<&LossInfo>) {
        let ExprKind::List(items) = &v.kind else {
            self.report(
                Diagnostic::error(
                    "train::invalid",
                    "`class_weights` is a list of numbers, one per class",
                    v.span,
                )
                .with_label("not a list"),
            );
            return;
        };
        if let Some(bad) = items
            .iter()
            .find(|i| !matches!(i.kind, ExprKind::Int(_) | ExprKind::Float(_)))
        {
            self.report(
                Diagnostic::error(
                    "train::invalid",
                    "a class weight must be a number",
                    bad.span,
                )
                .with_label("not a number"),
            );
            return;
        }
        let classes = loss.and_then(|l| match &l.pred {
            Ty::Tensor(_, s) if s.rest.is_none() && s.dims.len() >= 2 => {
                // One logit is a binary classifier: two classes.
                let c = s.dims.last().cloned().flatten().and_then(|d| d.as_const());
                c.map(|c| if c == 1 { 2 } else { c })
            }
            _ => None,
        });
        if let Some(c) = classes {
            if c != items.len() as i64 {
                self.report(
                    Diagnostic::error(
                        "train::invalid",
                        format!("{} class weights for {c} classes", items.len()),
                        v.span,
                    )
                    .with_label(format!("{} weights", items.len()))
                    .with_help(format!(
                        "the model predicts {c} classes; give one weight per class"
                    )),
                );
            }
        }
    }

    /// `schedule`, `early_stopping`, `regularize`, `augment`: calls of the
    /// functions the key allows, with valid argument names and kinds.
    fn setting_call(&mut self, key: &str, v: &Expr) {
        let items = match (&v.kind, key) {
            (ExprKind::List(items), "augment") => items.as_slice(),
            _ => std::slice::from_ref(v),
        };
        let allowed = calls_of(key);
        for item in items {
            let (callee, args) = match &item.kind {
                ExprKind::Call { callee, args, .. } => (callee, args.as_slice()),
                ExprKind::Name(id) => (id, &[][..]),
                _ => {
                    let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                    self.report(
                        Diagnostic::error(
                            "train::invalid",
                            format!("`{key}` must be a call of {}", names.join(", ")),
                            item.span,
                        )
                        .with_label("not a call"),
                    );
                    continue;
                }
            };
            let Some((_, spec)) = allowed.iter().find(|(n, _)| *n == callee.name) else {
                let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                self.report(unknown(
                    &format!("{key} function"),
                    &callee.name,
                    callee.span,
                    &names,
                ));
                continue;
            };
            let formals: Vec<super::calls::Formal> = spec
                .iter()
                .map(|(n, _, r)| super::calls::Formal {
                    name: n,
                    required: *r,
                    span: None,
                })
                .collect();
            let Some(slots) = self.match_args(&callee.name, &formals, args, item.span) else {
                continue;
            };
            for ((name, kind, _), slot) in spec.iter().zip(&slots) {
                let Some(a) = slot.and_then(|i| args.get(i)) else {
                    continue;
                };
                if !value_is(&a.value, *kind) {
                    self.report(
                        Diagnostic::error(
                            "train::invalid",
                            format!("`{name}` of `{}` must be {}", callee.name, kind_name(*kind)),
                            a.value.span,
                        )
                        .with_label(format!("not {}", kind_name(*kind))),
                    );
                }
            }
        }
    }
}

fn value_is(e: &Expr, kind: Kind) -> bool {
    match (&e.kind, kind) {
        (ExprKind::Int(v), Kind::PosInt) => *v > 0,
        (ExprKind::Int(v), Kind::PosFloat) => *v > 0,
        (ExprKind::Float(v), Kind::PosFloat) => *v > 0.0,
        (ExprKind::Bool(_), Kind::Bool) => true,
        (ExprKind::Str(_), Kind::Str) => true,
        _ => false,
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::PosInt => "a positive int",
        Kind::PosFloat => "a positive number",
        Kind::Bool => "`true` or `false`",
        Kind::Str => "a non-empty string",
    }
}

fn required_help(key: &str) -> String {
    match key {
        "loss" => "add `loss = cross_entropy(Model(x), y)` (or another loss of the prediction and the target)".into(),
        "optimizer" => "add `optimizer = adam(lr: 1e-3)`".into(),
        "epochs" => "add `epochs = 10`".into(),
        _ => "add `batch = 32`".into(),
    }
}

/// Whether the expression calls `model` somewhere.
fn calls_model(e: &Expr, model: &str) -> bool {
    match &e.kind {
        ExprKind::Call { callee, args, .. } => {
            callee.name == model || args.iter().any(|a| calls_model(&a.value, model))
        }
        ExprKind::Binary(_, a, b) => calls_model(a, model) || calls_model(b, model),
        ExprKind::Unary(_, a) | ExprKind::Index(a, _) | ExprKind::Field(a, _) => {
            calls_model(a, model)
        }
        ExprKind::Tuple(xs) | ExprKind::List(xs) => xs.iter().any(|x| calls_model(x, model)),
        _ => false,
    }
}

/// A field's type for one batch: the sample count becomes `B`.
fn batched(t: &Ty) -> Ty {
    match t {
        Ty::Tensor(d, s) if s.rest.is_none() && !s.dims.is_empty() => {
            let mut dims = s.dims.clone();
            if let Some(first) = dims.first_mut() {
                *first = Some(Dim::sym("B"));
            }
            Ty::Tensor(*d, Shape { rest: None, dims })
        }
        t => t.clone(),
    }
}
