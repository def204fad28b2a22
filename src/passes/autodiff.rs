//! Reverse-mode automatic differentiation as an ordinary graph pass.
//!
//! Given a scalar `f32` loss and the nodes to differentiate with respect to,
//! the pass appends the backward computation to the same graph, so the
//! backward nodes get the same verification, simplification and fusion as
//! the forward ones:
//!
//! 1. mark the nodes on some path from a `wrt` node to the loss (the arena
//!    order is topological, so one forward and one backward sweep suffice);
//! 2. seed the loss's gradient with 1 and walk the marked nodes in reverse
//!    arena order; each node's vector-Jacobian product (one arm of the
//!    exhaustive `match` in [`vjp`]) turns its output gradient into input
//!    gradients. A node's gradient is the sum of what its consumers sent
//!    it, taken when the walk reaches it ([`accumulate`]: the gradients of
//!    abutting slices are joined into one concat, the rest added).
//!
//! Every backward node carries the span of the forward node it came from.
//! A VJP emits the gradient of every input, wanted or not; nodes that no
//! gradient uses are left for `dce` to remove. Ops without a gradient say so
//! explicitly: integer-valued and random ops return `None` (no gradient
//! flows), `MaxPool2dGrad` (second order through pooling) is an error.

use crate::ir::{BinaryOp, DType, Graph, IrError, Node, NodeId, Op, UnaryOp};

type Grads = Vec<Option<NodeId>>;

/// Appends the backward pass of `loss` and returns d loss / d `wrt[i]` for
/// every `i` (a zero tensor where `loss` does not depend on `wrt[i]`).
pub fn autodiff(g: &mut Graph, loss: NodeId, wrt: &[NodeId]) -> Result<Vec<NodeId>, IrError> {
    let l = g.node(loss).clone();
    if !l.shape.is_empty() || l.dtype != DType::F32 {
        return Err(IrError::NonScalarLoss(loss.0));
    }
    let needed = on_paths(g, loss, wrt);
    let saved_span = g.current_span;
    g.current_span = l.span;
    // Every node's gradient contributions, summed when the node is reached
    // (all its consumers come later in the arena, so all have arrived).
    let mut parts: Vec<Vec<NodeId>> = vec![Vec::new(); loss.index() + 1];
    parts[loss.index()].push(g.full(1.0, &[])?);
    let mut grads: Grads = vec![None; loss.index() + 1];
    for i in (0..=loss.index()).rev() {
        if !needed[i] || parts[i].is_empty() {
            continue;
        }
        let node = g.nodes[i].clone();
        g.current_span = node.span;
        let gy = accumulate(g, std::mem::take(&mut parts[i]))?;
        grads[i] = Some(gy);
        let gxs = vjp(g, &node, NodeId(i as u32), gy)?;
        for (x, gx) in node.inputs.iter().zip(gxs) {
            if let Some(gx) = gx.filter(|_| needed[x.index()]) {
                parts[x.index()].push(gx);
            }
        }
    }
    g.current_span = saved_span;
    wrt.iter()
        .map(|w| match grads.get(w.index()).copied().flatten() {
            Some(gw) => Ok(gw),
            None => g.zeros_like(*w),
        })
        .collect()
}

/// The sum of one node's gradient contributions. Contributions that are
/// pads along one axis of abutting ranges (the gradients of the slices a
/// node was cut into: LSTM gates, `scan` steps) are joined into one
/// concat first, so the sum of `n` slices' gradients costs one copy of
/// the tensor instead of `n` zero-filled copies and `n - 1` additions.
fn accumulate(g: &mut Graph, parts: Vec<NodeId>) -> Result<NodeId, IrError> {
    let pad_of = |g: &Graph, p: NodeId| match g.node(p).op {
        Op::Pad { axis, before, .. } => {
            let x = g.node(p).inputs[0];
            Some((axis, before, before + g.shape(x)[axis], x, p))
        }
        _ => None,
    };
    let mut pads: Vec<(usize, usize, usize, NodeId, NodeId)> =
        parts.iter().filter_map(|&p| pad_of(g, p)).collect();
    let mut sum: Vec<NodeId> = parts
        .iter()
        .copied()
        .filter(|&p| pad_of(g, p).is_none())
        .collect();
    pads.sort_by_key(|&(axis, start, ..)| (axis, start));
    let len_of = |g: &Graph, axis: usize| g.shape(parts[0])[axis];
    let mut k = 0;
    while k < pads.len() {
        let (axis, start, mut end, first, node) = pads[k];
        let mut run = vec![first];
        k += 1;
        while k < pads.len() && pads[k].0 == axis && pads[k].1 == end {
            run.push(pads[k].3);
            end = pads[k].2;
            k += 1;
        }
        if run.len() == 1 {
            sum.push(node);
            continue;
        }
        let joined = g.add(Op::Concat { axis }, &run)?;
        let len = len_of(g, axis);
        sum.push(if (start, end) == (0, len) {
            joined
        } else {
            let pad = Op::Pad {
                axis,
                before: start,
                after: len - end,
            };
            g.add(pad, &[joined])?
        });
    }
    let mut acc = sum[0];
    for &p in &sum[1..] {
        acc = g.add2(acc, p)?;
    }
    Ok(acc)
}

/// Nodes that depend on some `wrt` node and that the loss depends on; only
/// `f32` nodes carry gradients.
fn on_paths(g: &Graph, loss: NodeId, wrt: &[NodeId]) -> Vec<bool> {
    let n = loss.index() + 1;
    let mut from_wrt = vec![false; n];
    for w in wrt.iter().filter(|w| w.index() < n) {
        from_wrt[w.index()] = true;
    }
    for i in 0..n {
        from_wrt[i] |= g.nodes[i].inputs.iter().any(|x| from_wrt[x.index()]);
    }
    let mut to_loss = vec![false; n];
    to_loss[loss.index()] = true;
    for i in (0..n).rev() {
        if to_loss[i] {
            for x in &g.nodes[i].inputs {
                to_loss[x.index()] = true;
            }
        }
    }
    (0..n)
        .map(|i| from_wrt[i] && to_loss[i] && g.nodes[i].dtype == DType::F32)
        .collect()
}

/// The vector-Jacobian product of one node: the gradient of each input
/// given `gy`, the gradient of the node's output `y`.
fn vjp(g: &mut Graph, node: &Node, y: NodeId, gy: NodeId) -> Result<Grads, IrError> {
    let x = &node.inputs;
    let shape = |g: &Graph, i: usize| g.shape(x[i]).to_vec();
    Ok(match &node.op {
        Op::Input { .. } | Op::Full { .. } | Op::Arange { .. } => vec![],
        Op::Unary(u) => vec![unary(g, *u, x[0], y, gy)?],
        Op::Binary(b) => binary(g, *b, x[0], x[1], y, gy)?,
        Op::Where => {
            let zero = g.zeros_like(gy)?;
            let ga = g.select(x[0], gy, zero)?;
            vec![None, Some(ga), Some(g.select(x[0], zero, gy)?)]
        }
        Op::Broadcast { .. } => vec![Some(unbroadcast(g, gy, &shape(g, 0))?)],
        Op::Reshape { .. } => vec![Some(g.reshape(gy, &shape(g, 0))?)],
        Op::Transpose { perm } => {
            let mut inverse = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            vec![Some(g.transpose(gy, &inverse)?)]
        }
        Op::Slice { axis, start, end } => {
            let (axis, len) = (*axis, shape(g, 0)[*axis]);
            let pad = Op::Pad {
                axis,
                before: *start,
                after: len - end,
            };
            vec![Some(g.add(pad, &[gy])?)]
        }
        Op::Pad { axis, before, .. } => {
            let end = before + shape(g, 0)[*axis];
            let (axis, start) = (*axis, *before);
            vec![Some(g.add(Op::Slice { axis, start, end }, &[gy])?)]
        }
        Op::Concat { axis } => {
            let mut start = 0;
            let mut out = vec![];
            for i in 0..x.len() {
                let end = start + shape(g, i)[*axis];
                out.push(Some(g.add(
                    Op::Slice {
                        axis: *axis,
                        start,
                        end,
                    },
                    &[gy],
                )?));
                start = end;
            }
            out
        }
        Op::Sum { axes } => vec![Some(expand(g, gy, axes, &shape(g, 0))?)],
        Op::Max { axes } => vec![Some(max_vjp(g, x[0], y, gy, axes)?)],
        // Integer positions: no gradient.
        Op::ArgMax { .. } => vec![None],
        Op::MatMul { ta, tb } => matmul(g, x[0], x[1], *ta, *tb, gy)?,
        Op::Conv2d { stride, pad } => conv2d(g, x, stride_pad(*stride, *pad), gy)?,
        Op::Conv2dGradInput { stride, pad, .. } => {
            conv2d_grad_input(g, x, stride_pad(*stride, *pad), gy)?
        }
        Op::Conv2dGradWeight { stride, pad, .. } => {
            conv2d_grad_weight(g, x, stride_pad(*stride, *pad), gy)?
        }
        Op::MaxPool2d { size, stride } => {
            let (size, stride) = (*size, *stride);
            vec![Some(
                g.add(Op::MaxPool2dGrad { size, stride }, &[x[0], gy])?,
            )]
        }
        // Second order through max pooling is not needed by any training step.
        Op::MaxPool2dGrad { .. } => return Err(IrError::NoGradient("maxpool2d_grad")),
        Op::AvgPool2d { size, stride } => {
            let (size, stride, hw) = (*size, *stride, spatial(g, x[0]));
            vec![Some(g.add(Op::AvgPool2dGrad { size, stride, hw }, &[gy])?)]
        }
        Op::AvgPool2dGrad { size, stride, .. } => {
            let (size, stride) = (*size, *stride);
            vec![Some(g.add(Op::AvgPool2d { size, stride }, &[gy])?)]
        }
        // Integer labels: no gradient.
        Op::OneHot { .. } => vec![None],
        Op::Gather => {
            let rows = shape(g, 0)[0];
            vec![Some(g.add(Op::ScatterAdd { rows }, &[x[1], gy])?), None]
        }
        Op::ScatterAdd { .. } => vec![None, Some(g.add(Op::Gather, &[gy, x[0]])?)],
        // Only an f32 -> f32 cast passes a gradient; integers carry none.
        Op::Cast { .. } => match (g.node(x[0]).dtype, node.dtype) {
            (DType::F32, DType::F32) => vec![Some(gy)],
            (DType::F32 | DType::I32, DType::I32) | (DType::I32, DType::F32) => vec![None],
        },
        Op::StopGradient => vec![None],
        // Samples do not depend on the seed and step in a differentiable way.
        Op::Bernoulli { .. } | Op::NormalLike { .. } => vec![None, None],
    })
}

fn unary(
    g: &mut Graph,
    u: UnaryOp,
    x: NodeId,
    y: NodeId,
    gy: NodeId,
) -> Result<Option<NodeId>, IrError> {
    let gx = match u {
        UnaryOp::Neg => g.neg(gy)?,
        UnaryOp::Exp => g.mul(gy, y)?,
        UnaryOp::Log => g.div(gy, x)?,
        // d sqrt(x) = 1 / (2 y)
        UnaryOp::Sqrt => {
            let two_y = g.scale(y, 2.0)?;
            g.div(gy, two_y)?
        }
        // d tanh(x) = 1 - y^2
        UnaryOp::Tanh => {
            let y2 = g.mul(y, y)?;
            let one = g.full(1.0, g.shape(y).to_vec().as_slice())?;
            let d = g.sub(one, y2)?;
            g.mul(gy, d)?
        }
        // d sigmoid(x) = y (1 - y)
        UnaryOp::Sigmoid => {
            let one = g.full(1.0, g.shape(y).to_vec().as_slice())?;
            let d = g.sub(one, y)?;
            let d = g.mul(y, d)?;
            g.mul(gy, d)?
        }
        UnaryOp::Sin => {
            let c = g.unary(UnaryOp::Cos, x)?;
            g.mul(gy, c)?
        }
        UnaryOp::Cos => {
            let s = g.unary(UnaryOp::Sin, x)?;
            let p = g.mul(gy, s)?;
            g.neg(p)?
        }
        UnaryOp::Abs => {
            let s = g.unary(UnaryOp::Sign, x)?;
            g.mul(gy, s)?
        }
        // Piecewise constant: zero gradient almost everywhere.
        UnaryOp::Sign | UnaryOp::Floor => return Ok(None),
        // d (1/x) = -y^2
        UnaryOp::Recip => {
            let y2 = g.mul(y, y)?;
            let p = g.mul(gy, y2)?;
            g.neg(p)?
        }
    };
    Ok(Some(gx))
}

fn binary(
    g: &mut Graph,
    b: BinaryOp,
    x0: NodeId,
    x1: NodeId,
    y: NodeId,
    gy: NodeId,
) -> Result<Grads, IrError> {
    let pair = |a, b| Ok(vec![Some(a), Some(b)]);
    match b {
        BinaryOp::Add => pair(gy, gy),
        BinaryOp::Sub => pair(gy, g.neg(gy)?),
        BinaryOp::Mul => pair(g.mul(gy, x1)?, g.mul(gy, x0)?),
        // d (a / b) / db = -y / b
        BinaryOp::Div => {
            let ga = g.div(gy, x1)?;
            let gyy = g.mul(gy, y)?;
            let q = g.div(gyy, x1)?;
            pair(ga, g.neg(q)?)
        }
        // d a^b = b a^(b-1) da + y ln(a) db
        BinaryOp::Pow => {
            let one = g.full(1.0, g.shape(x1).to_vec().as_slice())?;
            let bm1 = g.sub(x1, one)?;
            let p = g.binary(BinaryOp::Pow, x0, bm1)?;
            let d = g.mul(x1, p)?;
            let ga = g.mul(gy, d)?;
            let ln = g.unary(UnaryOp::Log, x0)?;
            let d = g.mul(y, ln)?;
            pair(ga, g.mul(gy, d)?)
        }
        // Ties go to `a`, as in the interpreter.
        BinaryOp::Max | BinaryOp::Min => {
            let cmp = if b == BinaryOp::Max {
                BinaryOp::Ge
            } else {
                BinaryOp::Le
            };
            let c = g.binary(cmp, x0, x1)?;
            let zero = g.zeros_like(gy)?;
            pair(g.select(c, gy, zero)?, g.select(c, zero, gy)?)
        }
        // a rem b = a - b floor(a / b)
        BinaryOp::Rem => {
            let q = g.div(x0, x1)?;
            let f = g.unary(UnaryOp::Floor, q)?;
            let p = g.mul(gy, f)?;
            pair(gy, g.neg(p)?)
        }
        // 0/1 results: no gradient.
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne => {
            Ok(vec![None, None])
        }
    }
}

/// Sums `gy` back down to `shape`, undoing a right-aligned broadcast.
fn unbroadcast(g: &mut Graph, gy: NodeId, shape: &[usize]) -> Result<NodeId, IrError> {
    let out = g.shape(gy).to_vec();
    let lead = out.len() - shape.len();
    let axes: Vec<usize> = (0..out.len())
        .filter(|&a| a < lead || (shape[a - lead] == 1 && out[a] != 1))
        .collect();
    let s = g.sum(gy, &axes)?;
    g.reshape(s, shape)
}

/// Broadcasts `v` (reduced over `axes`) back to `shape`.
fn expand(g: &mut Graph, v: NodeId, axes: &[usize], shape: &[usize]) -> Result<NodeId, IrError> {
    let kept: Vec<usize> = (0..shape.len())
        .map(|a| if axes.contains(&a) { 1 } else { shape[a] })
        .collect();
    let r = g.reshape(v, &kept)?;
    g.broadcast(r, shape)
}

/// The gradient goes to the maxima of each reduced group, shared equally
/// between ties.
fn max_vjp(
    g: &mut Graph,
    x: NodeId,
    y: NodeId,
    gy: NodeId,
    axes: &[usize],
) -> Result<NodeId, IrError> {
    let shape = g.shape(x).to_vec();
    let ye = expand(g, y, axes, &shape)?;
    let mask = g.binary(BinaryOp::Eq, x, ye)?;
    let count = g.sum(mask, axes)?;
    let share = g.div(gy, count)?;
    let share = expand(g, share, axes, &shape)?;
    g.mul(mask, share)
}

/// `y = A' B'` with `A' = ta ? A^T : A`, `B' = tb ? B^T : B`:
/// `dA' = gy B'^T`, `dB' = A'^T gy`, expressed with transpose flags so no
/// transpose is materialised.
fn matmul(
    g: &mut Graph,
    a: NodeId,
    b: NodeId,
    ta: bool,
    tb: bool,
    gy: NodeId,
) -> Result<Grads, IrError> {
    let mm = |g: &mut Graph, l, r, ta, tb| g.add(Op::MatMul { ta, tb }, &[l, r]);
    let ga = if ta {
        mm(g, b, gy, tb, true)?
    } else {
        mm(g, gy, b, false, !tb)?
    };
    let gb = if tb {
        mm(g, gy, a, true, ta)?
    } else {
        mm(g, a, gy, !ta, false)?
    };
    Ok(vec![Some(ga), Some(gb)])
}

/// `[H, W]` of an NCHW tensor.
fn spatial(g: &Graph, x: NodeId) -> [usize; 2] {
    [g.shape(x)[2], g.shape(x)[3]]
}

fn stride_pad(stride: usize, pad: usize) -> [usize; 2] {
    [stride, pad]
}

// The three convolution ops are bilinear and adjoint to one another, so each
// VJP is again a convolution op.

/// `(x, w)`: `dx = gi(gy, w)`, `dw = gw(x, gy)`.
fn conv2d(
    g: &mut Graph,
    x: &[NodeId],
    [stride, pad]: [usize; 2],
    gy: NodeId,
) -> Result<Grads, IrError> {
    let hw = spatial(g, x[0]);
    let gx = g.add(Op::Conv2dGradInput { stride, pad, hw }, &[gy, x[1]])?;
    let khw = spatial(g, x[1]);
    let gw = g.add(Op::Conv2dGradWeight { stride, pad, khw }, &[x[0], gy])?;
    Ok(vec![Some(gx), Some(gw)])
}

/// `(dy, w)`: `<gi(dy, w), gy> = <dy, conv(gy, w)>`, so `d dy = conv(gy, w)`
/// and `dw = gw(gy, dy)`.
fn conv2d_grad_input(
    g: &mut Graph,
    x: &[NodeId],
    [stride, pad]: [usize; 2],
    gy: NodeId,
) -> Result<Grads, IrError> {
    let gdy = g.add(Op::Conv2d { stride, pad }, &[gy, x[1]])?;
    let khw = spatial(g, x[1]);
    let gw = g.add(Op::Conv2dGradWeight { stride, pad, khw }, &[gy, x[0]])?;
    Ok(vec![Some(gdy), Some(gw)])
}

/// `(x, dy)`: `<gw(x, dy), gy> = <dy, conv(x, gy)>`, so `dx = gi(dy, gy)`
/// and `d dy = conv(x, gy)`.
fn conv2d_grad_weight(
    g: &mut Graph,
    x: &[NodeId],
    [stride, pad]: [usize; 2],
    gy: NodeId,
) -> Result<Grads, IrError> {
    let hw = spatial(g, x[0]);
    let gx = g.add(Op::Conv2dGradInput { stride, pad, hw }, &[x[1], gy])?;
    let gdy = g.add(Op::Conv2d { stride, pad }, &[x[0], gy])?;
    Ok(vec![Some(gx), Some(gdy)])
}
