//! dlc: a compiler for deep-learning models written in the dlm language.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//! `syntax` (text -> AST) -> `sema` (AST -> checked program) -> `ir` (tensor
//! graph) -> `passes` (autodiff, simplify, fusion, memory plan) -> `codegen`
//! (Cranelift) -> `runtime` (data, training loop, checkpoints).

pub mod codegen;
pub mod diag;
pub mod driver;
pub mod ir;
pub mod lower;
pub mod passes;
pub mod runtime;
pub mod sema;
pub mod stdlib;
pub mod syntax;
