//! The abstract syntax tree of a dlm program.
//!
//! Every node keeps the [`Span`] it came from, so that any later stage can
//! point back at the source. The tree is produced by `syntax::parse` (the only
//! code that sees pest) and is plain data: no methods that interpret it.
//! Sugar is removed by the parser: `x |> f(a)` is the call `f(x, a)` with
//! `piped` set, so later stages see one form of call.

use crate::diag::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed source file.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// The `//!` comment at the top of the file, if any.
    pub doc: Option<String>,
    pub items: Vec<Item>,
}

/// A top-level declaration.
#[derive(Clone, Debug)]
pub enum Item {
    /// `use std.nn.{dense, relu}`
    Use(UseDecl),
    /// `layer`, `fn` or `model`
    Def(Def),
    /// `optimizer adam(lr: float = 1e-3) { ... }`
    Optimizer(OptimizerDef),
    /// `data mnist { x: f32[N, 784] = ... }`
    Data(DataDef),
    /// `train Model on data { ... }`
    Train(TrainDef),
    /// `evaluate Model on data { ... }`
    Evaluate(EvalDef),
}

#[derive(Clone, Debug)]
pub struct UseDecl {
    /// `std.nn` as `[std, nn]`.
    pub path: Vec<Ident>,
    /// The names in braces; empty means the whole module.
    pub names: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefKind {
    /// A reusable block that may declare `param`s and `state`.
    Layer,
    /// A pure function (activations, losses, metrics): no `param`s.
    Fn,
    /// A network the program trains; its parameters are the ones of the
    /// layers it calls.
    Model,
}

/// `layer dense(x: f32[..., I], units: O) -> f32[..., O] { ... }`
#[derive(Clone, Debug)]
pub struct Def {
    pub kind: DefKind,
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Type,
    pub body: Block,
    pub span: Span,
}

/// One parameter of a definition's signature.
#[derive(Clone, Debug)]
pub struct Param {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: Type,
    /// `kernel: K = 3`: the value used when a call leaves it out.
    pub default: Option<Expr>,
    pub span: Span,
}

/// A type as written in a signature, a `let`, a `param` or a data field.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// `f32[B, 1, 28, 28]`, `i32[B]`, `f32` (a scalar tensor).
    Tensor(TensorType),
    /// `units: O`: an integer argument whose value names the dimension `O`.
    Dim(Ident),
    /// `int`, `float`, `bool`, `str`.
    Scalar(ScalarType, Span),
    /// `(f32[B, H], f32[B, H])`, the type of a tuple result.
    Tuple(Vec<Type>, Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    Int,
    Float,
    Bool,
    Str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    I32,
    U8,
}

/// `f32[B, I]`: an element type and a list of dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorType {
    pub dtype: DType,
    /// `None` for a scalar written without brackets (`f32`).
    pub dims: Option<Vec<DimExpr>>,
    pub span: Span,
}

/// One dimension in a tensor type: `28`, `B`, `floor((H - K) / S) + 1`, `...`.
#[derive(Clone, Debug, PartialEq)]
pub struct DimExpr {
    pub kind: DimKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DimKind {
    Const(u64),
    Var(String),
    /// `...`: any number of leading dimensions, matched as a group.
    Rest,
    Bin(DimOp, Box<DimExpr>, Box<DimExpr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DimOp {
    Add,
    Sub,
    Mul,
    /// `/`: exact division; a remainder is a shape error.
    Div,
    /// `floor(a / b)`, as in the output size of a strided convolution.
    FloorDiv,
    /// `ceil(a / b)`, as in the output size of `same` padding with a stride.
    CeilDiv,
}

/// `{ stmt* expr }`: statements, then the value of the block.
#[derive(Clone, Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub result: Box<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// `param w: f32[I, O] = glorot_uniform`: a trained parameter.
    Param(VarDecl),
    /// `state running_mean: f32[C] = zeros`: a tensor kept between steps
    /// but not trained (batch-norm statistics, optimizer moments).
    State(VarDecl),
    /// `let z: f32[B, H] = x @ w`
    Let(LetStmt),
    /// `update running_mean = ...`: the state's value after this step.
    Update(UpdateStmt),
}

/// A `param` or `state` declaration.
#[derive(Clone, Debug)]
pub struct VarDecl {
    pub doc: Option<String>,
    pub name: Ident,
    /// Required in layers; optimizer states omit it (they take the shape of
    /// the parameter they belong to).
    pub ty: Option<TensorType>,
    /// The initializer: `glorot_uniform`, `zeros`, `normal(std: 0.02)`.
    pub init: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LetStmt {
    pub pat: Pattern,
    /// An optional type the value is checked against.
    pub ty: Option<Type>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Pattern {
    Name(Ident),
    Tuple(Vec<Pattern>, Span),
}

#[derive(Clone, Debug)]
pub struct UpdateStmt {
    pub target: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    /// A variable, a dimension, a definition used as a value (`|> relu`,
    /// `metrics = [accuracy]`, `= glorot_uniform`), or `training`.
    Name(Ident),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(a, name: b)`; `x |> f(a)` parses as `f(x, a)` with `piped`.
    Call {
        callee: Ident,
        args: Vec<Arg>,
        piped: bool,
    },
    /// `x[:, -1, 0:4]`
    Index(Box<Expr>, Vec<IndexItem>),
    /// `mnist.x`
    Field(Box<Expr>, Ident),
    /// `(a, b)`
    Tuple(Vec<Expr>),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `a..b`: the integers from `a` up to but not including `b`.
    Range(Box<Expr>, Box<Expr>),
    /// `if cond { a } else { b }`
    If(Box<Expr>, Block, Block),
    /// A recurrence over one axis of a tensor; see [`Scan`].
    Scan(Box<Scan>),
}

/// `scan (h = h0, c = c0) over xt in x along 1 { ...; (h2, c2) }`
///
/// Runs the body once per slice of `seq` along `axis`, with the carries
/// bound to their previous values and `var` to the slice. `scan` evaluates
/// to the final carries; `collect` to every step's carries, stacked along
/// `axis`.
#[derive(Clone, Debug)]
pub struct Scan {
    pub collect: bool,
    pub carries: Vec<(Ident, Expr)>,
    pub var: Ident,
    pub seq: Expr,
    pub axis: Expr,
    pub body: Block,
}

#[derive(Clone, Debug)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum IndexItem {
    /// `:`: the whole axis.
    Full(Span),
    /// `i`: one position; the axis is removed.
    At(Expr),
    /// `a:b`, `a:`, `:b`: a range; the axis is kept.
    Range(Option<Expr>, Option<Expr>, Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    MatMul,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

/// `data mnist { let raw = ...; x: f32[N, 784] = ...; y: i32[N] = ... }`
#[derive(Clone, Debug)]
pub struct DataDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub items: Vec<DataItem>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum DataItem {
    Let(LetStmt),
    /// `x: f32[N, 1, 28, 28] = idx("...") / 255`: a field the model sees.
    Field(DataField),
}

#[derive(Clone, Debug)]
pub struct DataField {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TensorType,
    pub value: Expr,
    pub span: Span,
}

/// `optimizer adam(lr: float = 1e-3, ...) { state m = zeros; ...; p - lr * m }`
///
/// The body runs once per parameter with `p` (the parameter), `g` (its
/// gradient) and `t` (the 1-based step number) in scope, and evaluates to the
/// parameter's new value.
#[derive(Clone, Debug)]
pub struct OptimizerDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Block,
    pub span: Span,
}

/// `train Cnn on mnist { loss = ...; epochs = 10 }`
#[derive(Clone, Debug)]
pub struct TrainDef {
    pub model: Ident,
    pub data: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `evaluate Cnn on mnist_test { metrics = [accuracy] }`
#[derive(Clone, Debug)]
pub struct EvalDef {
    pub model: Ident,
    pub data: Ident,
    pub settings: Vec<Setting>,
    pub span: Span,
}

/// `key = value` inside a `train` or `evaluate` block.
#[derive(Clone, Debug)]
pub struct Setting {
    pub key: Ident,
    pub value: Expr,
    pub span: Span,
}
