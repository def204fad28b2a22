//! Step functions: the whole training step (forward, loss, backward,
//! optimizer update) as one graph, and the evaluation and prediction steps.
//!
//! Graph interface, shared by every engine:
//! - inputs: each parameter and state by name; optimizer states as
//!   `opt:<param>:<state>`; each data field by name (`[B, ...]`); `weights`
//!   (`f32[B]`, per-sample loss weights); `lr` and `t` (`f32[]`, the
//!   learning rate and the 1-based step); `seed` and `step` (`i32[]`) when
//!   the program draws random numbers;
//! - outputs: `loss` (`f32[]`), `pred` and `target` (the loss call's first
//!   two arguments), `metric:<name>` (per sample), and `update:<name>` for
//!   the next value of every parameter and state; the eval step also has
//!   `baseline:<k>`, `baseline:<k>:loss` and `baseline:<k>:metric:<name>`
//!   for the `k`-th baseline when lowered by `lower_eval_step`
//!   (see `baseline.rs`).

use crate::diag::Span;
use crate::ir::{DType, Graph, InputKind, NodeId};
use crate::passes;
use crate::syntax::ast::{Def, Expr, ExprKind, OptimizerDef, Stmt};

use super::baseline::Baselines;
use super::eval::Lowerer;
use super::init::Init;
use super::value::{Frame, Val};
use super::{Items, LowerError, Result};

/// What a graph input stands for, for the runtime that feeds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Trained by the optimizer.
    Param,
    /// A layer's state, updated by the layer (batch-norm statistics).
    LayerState,
    /// An optimizer's per-parameter state (moments).
    OptimizerState,
}

/// A parameter or state the runtime must create, keep and checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
    pub kind: ParamKind,
}

/// A data field as the step sees it: one sample's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
}

/// Which step function to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Train,
    Eval,
    /// The model alone on its input field; outputs `pred`.
    Predict,
}

/// The parts of a `train` block the step needs.
pub struct TrainSpec<'a> {
    pub model: &'a str,
    pub loss: &'a Expr,
    pub optimizer: &'a Expr,
    /// Per-sample metric functions (`accuracy`).
    pub metrics: Vec<String>,
    /// `l1` or `l2` with its factor.
    pub regularize: Option<(String, f64)>,
}

/// A lowered step function and what its inputs are.
pub struct StepGraph {
    pub graph: Graph,
    pub params: Vec<ParamSpec>,
    /// The learning rate the program wrote; schedules scale it.
    pub base_lr: f64,
}

/// The stages of lowering a step whose graph `dlc check --dump-after`
/// can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The lowered forward pass, loss and metrics (before autodiff).
    Lower,
    /// With the backward pass and the optimizer updates (train steps).
    Autodiff,
    /// The step as the engines get it, after dead-code elimination.
    Dce,
}

/// Sees the graph after each [`Pass`].
pub type Trace<'t> = &'t mut dyn FnMut(Pass, &Graph);

/// Lowers one step of `spec` for batches of `batch` samples.
pub fn lower_step(
    items: &Items,
    spec: &TrainSpec,
    fields: &[Field],
    batch: usize,
    kind: StepKind,
) -> Result<StepGraph> {
    lower_step_traced(items, spec, fields, batch, kind, &mut |_, _| {})
}

/// [`lower_step`], showing `trace` the graph after each pass.
pub fn lower_step_traced(
    items: &Items,
    spec: &TrainSpec,
    fields: &[Field],
    batch: usize,
    kind: StepKind,
    trace: Trace,
) -> Result<StepGraph> {
    lower_step_with(items, spec, None, fields, batch, kind, trace)
}

/// Lowers the eval step of `spec` with an `evaluate` block's baselines
/// scored beside the model (outputs `baseline:<k>...`).
pub fn lower_eval_step(
    items: &Items,
    spec: &TrainSpec,
    baselines: &Baselines,
    fields: &[Field],
    batch: usize,
) -> Result<StepGraph> {
    let mut trace = |_: Pass, _: &Graph| {};
    lower_step_with(
        items,
        spec,
        Some(baselines),
        fields,
        batch,
        StepKind::Eval,
        &mut trace,
    )
}

fn lower_step_with(
    items: &Items,
    spec: &TrainSpec,
    baselines: Option<&Baselines>,
    fields: &[Field],
    batch: usize,
    kind: StepKind,
    trace: Trace,
) -> Result<StepGraph> {
    let mut lw = Lowerer::new(items, kind == StepKind::Train);
    let mut frame = Frame::default();
    for f in fields {
        let mut shape = vec![batch];
        shape.extend(&f.shape);
        let node = lw.g.input(&f.name, InputKind::Data, &shape, f.dtype)?;
        frame.vars.insert(f.name.clone(), Val::Tensor(node));
    }
    if kind == StepKind::Predict {
        let pred = predict(&mut lw, spec, &frame, fields)?;
        lw.g.output("pred", pred);
        trace(Pass::Lower, &lw.g);
        return finish(lw, 0.0, trace);
    }
    // An input of every train and eval step, even when a scalar loss
    // ignores it, so that the runtime feeds every step alike.
    let weights =
        lw.g.input("weights", InputKind::Data, &[batch], DType::F32)?;
    let call = loss_call(&mut lw, spec, &mut frame)?;
    let (pred, target) = (call.pred, call.target);
    let loss = batch_loss(&mut lw, &call, pred, weights, spec.loss.span)?;
    lw.g.output("pred", pred);
    lw.g.output("target", target);
    for m in &spec.metrics {
        let node = metric(&mut lw, m, pred, target, spec.loss.span)?;
        lw.g.output(format!("metric:{m}"), node);
    }
    if let Some(b) = baselines {
        super::baseline::lower_baselines(&mut lw, spec, b, &call, &mut frame, weights)?;
    }
    let mut base_lr = 0.0;
    if kind == StepKind::Train {
        let loss = regularize(&mut lw, spec, loss)?;
        lw.g.output("loss", loss);
        trace(Pass::Lower, &lw.g);
        base_lr = optimize(&mut lw, spec, loss)?;
    } else {
        lw.g.output("loss", loss);
        trace(Pass::Lower, &lw.g);
    }
    finish(lw, base_lr, trace)
}

fn finish(mut lw: Lowerer, base_lr: f64, trace: Trace) -> Result<StepGraph> {
    for (name, node) in std::mem::take(&mut lw.state_updates) {
        lw.g.output(format!("update:{name}"), node);
    }
    if lw.training {
        trace(Pass::Autodiff, &lw.g);
    }
    let (graph, _) = passes::dce::dce(&lw.g);
    trace(Pass::Dce, &graph);
    Ok(StepGraph {
        graph,
        params: lw.params,
        base_lr,
    })
}

/// The model applied to the field it is called on in the loss.
fn predict(lw: &mut Lowerer, spec: &TrainSpec, frame: &Frame, fields: &[Field]) -> Result<NodeId> {
    let model = lw
        .items
        .defs
        .get(spec.model)
        .copied()
        .ok_or_else(|| LowerError::at(spec.loss.span, format!("no model `{}`", spec.model)))?;
    let input = model_input(spec.loss, spec.model).unwrap_or_else(|| fields[0].name.clone());
    let x = frame
        .vars
        .get(&input)
        .cloned()
        .ok_or_else(|| LowerError::at(spec.loss.span, format!("no data field `{input}`")))?;
    let out = lw.call_def(model, vec![x], Vec::new(), frame, spec.loss.span)?;
    lw.tensor(out, spec.loss.span)
}

/// The name of the field the model is called on in the loss, `x` in
/// `cross_entropy(Cnn(x), y)`.
fn model_input(e: &Expr, model: &str) -> Option<String> {
    match &e.kind {
        ExprKind::Call { callee, args, .. } => {
            if callee.name == model {
                if let Some(ExprKind::Name(n)) = args.first().map(|a| &a.value.kind) {
                    return Some(n.name.clone());
                }
            }
            args.iter().find_map(|a| model_input(&a.value, model))
        }
        _ => None,
    }
}

/// The loss call's definition and arguments, evaluated once: the
/// prediction and target first, then any further positional and named
/// arguments (`smoothing: 0.1`).
pub(super) struct LossCall<'a> {
    pub def: &'a Def,
    pub pred: NodeId,
    pub target: NodeId,
    pub rest: Vec<Val>,
    pub named: Vec<(String, Val)>,
}

fn loss_call<'a>(
    lw: &mut Lowerer<'a>,
    spec: &TrainSpec,
    frame: &mut Frame,
) -> Result<LossCall<'a>> {
    let span = spec.loss.span;
    let ExprKind::Call { callee, args, .. } = &spec.loss.kind else {
        return Err(LowerError::at(
            span,
            "a loss must be a call such as `mse(model(x), y)`",
        ));
    };
    let mut pos = Vec::new();
    let mut named = Vec::new();
    for a in args {
        let v = lw.expr(&a.value, frame)?;
        match &a.name {
            Some(n) => named.push((n.name.clone(), v)),
            None => pos.push(v),
        }
    }
    if pos.len() < 2 {
        return Err(LowerError::at(
            span,
            "a loss call takes the prediction and the target first",
        ));
    }
    let pred = lw.tensor(pos[0].clone(), span)?;
    let target = lw.tensor(pos[1].clone(), span)?;
    let def = lw
        .items
        .defs
        .get(callee.name.as_str())
        .copied()
        .ok_or_else(|| LowerError::at(callee.span, format!("no loss `{}`", callee.name)))?;
    Ok(LossCall {
        def,
        pred,
        target,
        rest: pos.split_off(2),
        named,
    })
}

/// The batch loss of `pred` against the loss call's target: the per-sample
/// loss weighted by `weights` and averaged (Keras' `sum(w * l) / B`), or
/// the loss as written if it is a scalar.
pub(super) fn batch_loss(
    lw: &mut Lowerer,
    call: &LossCall,
    pred: NodeId,
    weights: NodeId,
    span: Span,
) -> Result<NodeId> {
    let mut pos = vec![Val::Tensor(pred), Val::Tensor(call.target)];
    pos.extend(call.rest.iter().cloned());
    let per_sample = lw.call_def(call.def, pos, call.named.clone(), &Frame::default(), span)?;
    let per_sample = lw.tensor(per_sample, span)?;
    if lw.g.shape(per_sample).is_empty() {
        return Ok(per_sample);
    }
    let batch = lw.g.shape(weights)[0];
    let weighted = lw.g.mul(per_sample, weights)?;
    let total = lw.g.sum_all(weighted)?;
    Ok(lw.g.scale(total, 1.0 / batch as f32)?)
}

/// A metric function applied to the prediction and target, per sample.
pub(super) fn metric(
    lw: &mut Lowerer,
    name: &str,
    pred: NodeId,
    target: NodeId,
    span: Span,
) -> Result<NodeId> {
    let def = lw
        .items
        .defs
        .get(name)
        .copied()
        .ok_or_else(|| LowerError::at(span, format!("no metric function `{name}`")))?;
    let v = lw.call_def(
        def,
        vec![Val::Tensor(pred), Val::Tensor(target)],
        Vec::new(),
        &Frame::default(),
        span,
    )?;
    lw.tensor(v, span)
}

/// Adds `l2(c)` (`c * sum(w^2)`) or `l1(c)` (`c * sum(|w|)`) over every
/// weight of rank 2 or more: kernels, not biases or scales.
fn regularize(lw: &mut Lowerer, spec: &TrainSpec, loss: NodeId) -> Result<NodeId> {
    let Some((kind, c)) = &spec.regularize else {
        return Ok(loss);
    };
    let weights: Vec<String> = lw
        .params
        .iter()
        .filter(|p| p.kind == ParamKind::Param && p.shape.len() >= 2)
        .map(|p| p.name.clone())
        .collect();
    let mut total = loss;
    for name in weights {
        let w = lw.param_nodes[&name];
        let term = if kind == "l1" {
            lw.g.unary(crate::ir::UnaryOp::Abs, w)?
        } else {
            lw.g.mul(w, w)?
        };
        let s = lw.g.sum_all(term)?;
        let s = lw.g.scale(s, *c as f32)?;
        total = lw.g.add2(total, s)?;
    }
    Ok(total)
}

/// Differentiates the loss and applies the optimizer to every parameter.
/// Returns the learning rate written in the program.
fn optimize(lw: &mut Lowerer, spec: &TrainSpec, loss: NodeId) -> Result<f64> {
    let span = spec.optimizer.span;
    let ExprKind::Call { callee, args, .. } = &spec.optimizer.kind else {
        return Err(LowerError::at(
            span,
            "an optimizer is a call such as `adam(lr: 1e-3)`",
        ));
    };
    let opt = lw
        .items
        .optimizers
        .get(callee.name.as_str())
        .copied()
        .ok_or_else(|| LowerError::at(callee.span, format!("no optimizer `{}`", callee.name)))?;
    let mut hyper = Frame::default();
    bind_hyper(lw, opt, args, &mut hyper)?;
    let base_lr = hyper.vars.get("lr").map_or(Ok(0.0), |v| v.as_float(span))?;
    let lr = lw.g.input("lr", InputKind::Scalar, &[], DType::F32)?;
    let t = lw.g.input("t", InputKind::Scalar, &[], DType::F32)?;
    hyper.vars.insert("lr".into(), Val::Tensor(lr));
    hyper.vars.insert("t".into(), Val::Tensor(t));
    let trained: Vec<(String, NodeId)> = lw
        .params
        .iter()
        .filter(|p| p.kind == ParamKind::Param)
        .map(|p| (p.name.clone(), lw.param_nodes[&p.name]))
        .collect();
    let wrt: Vec<NodeId> = trained.iter().map(|(_, n)| *n).collect();
    let grads = passes::autodiff::autodiff(&mut lw.g, loss, &wrt)?;
    for ((name, p), g) in trained.into_iter().zip(grads) {
        let mut frame = hyper.clone();
        frame.path = format!("opt:{name}");
        frame.vars.insert("p".into(), Val::Tensor(p));
        frame.vars.insert("g".into(), Val::Tensor(g));
        let new = update(lw, opt, &mut frame, p)?;
        lw.g.output(format!("update:{name}"), new);
    }
    Ok(base_lr)
}

/// Binds an optimizer's hyper-parameters: arguments, then defaults.
fn bind_hyper(
    lw: &mut Lowerer,
    opt: &OptimizerDef,
    args: &[crate::syntax::ast::Arg],
    frame: &mut Frame,
) -> Result<()> {
    let mut values = Vec::new();
    for a in args {
        values.push((
            a.name.as_ref().map(|n| n.name.clone()),
            lw.expr(&a.value, &mut Frame::default())?,
        ));
    }
    let mut positional = values
        .iter()
        .filter(|(n, _)| n.is_none())
        .map(|(_, v)| v.clone());
    for p in &opt.params {
        let named = values
            .iter()
            .find(|(n, _)| n.as_deref() == Some(p.name.name.as_str()));
        let v = match named.map(|(_, v)| v.clone()).or_else(|| positional.next()) {
            Some(v) => v,
            None => match &p.default {
                Some(d) => lw.expr(d, &mut frame.clone())?,
                None => return Err(LowerError::at(p.span, format!("missing `{}`", p.name.name))),
            },
        };
        frame.vars.insert(p.name.name.clone(), v);
    }
    Ok(())
}

/// One parameter's update: the optimizer body with its states, which are
/// inputs named `opt:<param>:<state>` shaped like the parameter.
fn update(lw: &mut Lowerer, opt: &OptimizerDef, frame: &mut Frame, p: NodeId) -> Result<NodeId> {
    let shape = lw.g.shape(p).to_vec();
    for stmt in &opt.body.stmts {
        let Stmt::State(d) = stmt else { continue };
        let name = format!("{}:{}", frame.path, d.name.name);
        let init = match &d.init {
            Some(e) => Init::from_val(lw.expr(e, frame)?, e.span)?,
            None => Init::Zeros,
        };
        let node = lw.g.input(&name, InputKind::State, &shape, DType::F32)?;
        lw.params.push(ParamSpec {
            name: name.clone(),
            shape: shape.clone(),
            init,
            kind: ParamKind::OptimizerState,
        });
        frame.vars.insert(d.name.name.clone(), Val::Tensor(node));
    }
    let body = crate::syntax::ast::Block {
        stmts: opt
            .body
            .stmts
            .iter()
            .filter(|s| !matches!(s, Stmt::State(_)))
            .cloned()
            .collect(),
        result: opt.body.result.clone(),
        span: opt.body.span,
    };
    // `update m = ...` inside the optimizer names `<path>.m`; rename those
    // to the `opt:<param>:m` inputs they feed.
    let before = lw.state_updates.len();
    let new = lw.block(&body, frame)?;
    for (name, _) in &mut lw.state_updates[before..] {
        if let Some(state) = name.strip_prefix(&format!("{}.", frame.path)) {
            *name = format!("{}:{state}", frame.path);
        }
    }
    let new = lw.tensor(new, opt.body.span)?;
    lw.broadcast_to(new, shape)
}
