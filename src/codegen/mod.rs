//! The Cranelift backend: a whole step graph as JIT-compiled kernels.
//!
//! `compile` runs fusion (`passes::fuse`), plans memory
//! (`passes::memplan`), lowers every kernel to a Cranelift function
//! (`lower`, generic over `cranelift_module::Module`) and finalizes them in
//! a `JITModule`. [`Compiled::run`] binds the caller's buffers, calls the
//! kernels in order and never allocates.
//!
//! Files: `expr` (loop specs: expression DAGs over affine loads),
//! `emit_loop` (loop nests, `f32x4` + FMA), `merge` (multi-output loops),
//! `math` (vector exp/log/tanh/sigmoid/sin/cos), `call` + `helpers` (matmul
//! via `sgemm`, our blocked AVX-512/AVX2 GEMM; conv via im2col + sgemm) +
//! `pool` (pooling) + `misc` (gather/scatter, argmax, random ops): Rust
//! routines called once per buffer; `inplace` (which updates may overwrite
//! their inputs), `lower`, `engine` (layout and run), `explain`.

mod call;
#[cfg(target_arch = "x86_64")]
mod conv_direct;
mod emit_loop;
mod engine;
mod explain;
mod expr;
mod helpers;
mod inplace;
#[cfg(target_arch = "x86_64")]
mod lanes_avx2;
mod lower;
pub mod math;
mod merge;
mod misc;
mod pool;
#[cfg(target_arch = "x86_64")]
mod pool_avx2;
#[cfg(target_arch = "x86_64")]
mod pool_avx512;
pub mod sgemm;
mod subnormal;
mod team;

use std::cell::RefCell;

use cranelift_codegen::ir::{Block, Value};

pub use engine::{compile, Compiled, In, Out, TensorSig};
pub use explain::{explain, explain_text, KernelReport};

/// Where a buffer lives at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A caller's pointer: input `i` or output `i - inputs`.
    Slot(usize),
    /// A byte offset into the arena.
    Arena(usize),
}

/// The function-level context of kernel emission.
pub struct Frame<'a> {
    /// The `slots` pointer argument.
    pub slots: Value,
    /// The kernel's entry block, where every slot's pointer is loaded once
    /// (see `Frame::buffer`).
    pub entry: Block,
    /// The slots loaded so far, and their values.
    pub loaded: RefCell<Vec<(usize, Value)>>,
    pub places: &'a [Option<Place>],
    pub arena_slot: usize,
    /// Set when the kernel's loops are shared among threads (see
    /// `lower::parts`): each call runs part `part` of every loop.
    pub split: Option<Split>,
}

/// One call's share of a split kernel: the `part`-th of `parts` chunks of
/// every loop's outermost dimension.
#[derive(Clone, Copy)]
pub struct Split {
    /// The kernel's second argument.
    pub part: Value,
    pub parts: usize,
}

/// Code generation options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Run Cranelift's IR verifier on every kernel (tests: on).
    pub verify: bool,
    /// Cranelift `opt_level = speed` rather than `none`.
    pub optimize: bool,
    /// Threads for matmul/conv (the `team` inside `sgemm`) and for the
    /// large elementwise kernels (split into that many parts); 1 = none.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            verify: false,
            optimize: true,
            threads: 1,
        }
    }
}

/// Why a graph could not be compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error("this host is not supported by Cranelift: {0}")]
    Host(String),
    #[error("cranelift: {0}")]
    Cranelift(String),
    #[error("internal codegen error: {0}")]
    Internal(String),
    #[error(
        "output `{0}` is bound in place, but it has no in-place partner bound as `In::F32Mut`"
    )]
    InPlace(String),
    #[error("expected {expected} {what}, got {got}")]
    Arity {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what} `{name}`: expected {expected} {dtype} elements, got {got} {got_dtype}")]
    Binding {
        what: &'static str,
        name: String,
        expected: usize,
        dtype: crate::ir::DType,
        got: usize,
        got_dtype: crate::ir::DType,
    },
}

impl From<cranelift_module::ModuleError> for CodegenError {
    fn from(e: cranelift_module::ModuleError) -> CodegenError {
        CodegenError::Cranelift(format!("{e:?}"))
    }
}
