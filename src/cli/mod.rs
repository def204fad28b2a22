//! The `dlc` command line: the only place that prints and exits.

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    0
}
