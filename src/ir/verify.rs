//! Internal invariants of a graph, checked after every pass in tests.
//!
//! A graph is well formed when every input id refers to an *earlier* node
//! (so the arena order is topological), every node's recorded shape and
//! dtype are what its op's rule computes from its inputs, input names are
//! unique, and every output refers to an existing node. Violations are
//! compiler bugs, reported with the offending node's id.

use std::collections::HashSet;

use super::graph::Graph;
use super::op::Op;
use super::shape::{infer, Type};
use super::IrError;

/// Checks every invariant; the first violation is returned.
pub fn verify(g: &Graph) -> Result<(), IrError> {
    let mut names = HashSet::new();
    for (i, n) in g.nodes.iter().enumerate() {
        let fail = |msg: String| IrError::Verify {
            node: i as u32,
            msg,
        };
        if let Some(bad) = n.inputs.iter().find(|inp| inp.index() >= i) {
            return Err(fail(format!("input %{} does not precede its use", bad.0)));
        }
        let types: Vec<Type> = n.inputs.iter().map(|&inp| g.ty(inp)).collect();
        let refs: Vec<&Type> = types.iter().collect();
        let expected = infer(&n.op, &refs).map_err(|m| fail(format!("{}: {m}", n.op.name())))?;
        if expected.shape != n.shape || expected.dtype != n.dtype {
            return Err(fail(format!(
                "recorded {}{:?}, rule gives {}{:?}",
                n.dtype, n.shape, expected.dtype, expected.shape
            )));
        }
        if let Op::Input { name, .. } = &n.op {
            if !names.insert(name.as_str()) {
                return Err(fail(format!("duplicate input name `{name}`")));
            }
        }
    }
    match g.outputs.iter().find(|(_, id)| id.index() >= g.nodes.len()) {
        Some((name, id)) => Err(IrError::Verify {
            node: id.0,
            msg: format!("output `{name}` refers to a missing node"),
        }),
        None => Ok(()),
    }
}
