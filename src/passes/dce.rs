//! Dead-code elimination: keep the nodes some output depends on.
//!
//! One backward sweep over the arena marks the outputs and, transitively,
//! their inputs; one forward sweep copies the marked nodes into a new graph
//! and renumbers their inputs. `Input` nodes are always kept, because they
//! are the program's signature (the runtime binds parameters by name even
//! when a model ignores one). Random ops keep their `stream` attribute, so
//! renumbering does not change their samples.

use crate::ir::{Graph, NodeId, Op};

/// The graph without dead nodes, and where each old node went (`None` if
/// dropped).
pub fn dce(g: &Graph) -> (Graph, Vec<Option<NodeId>>) {
    let mut live = vec![false; g.nodes.len()];
    for (_, id) in &g.outputs {
        live[id.index()] = true;
    }
    for i in (0..g.nodes.len()).rev() {
        live[i] |= matches!(g.nodes[i].op, Op::Input { .. });
        if live[i] {
            for x in &g.nodes[i].inputs {
                live[x.index()] = true;
            }
        }
    }
    let mut out = Graph {
        current_span: g.current_span,
        ..Graph::default()
    };
    let mut map = vec![None; g.nodes.len()];
    for (i, node) in g.nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
        let mut node = node.clone();
        for x in &mut node.inputs {
            *x = map[x.index()].expect("inputs precede their uses");
        }
        map[i] = Some(NodeId(out.nodes.len() as u32));
        out.nodes.push(node);
    }
    out.outputs = g
        .outputs
        .iter()
        .map(|(name, id)| (name.clone(), map[id.index()].expect("outputs are live")))
        .collect();
    (out, map)
}
