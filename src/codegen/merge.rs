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

use super::emit_loop::{collapse, kept_first};
use super::expr::{loop_spec, ENode, LoopSpec, E};
use crate::ir::{Graph, NodeId};
use crate::passes::fuse::{Fusion, Kernel, KernelKind, Part};

/// One unit of a kernel's emission, in order.
pub enum Piece<'k> {
    /// One loop nest: an elementwise part, several merged ones, or a
    /// reduction (a kept dimension outermost, see `emit_loop::kept_first`).
    Loop(LoopSpec),
    /// Any other part (movement, library call), with its index.
    Part(usize, &'k Part),
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
