//! Library parts: which Rust routine a node calls, with which buffers,
//! geometry and scratch space; and pad/concat as fill + copy loops.

use super::expr::{Combine, ENode, Flat, LoopSpec};
use crate::ir::{DType, Graph, NodeId, Op};
use crate::passes::fuse::Fusion;

/// One call of a [`Helper`].
pub struct Call {
    pub name: &'static str,
    /// Buffers passed as the first pointer arguments (inputs, then output).
    pub args: Vec<NodeId>,
    /// Scratch floats passed as the fourth pointer, if any.
    pub scratch: usize,
    pub geom: Vec<i64>,
}

fn dims4(s: &[usize]) -> [usize; 4] {
    [s[0], s[1], s[2], s[3]]
}

fn conv_geom(x: [usize; 4], w: [usize; 4], y: [usize; 4], stride: usize, pad: usize) -> Vec<usize> {
    vec![
        x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3], stride, pad,
    ]
}

fn pool_geom(x: &[usize], y: &[usize], size: usize, stride: usize) -> Vec<usize> {
    vec![x[0] * x[1], x[2], x[3], size, stride, y[2], y[3]]
}

/// The call for a library node, or `None` for nodes that are not one.
pub fn call(g: &Graph, f: &Fusion, n: NodeId, threads: usize) -> Option<Call> {
    let node = g.node(n);
    let ins = &node.inputs;
    let sh = |i: usize| g.shape(ins[i]).to_vec();
    let (name, geom, scratch): (_, Vec<usize>, usize) = match &node.op {
        Op::MatMul { ta, tb } => {
            let a = sh(0);
            let r = a.len();
            let (m, k) = if *ta {
                (a[r - 1], a[r - 2])
            } else {
                (a[r - 2], a[r - 1])
            };
            let nn = node.shape[r - 1];
            let batch = a[..r - 2].iter().product();
            let geom = vec![batch, m, nn, k, usize::from(*ta), usize::from(*tb), threads];
            ("dlc_matmul", geom, 0)
        }
        Op::Conv2d { stride, pad } => {
            let (x, w, y) = (dims4(&sh(0)), dims4(&sh(1)), dims4(&node.shape));
            let s = x[1] * w[2] * w[3] * y[2] * y[3];
            let geom = conv_geom(x, w, y, *stride, *pad);
            ("dlc_conv2d", geom, s)
        }
        Op::Conv2dGradInput { stride, pad, .. } => {
            let (dy, w, x) = (dims4(&sh(0)), dims4(&sh(1)), dims4(&node.shape));
            let s = x[1] * w[2] * w[3] * dy[2] * dy[3];
            let geom = conv_geom(x, w, dy, *stride, *pad);
            ("dlc_conv2d_grad_input", geom, s)
        }
        Op::Conv2dGradWeight { stride, pad, .. } => {
            let (x, dy, w) = (dims4(&sh(0)), dims4(&sh(1)), dims4(&node.shape));
            let s = x[1] * w[2] * w[3] * dy[2] * dy[3];
            let geom = conv_geom(x, w, dy, *stride, *pad);
            ("dlc_conv2d_grad_weight", geom, s)
        }
        Op::MaxPool2d { size, stride } => {
            let geom = pool_geom(&sh(0), &node.shape, *size, *stride);
            ("dlc_maxpool2d", geom, 0)
        }
        Op::MaxPool2dGrad { size, stride } => {
            let geom = pool_geom(&sh(0), &sh(1), *size, *stride);
            ("dlc_maxpool2d_grad", geom, 0)
        }
        Op::AvgPool2d { size, stride } => {
            let geom = pool_geom(&sh(0), &node.shape, *size, *stride);
            ("dlc_avgpool2d", geom, 0)
        }
        Op::AvgPool2dGrad { size, stride, .. } => {
            let geom = pool_geom(&node.shape, &sh(0), *size, *stride);
            ("dlc_avgpool2d_grad", geom, 0)
        }
        Op::ArgMax { axis } => {
            let x = sh(0);
            let outer = x[..*axis].iter().product();
            let inner = x[axis + 1..].iter().product();
            ("dlc_argmax", vec![outer, x[*axis], inner], 0)
        }
        Op::Gather => {
            let t = sh(0);
            let ids = sh(1).iter().product();
            ("dlc_gather", vec![t[0], t[1], ids], 0)
        }
        Op::ScatterAdd { rows } => {
            let ids = sh(0).iter().product();
            let d = *node.shape.last().unwrap_or(&0);
            ("dlc_scatter_add", vec![*rows, d, ids], 0)
        }
        Op::Bernoulli { p, shape, stream } => {
            let n = shape.iter().product();
            let geom = vec![n, *stream as usize, p.to_bits() as usize];
            ("dlc_bernoulli", geom, 0)
        }
        Op::NormalLike { shape, stream } => {
            let geom = vec![shape.iter().product(), *stream as usize];
            ("dlc_normal", geom, 0)
        }
        Op::Input { .. }
        | Op::Full { .. }
        | Op::Arange { .. }
        | Op::Unary(_)
        | Op::Binary(_)
        | Op::Where
        | Op::Broadcast { .. }
        | Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Concat { .. }
        | Op::Sum { .. }
        | Op::Max { .. }
        | Op::OneHot { .. }
        | Op::Cast { .. }
        | Op::StopGradient => return None,
    };
    let mut geom: Vec<i64> = geom.into_iter().map(|v| v as i64).collect();
    if matches!(
        node.op,
        Op::Conv2d { .. }
            | Op::Conv2dGradInput { .. }
            | Op::Conv2dGradWeight { .. }
            | Op::MaxPool2d { .. }
            | Op::MaxPool2dGrad { .. }
            | Op::AvgPool2d { .. }
            | Op::AvgPool2dGrad { .. }
    ) {
        geom.push(threads as i64);
    }
    let mut args: Vec<NodeId> = ins.iter().map(|i| f.buffer_of[i.index()]).collect();
    args.push(f.buffer_of[n.index()]);
    Some(Call {
        name,
        args,
        scratch,
        geom,
    })
}

/// The strides of a row-major buffer of `shape`, in elements.
pub(super) fn row_major(shape: &[usize]) -> Vec<i64> {
    let mut s = vec![0i64; shape.len()];
    let mut acc = 1i64;
    for (d, &len) in shape.iter().enumerate().rev() {
        s[d] = acc;
        acc *= len as i64;
    }
    s
}

/// A copy of buffer `src` (shape `shape`) into `out` at `out_flat`.
fn copy_spec(src: NodeId, shape: &[usize], dtype: DType, out: NodeId, out_flat: Flat) -> LoopSpec {
    LoopSpec {
        shape: shape.to_vec(),
        nodes: vec![ENode::Load {
            buf: src,
            flat: Flat {
                offset: 0,
                strides: row_major(shape),
            },
            dtype,
        }],
        root: 0,
        out,
        out_len: shape.iter().product(),
        out_flat,
        dtype,
        combine: Combine::Store,
        also: Vec::new(),
    }
}

/// Pad or concat as loop specs: a zero fill (pad only) then one copy per
/// input into its place in the output.
pub fn movement(g: &Graph, f: &Fusion, n: NodeId) -> Vec<LoopSpec> {
    let node = g.node(n);
    let out = f.buffer_of[n.index()];
    let ostr = row_major(&node.shape);
    let place = |axis: usize, start: usize, shape: &[usize]| Flat {
        offset: start as i64 * ostr[axis],
        strides: ostr[..shape.len()].to_vec(),
    };
    let mut specs = Vec::new();
    let mut add_copy = |x: NodeId, axis: usize, start: usize| {
        let shape = g.shape(x).to_vec();
        if shape.iter().product::<usize>() > 0 {
            let fl = place(axis, start, &shape);
            specs.push(copy_spec(
                f.buffer_of[x.index()],
                &shape,
                node.dtype,
                out,
                fl,
            ));
        }
    };
    if let Op::Pad { axis, before, .. } = &node.op {
        add_copy(node.inputs[0], *axis, *before);
    } else if let Op::Concat { axis } = &node.op {
        let mut start = 0;
        for &x in &node.inputs {
            add_copy(x, *axis, start);
            start += g.shape(x)[*axis];
        }
    }
    specs
}
