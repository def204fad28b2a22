//! The stable text form of a graph, one node per line:
//!
//! ```text
//! %0 = input[param "x"] : f32[2, 3]
//! %3 = matmul[tb] %0, %2 : f32[2, 4]
//! out loss = %5
//! ```
//!
//! Attributes sit in brackets after the op name, inputs follow, and the
//! result type closes the line. Spans are not printed, so the text of a
//! graph does not change when its source moves. Tests snapshot this form and
//! `dlc check --dump-after=PASS` prints it.

use std::fmt::{self, Write};

use super::graph::Graph;
use super::op::{InputKind, Op};

impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.nodes.iter().enumerate() {
            write!(f, "%{i} = {}{}", n.op.name(), attrs(&n.op))?;
            for (k, input) in n.inputs.iter().enumerate() {
                let sep = if k == 0 { " " } else { ", " };
                write!(f, "{sep}%{}", input.0)?;
            }
            writeln!(f, " : {}{}", n.dtype, dims(&n.shape))?;
        }
        for (name, id) in &self.outputs {
            writeln!(f, "out {name} = %{}", id.0)?;
        }
        Ok(())
    }
}

/// `[2, 3]`, or `[]` for a scalar.
fn dims(shape: &[usize]) -> String {
    format!("{shape:?}")
}

fn kind_name(k: InputKind) -> &'static str {
    match k {
        InputKind::Param => "param",
        InputKind::State => "state",
        InputKind::Data => "data",
        InputKind::Scalar => "scalar",
    }
}

/// The bracketed attribute list, empty when the op has none.
fn attrs(op: &Op) -> String {
    let list = match op {
        Op::Input { name, kind, .. } => format!("{} {name:?}", kind_name(*kind)),
        Op::Full { value, .. } => format!("{value:?}"),
        Op::Arange { .. }
        | Op::Unary(_)
        | Op::Binary(_)
        | Op::Where
        | Op::Broadcast { .. }
        | Op::Reshape { .. }
        | Op::Gather
        | Op::StopGradient => String::new(),
        Op::Transpose { perm } => format!("perm={}", dims(perm)),
        Op::Slice { axis, start, end } => format!("axis={axis}, {start}..{end}"),
        Op::Pad {
            axis,
            before,
            after,
        } => format!("axis={axis}, before={before}, after={after}"),
        Op::Concat { axis } | Op::ArgMax { axis } => format!("axis={axis}"),
        Op::Sum { axes } | Op::Max { axes } => format!("axes={}", dims(axes)),
        Op::MatMul { ta, tb } => {
            let mut s = String::new();
            for (flag, name) in [(ta, "ta"), (tb, "tb")] {
                if *flag {
                    let sep = if s.is_empty() { "" } else { ", " };
                    let _ = write!(s, "{sep}{name}");
                }
            }
            s
        }
        Op::Conv2d { stride, pad } => format!("stride={stride}, pad={pad}"),
        Op::Conv2dGradInput { stride, pad, .. } | Op::Conv2dGradWeight { stride, pad, .. } => {
            format!("stride={stride}, pad={pad}")
        }
        Op::MaxPool2d { size, stride }
        | Op::MaxPool2dGrad { size, stride }
        | Op::AvgPool2d { size, stride }
        | Op::AvgPool2dGrad { size, stride, .. } => format!("size={size}, stride={stride}"),
        Op::OneHot { classes } => format!("classes={classes}"),
        Op::ScatterAdd { rows } => format!("rows={rows}"),
        Op::Cast { to } => to.to_string(),
        Op::Bernoulli { p, stream, .. } => format!("p={p:?}, stream={stream}"),
        Op::NormalLike { stream, .. } => format!("stream={stream}"),
    };
    if list.is_empty() {
        list
    } else {
        format!("[{list}]")
    }
}
