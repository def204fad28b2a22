//! The reference interpreter: the living definition of every op.
//!
//! It walks the arena in order and computes every node's value as an
//! `ndarray::ArrayD`, one `match` arm per op and no cleverness: every fast
//! path (the JIT, fused kernels) is tested against it. It is generic over
//! the float type so gradient checks can run in `f64`.
//!
//! `i32` tensors (labels, argmax positions, ids, seed and step) are carried
//! in the same float arrays as exact integers: `f64` holds every `i32`
//! exactly, `f32` every integer below 2^24 in magnitude.

use std::collections::HashMap;

use ndarray::{ArrayD, IxDyn, NdFloat};
use num_traits::FromPrimitive;

use super::graph::{Graph, Node};
use super::interp_kernels as k;
use super::interp_nn as nn;
use super::op::{DType, Op};
use super::IrError;

/// A float type the interpreter computes in: `f32` or `f64`.
pub trait Float: NdFloat + FromPrimitive {}

impl Float for f32 {}
impl Float for f64 {}

/// The float nearest to `x`.
pub fn lit<T: Float>(x: f64) -> T {
    T::from_f64(x).unwrap_or_else(T::nan)
}

/// Evaluates every node; `values[i]` is node `i`'s value.
pub fn interp<T: Float>(
    g: &Graph,
    inputs: &HashMap<String, ArrayD<T>>,
) -> Result<Vec<ArrayD<T>>, IrError> {
    let mut values: Vec<ArrayD<T>> = Vec::with_capacity(g.nodes.len());
    for node in &g.nodes {
        let args: Vec<&ArrayD<T>> = node.inputs.iter().map(|i| &values[i.index()]).collect();
        let value = eval(node, &args, inputs)?;
        debug_assert_eq!(value.shape(), node.shape.as_slice(), "{}", node.op.name());
        values.push(value);
    }
    Ok(values)
}

/// Evaluates the graph and returns its named outputs.
pub fn interp_outputs<T: Float>(
    g: &Graph,
    inputs: &HashMap<String, ArrayD<T>>,
) -> Result<HashMap<String, ArrayD<T>>, IrError> {
    let values = interp(g, inputs)?;
    Ok(g.outputs
        .iter()
        .map(|(name, id)| (name.clone(), values[id.index()].clone()))
        .collect())
}

/// One node's value from its arguments' values.
fn eval<T: Float>(
    node: &Node,
    args: &[&ArrayD<T>],
    inputs: &HashMap<String, ArrayD<T>>,
) -> Result<ArrayD<T>, IrError> {
    let x = || args[0];
    Ok(match &node.op {
        Op::Input { name, shape, .. } => bind_input(name, shape, inputs)?,
        Op::Full { value, shape } => ArrayD::from_elem(IxDyn(shape), lit(f64::from(*value))),
        Op::Arange { n } => ArrayD::from_shape_fn(IxDyn(&[*n]), |i| lit(i[0] as f64)),
        Op::Unary(u) => k::unary(*u, x()),
        Op::Binary(b) => k::binary(*b, args[0], args[1]),
        Op::Where => k::select(args[0], args[1], args[2]),
        Op::Broadcast { shape } => k::broadcast(x(), shape),
        Op::Reshape { shape } => k::reshape(x(), shape),
        Op::Transpose { perm } => x().view().permuted_axes(IxDyn(perm)).to_owned(),
        Op::Slice { axis, start, end } => k::slice(x(), *axis, *start, *end),
        Op::Pad {
            axis,
            before,
            after,
        } => k::pad(x(), *axis, *before, *after),
        Op::Concat { axis } => k::concat(args, *axis),
        Op::Sum { axes } => k::sum(x(), axes),
        Op::Max { axes } => k::max(x(), axes),
        Op::ArgMax { axis } => k::argmax(x(), *axis),
        Op::MatMul { ta, tb } => k::matmul(args[0], args[1], *ta, *tb),
        Op::Conv2d { stride, pad } => nn::conv2d(args[0], args[1], *stride, *pad),
        Op::Conv2dGradInput { stride, pad, hw } => {
            nn::conv2d_grad_input(args[0], args[1], *stride, *pad, *hw)
        }
        Op::Conv2dGradWeight { stride, pad, khw } => {
            nn::conv2d_grad_weight(args[0], args[1], *stride, *pad, *khw)
        }
        Op::MaxPool2d { size, stride } => nn::maxpool2d(x(), *size, *stride),
        Op::MaxPool2dGrad { size, stride } => nn::maxpool2d_grad(args[0], args[1], *size, *stride),
        Op::AvgPool2d { size, stride } => nn::avgpool2d(x(), *size, *stride),
        Op::AvgPool2dGrad { size, stride, hw } => nn::avgpool2d_grad(x(), *size, *stride, *hw),
        Op::OneHot { classes } => nn::one_hot(x(), *classes),
        Op::Gather => nn::gather(args[0], args[1]),
        Op::ScatterAdd { rows } => nn::scatter_add(args[0], args[1], *rows),
        Op::Cast { to } => match to {
            DType::F32 => x().clone(),
            DType::I32 => x().mapv(|v| v.trunc()),
        },
        Op::StopGradient => x().clone(),
        Op::Bernoulli { p, shape, stream } => nn::bernoulli(args[0], args[1], shape, *stream, *p),
        Op::NormalLike { shape, stream } => nn::normal(args[0], args[1], shape, *stream),
    })
}

fn bind_input<T: Float>(
    name: &str,
    shape: &[usize],
    inputs: &HashMap<String, ArrayD<T>>,
) -> Result<ArrayD<T>, IrError> {
    let v = inputs
        .get(name)
        .ok_or_else(|| IrError::MissingInput(name.into()))?;
    if v.shape() != shape {
        return Err(IrError::InputShape {
            name: name.into(),
            got: v.shape().to_vec(),
            expected: shape.to_vec(),
        });
    }
    Ok(v.clone())
}
