//! The standard library's dlm source, built into the binary so that `dlc`
//! needs no files beside it.

/// `(name, text)` of every std file, in the order they are checked.
pub const FILES: &[(&str, &str)] = &[];
