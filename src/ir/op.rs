//! The one op table of the tensor IR.
//!
//! `Op` is closed and small: every pass (shape rules in `shape.rs`, the text
//! form, the reference interpreter, autodiff, and later codegen) matches it
//! exhaustively, with no `_ =>` arm, so adding an op makes the compiler list
//! every place that must learn about it.
//!
//! Conventions shared by all ops:
//! - shapes are concrete (`Vec<usize>`); symbolic dims are resolved before
//!   lowering;
//! - elementwise binary ops require *equal* shapes: broadcasting is an
//!   explicit `Broadcast` node;
//! - comparisons produce `f32` 0/1, so masks feed straight into `Mul`/`Where`;
//! - random ops take two `i32[]` inputs, the run's seed and the step number,
//!   and carry a `stream` attribute (see `rng.rs`) that stays fixed when
//!   passes renumber nodes, so a mask depends on (seed, step, stream) only.

use std::fmt;

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    /// Labels, class ids, argmax positions, RNG seed and step.
    I32,
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::I32 => "i32",
        })
    }
}

/// What an `Input` stands for; the runtime binds each kind differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// A trained parameter.
    Param,
    /// Optimizer state (moments, step counters) carried between steps.
    State,
    /// A batch of data (features, labels).
    Data,
    /// A scalar fed by the runtime each step (seed, step, learning rate).
    Scalar,
}

/// Elementwise functions of one `f32` tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Tanh,
    Sigmoid,
    Sin,
    Cos,
    Abs,
    Sign,
    Floor,
    Recip,
}

/// Elementwise functions of two tensors of equal shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
    /// Floored remainder: `a - b * floor(a / b)` (the sign of `b`, like Python).
    Rem,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl BinaryOp {
    /// Comparisons accept either dtype and always produce `f32` 0/1.
    pub fn is_comparison(self) -> bool {
        match self {
            BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Eq
            | BinaryOp::Ne => true,
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Pow
            | BinaryOp::Max
            | BinaryOp::Min
            | BinaryOp::Rem => false,
        }
    }
}

/// One tensor operation. Inputs are listed in the comment of each variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A named graph input; no inputs.
    Input {
        name: String,
        kind: InputKind,
        shape: Vec<usize>,
        dtype: DType,
    },
    /// `value` everywhere, `f32[shape]`; no inputs (`shape = []` is a scalar).
    Full { value: f32, shape: Vec<usize> },
    /// `f32[n]`: 0, 1, ..., n-1; no inputs.
    Arange { n: usize },
    /// `(x)`, elementwise, `f32`.
    Unary(UnaryOp),
    /// `(a, b)`, equal shapes.
    Binary(BinaryOp),
    /// `(c, a, b)`, equal shapes: `a` where `c != 0`, else `b`.
    Where,
    /// `(x)`: NumPy right-aligned broadcast of a shape of equal or lower rank.
    Broadcast { shape: Vec<usize> },
    /// `(x)`: same elements in row-major order, new shape.
    Reshape { shape: Vec<usize> },
    /// `(x)`: output axis `i` is input axis `perm[i]`.
    Transpose { perm: Vec<usize> },
    /// `(x)`: `start..end` along `axis`.
    Slice {
        axis: usize,
        start: usize,
        end: usize,
    },
    /// `(x)`: zeros added before and after along `axis` (the adjoint of `Slice`).
    Pad {
        axis: usize,
        before: usize,
        after: usize,
    },
    /// `(x0, x1, ...)`: joined along `axis`.
    Concat { axis: usize },
    /// `(x)`: sum over `axes` (sorted, distinct), which are removed.
    Sum { axes: Vec<usize> },
    /// `(x)`: maximum over `axes` (sorted, distinct), which are removed.
    Max { axes: Vec<usize> },
    /// `(x)`: `i32` position of the first maximum along `axis`, which is removed.
    ArgMax { axis: usize },
    /// `(a, b)`: `a: [..., M, K]`, `b: [..., K, N]` -> `[..., M, N]`, identical
    /// leading dims; `ta`/`tb` read `a`/`b` with their last two axes swapped.
    MatMul { ta: bool, tb: bool },
    /// `(x, w)`: `x: [B, C, H, W]`, `w: [F, C, KH, KW]` ->
    /// `[B, F, (H + 2P - KH) / S + 1, (W + 2P - KW) / S + 1]`, zero padding.
    Conv2d { stride: usize, pad: usize },
    /// `(dy, w)` -> `dx: [B, C, H, W]` with `hw = [H, W]`: the adjoint of
    /// `Conv2d` in `x`.
    Conv2dGradInput {
        stride: usize,
        pad: usize,
        hw: [usize; 2],
    },
    /// `(x, dy)` -> `dw: [F, C, KH, KW]` with `khw = [KH, KW]`: the adjoint
    /// of `Conv2d` in `w`.
    Conv2dGradWeight {
        stride: usize,
        pad: usize,
        khw: [usize; 2],
    },
    /// `(x)`: `[B, C, H, W]` -> `[B, C, (H - K) / S + 1, (W - K) / S + 1]`.
    MaxPool2d { size: usize, stride: usize },
    /// `(x, dy)` -> `dx`: each `dy` goes to the first maximum of its window.
    MaxPool2dGrad { size: usize, stride: usize },
    /// `(x)`: window means, shapes as `MaxPool2d`.
    AvgPool2d { size: usize, stride: usize },
    /// `(dy)` -> `dx: [B, C, H, W]` with `hw = [H, W]`.
    AvgPool2dGrad {
        size: usize,
        stride: usize,
        hw: [usize; 2],
    },
    /// `(labels: i32[...])` -> `f32[..., classes]`; out-of-range ids give zeros.
    OneHot { classes: usize },
    /// `(table: f32[V, D], ids: i32[...])` -> `f32[..., D]`.
    Gather,
    /// `(ids: i32[...], upd: f32[..., D])` -> `f32[rows, D]`, rows summed by id
    /// (the adjoint of `Gather`).
    ScatterAdd { rows: usize },
    /// `(x)`: element type conversion; `f32 -> i32` truncates toward zero.
    Cast { to: DType },
    /// `(x)`: the value of `x`, with no gradient through it.
    StopGradient,
    /// `(seed: i32[], step: i32[])` -> `f32[shape]`, each 1 with probability `p`.
    Bernoulli {
        p: f32,
        shape: Vec<usize>,
        stream: u32,
    },
    /// `(seed: i32[], step: i32[])` -> `f32[shape]`, standard normal.
    NormalLike { shape: Vec<usize>, stream: u32 },
}

impl Op {
    /// The op's name in the text form.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Full { .. } => "full",
            Op::Arange { .. } => "arange",
            Op::Unary(u) => unary_name(*u),
            Op::Binary(b) => binary_name(*b),
            Op::Where => "where",
            Op::Broadcast { .. } => "broadcast",
            Op::Reshape { .. } => "reshape",
            Op::Transpose { .. } => "transpose",
            Op::Slice { .. } => "slice",
            Op::Pad { .. } => "pad",
            Op::Concat { .. } => "concat",
            Op::Sum { .. } => "sum",
            Op::Max { .. } => "max_over",
            Op::ArgMax { .. } => "argmax",
            Op::MatMul { .. } => "matmul",
            Op::Conv2d { .. } => "conv2d",
            Op::Conv2dGradInput { .. } => "conv2d_grad_input",
            Op::Conv2dGradWeight { .. } => "conv2d_grad_weight",
            Op::MaxPool2d { .. } => "maxpool2d",
            Op::MaxPool2dGrad { .. } => "maxpool2d_grad",
            Op::AvgPool2d { .. } => "avgpool2d",
            Op::AvgPool2dGrad { .. } => "avgpool2d_grad",
            Op::OneHot { .. } => "one_hot",
            Op::Gather => "gather",
            Op::ScatterAdd { .. } => "scatter_add",
            Op::Cast { .. } => "cast",
            Op::StopGradient => "stop_gradient",
            Op::Bernoulli { .. } => "bernoulli",
            Op::NormalLike { .. } => "normal_like",
        }
    }
}

fn unary_name(u: UnaryOp) -> &'static str {
    match u {
        UnaryOp::Neg => "neg",
        UnaryOp::Exp => "exp",
        UnaryOp::Log => "log",
        UnaryOp::Sqrt => "sqrt",
        UnaryOp::Tanh => "tanh",
        UnaryOp::Sigmoid => "sigmoid",
        UnaryOp::Sin => "sin",
        UnaryOp::Cos => "cos",
        UnaryOp::Abs => "abs",
        UnaryOp::Sign => "sign",
        UnaryOp::Floor => "floor",
        UnaryOp::Recip => "recip",
    }
}

fn binary_name(b: BinaryOp) -> &'static str {
    match b {
        BinaryOp::Add => "add",
        BinaryOp::Sub => "sub",
        BinaryOp::Mul => "mul",
        BinaryOp::Div => "div",
        BinaryOp::Pow => "pow",
        BinaryOp::Max => "max",
        BinaryOp::Min => "min",
        BinaryOp::Rem => "rem",
        BinaryOp::Lt => "lt",
        BinaryOp::Le => "le",
        BinaryOp::Gt => "gt",
        BinaryOp::Ge => "ge",
        BinaryOp::Eq => "eq",
        BinaryOp::Ne => "ne",
    }
}
