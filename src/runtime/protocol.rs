//! The training protocol: a `train` block's settings read into plain data.
//!
//! `loss`, `optimizer` and `regularize` are compiled into the step graph
//! (`lower::train_spec` reads them); everything else — how
//! many epochs, batching, validation, schedules, early stopping, class
//! weights, augmentation, checkpoints — is run by the runtime around the
//! step and is parsed here. Every setting error is located at the setting.

use std::path::PathBuf;

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{Expr, ExprKind, Setting, TrainDef, UnOp};

/// A setting that cannot be used, located in the program.
#[derive(Debug)]
pub struct SettingError {
    pub message: String,
    pub span: Span,
}

impl SettingError {
    fn at(span: Span, message: impl Into<String>) -> SettingError {
        SettingError {
            message: message.into(),
            span,
        }
    }

    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic::error("train::setting", self.message.clone(), self.span)
            .with_label("in this setting")
            .with_help("see the `Train` section of docs/language.md for the accepted forms")
    }
}

type Result<T> = std::result::Result<T, SettingError>;

/// Metrics computed over the whole data set from predictions, not per sample.
pub const WHOLE_DATASET_METRICS: [&str; 2] = ["auc", "confusion_matrix"];

/// Where validation data comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Validate {
    /// The last fraction of the training data, held out before shuffling.
    Split(f64),
    /// Another data block.
    Data(String),
}

/// A learning-rate schedule: a factor on the optimizer's `lr` per epoch.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Step { every: usize, factor: f64 },
    Exponential { rate: f64 },
    Cosine { epochs: usize },
    ReduceOnPlateau { factor: f64, patience: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    /// `loss`, `val_loss`, or a metric with an optional `val_` prefix.
    pub monitor: String,
    pub patience: usize,
    pub restore_best: bool,
}

/// A random transformation of each training batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Augment {
    Flip { horizontal: bool, vertical: bool },
    Shift { pixels: usize },
    Noise { std: f32 },
}

/// Everything the runtime does around the step function.
#[derive(Clone, Debug)]
pub struct Protocol {
    pub epochs: usize,
    pub batch: usize,
    pub shuffle: bool,
    pub validate: Option<Validate>,
    pub seed: u32,
    pub metrics: Vec<String>,
    pub schedule: Option<Schedule>,
    pub early_stopping: Option<EarlyStopping>,
    pub class_weights: Option<Vec<f32>>,
    pub augment: Vec<Augment>,
    pub checkpoint: Option<PathBuf>,
    /// Where the loss setting is, for errors about the run as a whole.
    pub span: Span,
}

/// The metrics of a list that are per-sample functions.
pub fn per_sample(metrics: &[String]) -> Vec<String> {
    metrics
        .iter()
        .filter(|m| !WHOLE_DATASET_METRICS.contains(&m.as_str()))
        .cloned()
        .collect()
}

fn setting<'a>(settings: &'a [Setting], key: &str) -> Option<&'a Setting> {
    settings.iter().find(|s| s.key.name == key)
}

/// Reads every runtime setting of a `train` block.
pub fn protocol(def: &TrainDef) -> Result<Protocol> {
    let s = &def.settings;
    let required = |k: &str| {
        setting(s, k)
            .ok_or_else(|| SettingError::at(def.span, format!("the train block needs `{k} = ...`")))
    };
    let epochs = count(&required("epochs")?.value)?;
    let batch = count(&required("batch")?.value)?;
    if batch == 0 {
        return Err(SettingError::at(
            required("batch")?.value.span,
            "`batch` must be at least 1",
        ));
    }
    let get = |k: &str| setting(s, k).map(|s| &s.value);
    Ok(Protocol {
        epochs,
        batch,
        shuffle: get("shuffle").map(boolean).transpose()?.unwrap_or(true),
        validate: get("validate").map(validate).transpose()?,
        seed: get("seed").map(count).transpose()?.unwrap_or(0) as u32,
        metrics: get("metrics").map(names).transpose()?.unwrap_or_default(),
        schedule: get("schedule").map(|e| schedule(e, epochs)).transpose()?,
        early_stopping: get("early_stopping").map(early_stopping).transpose()?,
        class_weights: get("class_weights").map(numbers).transpose()?,
        augment: get("augment").map(augment).transpose()?.unwrap_or_default(),
        checkpoint: get("checkpoint")
            .map(string)
            .transpose()?
            .map(PathBuf::from),
        span: required("loss")?.span,
    })
}

/// The metric names of an `evaluate` block (or of any `metrics = [...]`).
pub fn names(e: &Expr) -> Result<Vec<String>> {
    list(e)?
        .iter()
        .map(|x| match &x.kind {
            ExprKind::Name(n) => Ok(n.name.clone()),
            _ => Err(SettingError::at(
                x.span,
                "expected a metric name such as `accuracy`",
            )),
        })
        .collect()
}

fn list(e: &Expr) -> Result<&[Expr]> {
    match &e.kind {
        ExprKind::List(xs) => Ok(xs),
        _ => Err(SettingError::at(e.span, "expected a list `[...]`")),
    }
}

fn number(e: &Expr) -> Result<f64> {
    match &e.kind {
        ExprKind::Int(v) => Ok(*v as f64),
        ExprKind::Float(v) => Ok(*v),
        ExprKind::Unary(UnOp::Neg, x) => number(x).map(|v| -v),
        _ => Err(SettingError::at(e.span, "expected a number")),
    }
}

fn count(e: &Expr) -> Result<usize> {
    match &e.kind {
        ExprKind::Int(v) if *v >= 0 => Ok(*v as usize),
        _ => Err(SettingError::at(e.span, "expected a whole number >= 0")),
    }
}

fn boolean(e: &Expr) -> Result<bool> {
    match &e.kind {
        ExprKind::Bool(b) => Ok(*b),
        _ => Err(SettingError::at(e.span, "expected `true` or `false`")),
    }
}

fn string(e: &Expr) -> Result<String> {
    match &e.kind {
        ExprKind::Str(s) => Ok(s.clone()),
        _ => Err(SettingError::at(e.span, "expected a string")),
    }
}

fn numbers(e: &Expr) -> Result<Vec<f32>> {
    list(e)?
        .iter()
        .map(|x| number(x).map(|v| v as f32))
        .collect()
}

/// A call `f(a, k: b)`: its name and an argument lookup by position or name.
struct Call<'a> {
    name: &'a str,
    args: &'a [crate::syntax::ast::Arg],
    span: Span,
}

impl<'a> Call<'a> {
    fn of(e: &'a Expr) -> Result<Call<'a>> {
        match &e.kind {
            ExprKind::Call { callee, args, .. } => Ok(Call {
                name: &callee.name,
                args,
                span: e.span,
            }),
            ExprKind::Name(n) => Ok(Call {
                name: &n.name,
                args: &[],
                span: e.span,
            }),
            _ => Err(SettingError::at(
                e.span,
                "expected a call such as `step(every: 10)`",
            )),
        }
    }

    fn arg(&self, pos: usize, name: &str) -> Option<&'a Expr> {
        let named = self
            .args
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == name));
        named
            .or_else(|| self.args.iter().filter(|a| a.name.is_none()).nth(pos))
            .map(|a| &a.value)
    }

    fn num(&self, pos: usize, name: &str, default: Option<f64>) -> Result<f64> {
        match (self.arg(pos, name), default) {
            (Some(e), _) => number(e),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(SettingError::at(
                self.span,
                format!("`{}` needs `{name}:`", self.name),
            )),
        }
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool> {
        self.arg(usize::MAX, name).map_or(Ok(default), boolean)
    }

    fn unknown(&self, what: &str, known: &str) -> SettingError {
        SettingError::at(
            self.span,
            format!("unknown {what} `{}`; expected {known}", self.name),
        )
    }
}

fn validate(e: &Expr) -> Result<Validate> {
    match &e.kind {
        ExprKind::Name(n) => Ok(Validate::Data(n.name.clone())),
        _ => {
            let f = number(e)?;
            if f > 0.0 && f < 1.0 {
                Ok(Validate::Split(f))
            } else {
                Err(SettingError::at(
                    e.span,
                    "a validation split is a fraction in (0, 1)",
                ))
            }
        }
    }
}

fn schedule(e: &Expr, epochs: usize) -> Result<Schedule> {
    let c = Call::of(e)?;
    Ok(match c.name {
        "step" => Schedule::Step {
            every: (c.num(0, "every", None)? as usize).max(1),
            factor: c.num(1, "factor", Some(0.5))?,
        },
        "exponential" => Schedule::Exponential {
            rate: c.num(0, "rate", None)?,
        },
        "cosine" => Schedule::Cosine {
            epochs: (c.num(0, "epochs", Some(epochs as f64))? as usize).max(1),
        },
        "reduce_on_plateau" => Schedule::ReduceOnPlateau {
            factor: c.num(0, "factor", Some(0.5))?,
            patience: c.num(1, "patience", Some(2.0))? as usize,
        },
        _ => {
            return Err(c.unknown(
                "schedule",
                "`step`, `exponential`, `cosine` or `reduce_on_plateau`",
            ))
        }
    })
}

fn early_stopping(e: &Expr) -> Result<EarlyStopping> {
    let c = Call::of(e)?;
    if c.name != "early_stopping" {
        return Err(c.unknown(
            "setting",
            "`early_stopping(monitor: \"val_loss\", patience: 3)`",
        ));
    }
    Ok(EarlyStopping {
        monitor: c
            .arg(0, "monitor")
            .map(string)
            .transpose()?
            .unwrap_or_else(|| "val_loss".into()),
        patience: c.num(1, "patience", Some(3.0))? as usize,
        restore_best: c.flag("restore_best", false)?,
    })
}

fn augment(e: &Expr) -> Result<Vec<Augment>> {
    list(e)?
        .iter()
        .map(|x| {
            let c = Call::of(x)?;
            Ok(match c.name {
                "flip" => Augment::Flip {
                    horizontal: c.flag("horizontal", true)?,
                    vertical: c.flag("vertical", false)?,
                },
                "shift" => Augment::Shift {
                    pixels: c.num(0, "pixels", Some(2.0))? as usize,
                },
                "noise" => Augment::Noise {
                    std: c.num(0, "std", None)? as f32,
                },
                _ => return Err(c.unknown("augmentation", "`flip`, `shift` or `noise`")),
            })
        })
        .collect()
}
