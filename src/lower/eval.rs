//! The evaluator: expressions, blocks and calls, emitting graph nodes.

use std::collections::HashMap;

use crate::diag::Span;
use crate::ir::{BinaryOp, DType, Graph, InputKind, NodeId, Op, UnaryOp};
use crate::syntax::ast::*;

use super::init::Init;
use super::statics::{broadcast_shape, eval_dim, scalar_binary, unify};
use super::step::{ParamKind, ParamSpec};
use super::value::{Frame, Val};
use super::{Items, LowerError, Result};

/// The state of one lowering: the graph being built and what it declared.
pub struct Lowerer<'a> {
    pub items: &'a Items<'a>,
    pub g: Graph,
    /// Decides every `if training`: dropout on, batch norm in batch mode.
    pub training: bool,
    pub params: Vec<ParamSpec>,
    pub param_nodes: HashMap<String, NodeId>,
    /// New values of layer states (`update`), by state name.
    pub state_updates: Vec<(String, NodeId)>,
    /// How many instances of each layer a path has created, for naming.
    instance_counts: HashMap<String, usize>,
    rng_inputs: Option<(NodeId, NodeId)>,
    depth: usize,
}

/// Deeper inlining than this is certainly runaway recursion.
const MAX_DEPTH: usize = 64;

impl<'a> Lowerer<'a> {
    pub fn new(items: &'a Items<'a>, training: bool) -> Lowerer<'a> {
        Lowerer {
            items,
            g: Graph::new(),
            training,
            params: Vec::new(),
            param_nodes: HashMap::new(),
            state_updates: Vec::new(),
            instance_counts: HashMap::new(),
            rng_inputs: None,
            depth: 0,
        }
    }

    /// The `seed` and `step` inputs random ops read, created on first use.
    pub fn rng_inputs(&mut self) -> Result<(NodeId, NodeId)> {
        if let Some(ids) = self.rng_inputs {
            return Ok(ids);
        }
        let seed = self.g.input("seed", InputKind::Scalar, &[], DType::I32)?;
        let step = self.g.input("step", InputKind::Scalar, &[], DType::I32)?;
        self.rng_inputs = Some((seed, step));
        Ok((seed, step))
    }

    pub fn expr(&mut self, e: &Expr, f: &mut Frame) -> Result<Val> {
        self.g.current_span = Some(e.span);
        match &e.kind {
            ExprKind::Int(v) => Ok(Val::Int(*v)),
            ExprKind::Float(v) => Ok(Val::Float(*v)),
            ExprKind::Str(s) => Ok(Val::Str(s.clone())),
            ExprKind::Bool(b) => Ok(Val::Bool(*b)),
            ExprKind::Name(id) => self.name(id, f),
            ExprKind::Unary(op, x) => {
                let x = self.expr(x, f)?;
                self.unary(*op, x, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let a = self.expr(a, f)?;
                let b = self.expr(b, f)?;
                self.g.current_span = Some(e.span);
                self.binary(*op, a, b, e.span)
            }
            ExprKind::Call { callee, args, .. } => {
                let mut pos = Vec::new();
                let mut named = Vec::new();
                for a in args {
                    let v = self.expr(&a.value, f)?;
                    match &a.name {
                        Some(n) => named.push((n.name.clone(), v)),
                        None => pos.push(v),
                    }
                }
                self.g.current_span = Some(e.span);
                self.call(callee, pos, named, f, e.span)
            }
            ExprKind::Index(x, items) => {
                let x = self.expr(x, f)?;
                self.index(x, items, f, e.span)
            }
            // `gdp_train.y` in a baseline: an input the step declared.
            ExprKind::Field(base, field) => match &base.kind {
                ExprKind::Name(d) => f
                    .vars
                    .get(&format!("{}.{}", d.name, field.name))
                    .cloned()
                    .ok_or_else(|| {
                        LowerError::at(
                            field.span,
                            format!("`{}.{}` is not an input of this step", d.name, field.name),
                        )
                    }),
                _ => Err(LowerError::at(
                    field.span,
                    "a field of a data set is `data.field`",
                )),
            },
            ExprKind::Tuple(xs) => Ok(Val::Tuple(self.exprs(xs, f)?)),
            ExprKind::List(xs) => Ok(Val::List(self.exprs(xs, f)?)),
            ExprKind::Range(a, b) => {
                let a = self.expr(a, f)?.as_int(e.span)?;
                let b = self.expr(b, f)?.as_int(e.span)?;
                Ok(Val::Range(a, b))
            }
            ExprKind::If(c, then, other) => {
                let c = self.expr(c, f)?.as_bool(e.span)?;
                self.block(if c { then } else { other }, f)
            }
            ExprKind::Scan(s) => self.scan(s, f, e.span),
        }
    }

    fn exprs(&mut self, xs: &[Expr], f: &mut Frame) -> Result<Vec<Val>> {
        xs.iter().map(|x| self.expr(x, f)).collect()
    }

    fn name(&mut self, id: &Ident, f: &Frame) -> Result<Val> {
        if let Some(v) = f.vars.get(&id.name) {
            return Ok(v.clone());
        }
        if let Some(d) = f.dims.get(&id.name) {
            return Ok(Val::Int(*d));
        }
        match id.name.as_str() {
            "training" => return Ok(Val::Bool(self.training)),
            "f32" => return Ok(Val::DType(DType::F32)),
            "i32" | "u8" => return Ok(Val::DType(DType::I32)),
            _ => {}
        }
        Ok(Val::Func(id.name.clone()))
    }

    pub fn block(&mut self, b: &Block, f: &mut Frame) -> Result<Val> {
        for stmt in &b.stmts {
            match stmt {
                Stmt::Let(l) => {
                    let v = self.expr(&l.value, f)?;
                    bind(&l.pat, v, f, l.span)?;
                }
                Stmt::Param(d) => self.declare(d, ParamKind::Param, f)?,
                Stmt::State(d) => self.declare(d, ParamKind::LayerState, f)?,
                Stmt::Update(u) => {
                    let v = self.expr(&u.value, f)?;
                    let node = self.tensor(v, u.span)?;
                    let name = format!("{}.{}", f.path, u.target.name);
                    if self.training {
                        self.state_updates.push((name, node));
                    }
                }
            }
        }
        self.expr(&b.result, f)
    }

    /// A `param` or `state` of a layer: a graph input named by the layer
    /// instance, with the initializer the runtime uses to create it.
    fn declare(&mut self, d: &VarDecl, kind: ParamKind, f: &mut Frame) -> Result<()> {
        let ty =
            d.ty.as_ref()
                .ok_or_else(|| LowerError::at(d.span, "a layer's param or state needs a type"))?;
        let shape = self.shape_of(ty, f)?;
        let init = match &d.init {
            Some(e) => Init::from_val(self.expr(e, f)?, e.span)?,
            None => Init::Zeros,
        };
        let name = format!("{}.{}", f.path, d.name.name);
        let input_kind = match kind {
            ParamKind::Param => InputKind::Param,
            ParamKind::LayerState | ParamKind::OptimizerState => InputKind::State,
        };
        let node = match self.param_nodes.get(&name) {
            Some(n) => *n,
            None => {
                let n = self.g.input(&name, input_kind, &shape, DType::F32)?;
                self.param_nodes.insert(name.clone(), n);
                self.params.push(ParamSpec {
                    name,
                    shape,
                    init,
                    kind,
                });
                n
            }
        };
        f.vars.insert(d.name.name.clone(), Val::Tensor(node));
        Ok(())
    }

    /// The concrete shape of a declared tensor type in a frame.
    pub fn shape_of(&self, ty: &TensorType, f: &Frame) -> Result<Vec<usize>> {
        let dims = ty.dims.as_deref().unwrap_or(&[]);
        dims.iter()
            .map(|d| {
                let v = eval_dim(d, &f.dims)?;
                usize::try_from(v)
                    .map_err(|_| LowerError::at(d.span, format!("dimension {v} is negative")))
            })
            .collect()
    }

    fn call(
        &mut self,
        callee: &Ident,
        pos: Vec<Val>,
        named: Vec<(String, Val)>,
        f: &mut Frame,
        span: Span,
    ) -> Result<Val> {
        // A parameter holding a function (`act: relu`) calls that function.
        let name = match f.vars.get(&callee.name) {
            Some(Val::Func(n)) => n.clone(),
            _ => callee.name.clone(),
        };
        if let Some(def) = self.items.defs.get(name.as_str()).copied() {
            return self.call_def(def, pos, named, f, span);
        }
        self.builtin(&name, pos, named, span)
    }

    /// Inlines a call of a `layer`, `fn` or `model`.
    pub fn call_def(
        &mut self,
        def: &Def,
        pos: Vec<Val>,
        named: Vec<(String, Val)>,
        caller: &Frame,
        span: Span,
    ) -> Result<Val> {
        if self.depth >= MAX_DEPTH {
            return Err(LowerError::at(
                span,
                "definitions call each other without end",
            ));
        }
        let mut frame = Frame {
            path: self.instance_path(def, caller),
            ..Frame::default()
        };
        let mut named: HashMap<String, Val> = named.into_iter().collect();
        let mut pos = pos.into_iter();
        for p in &def.params {
            let v = match pos.next().or_else(|| named.remove(&p.name.name)) {
                Some(v) => v,
                None => match &p.default {
                    Some(d) => self.expr(d, &mut frame.clone())?,
                    None => {
                        return Err(LowerError::at(
                            span,
                            format!("missing argument `{}`", p.name.name),
                        ))
                    }
                },
            };
            self.bind_param(p, &v, &mut frame)?;
            frame.vars.insert(p.name.name.clone(), v);
        }
        self.depth += 1;
        let result = self.block(&def.body, &mut frame);
        self.depth -= 1;
        result
    }

    /// Binds the dimension symbols of a parameter's declared type.
    fn bind_param(&self, p: &Param, v: &Val, frame: &mut Frame) -> Result<()> {
        match (&p.ty, v) {
            (Type::Dim(d), v) => {
                frame.dims.insert(d.name.clone(), v.as_int(p.span)?);
            }
            (Type::Tensor(t), Val::Tensor(n)) => {
                let shape = self.g.shape(*n).to_vec();
                unify(t, &shape, &mut frame.dims);
            }
            _ => {}
        }
        Ok(())
    }

    /// `dense`, `dense_1`, ... within the caller's path, as Keras names them.
    fn instance_path(&mut self, def: &Def, caller: &Frame) -> String {
        if def.kind != DefKind::Layer {
            return caller.path.clone();
        }
        let key = format!("{}/{}", caller.path, def.name.name);
        let n = self.instance_counts.entry(key).or_insert(0);
        let name = if *n == 0 {
            def.name.name.clone()
        } else {
            format!("{}_{}", def.name.name, n)
        };
        *n += 1;
        if caller.path.is_empty() {
            name
        } else {
            format!("{}/{}", caller.path, name)
        }
    }

    /// A value as a tensor node: scalars become `f32[]` constants.
    pub fn tensor(&mut self, v: Val, span: Span) -> Result<NodeId> {
        match v {
            Val::Tensor(n) => Ok(n),
            Val::Int(_) | Val::Float(_) => Ok(self.g.full(v.as_float(span)? as f32, &[])?),
            Val::Bool(b) => Ok(self.g.full(if b { 1.0 } else { 0.0 }, &[])?),
            other => Err(LowerError::at(
                span,
                format!("expected a tensor, got {}", other.describe()),
            )),
        }
    }

    fn unary(&mut self, op: UnOp, x: Val, span: Span) -> Result<Val> {
        match (op, x) {
            (UnOp::Neg, Val::Int(v)) => Ok(Val::Int(-v)),
            (UnOp::Neg, Val::Float(v)) => Ok(Val::Float(-v)),
            (UnOp::Neg, Val::Tensor(n)) => Ok(Val::Tensor(self.g.unary(UnaryOp::Neg, n)?)),
            (UnOp::Not, Val::Bool(b)) => Ok(Val::Bool(!b)),
            (UnOp::Not, Val::Tensor(n)) => {
                let one = self.g.full(1.0, &[])?;
                let one = self.broadcast_to(one, self.g.shape(n).to_vec())?;
                Ok(Val::Tensor(self.g.sub(one, n)?))
            }
            (_, other) => Err(LowerError::at(
                span,
                format!("cannot apply {op:?} to {}", other.describe()),
            )),
        }
    }

    fn binary(&mut self, op: BinOp, a: Val, b: Val, span: Span) -> Result<Val> {
        if let Some(v) = scalar_binary(op, &a, &b) {
            return Ok(v);
        }
        let a = self.tensor(a, span)?;
        let b = self.tensor(b, span)?;
        let bop = match op {
            BinOp::MatMul => return Ok(Val::Tensor(self.matmul(a, b, span)?)),
            BinOp::Add => BinaryOp::Add,
            BinOp::Sub => BinaryOp::Sub,
            BinOp::Mul => BinaryOp::Mul,
            BinOp::Div => BinaryOp::Div,
            BinOp::Rem => BinaryOp::Rem,
            BinOp::Pow => BinaryOp::Pow,
            BinOp::Lt => BinaryOp::Lt,
            BinOp::Le => BinaryOp::Le,
            BinOp::Gt => BinaryOp::Gt,
            BinOp::Ge => BinaryOp::Ge,
            BinOp::Eq => BinaryOp::Eq,
            BinOp::Ne => BinaryOp::Ne,
            BinOp::And => BinaryOp::Mul,
            BinOp::Or => BinaryOp::Max,
        };
        Ok(Val::Tensor(self.elementwise(bop, a, b, span)?))
    }

    /// A binary op with NumPy broadcasting and `i32` promoted to `f32` when
    /// mixed with it.
    pub fn elementwise(
        &mut self,
        op: BinaryOp,
        a: NodeId,
        b: NodeId,
        span: Span,
    ) -> Result<NodeId> {
        let (a, b) = self.same_dtype(a, b)?;
        let shape = broadcast_shape(self.g.shape(a), self.g.shape(b))
            .ok_or_else(|| LowerError::at(span, "shapes do not broadcast"))?;
        let a = self.broadcast_to(a, shape.clone())?;
        let b = self.broadcast_to(b, shape)?;
        Ok(self.g.binary(op, a, b)?)
    }

    fn same_dtype(&mut self, a: NodeId, b: NodeId) -> Result<(NodeId, NodeId)> {
        let (da, db) = (self.g.node(a).dtype, self.g.node(b).dtype);
        if da == db {
            return Ok((a, b));
        }
        let to_f32 = |g: &mut Graph, n: NodeId| g.add(Op::Cast { to: DType::F32 }, &[n]);
        Ok(match da {
            DType::I32 => (to_f32(&mut self.g, a)?, b),
            DType::F32 => (a, to_f32(&mut self.g, b)?),
        })
    }

    pub fn broadcast_to(&mut self, x: NodeId, shape: Vec<usize>) -> Result<NodeId> {
        if self.g.shape(x) == shape.as_slice() {
            return Ok(x);
        }
        Ok(self.g.broadcast(x, &shape)?)
    }

    /// `[..., M, K] @ [K, N]` flattens the leading dims into one matrix
    /// product; two operands of equal rank use the batched product.
    fn matmul(&mut self, a: NodeId, b: NodeId, span: Span) -> Result<NodeId> {
        let sa = self.g.shape(a).to_vec();
        let sb = self.g.shape(b).to_vec();
        if sa.len() == sb.len() && sa.len() >= 2 {
            return Ok(self.g.matmul(a, b)?);
        }
        if sb.len() != 2 || sa.is_empty() {
            return Err(LowerError::at(span, format!("matmul of {sa:?} and {sb:?}")));
        }
        let k = sa[sa.len() - 1];
        let rows: usize = sa[..sa.len() - 1].iter().product();
        let a2 = self.g.reshape(a, &[rows, k])?;
        let out = self.g.matmul(a2, b)?;
        let mut shape = sa[..sa.len() - 1].to_vec();
        shape.push(sb[1]);
        Ok(self.g.reshape(out, &shape)?)
    }
}

/// Binds a `let` pattern to a value.
fn bind(p: &Pattern, v: Val, f: &mut Frame, span: Span) -> Result<()> {
    match (p, v) {
        (Pattern::Name(id), v) => {
            f.vars.insert(id.name.clone(), v);
            Ok(())
        }
        (Pattern::Tuple(ps, _), Val::Tuple(vs)) if ps.len() == vs.len() => {
            for (p, v) in ps.iter().zip(vs) {
                bind(p, v, f, span)?;
            }
            Ok(())
        }
        (_, v) => Err(LowerError::at(
            span,
            format!("cannot destructure {}", v.describe()),
        )),
    }
}
