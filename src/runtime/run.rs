//! One program's run: its `train` block, then each `evaluate` block.

use super::data_block::DataLoader;
use super::engine::Engine;
use super::evaluate::{evaluate, external_fields, Evaluation};
use super::protocol::{self, per_sample, Validate};
use super::steps::{fields_of, Steps};
use super::train::{self, split_validation, Observer, Roles, RunOptions, Trained};
use super::RuntimeError;
use crate::diag::FileId;
use crate::lower::Items;
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
pub(super) fn blocks(files: &[(FileId, Program)]) -> (Vec<&TrainDef>, Vec<&EvalDef>) {
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

/// Trains the program's model and runs its evaluations.
pub fn run_program(
    files: &[(FileId, Program)],
    engine: &dyn Engine,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Outcome, RuntimeError> {
    let items = Items::new(files);
    let (trains, evals) = blocks(files);
    let Some(def) = trains.last() else {
        let span = evals.first().map(|e| e.span).unwrap_or_default();
        return Err(RuntimeError::Invalid {
            message: "the program has no `train` block to run".into(),
            span,
        });
    };
    let protocol = protocol::protocol(def)?;
    let mut spec = crate::lower::train_spec(def)?;
    spec.metrics = per_sample(&spec.metrics);
    let roles = roles(spec.loss, spec.model);
    let mut loader = DataLoader::new(&items, &options.base_dir);
    let data = loader.load(&def.data.name, def.data.span)?;
    let other = match &protocol.validate {
        Some(Validate::Data(name)) => Some(loader.load(name, protocol.span)?),
        _ => None,
    };
    let (train_data, val) = split_validation(data, &protocol.validate, other);
    if train_data.len == 0 {
        return Err(RuntimeError::Invalid {
            message: format!("data set `{}` has no training samples left", def.data.name),
            span: def.data.span,
        });
    }
    let mut steps = Steps::new(&items, spec, fields_of(&train_data), engine);
    steps.lower_train(protocol.batch.min(train_data.len))?;
    let mut trained = train::train(
        &mut steps,
        &protocol,
        &roles,
        &train_data,
        val.as_ref(),
        options,
        observer,
    )?;
    let param_names = steps.params.iter().map(|p| p.name.clone()).collect();
    let mut evaluations = Vec::new();
    for e in evals {
        evaluations.push(run_evaluation(
            e,
            def,
            &protocol,
            &items,
            engine,
            &mut loader,
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
