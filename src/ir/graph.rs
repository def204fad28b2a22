//! The graph arena and its builder.
//!
//! Nodes live in one `Vec` and refer to their inputs by `NodeId(u32)`. The
//! builder only appends, and every input of a new node must already exist,
//! so the arena order is always a topological order: passes walk it
//! forwards for the forward pass and backwards for the backward pass.
//!
//! Every node records the source span it came from. The builder stamps new
//! nodes with the graph's *current span*, which lowering sets per
//! expression and autodiff sets to the span of the forward node whose
//! gradient it is emitting.

use super::op::{BinaryOp, DType, InputKind, Op, UnaryOp};
use super::shape::{infer, Type};
use super::IrError;
use crate::diag::Span;

/// Index of a node in its graph's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One op applied to earlier nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    pub inputs: Vec<NodeId>,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub span: Option<Span>,
}

/// A tensor program: nodes in topological order plus named outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub outputs: Vec<(String, NodeId)>,
    /// The span stamped on nodes added from now on.
    pub current_span: Option<Span>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn ty(&self, id: NodeId) -> Type {
        let n = self.node(id);
        Type {
            shape: n.shape.clone(),
            dtype: n.dtype,
        }
    }

    pub fn shape(&self, id: NodeId) -> &[usize] {
        &self.node(id).shape
    }

    /// Appends `op(inputs)` after checking its shape rule.
    pub fn add(&mut self, op: Op, inputs: &[NodeId]) -> Result<NodeId, IrError> {
        let types: Vec<Type> = inputs.iter().map(|&i| self.ty(i)).collect();
        let refs: Vec<&Type> = types.iter().collect();
        let out = infer(&op, &refs).map_err(|msg| IrError::Shape { op: op.name(), msg })?;
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(Node {
            op,
            inputs: inputs.to_vec(),
            shape: out.shape,
            dtype: out.dtype,
            span: self.current_span,
        });
        Ok(id)
    }

    /// Names `id` as a graph output.
    pub fn output(&mut self, name: impl Into<String>, id: NodeId) {
        self.outputs.push((name.into(), id));
    }

    /// The node bound to output `name`, if any.
    pub fn output_id(&self, name: &str) -> Option<NodeId> {
        self.outputs.iter().find(|(n, _)| n == name).map(|o| o.1)
    }

    pub fn input(
        &mut self,
        name: &str,
        kind: InputKind,
        shape: &[usize],
        dtype: DType,
    ) -> Result<NodeId, IrError> {
        let op = Op::Input {
            name: name.into(),
            kind,
            shape: shape.to_vec(),
            dtype,
        };
        self.add(op, &[])
    }

    pub fn full(&mut self, value: f32, shape: &[usize]) -> Result<NodeId, IrError> {
        self.add(
            Op::Full {
                value,
                shape: shape.to_vec(),
            },
            &[],
        )
    }

    /// Zeros shaped like `x`.
    pub fn zeros_like(&mut self, x: NodeId) -> Result<NodeId, IrError> {
        let shape = self.shape(x).to_vec();
        self.full(0.0, &shape)
    }

    pub fn unary(&mut self, u: UnaryOp, x: NodeId) -> Result<NodeId, IrError> {
        self.add(Op::Unary(u), &[x])
    }

    pub fn binary(&mut self, b: BinaryOp, x: NodeId, y: NodeId) -> Result<NodeId, IrError> {
        self.add(Op::Binary(b), &[x, y])
    }

    pub fn add2(&mut self, x: NodeId, y: NodeId) -> Result<NodeId, IrError> {
        self.binary(BinaryOp::Add, x, y)
    }

    pub fn sub(&mut self, x: NodeId, y: NodeId) -> Result<NodeId, IrError> {
        self.binary(BinaryOp::Sub, x, y)
    }

    pub fn mul(&mut self, x: NodeId, y: NodeId) -> Result<NodeId, IrError> {
        self.binary(BinaryOp::Mul, x, y)
    }

    pub fn div(&mut self, x: NodeId, y: NodeId) -> Result<NodeId, IrError> {
        self.binary(BinaryOp::Div, x, y)
    }

    pub fn neg(&mut self, x: NodeId) -> Result<NodeId, IrError> {
        self.unary(UnaryOp::Neg, x)
    }

    /// `x * c` for a constant `c`.
    pub fn scale(&mut self, x: NodeId, c: f32) -> Result<NodeId, IrError> {
        let shape = self.shape(x).to_vec();
        let k = self.full(c, &shape)?;
        self.mul(x, k)
    }

    pub fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> Result<NodeId, IrError> {
        self.add(Op::Where, &[c, a, b])
    }

    pub fn broadcast(&mut self, x: NodeId, shape: &[usize]) -> Result<NodeId, IrError> {
        if self.shape(x) == shape {
            return Ok(x);
        }
        self.add(
            Op::Broadcast {
                shape: shape.to_vec(),
            },
            &[x],
        )
    }

    pub fn reshape(&mut self, x: NodeId, shape: &[usize]) -> Result<NodeId, IrError> {
        if self.shape(x) == shape {
            return Ok(x);
        }
        self.add(
            Op::Reshape {
                shape: shape.to_vec(),
            },
            &[x],
        )
    }

    pub fn transpose(&mut self, x: NodeId, perm: &[usize]) -> Result<NodeId, IrError> {
        self.add(
            Op::Transpose {
                perm: perm.to_vec(),
            },
            &[x],
        )
    }

    /// Sum over `axes` (any order); the axes are removed.
    pub fn sum(&mut self, x: NodeId, axes: &[usize]) -> Result<NodeId, IrError> {
        let mut axes = axes.to_vec();
        axes.sort_unstable();
        axes.dedup();
        self.add(Op::Sum { axes }, &[x])
    }

    /// Sum of every element, an `f32[]` scalar.
    pub fn sum_all(&mut self, x: NodeId) -> Result<NodeId, IrError> {
        let axes: Vec<usize> = (0..self.shape(x).len()).collect();
        self.sum(x, &axes)
    }

    /// Maximum over `axes` (any order); the axes are removed.
    pub fn max_over(&mut self, x: NodeId, axes: &[usize]) -> Result<NodeId, IrError> {
        let mut axes = axes.to_vec();
        axes.sort_unstable();
        axes.dedup();
        self.add(Op::Max { axes }, &[x])
    }

    pub fn matmul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, IrError> {
        self.add(
            Op::MatMul {
                ta: false,
                tb: false,
            },
            &[a, b],
        )
    }

    /// A random op's `stream`: its id at creation, so it stays stable when
    /// later passes renumber the node.
    pub fn next_stream(&self) -> u32 {
        self.nodes.len() as u32
    }
}
