//! The primitives of the language (docs/language.md, "Primitives"), each
//! lowered to graph ops. Everything else is dlm code in `std/`.

use std::collections::HashMap;

use crate::diag::Span;
use crate::ir::{BinaryOp, NodeId, Op, UnaryOp};

use super::eval::Lowerer;
use super::init::Init;
use super::value::Val;
use super::{LowerError, Result};

/// Arguments of a primitive call: positional values, then named ones.
struct Args {
    pos: Vec<Val>,
    named: HashMap<String, Val>,
    span: Span,
}

impl Args {
    /// Argument `i`, or the one named `name`.
    fn get(&self, i: usize, name: &str) -> Option<&Val> {
        self.pos.get(i).or_else(|| self.named.get(name))
    }

    fn req(&self, i: usize, name: &str) -> Result<&Val> {
        self.get(i, name)
            .ok_or_else(|| LowerError::at(self.span, format!("missing argument `{name}`")))
    }

    fn int_or(&self, i: usize, name: &str, default: i64) -> Result<i64> {
        self.get(i, name)
            .map_or(Ok(default), |v| v.as_int(self.span))
    }
}

/// The graph op of an elementwise function, and its value on a number.
type UnaryFn = (UnaryOp, fn(f64) -> f64);

fn unary_op(name: &str) -> Option<UnaryFn> {
    Some(match name {
        "exp" => (UnaryOp::Exp, f64::exp),
        "log" => (UnaryOp::Log, f64::ln),
        "sqrt" => (UnaryOp::Sqrt, f64::sqrt),
        "tanh" => (UnaryOp::Tanh, f64::tanh),
        "sigmoid" => (UnaryOp::Sigmoid, |x| 1.0 / (1.0 + (-x).exp())),
        "sin" => (UnaryOp::Sin, f64::sin),
        "cos" => (UnaryOp::Cos, f64::cos),
        "abs" => (UnaryOp::Abs, f64::abs),
        "sign" => (UnaryOp::Sign, f64::signum),
        "floor" => (UnaryOp::Floor, f64::floor),
        _ => return None,
    })
}

impl Lowerer<'_> {
    pub(super) fn builtin(
        &mut self,
        name: &str,
        pos: Vec<Val>,
        named: Vec<(String, Val)>,
        span: Span,
    ) -> Result<Val> {
        let a = Args {
            pos,
            named: named.into_iter().collect(),
            span,
        };
        if let Some((op, f)) = unary_op(name) {
            return match a.req(0, "x")? {
                Val::Tensor(n) => Ok(Val::Tensor(self.g.unary(op, *n)?)),
                v => Ok(Val::Float(f(v.as_float(span)?))),
            };
        }
        // `constant(v)`, `uniform(limit: l)`, `normal(std: s)`: their one
        // argument may be positional or named.
        let init_arg = a.pos.first().or_else(|| a.named.values().next());
        if let Some(init) = init_arg
            .and_then(|v| v.as_float(span).ok())
            .and_then(|v| Init::with_arg(name, v))
        {
            return Ok(Val::Init(init));
        }
        let t = match name {
            "max" | "min" => {
                let op = if name == "max" {
                    BinaryOp::Max
                } else {
                    BinaryOp::Min
                };
                let (x, y) = (a.req(0, "a")?.clone(), a.req(1, "b")?.clone());
                if let (Ok(x), Ok(y)) = (x.as_float(span), y.as_float(span)) {
                    return Ok(Val::Float(if name == "max" { x.max(y) } else { x.min(y) }));
                }
                let (x, y) = (self.tensor(x, span)?, self.tensor(y, span)?);
                self.elementwise(op, x, y, span)?
            }
            "where" => self.where_(&a)?,
            "sum" | "mean" | "max_over" | "min_over" => self.reduce(name, &a)?,
            "argmax" => {
                let x = self.arg_tensor(&a, 0, "x")?;
                let axis = self.axis(x, a.int_or(1, "axis", -1)?, span)?;
                self.g.add(Op::ArgMax { axis }, &[x])?
            }
            "reshape" | "broadcast" => {
                let x = self.arg_tensor(&a, 0, "x")?;
                let shape = dims(a.req(1, "shape")?, span)?;
                if name == "reshape" {
                    self.g.reshape(x, &shape)?
                } else {
                    self.g.broadcast(x, &shape)?
                }
            }
            "transpose" => {
                let x = self.arg_tensor(&a, 0, "x")?;
                let perm = dims(a.req(1, "perm")?, span)?;
                self.g.transpose(x, &perm)?
            }
            "concat" | "stack" => return self.concat(name, &a),
            "one_hot" => {
                let x = self.arg_tensor(&a, 0, "labels")?;
                let classes = a.req(1, "classes")?.as_int(span)? as usize;
                self.g.add(Op::OneHot { classes }, &[x])?
            }
            "gather" => {
                let table = self.arg_tensor(&a, 0, "table")?;
                let ids = self.arg_tensor(&a, 1, "ids")?;
                self.g.add(Op::Gather, &[table, ids])?
            }
            "conv2d_raw" => {
                let x = self.arg_tensor(&a, 0, "x")?;
                let w = self.arg_tensor(&a, 1, "w")?;
                let stride = a.int_or(2, "stride", 1)? as usize;
                let pad = a.int_or(3, "pad", 0)? as usize;
                self.g.add(Op::Conv2d { stride, pad }, &[x, w])?
            }
            "maxpool2d_raw" | "avgpool2d_raw" => {
                let x = self.arg_tensor(&a, 0, "x")?;
                let size = a.req(1, "size")?.as_int(span)? as usize;
                let stride = a.int_or(2, "stride", size as i64)? as usize;
                let op = if name == "maxpool2d_raw" {
                    Op::MaxPool2d { size, stride }
                } else {
                    Op::AvgPool2d { size, stride }
                };
                self.g.add(op, &[x])?
            }
            "bernoulli" | "normal_like" => self.random(name, &a)?,
            "arange" => {
                let n = a.req(0, "n")?.as_int(span)? as usize;
                self.g.add(Op::Arange { n }, &[])?
            }
            "zeros" | "ones" | "full" => {
                let (value, first) = match name {
                    "zeros" => (0.0, 0),
                    "ones" => (1.0, 0),
                    _ => (a.req(0, "value")?.as_float(span)?, 1),
                };
                let shape: Vec<usize> = a.pos[first..]
                    .iter()
                    .map(|v| v.as_int(span).map(|d| d as usize))
                    .collect::<Result<_>>()?;
                self.g.full(value as f32, &shape)?
            }
            "cast" => {
                let x = self.arg_tensor(&a, 0, "x")?;
                let to = match a.req(1, "to")? {
                    Val::DType(d) => *d,
                    _ => {
                        return Err(LowerError::at(
                            span,
                            "cast needs an element type: `f32` or `i32`",
                        ))
                    }
                };
                self.g.add(Op::Cast { to }, &[x])?
            }
            "stop_gradient" => {
                let x = self.arg_tensor(&a, 0, "x")?;
                self.g.add(Op::StopGradient, &[x])?
            }
            _ => {
                return Err(LowerError::at(
                    span,
                    format!("`{name}` is not a function lowering knows"),
                ))
            }
        };
        Ok(Val::Tensor(t))
    }

    fn arg_tensor(&mut self, a: &Args, i: usize, name: &str) -> Result<NodeId> {
        let v = a.req(i, name)?.clone();
        self.tensor(v, a.span)
    }

    fn axis(&self, x: NodeId, axis: i64, span: Span) -> Result<usize> {
        let rank = self.g.shape(x).len() as i64;
        let a = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&a) {
            return Err(LowerError::at(
                span,
                format!("axis {axis} is out of range for rank {rank}"),
            ));
        }
        Ok(a as usize)
    }

    fn where_(&mut self, a: &Args) -> Result<NodeId> {
        let c = self.arg_tensor(a, 0, "cond")?;
        let x = self.arg_tensor(a, 1, "a")?;
        let y = self.arg_tensor(a, 2, "b")?;
        let shape = [c, x, y].iter().try_fold(Vec::new(), |acc, n| {
            super::statics::broadcast_shape(&acc, self.g.shape(*n))
                .ok_or_else(|| LowerError::at(a.span, "where: shapes do not broadcast"))
        })?;
        let c = self.broadcast_to(c, shape.clone())?;
        let x = self.broadcast_to(x, shape.clone())?;
        let y = self.broadcast_to(y, shape)?;
        Ok(self.g.add(Op::Where, &[c, x, y])?)
    }

    /// `sum`, `mean`, `max_over`, `min_over` over `axis` (one or a list;
    /// absent: every axis), keeping the reduced axes as 1s with `keep`.
    fn reduce(&mut self, name: &str, a: &Args) -> Result<NodeId> {
        let x = self.arg_tensor(a, 0, "x")?;
        let shape = self.g.shape(x).to_vec();
        let axes: Vec<usize> = match a.get(1, "axis") {
            Some(v) => {
                let mut axes = v
                    .as_ints(a.span)?
                    .into_iter()
                    .map(|ax| self.axis(x, ax, a.span))
                    .collect::<Result<Vec<_>>>()?;
                axes.sort_unstable();
                axes.dedup();
                axes
            }
            None => (0..shape.len()).collect(),
        };
        let keep = a.get(2, "keep").map_or(Ok(false), |v| v.as_bool(a.span))?;
        let out = match name {
            "sum" => self.g.sum(x, &axes)?,
            "mean" => {
                let count: usize = axes.iter().map(|&i| shape[i]).product();
                let s = self.g.sum(x, &axes)?;
                self.g.scale(s, 1.0 / count.max(1) as f32)?
            }
            "max_over" => self.g.max_over(x, &axes)?,
            _ => {
                let neg = self.g.neg(x)?;
                let m = self.g.max_over(neg, &axes)?;
                self.g.neg(m)?
            }
        };
        if !keep {
            return Ok(out);
        }
        let kept: Vec<usize> = (0..shape.len())
            .map(|i| if axes.contains(&i) { 1 } else { shape[i] })
            .collect();
        Ok(self.g.reshape(out, &kept)?)
    }

    fn concat(&mut self, name: &str, a: &Args) -> Result<Val> {
        let parts = match a.req(0, "parts")? {
            Val::List(vs) | Val::Tuple(vs) => vs.clone(),
            v => {
                return Err(LowerError::at(
                    a.span,
                    format!("{name} needs a list, got {}", v.describe()),
                ))
            }
        };
        let axis = a.int_or(1, "axis", 0)?;
        let first = self.tensor(parts.first().cloned().unwrap_or(Val::Int(0)), a.span)?;
        let rank = self.g.shape(first).len() as i64 + i64::from(name == "stack");
        let axis = if axis < 0 { axis + rank } else { axis } as usize;
        if name == "stack" {
            return Ok(Val::Tensor(self.stack(parts, axis, a.span)?));
        }
        let nodes = parts
            .into_iter()
            .map(|v| self.tensor(v, a.span))
            .collect::<Result<Vec<_>>>()?;
        Ok(Val::Tensor(self.g.add(Op::Concat { axis }, &nodes)?))
    }

    fn random(&mut self, name: &str, a: &Args) -> Result<NodeId> {
        let x = self.arg_tensor(a, 0, "x")?;
        let shape = self.g.shape(x).to_vec();
        let (seed, step) = self.rng_inputs()?;
        let stream = self.g.next_stream();
        let op = if name == "bernoulli" {
            let p = a.req(1, "p")?.as_float(a.span)? as f32;
            Op::Bernoulli { p, shape, stream }
        } else {
            Op::NormalLike { shape, stream }
        };
        Ok(self.g.add(op, &[seed, step])?)
    }
}

/// A list of sizes, as in `reshape(x, [B, 7])`.
fn dims(v: &Val, span: Span) -> Result<Vec<usize>> {
    v.as_ints(span)?
        .into_iter()
        .map(|d| {
            usize::try_from(d).map_err(|_| LowerError::at(span, format!("size {d} is negative")))
        })
        .collect()
}
