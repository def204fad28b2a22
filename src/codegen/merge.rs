//! Multi-output loops: consecutive elementwise parts of one kernel that
//! walk the same iteration space in the same order are emitted as one loop
//! nest storing every part's value (`LoopSpec::also`), so a value a later
//! part reads from an earlier one comes from a register instead of a
//! second pass over memory. The optimizer kernel is the main beneficiary:
//! Adam's `m`, `v` and weight updates of one tensor become one pass that
//! reads `g, m, v, w` and writes `m', v', w'`.
//!
//! Merging is only done when it cannot change a result: every load of a
//! buffer that one of the merged parts writes reads the element of the
//! current iteration (the same flat position as the stores); other
//! buffers may be read anywhere (broadcast biases, scalars). Caller
//! buffers do not alias, except an in-place output and its input, which
//! `inplace` allows only when every read of the input is at the store
//! position.
//!
//! A convolution's epilogue loop of the one form a call can apply itself
//! (bias and/or ReLU, see [`fold_conv`]) is folded into the call here too.

use super::call::row_major;
use super::emit_loop::{collapse, kept_first};
use super::expr::{loop_spec, Combine, ENode, Flat, LoopSpec, E};
use crate::ir::{BinaryOp, DType, Graph, NodeId, Op};
use crate::passes::fuse::{Fusion, Kernel, KernelKind, Part};

/// One unit of a kernel's emission, in order.
pub enum Piece<'k> {
    /// One loop nest: an elementwise part, several merged ones, or a
    /// reduction (a kept dimension outermost, see `emit_loop::kept_first`).
    Loop(LoopSpec),
    /// Any other part (movement, library call), with its index.
    Part(usize, &'k Part),
    /// A convolution part whose epilogue loop was folded into the call.
    Conv(usize, &'k Part, ConvTail),
}

/// A convolution's epilogue as the call applies it to each output `z`
/// (`helpers::Epilogue`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvTail {
    /// `z + bias[f]` first: the buffer of the `[F]` bias.
    pub bias: Option<NodeId>,
    /// The output keeps `max(z, 0)` instead of `z`.
    pub relu: bool,
    /// A second buffer that gets `max(z, 0)`.
    pub also: Option<NodeId>,
}

/// A kernel's parts as pieces, consecutive elementwise parts merged.
pub fn pieces<'k>(g: &Graph, f: &Fusion, kernel: &'k Kernel) -> Vec<Piece<'k>> {
    let mut out = Vec::new();
    for (p, part) in kernel.parts.iter().enumerate() {
        if !matches!(part.kind, KernelKind::Loop | KernelKind::Reduce) {
            out.push(Piece::Part(p, part));
            continue;
        }
        // A reduction is never merged: `merge` takes stores only.
        let spec = loop_spec(g, f, part.root);
        if let Some(Piece::Loop(a)) = out.last_mut() {
            if merge(a, &spec) {
                continue;
            }
        }
        out.push(Piece::Loop(spec));
    }
    let mut out = fold_conv(g, f, out);
    for piece in &mut out {
        if let Piece::Loop(spec) = piece {
            collapse(spec);
            kept_first(spec);
        }
    }
    out
}

fn outs(spec: &LoopSpec) -> Vec<NodeId> {
    let mut v = vec![spec.out];
    v.extend(spec.also.iter().map(|&(_, o)| o));
    v
}

/// Whether every load of `spec` from a buffer in `written` is at the
/// store position.
fn loads_ok(spec: &LoopSpec, written: &[NodeId]) -> bool {
    spec.nodes.iter().all(|n| match n {
        ENode::Load { buf, flat, .. } => *flat == spec.out_flat || !written.contains(buf),
        _ => true,
    })
}

/// Appends `b`'s body and store to `a` when that is equivalent to running
/// `a`'s loop and then `b`'s; returns whether it did. Neither is
/// collapsed yet (the merged spec is collapsed as a whole).
fn merge(a: &mut LoopSpec, b: &LoopSpec) -> bool {
    use super::expr::Combine::Store;
    let mut written = outs(a);
    if written.contains(&b.out) {
        return false;
    }
    written.push(b.out);
    let same_space = a.shape == b.shape && a.out_flat == b.out_flat;
    if a.combine != Store || b.combine != Store || !b.also.is_empty() || !same_space {
        return false;
    }
    if !loads_ok(a, &written) || !loads_ok(b, &written) {
        return false;
    }
    let produced: Vec<(NodeId, E)> = outs(a)
        .into_iter()
        .zip(std::iter::once(a.root).chain(a.also.iter().map(|&(e, _)| e)))
        .collect();
    let base = a.nodes.len();
    let remap = |e: E| e + base;
    for node in &b.nodes {
        let n = match node {
            ENode::Load { buf, .. } => match produced.iter().find(|(o, _)| o == buf) {
                // The value stored earlier in this iteration.
                Some(&(_, e)) => ENode::Same(e),
                None => node.clone(),
            },
            ENode::ConstF(c) => ENode::ConstF(*c),
            ENode::Index(f) => ENode::Index(f.clone()),
            ENode::Unary(u, x) => ENode::Unary(*u, remap(*x)),
            ENode::Binary(op, x, y, d) => ENode::Binary(*op, remap(*x), remap(*y), *d),
            ENode::Select(c, x, y, d) => ENode::Select(remap(*c), remap(*x), remap(*y), *d),
            ENode::Same(x) => ENode::Same(remap(*x)),
            ENode::F32ToI32(x) => ENode::F32ToI32(remap(*x)),
            ENode::I32ToF32(x) => ENode::I32ToF32(remap(*x)),
        };
        a.nodes.push(n);
    }
    a.also.push((remap(b.root), b.out));
    true
}

/// Folds the loop right after a convolution into the call when it only
/// adds a bias to the convolution's output and/or takes its ReLU, in place
/// and optionally into a second buffer (a layer's bias + ReLU, the
/// pre-activation kept for the gradient): the call applies it to each
/// output before storing it, and the loop's pass over the output goes away.
fn fold_conv<'k>(g: &Graph, f: &Fusion, pieces: Vec<Piece<'k>>) -> Vec<Piece<'k>> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut it = pieces.into_iter().peekable();
    while let Some(piece) = it.next() {
        if let Piece::Part(p, part) = piece {
            let conv = matches!(g.node(part.root).op, Op::Conv2d { .. });
            let tail = match it.peek() {
                Some(Piece::Loop(spec)) if conv => {
                    conv_tail(g, f.buffer_of[part.root.index()], spec)
                }
                _ => None,
            };
            if let Some(tail) = tail {
                it.next();
                out.push(Piece::Conv(p, part, tail));
                continue;
            }
        }
        out.push(piece);
    }
    out
}

/// The epilogue `spec` computes over convolution output `y`, if it is one
/// the call can apply with the same results: `y` written in place with
/// `z = y + bias` (`bias` a `[F]` buffer broadcast over the filters) or
/// `max(z, 0.0)`, or with `z` and `max(z, 0.0)` into a second buffer.
fn conv_tail(g: &Graph, y: NodeId, spec: &LoopSpec) -> Option<ConvTail> {
    /// What a loop node computes, in terms of the convolution output.
    #[derive(Clone, Copy, PartialEq)]
    enum V {
        /// `z`: the output, plus the bias when there is one.
        Z(Option<NodeId>),
        Bias(NodeId),
        Zero,
        Relu(Option<NodeId>),
        Other,
    }
    let shape = g.shape(y);
    let own = Flat {
        offset: 0,
        strides: row_major(shape),
    };
    let per_filter = Flat {
        offset: 0,
        strides: vec![0, 1, 0, 0],
    };
    let fits = spec.combine == Combine::Store
        && spec.dtype == DType::F32
        && spec.out == y
        && spec.shape == shape
        && spec.out_flat == own;
    if !fits || shape.len() != 4 {
        return None;
    }
    let mut v: Vec<V> = Vec::with_capacity(spec.nodes.len());
    for node in &spec.nodes {
        let class = match node {
            ENode::Load { buf, flat, dtype } if *dtype == DType::F32 => {
                if *buf == y && *flat == own {
                    V::Z(None)
                } else if *buf != y
                    && *flat == per_filter
                    && g.shape(*buf).iter().product::<usize>() == shape[1]
                {
                    V::Bias(*buf)
                } else {
                    V::Other
                }
            }
            ENode::ConstF(c) if c.to_bits() == 0 => V::Zero,
            ENode::Binary(BinaryOp::Add, a, b, DType::F32) => match (v[*a], v[*b]) {
                (V::Z(None), V::Bias(bias)) | (V::Bias(bias), V::Z(None)) => V::Z(Some(bias)),
                _ => V::Other,
            },
            ENode::Binary(BinaryOp::Max, a, b, DType::F32) => match (v[*a], v[*b]) {
                (V::Z(bias), V::Zero) => V::Relu(bias),
                _ => V::Other,
            },
            ENode::Same(a) => v[*a],
            _ => V::Other,
        };
        v.push(class);
    }
    let (bias, relu) = match v[spec.root] {
        V::Z(Some(bias)) => (Some(bias), false),
        V::Relu(bias) => (bias, true),
        _ => return None,
    };
    let also = match spec.also.as_slice() {
        [] => None,
        [(e, o)] if !relu && *o != y && v[*e] == V::Relu(bias) => Some(*o),
        _ => return None,
    };
    Some(ConvTail { bias, relu, also })
}
