//! Graph-to-graph passes, each a pure function in its own file.
//!
//! The training pipeline runs them in this order:
//! 1. `autodiff` — appends the backward pass of the loss (before any
//!    cleanup, so the backward nodes are cleaned up with the forward ones);
//! 2. `dce` — drops the nodes no output needs (autodiff emits gradients of
//!    every input of a differentiated op, wanted or not).
//!
//! The JIT backend then runs `fuse` (partition into kernels) and `memplan`
//! (static buffer offsets from liveness).

pub mod autodiff;
pub mod dce;
pub mod fuse;
pub mod memplan;

pub use autodiff::autodiff;
pub use dce::dce;
