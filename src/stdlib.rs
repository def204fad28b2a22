//! The standard library's dlm source, built into the binary so that `dlc`
//! needs no files beside it.
//!
//! Order: activations first (layers use `relu` and `softmax`), then layers,
//! losses (on `log_softmax`), metrics (which reuse `mse` and `mae`), and
//! optimizers. Names are global, so the order only decides how diagnostics
//! are listed.

/// `(name, text)` of every std file, in the order they are checked.
pub const FILES: &[(&str, &str)] = &[
    (
        "std/activations.dlm",
        include_str!("../std/activations.dlm"),
    ),
    ("std/nn.dlm", include_str!("../std/nn.dlm")),
    ("std/losses.dlm", include_str!("../std/losses.dlm")),
    ("std/metrics.dlm", include_str!("../std/metrics.dlm")),
    ("std/optimizers.dlm", include_str!("../std/optimizers.dlm")),
];
