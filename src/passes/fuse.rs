//! Fusion: partitions a graph into kernels, the units the JIT compiles.
//!
//! Every node gets a [`Role`]:
//! - `Buffer`: its value lives in memory, written by its own kernel (or by
//!   the caller, for inputs);
//! - `Alias`: a reshape-like node whose buffer is its input's buffer;
//! - `Inline`: recomputed inside each consumer's loop, never stored.
//!
//! Elementwise ops, views (broadcast, transpose, slice, reshape) and
//! constants are inlined into their consumers' loops when that costs no
//! recomputation: a node is stored when it is an output, when a library
//! kernel (matmul, conv, pooling...) reads it, when more than one loop
//! reads it (after counting through inlined views), or when a broadcast
//! would recompute an elementwise value many times. Reductions read their
//! input through the same loop, so `sum(exp(x - m))` is one kernel.
//!
//! A loop kernel whose only stored input read elementwise is the result of a
//! matmul or convolution, read nowhere else, becomes that contraction's
//! *epilogue*: it runs right after the library call, in place in the
//! contraction's buffer (bias + activation fused into the matmul kernel).
//! A further loop reading that epilogue's result elementwise (an
//! activation stored apart from the pre-activation the gradient needs)
//! joins the same kernel with its own buffer.
//! Consecutive elementwise loops over one shape share a kernel.
//! Finally the kernels computing the optimizer updates (`update:*` outputs
//! that are plain loops) are grouped into one kernel.

use crate::ir::{DType, Graph, NodeId, Op};

/// How a node's value is materialized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Buffer,
    Alias,
    Inline,
}

/// What a kernel does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelKind {
    /// An elementwise loop nest (with inlined views and constants).
    Loop,
    /// A reduction loop nest (`sum`, `max_over`) with its producers inlined.
    Reduce,
    /// Pad or concat: a fill plus strided copies.
    Movement,
    /// A call into a Rust routine (matmul, conv, pooling, gather, random...).
    Library,
}

/// One piece of a kernel: a stored node and how it is computed.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub kind: KernelKind,
    /// The node this part stores.
    pub root: NodeId,
    /// The nodes computed inside this part (root first, then inlined ones).
    pub members: Vec<NodeId>,
}

/// A kernel: parts run one after another in one compiled function.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub label: String,
    pub parts: Vec<Part>,
}

/// The result of fusion: roles, buffer sharing and the kernel sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Fusion {
    pub roles: Vec<Role>,
    /// The node whose buffer holds each node's value (itself for buffers,
    /// its input's buffer for aliases, the contraction for an epilogue).
    pub buffer_of: Vec<NodeId>,
    pub kernels: Vec<Kernel>,
}

enum Class {
    Input,
    /// Reshape-like: no data movement when stored.
    AliasView,
    /// Broadcast, transpose, slice: index remapping.
    View,
    /// `full`, `arange`: recomputed anywhere for free.
    Leaf,
    Elementwise,
    Reduce,
    Movement,
    Library,
}

fn class(g: &Graph, n: NodeId) -> Class {
    let node = g.node(n);
    match &node.op {
        Op::Input { .. } => Class::Input,
        Op::Reshape { .. } | Op::StopGradient => Class::AliasView,
        Op::Cast { to } => {
            if *to == g.node(node.inputs[0]).dtype {
                Class::AliasView
            } else {
                Class::Elementwise
            }
        }
        Op::Broadcast { .. } | Op::Transpose { .. } | Op::Slice { .. } => Class::View,
        Op::Full { .. } | Op::Arange { .. } => Class::Leaf,
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::OneHot { .. } => Class::Elementwise,
        Op::Sum { .. } | Op::Max { .. } => Class::Reduce,
        Op::Pad { .. } | Op::Concat { .. } => Class::Movement,
        Op::ArgMax { .. }
        | Op::MatMul { .. }
        | Op::Conv2d { .. }
        | Op::Conv2dGradInput { .. }
        | Op::Conv2dGradWeight { .. }
        | Op::MaxPool2d { .. }
        | Op::MaxPool2dGrad { .. }
        | Op::AvgPool2d { .. }
        | Op::AvgPool2dGrad { .. }
        | Op::Gather
        | Op::ScatterAdd { .. }
        | Op::Bernoulli { .. }
        | Op::NormalLike { .. } => Class::Library,
    }
}

/// Whether a reshape only inserts or removes size-1 dims, so loops can see
/// through it without knowing the input's layout.
pub fn unit_reshape(from: &[usize], to: &[usize]) -> bool {
    let strip = |s: &[usize]| s.iter().copied().filter(|&d| d != 1).collect::<Vec<_>>();
    strip(from) == strip(to)
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Partitions `g` into kernels.
pub fn fuse(g: &Graph) -> Fusion {
    let n = g.nodes.len();
    let mut is_output = vec![false; n];
    for (_, id) in &g.outputs {
        is_output[id.index()] = true;
    }
    let mut roles = vec![Role::Inline; n];
    let mut needs_buffer = vec![false; n];
    let mut uses = vec![0usize; n];
    let mut expanded = vec![false; n];
    for i in (0..n).rev() {
        let id = NodeId(i as u32);
        let stored = is_output[i] || needs_buffer[i];
        roles[i] = match class(g, id) {
            Class::Input => Role::Buffer,
            Class::AliasView if stored => Role::Alias,
            Class::Reduce | Class::Movement | Class::Library => Role::Buffer,
            Class::Elementwise if stored || uses[i] > 1 || expanded[i] => Role::Buffer,
            Class::View | Class::Leaf if stored => Role::Buffer,
            Class::AliasView | Class::View | Class::Leaf | Class::Elementwise => Role::Inline,
        };
        mark_inputs(g, id, roles[i], &mut needs_buffer, &mut uses, &mut expanded);
    }
    let mut buffer_of: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
    let parts = parts(g, &roles);
    let groups = epilogues(g, &roles, &mut buffer_of, &uses, &is_output, parts);
    // After the epilogues: an alias of an epilogue's result is its host's
    // buffer (a scan step's `tanh(x w + h u)`, reshaped for the concat).
    for i in 0..n {
        if roles[i] == Role::Alias {
            buffer_of[i] = buffer_of[g.nodes[i].inputs[0].index()];
        }
    }
    let groups = consecutive_loops(g, groups);
    let kernels = group_updates(g, groups);
    Fusion {
        roles,
        buffer_of,
        kernels,
    }
}

/// Records what consumer `c` (already decided) asks of its inputs.
fn mark_inputs(
    g: &Graph,
    c: NodeId,
    role: Role,
    needs_buffer: &mut [bool],
    uses: &mut [usize],
    expanded: &mut [bool],
) {
    let node = g.node(c);
    let mut seen: Vec<NodeId> = Vec::with_capacity(node.inputs.len());
    for &p in &node.inputs {
        if seen.contains(&p) {
            continue;
        }
        seen.push(p);
        let absorbs = match class(g, c) {
            Class::Input | Class::Movement | Class::Library => false,
            Class::AliasView => {
                // Stop-gradient and same-dtype casts are the identity.
                let through = if let Op::Reshape { shape } = &node.op {
                    unit_reshape(g.shape(p), shape)
                } else {
                    true
                };
                role == Role::Inline && through
            }
            Class::View | Class::Leaf | Class::Elementwise | Class::Reduce => true,
        };
        if !absorbs {
            needs_buffer[p.index()] = true;
        }
        uses[p.index()] += if role == Role::Inline {
            uses[c.index()]
        } else {
            1
        };
        let grows =
            matches!(node.op, Op::Broadcast { .. }) && numel(&node.shape) > numel(g.shape(p));
        if grows || (role == Role::Inline && expanded[c.index()]) {
            expanded[p.index()] = true;
        }
    }
}

fn kind_of(g: &Graph, id: NodeId) -> KernelKind {
    match class(g, id) {
        Class::Reduce => KernelKind::Reduce,
        Class::Movement => KernelKind::Movement,
        Class::Library => KernelKind::Library,
        Class::Input | Class::AliasView | Class::View | Class::Leaf | Class::Elementwise => {
            KernelKind::Loop
        }
    }
}

/// One part per stored, computed node, with the inlined nodes it absorbs.
fn parts(g: &Graph, roles: &[Role]) -> Vec<Part> {
    let mut out = Vec::new();
    for (i, node) in g.nodes.iter().enumerate() {
        if roles[i] != Role::Buffer || matches!(node.op, Op::Input { .. }) {
            continue;
        }
        let root = NodeId(i as u32);
        let mut members = vec![root];
        let mut stack: Vec<NodeId> = node.inputs.clone();
        while let Some(x) = stack.pop() {
            if roles[x.index()] == Role::Inline && !members.contains(&x) {
                members.push(x);
                stack.extend(g.node(x).inputs.iter().copied());
            }
        }
        out.push(Part {
            kind: kind_of(g, root),
            root,
            members,
        });
    }
    out
}

/// The stored nodes a loop part reads, and whether each is read only at
/// the loop's own index (through elementwise ops alone).
fn loop_leaves(g: &Graph, roles: &[Role], part: &Part) -> Vec<(NodeId, bool)> {
    let mut leaves: Vec<(NodeId, bool)> = Vec::new();
    let mut stack = vec![(part.root, true)];
    while let Some((x, ident)) = stack.pop() {
        let node = g.node(x);
        let elementwise = matches!(
            node.op,
            Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Cast { .. }
        );
        for &p in &node.inputs {
            if roles[p.index()] == Role::Inline {
                stack.push((
                    p,
                    ident && elementwise && g.shape(p) == node.shape.as_slice(),
                ));
            } else {
                let ident = ident && elementwise && g.shape(p) == node.shape.as_slice();
                match leaves.iter_mut().find(|l| l.0 == p) {
                    Some(l) => l.1 &= ident,
                    None => leaves.push((p, ident)),
                }
            }
        }
    }
    leaves
}

/// Merges loop parts into the matmul/conv part they post-process.
fn epilogues(
    g: &Graph,
    roles: &[Role],
    buffer_of: &mut [NodeId],
    uses: &[usize],
    is_output: &[bool],
    parts: Vec<Part>,
) -> Vec<Vec<Part>> {
    let mut groups: Vec<Vec<Part>> = Vec::new();
    for part in parts {
        let host = (part.kind == KernelKind::Loop)
            .then(|| epilogue_host(g, roles, uses, is_output, &part))
            .flatten();
        let slot = host.and_then(|h| groups.iter().position(|gr| gr[0].root == h));
        match slot {
            Some(k) if groups[k].len() == 1 => {
                buffer_of[part.root.index()] = buffer_of[groups[k][0].root.index()];
                groups[k].push(part);
            }
            _ => match second_epilogue(g, roles, &groups, &part) {
                Some(k) => groups[k].push(part),
                None => groups.push(vec![part]),
            },
        }
    }
    groups
}

fn epilogue_host(
    g: &Graph,
    roles: &[Role],
    uses: &[usize],
    is_output: &[bool],
    part: &Part,
) -> Option<NodeId> {
    if g.node(part.root).dtype != DType::F32 {
        return None;
    }
    let leaves = loop_leaves(g, roles, part);
    // The latest contraction read at the loop's index: every other input
    // must exist when it runs (`x @ w + h @ u` is `h @ u`'s epilogue).
    let host = leaves
        .iter()
        .filter(|(l, ident)| {
            *ident
                && matches!(g.node(*l).op, Op::MatMul { .. } | Op::Conv2d { .. })
                && uses[l.index()] == 1
                && !is_output[l.index()]
        })
        .max_by_key(|(l, _)| *l)?;
    let all_earlier = leaves.iter().all(|(l, _)| *l <= host.0);
    all_earlier.then_some(host.0)
}

/// The epilogue group whose in-place result a loop part reads elementwise
/// (and otherwise only values computed before the contraction): the part joins that kernel, storing its own buffer
/// (`relu` after `conv2d + bias` when the biased value is also kept for
/// the gradient), so codegen can merge both into one pass.
fn second_epilogue(g: &Graph, roles: &[Role], groups: &[Vec<Part>], part: &Part) -> Option<usize> {
    if part.kind != KernelKind::Loop || g.node(part.root).dtype != DType::F32 {
        return None;
    }
    let leaves = loop_leaves(g, roles, part);
    let k = groups.iter().position(|gr| {
        let (first, last) = (&gr[0], &gr[gr.len() - 1]);
        gr.len() >= 2
            && matches!(g.node(first.root).op, Op::MatMul { .. } | Op::Conv2d { .. })
            && leaves.iter().any(|&(l, ident)| ident && l == last.root)
            && leaves
                .iter()
                .all(|&(l, _)| l <= first.root || gr.iter().any(|p| p.root == l))
    })?;
    Some(k)
}

/// Joins each plain elementwise loop to the kernel right before it when
/// that kernel is made of plain loops over the same shape: one call
/// instead of several, and codegen's multi-output merge (`merge.rs`) can
/// then run them as one pass (an LSTM step's four gates, the cell update
/// and the new hidden state). Optimizer updates are left to
/// `group_updates`.
fn consecutive_loops(g: &Graph, groups: Vec<Vec<Part>>) -> Vec<Vec<Part>> {
    let plain = |p: &Part| {
        p.kind == KernelKind::Loop
            && g.node(p.root).dtype == DType::F32
            && !g
                .outputs
                .iter()
                .any(|(name, o)| *o == p.root && name.starts_with("update:"))
    };
    let mut out: Vec<Vec<Part>> = Vec::with_capacity(groups.len());
    for group in groups {
        let joins = match (out.last(), group.as_slice()) {
            (Some(prev), [part]) => {
                plain(part) && prev.iter().all(plain) && g.shape(prev[0].root) == g.shape(part.root)
            }
            _ => false,
        };
        match out.last_mut() {
            Some(prev) if joins => prev.extend(group),
            _ => out.push(group),
        }
    }
    out
}

/// Names each group, and merges the plain loops producing `update:*`
/// outputs into one optimizer kernel placed after the last of them, when
/// nothing but other updates reads their results.
fn group_updates(g: &Graph, groups: Vec<Vec<Part>>) -> Vec<Kernel> {
    let is_update = |id: NodeId| {
        g.outputs
            .iter()
            .any(|(name, o)| *o == id && name.starts_with("update:"))
    };
    let candidate = |parts: &[Part]| {
        parts.len() == 1 && parts[0].kind == KernelKind::Loop && is_update(parts[0].root)
    };
    let mut moved: Vec<bool> = groups.iter().map(|p| candidate(p)).collect();
    loop {
        let members: Vec<NodeId> = groups
            .iter()
            .zip(&moved)
            .filter(|(_, m)| **m)
            .flat_map(|(p, _)| p[0].members.iter().copied())
            .collect();
        let read_elsewhere = |root: NodeId| {
            g.nodes
                .iter()
                .enumerate()
                .any(|(i, n)| n.inputs.contains(&root) && !members.contains(&NodeId(i as u32)))
        };
        let stuck: Vec<usize> = (0..groups.len())
            .filter(|&k| moved[k] && read_elsewhere(groups[k][0].root))
            .collect();
        if stuck.is_empty() {
            break;
        }
        for k in stuck {
            moved[k] = false;
        }
    }
    let mut kernels = Vec::new();
    let mut updates = Vec::new();
    for (parts, m) in groups.into_iter().zip(moved) {
        if m {
            updates.extend(parts);
            continue;
        }
        kernels.push(Kernel {
            label: label(g, &parts),
            parts,
        });
    }
    if !updates.is_empty() {
        kernels.push(Kernel {
            label: format!("optimizer update ({} tensors)", updates.len()),
            parts: updates,
        });
    }
    kernels
}

fn label(g: &Graph, parts: &[Part]) -> String {
    let names: Vec<&str> = parts.iter().map(|p| g.node(p.root).op.name()).collect();
    names.join("+")
}
