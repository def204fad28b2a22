//! One program's run: its `train` block, then each `evaluate` block.

use std::path::Path;

use super::data_block::{DataLoader, Dataset};
use super::engine::Engine;
use super::evaluate::{evaluate, external_fields, Evaluation};
use super::protocol::{self, per_sample, Validate};
use super::steps::{fields_of, Steps};
use super::train::{self, split_validation, Observer, Roles, RunOptions, Trained};
use super::RuntimeError;
use crate::diag::{FileId, Span};
use crate::lower::{Items, StepKind};
use crate::syntax::ast::{EvalDef, Expr, ExprKind, Item, Program, TrainDef};

/// What a run produced.
pub struct Outcome {
    pub trained: Trained,
    /// Every parameter and state name, in lowering's order, with the
    /// trained values in `trained.state`; for `--save`.
    pub param_names: Vec<String>,
    pub evaluations: Vec<Evaluation>,
}

/// The program's train block and evaluate blocks.
fn blocks(files: &[(FileId, Program)]) -> (Vec<&TrainDef>, Vec<&EvalDef>) {
    let mut trains = Vec::new();
    let mut evals = Vec::new();
    for (_, p) in files {
        for item in &p.items {
            match item {
                Item::Train(t) => trains.push(t),
                Item::Evaluate(e) => evals.push(e),
                _ => {}
            }
        }
    }
    (trains, evals)
}

/// The field the model is applied to in the loss (`x` in
/// `cross_entropy(Cnn(x), y)`) and the loss's target field (`y`).
fn roles(loss: &Expr, model: &str) -> Roles {
    fn input(e: &Expr, model: &str) -> Option<String> {
        let ExprKind::Call { callee, args, .. } = &e.kind else {
            return None;
        };
        if callee.name == model {
            if let Some(ExprKind::Name(n)) = args.first().map(|a| &a.value.kind) {
                return Some(n.name.clone());
            }
        }
        args.iter().find_map(|a| input(&a.value, model))
    }
    let labels = match &loss.kind {
        ExprKind::Call { args, .. } => match args
            .iter()
            .filter(|a| a.name.is_none())
            .nth(1)
            .map(|a| &a.value.kind)
        {
            Some(ExprKind::Name(n)) => Some(n.name.clone()),
            _ => None,
        },
        _ => None,
    };
    Roles {
        input: input(loss, model),
        labels,
    }
}

/// A program's train block ready to train: its settings, its data (split
/// for validation) and its step functions (nothing compiled yet).
pub struct Setup<'a> {
    pub def: &'a TrainDef,
    pub evals: Vec<&'a EvalDef>,
    pub protocol: protocol::Protocol,
    pub roles: Roles,
    pub loader: DataLoader<'a>,
    pub train: Dataset,
    pub val: Option<Dataset>,
    pub steps: Steps<'a>,
}

/// The program's (last) `train` block; without one, an error located at
/// its first `evaluate` block or else the start of the user's file.
pub(super) fn train_block(files: &[(FileId, Program)]) -> Result<&TrainDef, RuntimeError> {
    let (trains, evals) = blocks(files);
    trains.last().copied().ok_or_else(|| {
        let user_file = files.last().map(|(id, _)| Span::new(*id, 0, 0));
        let span = evals
            .first()
            .map(|e| e.span)
            .or(user_file)
            .unwrap_or_default();
        RuntimeError::Invalid {
            message: "the program has no `train` block to run".into(),
            span,
        }
    })
}

/// Reads the program's train block and loads its data.
pub fn setup<'a>(
    items: &'a Items<'a>,
    files: &'a [(FileId, Program)],
    engine: &'a dyn Engine,
    base_dir: &Path,
) -> Result<Setup<'a>, RuntimeError> {
    let def = train_block(files)?;
    let (_, evals) = blocks(files);
    let protocol = protocol::protocol(def)?;
    let mut spec = crate::lower::train_spec(def)?;
    spec.metrics = per_sample(&spec.metrics);
    let roles = roles(spec.loss, spec.model);
    let mut loader = DataLoader::new(items, base_dir);
    let data = loader.load(&def.data.name, def.data.span)?;
    let other = match &protocol.validate {
        Some(Validate::Data(name)) => Some(loader.load(name, protocol.span)?),
        _ => None,
    };
    let (train, val) = split_validation(data, &protocol.validate, other);
    if train.len == 0 {
        return Err(RuntimeError::Invalid {
            message: format!("data set `{}` has no training samples left", def.data.name),
            span: def.data.span,
        });
    }
    let steps = Steps::new(items, spec, fields_of(&train), engine);
    Ok(Setup {
        def,
        evals,
        protocol,
        roles,
        loader,
        train,
        val,
        steps,
    })
}

/// Trains the program's model and runs its evaluations.
pub fn run_program(
    files: &[(FileId, Program)],
    engine: &dyn Engine,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Outcome, RuntimeError> {
    let items = Items::new(files);
    let mut s = setup(&items, files, engine, &options.base_dir)?;
    if let Some(b) = options.batch {
        s.protocol.batch = b.max(1);
    }
    let batch = s.protocol.batch.min(s.train.len);
    s.steps.lower_train(batch)?;
    observer.compiled(batch, s.steps.kernels(StepKind::Train, batch));
    let mut trained = train::train(
        &mut s.steps,
        &s.protocol,
        &s.roles,
        &s.train,
        s.val.as_ref(),
        options,
        observer,
    )?;
    let param_names = s.steps.params.iter().map(|p| p.name.clone()).collect();
    let mut evaluations = Vec::new();
    for e in &s.evals {
        evaluations.push(run_evaluation(
            e,
            s.def,
            &s.protocol,
            &items,
            engine,
            &mut s.loader,
            &mut trained,
        )?);
    }
    Ok(Outcome {
        trained,
        param_names,
        evaluations,
    })
}

fn run_evaluation(
    e: &EvalDef,
    def: &TrainDef,
    protocol: &protocol::Protocol,
    items: &Items,
    engine: &dyn Engine,
    loader: &mut DataLoader,
    trained: &mut Trained,
) -> Result<Evaluation, RuntimeError> {
    if e.model.name != def.model.name {
        return Err(RuntimeError::Invalid {
            message: format!(
                "`{}` is evaluated but the train block trains `{}`",
                e.model.name, def.model.name
            ),
            span: e.model.span,
        });
    }
    let get = |k: &str| {
        e.settings
            .iter()
            .find(|s| s.key.name == k)
            .map(|s| &s.value)
    };
    let metrics = get("metrics")
        .map(protocol::names)
        .transpose()?
        .unwrap_or_else(|| protocol.metrics.clone());
    let data = loader.load(&e.data.name, e.data.span)?;
    let mut spec = crate::lower::eval_spec(def, e)?;
    spec.metrics = per_sample(&spec.metrics);
    let mut lowered_baselines = crate::lower::baselines(e)?;
    let external = external_fields(&mut lowered_baselines, loader)?;
    let baselines = lowered_baselines.exprs.clone();
    let mut steps =
        Steps::new(items, spec, fields_of(&data), engine).with_baselines(lowered_baselines);
    evaluate(
        &mut steps,
        &mut trained.state,
        &data,
        protocol.batch,
        &metrics,
        &baselines,
        &external,
    )
}
