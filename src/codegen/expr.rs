//! Loop specs: a fused loop or reduction part as an expression DAG over
//! affine loads, ready for emission.
//!
//! A loop iterates over an iteration space (the root's shape, or the
//! reduced input's shape for a reduction). Each inlined node is reached
//! through an [`Access`]: its multi-index as an affine function of the
//! iteration index. Views only rewrite accesses (a transpose permutes rows,
//! a slice adds an offset, a broadcast zeroes rows), elementwise ops pass
//! theirs on, and a stored node becomes a [`ENode::Load`] at the flat
//! affine position `offset + Σ it[i] * strides[i]` of its buffer.

use std::collections::HashMap;

use crate::ir::{BinaryOp, DType, Graph, NodeId, Op, UnaryOp};
use crate::passes::fuse::{unit_reshape, Fusion, Role};

/// A flat position `offset + Σ it[i] * strides[i]`, in elements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flat {
    pub offset: i64,
    pub strides: Vec<i64>,
}

/// A node's multi-index as affine rows over the iteration index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Access {
    rows: Vec<(i64, Vec<i64>)>,
}

impl Access {
    fn identity(rank: usize) -> Access {
        let rows = (0..rank)
            .map(|d| (0, (0..rank).map(|i| i64::from(i == d)).collect()))
            .collect();
        Access { rows }
    }

    fn zero_row(&self) -> (i64, Vec<i64>) {
        let width = self.rows.first().map_or(0, |r| r.1.len());
        (0, vec![0; width])
    }

    /// The flat position in a row-major buffer of `shape`.
    fn flat(&self, shape: &[usize], iter_rank: usize) -> Flat {
        let mut f = Flat {
            offset: 0,
            strides: vec![0; iter_rank],
        };
        let mut stride = 1i64;
        for (d, &len) in shape.iter().enumerate().rev() {
            let (off, coefs) = &self.rows[d];
            f.offset += off * stride;
            for (s, c) in f.strides.iter_mut().zip(coefs) {
                *s += c * stride;
            }
            stride *= len as i64;
        }
        f
    }
}

/// Index of a node in [`LoopSpec::nodes`].
pub type E = usize;

/// One value of the loop body, computed per iteration index.
#[derive(Clone, Debug, PartialEq)]
pub enum ENode {
    /// Element of the buffer of `buf` (a node id) at `flat`.
    Load {
        buf: NodeId,
        flat: Flat,
        dtype: DType,
    },
    ConstF(f32),
    /// The integer `flat` itself, as an `i32`.
    Index(Flat),
    Unary(UnaryOp, E),
    /// Operands of dtype `dtype`; comparisons give f32 0/1.
    Binary(BinaryOp, E, E, DType),
    /// `(c, a, b)`: `a` where `c != 0`.
    Select(E, E, E, DType),
    F32ToI32(E),
    I32ToF32(E),
    /// The value of an earlier node (a multi-output loop's stored value).
    Same(E),
}

/// How a loop stores its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    Store,
    Sum,
    Max,
}

/// A loop nest: iteration `shape`, body DAG, and the store of `root`.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopSpec {
    pub shape: Vec<usize>,
    pub nodes: Vec<ENode>,
    pub root: E,
    pub out: NodeId,
    pub out_flat: Flat,
    pub out_len: usize,
    pub dtype: DType,
    pub combine: Combine,
    /// Further values stored at `out_flat` of other buffers in the same
    /// iteration (a multi-output loop, see `merge`); `Store` loops only.
    pub also: Vec<(E, NodeId)>,
}

struct Builder<'a> {
    g: &'a Graph,
    f: &'a Fusion,
    rank: usize,
    nodes: Vec<ENode>,
    memo: HashMap<(NodeId, Access), E>,
}

/// The loop spec of a `Loop` or `Reduce` part rooted at `root`.
pub fn loop_spec(g: &Graph, f: &Fusion, root: NodeId) -> LoopSpec {
    let node = g.node(root);
    let reduced = if let Op::Sum { axes } = &node.op {
        Some((axes, Combine::Sum))
    } else if let Op::Max { axes } = &node.op {
        Some((axes, Combine::Max))
    } else {
        None
    };
    let (shape, combine, body_root, out_access) = match reduced {
        Some((axes, combine)) => {
            let x = node.inputs[0];
            let shape = g.shape(x).to_vec();
            let ident = Access::identity(shape.len());
            let kept = ident
                .rows
                .iter()
                .enumerate()
                .filter(|(d, _)| !axes.contains(d))
                .map(|(_, r)| r.clone())
                .collect();
            (shape, combine, x, Access { rows: kept })
        }
        None => {
            let rank = node.shape.len();
            (
                node.shape.clone(),
                Combine::Store,
                root,
                Access::identity(rank),
            )
        }
    };
    let mut b = Builder {
        g,
        f,
        rank: shape.len(),
        nodes: Vec::new(),
        memo: HashMap::new(),
    };
    let access = Access::identity(shape.len());
    let e = if body_root == root {
        b.compute(root, &access)
    } else {
        b.value(body_root, &access)
    };
    LoopSpec {
        out_flat: out_access.flat(&node.shape, shape.len()),
        shape,
        nodes: b.nodes,
        root: e,
        out: f.buffer_of[root.index()],
        out_len: node.shape.iter().product(),
        dtype: node.dtype,
        combine,
        also: Vec::new(),
    }
}

impl Builder<'_> {
    fn push(&mut self, e: ENode) -> E {
        self.nodes.push(e);
        self.nodes.len() - 1
    }

    /// The value of node `n` at `access`: a load if stored, else computed.
    fn value(&mut self, n: NodeId, access: &Access) -> E {
        if let Some(&e) = self.memo.get(&(n, access.clone())) {
            return e;
        }
        let e = match self.f.roles[n.index()] {
            Role::Buffer | Role::Alias => self.load(n, access),
            Role::Inline => self.compute(n, access),
        };
        self.memo.insert((n, access.clone()), e);
        e
    }

    fn load(&mut self, n: NodeId, access: &Access) -> E {
        let node = self.g.node(n);
        let flat = access.flat(&node.shape, self.rank);
        self.push(ENode::Load {
            buf: self.f.buffer_of[n.index()],
            flat,
            dtype: node.dtype,
        })
    }

    /// Computes node `n` from its inputs (never loads `n` itself).
    fn compute(&mut self, n: NodeId, access: &Access) -> E {
        let g = self.g;
        let node = g.node(n);
        let ins = &node.inputs;
        match &node.op {
            Op::Full { value, .. } => self.push(ENode::ConstF(*value)),
            Op::Arange { .. } => {
                let flat = access.flat(&node.shape, self.rank);
                let i = self.push(ENode::Index(flat));
                self.push(ENode::I32ToF32(i))
            }
            Op::Unary(u) => {
                let x = self.value(ins[0], access);
                self.push(ENode::Unary(*u, x))
            }
            Op::Binary(op) => {
                let a = self.value(ins[0], access);
                let b = self.value(ins[1], access);
                self.push(ENode::Binary(*op, a, b, g.node(ins[0]).dtype))
            }
            Op::Where => {
                let c = self.value(ins[0], access);
                let a = self.value(ins[1], access);
                let b = self.value(ins[2], access);
                self.push(ENode::Select(c, a, b, node.dtype))
            }
            Op::Cast { to } => {
                let x = self.value(ins[0], access);
                match (g.node(ins[0]).dtype, to) {
                    (DType::F32, DType::I32) => self.push(ENode::F32ToI32(x)),
                    (DType::I32, DType::F32) => self.push(ENode::I32ToF32(x)),
                    (DType::F32, DType::F32) | (DType::I32, DType::I32) => x,
                }
            }
            Op::StopGradient => self.value(ins[0], access),
            Op::OneHot { .. } => {
                let (last, lead) = access.rows.split_last().expect("one_hot has rank >= 1");
                let ids = self.value(
                    ins[0],
                    &Access {
                        rows: lead.to_vec(),
                    },
                );
                let class = self.push(ENode::Index(Flat {
                    offset: last.0,
                    strides: last.1.clone(),
                }));
                self.push(ENode::Binary(BinaryOp::Eq, ids, class, DType::I32))
            }
            Op::Broadcast { shape } => {
                let from = g.shape(ins[0]);
                let lead = shape.len() - from.len();
                let rows = from
                    .iter()
                    .enumerate()
                    .map(|(j, &len)| {
                        if len == 1 {
                            access.zero_row()
                        } else {
                            access.rows[lead + j].clone()
                        }
                    })
                    .collect();
                self.value(ins[0], &Access { rows })
            }
            Op::Transpose { perm } => {
                let mut rows = vec![access.zero_row(); perm.len()];
                for (i, &p) in perm.iter().enumerate() {
                    rows[p] = access.rows[i].clone();
                }
                self.value(ins[0], &Access { rows })
            }
            Op::Slice { axis, start, .. } => {
                let mut rows = access.rows.clone();
                rows[*axis].0 += *start as i64;
                self.value(ins[0], &Access { rows })
            }
            Op::Reshape { shape } => self.reshape(ins[0], shape, access),
            Op::Input { .. }
            | Op::Pad { .. }
            | Op::Concat { .. }
            | Op::Sum { .. }
            | Op::Max { .. }
            | Op::ArgMax { .. }
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
            | Op::NormalLike { .. } => self.load(n, access),
        }
    }

    /// A reshape seen through: over a stored input it is the same flat
    /// position; over a computed one fusion only allows unit-dim changes.
    fn reshape(&mut self, x: NodeId, shape: &[usize], access: &Access) -> E {
        let from = self.g.shape(x).to_vec();
        if self.f.roles[x.index()] != Role::Inline {
            let flat = access.flat(shape, self.rank);
            let node = self.g.node(x);
            return self.push(ENode::Load {
                buf: self.f.buffer_of[x.index()],
                flat,
                dtype: node.dtype,
            });
        }
        debug_assert!(unit_reshape(&from, shape));
        let mut kept = access
            .rows
            .iter()
            .zip(shape)
            .filter(|(_, &d)| d != 1)
            .map(|(r, _)| r.clone());
        let rows = from
            .iter()
            .map(|&d| {
                if d == 1 {
                    access.zero_row()
                } else {
                    kept.next().expect("same non-unit dims")
                }
            })
            .collect();
        self.value(x, &Access { rows })
    }
}
