//! Every differentiable op against central finite differences in f64: one
//! line per op through `check_op`, which differentiates
//! `sum(op(args) * random weights)`.

mod grad_check;

use std::collections::HashMap;

use dlc::ir::interp::interp_outputs;
use dlc::ir::{BinaryOp as B, DType, Graph, InputKind, IrError, NodeId, Op, UnaryOp as U};
use dlc::passes::autodiff;
use grad_check::{check_loss, Rng};
use ndarray::{ArrayD, IxDyn};

const S: &[usize] = &[2, 3];

/// One argument of an op under test.
#[derive(Clone, Copy)]
enum Arg {
    /// Differentiable, values in `[-1, 1)`.
    F(&'static [usize]),
    /// Differentiable, values in `[0.5, 2)` (for log, sqrt, pow, ...).
    Pos(&'static [usize]),
    /// Constant `i32` ids in `0..n`.
    Ids(&'static [usize], usize),
}

/// Checks the gradient of `sum(build(args) * r)` for random weights `r`
/// with respect to every differentiable argument; returns the max error.
fn check_op(
    name: &str,
    args: &[Arg],
    build: impl Fn(&mut Graph, &[NodeId]) -> Result<NodeId, IrError>,
) -> f64 {
    let mut rng = Rng::new(name);
    let mut g = Graph::new();
    let mut values = HashMap::new();
    let mut ids = vec![];
    let mut wrt = vec![];
    for (i, arg) in args.iter().enumerate() {
        let name = format!("x{i}");
        let (shape, dtype, value) = match *arg {
            Arg::F(s) => (s, DType::F32, rng.array(s, -1.0, 1.0)),
            Arg::Pos(s) => (s, DType::F32, rng.array(s, 0.5, 2.0)),
            Arg::Ids(s, n) => (s, DType::I32, rng.ids(s, n)),
        };
        let id = g.input(&name, InputKind::Param, shape, dtype).unwrap();
        if dtype == DType::F32 {
            wrt.push(id);
        }
        ids.push(id);
        values.insert(name, value);
    }
    let y = build(&mut g, &ids).unwrap_or_else(|e| panic!("{name}: building failed: {e}"));
    let shape = g.shape(y).to_vec();
    let r = g.input("r", InputKind::Data, &shape, DType::F32).unwrap();
    values.insert("r".into(), rng.array(&shape, -1.0, 1.0));
    let weighted = g.mul(y, r).unwrap();
    let loss = g.sum_all(weighted).unwrap();
    check_loss(name, g, loss, &wrt, values)
}

fn un(u: U) -> impl Fn(&mut Graph, &[NodeId]) -> Result<NodeId, IrError> {
    move |g, x| g.unary(u, x[0])
}

fn bin(b: B) -> impl Fn(&mut Graph, &[NodeId]) -> Result<NodeId, IrError> {
    move |g, x| g.binary(b, x[0], x[1])
}

fn op1(op: Op) -> impl Fn(&mut Graph, &[NodeId]) -> Result<NodeId, IrError> {
    move |g, x| g.add(op.clone(), &x[..1])
}

fn op2(op: Op) -> impl Fn(&mut Graph, &[NodeId]) -> Result<NodeId, IrError> {
    move |g, x| g.add(op.clone(), &x[..2])
}

#[test]
fn unary_ops() {
    use Arg::{Pos, F};
    check_op("neg", &[F(S)], un(U::Neg));
    check_op("exp", &[F(S)], un(U::Exp));
    check_op("log", &[Pos(S)], un(U::Log));
    check_op("sqrt", &[Pos(S)], un(U::Sqrt));
    check_op("tanh", &[F(S)], un(U::Tanh));
    check_op("sigmoid", &[F(S)], un(U::Sigmoid));
    check_op("sin", &[F(S)], un(U::Sin));
    check_op("cos", &[F(S)], un(U::Cos));
    check_op("abs", &[F(S)], un(U::Abs));
    check_op("sign", &[F(S)], un(U::Sign));
    check_op("floor", &[Pos(S)], un(U::Floor));
    check_op("recip", &[Pos(S)], un(U::Recip));
}

#[test]
fn binary_ops() {
    use Arg::{Pos, F};
    check_op("add", &[F(S), F(S)], bin(B::Add));
    check_op("sub", &[F(S), F(S)], bin(B::Sub));
    check_op("mul", &[F(S), F(S)], bin(B::Mul));
    check_op("div", &[F(S), Pos(S)], bin(B::Div));
    check_op("pow", &[Pos(S), F(S)], bin(B::Pow));
    check_op("max", &[F(S), F(S)], bin(B::Max));
    check_op("min", &[F(S), F(S)], bin(B::Min));
    check_op("rem", &[Pos(S), Pos(S)], bin(B::Rem));
    check_op("lt", &[F(S), F(S)], bin(B::Lt));
    check_op("eq", &[F(S), F(S)], bin(B::Eq));
    check_op("where", &[F(S), F(S)], |g, x| {
        let c = g.binary(B::Gt, x[0], x[1])?;
        g.select(c, x[0], x[1])
    });
}

#[test]
fn movement_ops() {
    use Arg::F;
    let bc = Op::Broadcast {
        shape: vec![2, 3, 4],
    };
    check_op("broadcast", &[F(&[3, 1])], op1(bc));
    check_op(
        "reshape",
        &[F(&[2, 3, 2])],
        op1(Op::Reshape { shape: vec![3, 4] }),
    );
    check_op(
        "transpose",
        &[F(&[2, 3, 4])],
        op1(Op::Transpose {
            perm: vec![2, 0, 1],
        }),
    );
    let slice = Op::Slice {
        axis: 1,
        start: 1,
        end: 3,
    };
    check_op("slice", &[F(&[2, 4])], op1(slice));
    let pad = Op::Pad {
        axis: 0,
        before: 1,
        after: 2,
    };
    check_op("pad", &[F(S)], op1(pad));
    check_op("concat", &[F(&[2, 1]), F(S), F(&[2, 2])], |g, x| {
        g.add(Op::Concat { axis: 1 }, x)
    });
}

#[test]
fn reductions() {
    use Arg::F;
    check_op("sum", &[F(&[2, 3, 4])], op1(Op::Sum { axes: vec![0, 2] }));
    check_op("sum_all", &[F(S)], |g, x| g.sum_all(x[0]));
    check_op("max_over", &[F(&[2, 3, 4])], op1(Op::Max { axes: vec![1] }));
    check_op(
        "max_over_all",
        &[F(&[3, 4])],
        op1(Op::Max { axes: vec![0, 1] }),
    );
}

#[test]
fn matmul() {
    use Arg::F;
    let mm = |ta, tb| Op::MatMul { ta, tb };
    check_op("matmul", &[F(&[2, 3]), F(&[3, 4])], op2(mm(false, false)));
    check_op("matmul_ta", &[F(&[3, 2]), F(&[3, 4])], op2(mm(true, false)));
    check_op("matmul_tb", &[F(&[2, 3]), F(&[4, 3])], op2(mm(false, true)));
    check_op(
        "matmul_ta_tb",
        &[F(&[3, 2]), F(&[4, 3])],
        op2(mm(true, true)),
    );
    check_op(
        "matmul_batched",
        &[F(&[2, 2, 3]), F(&[2, 3, 2])],
        op2(mm(false, false)),
    );
    check_op(
        "matmul_batched_tb",
        &[F(&[2, 2, 3]), F(&[2, 4, 3])],
        op2(mm(false, true)),
    );
}

#[test]
fn convolution() {
    use Arg::F;
    let conv = |stride, pad| Op::Conv2d { stride, pad };
    check_op(
        "conv2d",
        &[F(&[2, 2, 4, 4]), F(&[3, 2, 3, 3])],
        op2(conv(1, 0)),
    );
    check_op(
        "conv2d_pad",
        &[F(&[1, 2, 4, 4]), F(&[2, 2, 3, 3])],
        op2(conv(1, 1)),
    );
    check_op(
        "conv2d_stride",
        &[F(&[1, 1, 5, 5]), F(&[2, 1, 2, 2])],
        op2(conv(2, 1)),
    );
    let gi = Op::Conv2dGradInput {
        stride: 2,
        pad: 1,
        hw: [5, 5],
    };
    check_op(
        "conv2d_grad_input",
        &[F(&[1, 2, 3, 3]), F(&[2, 1, 3, 3])],
        op2(gi),
    );
    let gw = Op::Conv2dGradWeight {
        stride: 2,
        pad: 1,
        khw: [3, 3],
    };
    check_op(
        "conv2d_grad_weight",
        &[F(&[1, 1, 5, 5]), F(&[1, 2, 3, 3])],
        op2(gw),
    );
}

#[test]
fn pooling() {
    use Arg::F;
    let x = F(&[2, 2, 4, 4]);
    check_op("maxpool2d", &[x], op1(Op::MaxPool2d { size: 2, stride: 2 }));
    check_op(
        "maxpool2d_overlap",
        &[x],
        op1(Op::MaxPool2d { size: 3, stride: 1 }),
    );
    check_op("avgpool2d", &[x], op1(Op::AvgPool2d { size: 2, stride: 2 }));
    check_op(
        "avgpool2d_overlap",
        &[F(&[1, 2, 5, 5])],
        op1(Op::AvgPool2d { size: 3, stride: 2 }),
    );
    let grad = Op::AvgPool2dGrad {
        size: 3,
        stride: 2,
        hw: [5, 5],
    };
    check_op("avgpool2d_grad", &[F(&[1, 2, 2, 2])], op1(grad));
}

#[test]
fn gather_scatter_and_masks() {
    use Arg::{Ids, F};
    check_op("gather", &[F(&[5, 3]), Ids(&[2, 4], 5)], op2(Op::Gather));
    let scatter = Op::ScatterAdd { rows: 4 };
    check_op(
        "scatter_add",
        &[Ids(&[2, 3], 4), F(&[2, 3, 2])],
        op2(scatter),
    );
    check_op("one_hot_mul", &[F(&[3, 4]), Ids(&[3], 4)], |g, x| {
        let oh = g.add(Op::OneHot { classes: 4 }, &[x[1]])?;
        g.mul(x[0], oh)
    });
    check_op("cast", &[F(S)], op1(Op::Cast { to: DType::F32 }));
    check_op("dropout", &[F(&[4, 5])], |g, x| {
        let (seed, step) = seed_step(g)?;
        let mask = Op::Bernoulli {
            p: 0.5,
            shape: vec![4, 5],
            stream: g.next_stream(),
        };
        let m = g.add(mask, &[seed, step])?;
        g.mul(x[0], m)
    });
    check_op("noise", &[F(&[4, 5])], |g, x| {
        let (seed, step) = seed_step(g)?;
        let noise = Op::NormalLike {
            shape: vec![4, 5],
            stream: g.next_stream(),
        };
        let n = g.add(noise, &[seed, step])?;
        let p = g.mul(x[0], n)?;
        g.add2(p, x[0])
    });
}

/// Seed and step as constants (`cast` of a `full`), so `check_op` binds
/// nothing extra.
fn seed_step(g: &mut Graph) -> Result<(NodeId, NodeId), IrError> {
    let seed = g.full(42.0, &[])?;
    let seed = g.add(Op::Cast { to: DType::I32 }, &[seed])?;
    let step = g.full(7.0, &[])?;
    Ok((seed, g.add(Op::Cast { to: DType::I32 }, &[step])?))
}

/// The loss is the sum of an op's output, and chains reuse one input twice:
/// gradients from both uses must be accumulated.
#[test]
fn fan_out_accumulates() {
    use Arg::F;
    check_op("fan_out", &[F(S)], |g, x| {
        let e = g.unary(U::Exp, x[0])?;
        let t = g.unary(U::Tanh, x[0])?;
        let p = g.mul(e, t)?;
        g.mul(p, x[0])
    });
}

fn slice(
    g: &mut Graph,
    x: NodeId,
    axis: usize,
    start: usize,
    end: usize,
) -> Result<NodeId, IrError> {
    g.add(Op::Slice { axis, start, end }, &[x])
}

/// A tensor cut into slices, each used differently: the slices' gradients
/// are joined (abutting ones into a concat, then padded to the gap) and
/// added to the rest, whatever the ranges.
#[test]
fn sliced_gradients_join() {
    use Arg::F;
    // [0..2] [2..3] [3..5] abut and cover the axis; [1..4] overlaps them.
    check_op("slices_cover", &[F(&[2, 5])], |g, x| {
        let a = slice(g, x[0], 1, 0, 2)?;
        let a = g.unary(U::Tanh, a)?;
        let b = slice(g, x[0], 1, 2, 3)?;
        let b = g.unary(U::Exp, b)?;
        let b = g.broadcast(b, &[2, 2])?;
        let c = slice(g, x[0], 1, 3, 5)?;
        let d = slice(g, x[0], 1, 1, 3)?;
        let ab = g.mul(a, b)?;
        let cd = g.mul(c, d)?;
        g.add2(ab, cd)
    });
    // [1..2] [2..3] abut but leave a gap before and after; a slice along
    // the other axis joins nothing.
    check_op("slices_gaps", &[F(&[3, 5])], |g, x| {
        let a = slice(g, x[0], 1, 1, 2)?;
        let b = slice(g, x[0], 1, 2, 3)?;
        let b = g.unary(U::Sigmoid, b)?;
        let c = slice(g, x[0], 0, 1, 2)?;
        let c = g.reshape(c, &[5, 1])?;
        let c = slice(g, c, 0, 4, 5)?;
        let c = g.broadcast(c, &[3, 1])?;
        let ab = g.mul(a, b)?;
        g.mul(ab, c)
    });
}

/// The gradient of a tensor cut into abutting slices along one axis (an
/// LSTM's gates, a scan's steps) is one concat of the slices' gradients,
/// with no zero-padded copies or additions left after dead-code removal.
#[test]
fn abutting_slices_get_one_concat() {
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Param, &[2, 8], DType::F32).unwrap();
    let mut gates = vec![];
    for k in 0..4 {
        let s = slice(&mut g, x, 1, 2 * k, 2 * k + 2).unwrap();
        gates.push(g.unary(U::Sigmoid, s).unwrap());
    }
    let a = g.mul(gates[0], gates[1]).unwrap();
    let b = g.mul(gates[2], gates[3]).unwrap();
    let y = g.add2(a, b).unwrap();
    let loss = g.sum_all(y).unwrap();
    let grads = autodiff(&mut g, loss, &[x]).unwrap();
    g.output("dx", grads[0]);
    let (g, _) = dlc::passes::dce(&g);
    let count = |f: fn(&Op) -> bool| g.nodes.iter().filter(|n| f(&n.op)).count();
    assert_eq!(count(|op| matches!(op, Op::Concat { .. })), 1);
    assert_eq!(count(|op| matches!(op, Op::Pad { .. })), 0);
    let dx = g.outputs[0].1;
    assert!(matches!(g.node(dx).op, Op::Concat { axis: 1 }));
}

/// Finite differences see through `stop_gradient`, so check it directly:
/// `d/dx sum(stop_gradient(x) * y)` is zero, `d/dy` is `x`.
#[test]
fn stop_gradient_blocks() {
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Param, S, DType::F32).unwrap();
    let y = g.input("y", InputKind::Param, S, DType::F32).unwrap();
    let s = g.add(Op::StopGradient, &[x]).unwrap();
    let p = g.mul(s, y).unwrap();
    let loss = g.sum_all(p).unwrap();
    let grads = autodiff(&mut g, loss, &[x, y]).unwrap();
    g.output("dx", grads[0]);
    g.output("dy", grads[1]);
    let xv = ArrayD::from_shape_fn(IxDyn(S), |i| (i[0] * 3 + i[1]) as f64);
    let values = HashMap::from([("x".to_string(), xv.clone()), ("y".to_string(), xv.clone())]);
    let out = interp_outputs(&g, &values).unwrap();
    assert!(out["dx"].iter().all(|&v| v == 0.0));
    assert_eq!(out["dy"], xv);
}
