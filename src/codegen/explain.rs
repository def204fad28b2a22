//! The `--explain` report: which ops became which kernel, with an estimate
//! of each kernel's floating-point work and memory traffic.
//!
//! FLOPs count one per element per arithmetic op (a transcendental counts
//! as one), `2·m·n·k` per matmul and `2·B·F·OH·OW·C·KH·KW` per convolution
//! or convolution gradient. Bytes count each stored buffer a kernel reads
//! or writes once (inlined values cost nothing). Loops count the loop
//! nests the kernel runs (elementwise parts merged as in `merge`; pad and
//! concat count one per copy, a pad's zero fill not counted).

use std::fmt::Write;

use super::call::movement;
use super::merge::{pieces, Piece};
use crate::ir::{Graph, NodeId, Op};
use crate::passes::fuse::{Fusion, KernelKind, Role};

/// One kernel of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelReport {
    pub label: String,
    /// The op names it computes, root of each part first.
    pub ops: Vec<String>,
    pub flops: u64,
    pub bytes: u64,
    /// Loop nests (passes over memory) after merging elementwise parts
    /// into multi-output loops; library calls are not counted.
    pub loops: usize,
    /// Threads sharing the kernel's loops (`Compiled::parts`; 1 until a
    /// compiled step says otherwise).
    pub parts: usize,
}

fn numel(s: &[usize]) -> u64 {
    s.iter().product::<usize>() as u64
}

fn flops(g: &Graph, n: NodeId) -> u64 {
    let node = g.node(n);
    let out = numel(&node.shape);
    let input = |i: usize| numel(g.shape(node.inputs[i]));
    match &node.op {
        Op::Unary(_) | Op::Binary(_) | Op::Where => out,
        Op::Sum { .. } | Op::Max { .. } | Op::ArgMax { .. } => input(0),
        Op::MatMul { ta, .. } => {
            let a = g.shape(node.inputs[0]);
            let k = if *ta { a[a.len() - 2] } else { a[a.len() - 1] };
            2 * out * k as u64
        }
        Op::Conv2d { .. } | Op::Conv2dGradInput { .. } => {
            let w = g.shape(node.inputs[1]);
            let taps = (w[1] * w[2] * w[3]) as u64;
            let y = if matches!(node.op, Op::Conv2d { .. }) {
                out
            } else {
                input(0)
            };
            2 * y * taps
        }
        Op::Conv2dGradWeight { .. } => {
            let dy = g.shape(node.inputs[1]);
            2 * numel(dy) * (out / dy[1] as u64)
        }
        Op::MaxPool2d { .. }
        | Op::MaxPool2dGrad { .. }
        | Op::AvgPool2d { .. }
        | Op::AvgPool2dGrad { .. } => input(0),
        Op::Input { .. }
        | Op::Full { .. }
        | Op::Arange { .. }
        | Op::Broadcast { .. }
        | Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Concat { .. }
        | Op::OneHot { .. }
        | Op::Gather
        | Op::ScatterAdd { .. }
        | Op::Cast { .. }
        | Op::StopGradient
        | Op::Bernoulli { .. }
        | Op::NormalLike { .. } => 0,
    }
}

/// One report per kernel, in execution order.
pub fn explain(g: &Graph, f: &Fusion) -> Vec<KernelReport> {
    f.kernels
        .iter()
        .map(|k| {
            let mut ops = Vec::new();
            let mut fl = 0;
            let mut bufs: Vec<NodeId> = Vec::new();
            for part in &k.parts {
                bufs.push(f.buffer_of[part.root.index()]);
                for &m in &part.members {
                    ops.push(g.node(m).op.name().to_string());
                    fl += flops(g, m);
                    for p in &g.node(m).inputs {
                        if f.roles[p.index()] != Role::Inline {
                            bufs.push(f.buffer_of[p.index()]);
                        }
                    }
                }
            }
            bufs.sort_unstable();
            bufs.dedup();
            let bytes = bufs.iter().map(|b| numel(g.shape(*b)) * 4).sum();
            let loops = pieces(g, f, k)
                .iter()
                .map(|p| match p {
                    Piece::Loop(_) => 1,
                    Piece::Conv(..) => 0,
                    Piece::Part(_, part) => match part.kind {
                        KernelKind::Reduce => 1,
                        KernelKind::Movement => movement(g, f, part.root).len(),
                        KernelKind::Loop | KernelKind::Library => 0,
                    },
                })
                .sum();
            KernelReport {
                label: k.label.clone(),
                ops,
                flops: fl,
                bytes,
                loops,
                parts: 1,
            }
        })
        .collect()
}

/// The report as text, one line per kernel plus totals.
pub fn explain_text(reports: &[KernelReport]) -> String {
    let mut s = String::new();
    for (i, r) in reports.iter().enumerate() {
        let split = if r.parts > 1 {
            format!(" x{}", r.parts)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "k{i:<3} {:<28} {:>12} flop {:>11} B {:>3} loops{split}  [{}]",
            r.label,
            r.flops,
            r.bytes,
            r.loops,
            r.ops.join(" ")
        );
    }
    let fl: u64 = reports.iter().map(|r| r.flops).sum();
    let by: u64 = reports.iter().map(|r| r.bytes).sum();
    let _ = writeln!(s, "{} kernels, {fl} flop, {by} B", reports.len());
    s
}
