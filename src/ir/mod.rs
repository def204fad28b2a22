//! The tensor IR: a graph of tensor ops with concrete shapes.
//!
//! `op` is the one op table, `shape`/`shape_nn` its shape rules, `graph` the
//! arena and its builder, `verify` the internal invariants, `text` the
//! stable text form, `interp` the reference interpreter that defines what
//! every op means, and `rng` the counter-based generator behind random ops.

pub mod graph;
pub mod interp;
pub mod interp_kernels;
pub mod interp_nn;
pub mod op;
pub mod rng;
pub mod shape;
pub mod shape_nn;
pub mod text;
pub mod verify;

pub use graph::{Graph, Node, NodeId};
pub use op::{BinaryOp, DType, InputKind, Op, UnaryOp};
pub use shape::Type;

/// Internal IR failures. None of these is a user error: sema has checked
/// the program before lowering, so each one names a compiler bug or a
/// misuse of the IR API (a missing input binding, say).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IrError {
    /// A shape or dtype rule rejected an op's inputs.
    #[error("{op}: {msg}")]
    Shape { op: &'static str, msg: String },
    /// `verify` found a broken invariant at a node.
    #[error("%{node}: {msg}")]
    Verify { node: u32, msg: String },
    /// The interpreter was not given a value for a graph input.
    #[error("no value bound for input `{0}`")]
    MissingInput(String),
    /// A bound input value does not have the declared shape.
    #[error("input `{name}` has shape {got:?}, expected {expected:?}")]
    InputShape {
        name: String,
        got: Vec<usize>,
        expected: Vec<usize>,
    },
    /// Autodiff reached an op whose derivative we do not build.
    #[error("{0} has no gradient rule")]
    NoGradient(&'static str),
    /// Autodiff needs a scalar `f32` loss.
    #[error("loss %{0} is not an f32 scalar")]
    NonScalarLoss(u32),
}
