//! The runtime: data loading, the training loop, metrics and checkpoints.
//!
//! Everything here runs after the checker and lowering: `data` reads files,
//! `data_block` evaluates `data` blocks into arrays of declared types.

pub mod data;
