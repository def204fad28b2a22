//! Every op, forward, through the JIT against the reference interpreter:
//! each case builds a small graph, feeds both engines the same random
//! inputs and requires the outputs to agree within 1e-5 (normwise
//! relative, see `codegen_common`). Shapes are chosen so vector loops,
//! scalar tails and strided (transposed, broadcast) accesses all occur.

mod codegen_common;

use codegen_common::{compare, random_inputs};
use dlc::ir::{BinaryOp, DType, Graph, InputKind, NodeId, Op, UnaryOp};

fn input(g: &mut Graph, name: &str, shape: &[usize]) -> NodeId {
    g.input(name, InputKind::Data, shape, DType::F32).unwrap()
}

fn ids(g: &mut Graph, name: &str, shape: &[usize]) -> NodeId {
    g.input(name, InputKind::Data, shape, DType::I32).unwrap()
}

fn check(name: &str, g: &Graph, id_range: usize, tol: f64) {
    let inputs = random_inputs(g, name.len() as u64 * 7919, id_range);
    let (d, worst) = compare(g, &inputs);
    println!("{name}: max distance {d:.2e} ({worst})");
    assert!(d <= tol, "{name}: output {worst} differs by {d:e}");
}

/// `op(x)` for one input of `shape`, stored as output `y`.
fn unary_case(op: Op, shape: &[usize]) -> Graph {
    let mut g = Graph::new();
    let x = input(&mut g, "x", shape);
    let y = g.add(op, &[x]).unwrap();
    g.output("y", y);
    g
}

#[test]
fn unary_ops() {
    use UnaryOp::*;
    for u in [Neg, Exp, Tanh, Sigmoid, Sin, Cos, Abs, Sign, Floor, Recip] {
        let g = unary_case(Op::Unary(u), &[3, 7]);
        check(&format!("{u:?}"), &g, 1, 1e-5);
    }
    // Log and sqrt of positive values.
    for u in [Log, Sqrt] {
        let mut g = Graph::new();
        let x = input(&mut g, "x", &[5, 9]);
        let a = g.unary(Abs, x).unwrap();
        let y = g.unary(u, a).unwrap();
        g.output("y", y);
        check(&format!("{u:?}"), &g, 1, 1e-5);
    }
}

#[test]
fn binary_ops_and_where() {
    use BinaryOp::*;
    for b in [Add, Sub, Mul, Div, Max, Min, Rem, Lt, Le, Gt, Ge, Eq, Ne] {
        let mut g = Graph::new();
        let x = input(&mut g, "x", &[6, 5]);
        let y = input(&mut g, "y", &[6, 5]);
        // Round so comparisons see ties.
        let k = g.scale(x, 4.0).unwrap();
        let x = g.unary(UnaryOp::Floor, k).unwrap();
        let k = g.scale(y, 4.0).unwrap();
        let y = g.unary(UnaryOp::Floor, k).unwrap();
        let r = g.binary(b, x, y).unwrap();
        g.output("r", r);
        check(&format!("{b:?}"), &g, 1, 1e-6);
    }
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[4, 9]);
    let y = input(&mut g, "y", &[4, 9]);
    let a = g.unary(UnaryOp::Abs, x).unwrap();
    let p = g.binary(Pow, a, y).unwrap();
    g.output("pow", p);
    let two = g.full(2.0, &[4, 9]).unwrap();
    let sq = g.binary(Pow, x, two).unwrap();
    g.output("square", sq);
    let m = g.binary(Gt, x, y).unwrap();
    let w = g.select(m, x, y).unwrap();
    g.output("where", w);
    check("pow/where", &g, 1, 1e-5);
}

#[test]
fn i32_comparisons_where_and_casts() {
    let mut g = Graph::new();
    let a = ids(&mut g, "a", &[3, 6]);
    let b = ids(&mut g, "b", &[3, 6]);
    let lt = g.binary(BinaryOp::Lt, a, b).unwrap();
    let eq = g.binary(BinaryOp::Eq, a, b).unwrap();
    g.output("lt", lt);
    g.output("eq", eq);
    let w = g.select(lt, a, b).unwrap();
    g.output("min_ids", w);
    let f = g.add(Op::Cast { to: DType::F32 }, &[a]).unwrap();
    let half = g.scale(f, 0.7).unwrap();
    let back = g.add(Op::Cast { to: DType::I32 }, &[half]).unwrap();
    g.output("cast_back", back);
    g.output("a_through", a);
    check("i32", &g, 5, 0.0);
}

#[test]
fn leaves_broadcast_reshape_transpose_slice() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[2, 3, 5]);
    let b = input(&mut g, "b", &[5]);
    let c = input(&mut g, "c", &[3, 1]);
    let bb = g.broadcast(b, &[2, 3, 5]).unwrap();
    let cb = g.broadcast(c, &[2, 3, 5]).unwrap();
    let s = g.add2(x, bb).unwrap();
    let s = g.mul(s, cb).unwrap();
    g.output("bcast", s);
    let t = g.transpose(x, &[2, 0, 1]).unwrap();
    let e = g.unary(UnaryOp::Exp, t).unwrap();
    g.output("transpose_exp", e);
    let r = g.reshape(x, &[6, 5]).unwrap();
    let rt = g.transpose(r, &[1, 0]).unwrap();
    g.output("reshape_transpose", rt);
    let sl = g
        .add(
            Op::Slice {
                axis: 2,
                start: 1,
                end: 4,
            },
            &[x],
        )
        .unwrap();
    let sl = g.unary(UnaryOp::Neg, sl).unwrap();
    g.output("slice", sl);
    let full = g.full(1.5, &[2, 3]).unwrap();
    g.output("full", full);
    let ar = g.add(Op::Arange { n: 11 }, &[]).unwrap();
    g.output("arange", ar);
    let ar2 = g.add(Op::Arange { n: 5 }, &[]).unwrap();
    let ar2 = g.broadcast(ar2, &[2, 3, 5]).unwrap();
    let ar2 = g.mul(ar2, x).unwrap();
    g.output("arange_bcast", ar2);
    let sg = g.add(Op::StopGradient, &[x]).unwrap();
    let sq = g.mul(sg, sg).unwrap();
    g.output("stop_gradient", sq);
    check("views", &g, 1, 1e-6);
}

#[test]
fn pad_and_concat() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[3, 4]);
    let y = input(&mut g, "y", &[3, 2]);
    let p = g
        .add(
            Op::Pad {
                axis: 1,
                before: 2,
                after: 3,
            },
            &[x],
        )
        .unwrap();
    g.output("pad", p);
    let p0 = g
        .add(
            Op::Pad {
                axis: 0,
                before: 1,
                after: 0,
            },
            &[y],
        )
        .unwrap();
    g.output("pad0", p0);
    let c = g.add(Op::Concat { axis: 1 }, &[x, y, x]).unwrap();
    g.output("concat1", c);
    let c0 = g.add(Op::Concat { axis: 0 }, &[x, x]).unwrap();
    g.output("concat0", c0);
    check("pad/concat", &g, 1, 0.0);
}

#[test]
fn reductions_and_argmax() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[4, 6, 7]);
    for (name, axes) in [
        ("s2", vec![2]),
        ("s1", vec![1]),
        ("s0", vec![0]),
        ("s02", vec![0, 2]),
        ("sall", vec![0, 1, 2]),
    ] {
        let s = g.sum(x, &axes).unwrap();
        g.output(name, s);
        let m = g.max_over(x, &axes).unwrap();
        g.output(format!("m{name}"), m);
    }
    let e = g.unary(UnaryOp::Exp, x).unwrap();
    let se = g.sum(e, &[2]).unwrap();
    g.output("sum_exp", se);
    let t = g.transpose(x, &[2, 1, 0]).unwrap();
    let st = g.sum(t, &[2]).unwrap();
    g.output("sum_transposed", st);
    for axis in 0..3 {
        let a = g.add(Op::ArgMax { axis }, &[x]).unwrap();
        g.output(format!("argmax{axis}"), a);
    }
    check("reductions", &g, 1, 1e-5);
}

#[test]
fn matmul_all_transposes_and_batched() {
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut g = Graph::new();
        let a_shape = if ta { [7, 5] } else { [5, 7] };
        let b_shape = if tb { [9, 7] } else { [7, 9] };
        let a = input(&mut g, "a", &a_shape);
        let b = input(&mut g, "b", &b_shape);
        let c = g.add(Op::MatMul { ta, tb }, &[a, b]).unwrap();
        g.output("c", c);
        check(&format!("matmul ta={ta} tb={tb}"), &g, 1, 1e-5);
    }
    let mut g = Graph::new();
    let a = input(&mut g, "a", &[3, 4, 6]);
    let b = input(&mut g, "b", &[3, 5, 6]);
    let c = g
        .add(
            Op::MatMul {
                ta: false,
                tb: true,
            },
            &[a, b],
        )
        .unwrap();
    g.output("c", c);
    check("batched matmul", &g, 1, 1e-5);
}

#[test]
fn matmul_with_bias_relu_epilogue() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[8, 20]);
    let w = input(&mut g, "w", &[20, 13]);
    let b = input(&mut g, "b", &[13]);
    let y = g.matmul(x, w).unwrap();
    let bb = g.broadcast(b, &[8, 13]).unwrap();
    let y = g.add2(y, bb).unwrap();
    let z = g.zeros_like(y).unwrap();
    let r = g.binary(BinaryOp::Max, y, z).unwrap();
    g.output("r", r);
    let c = dlc::codegen::compile(&g, &codegen_common::test_options()).unwrap();
    assert_eq!(c.fusion.kernels.len(), 1, "{:?}", c.fusion.kernels);
    check("dense+relu", &g, 1, 1e-5);
}

/// An epilogue's result lives in its matmul's buffer, and so does a
/// reshape of it (a scan step's hidden state, stacked by a concat): that
/// buffer must stay live until the concat, not be reused by the product
/// in between.
#[test]
fn a_reshaped_epilogue_result_is_read_from_the_matmul_buffer() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[6, 5]);
    let w = input(&mut g, "w", &[5, 7]);
    let y = g.matmul(x, w).unwrap();
    let t = g.unary(UnaryOp::Tanh, y).unwrap();
    let r = g.reshape(t, &[6, 1, 7]).unwrap();
    let x2 = input(&mut g, "x2", &[6, 3]);
    let w2 = input(&mut g, "w2", &[3, 7]);
    let q = g.matmul(x2, w2).unwrap();
    let q = g.reshape(q, &[6, 1, 7]).unwrap();
    let c = g.add(Op::Concat { axis: 1 }, &[r, q]).unwrap();
    g.output("c", c);
    let compiled = dlc::codegen::compile(&g, &codegen_common::test_options()).unwrap();
    let parts: Vec<usize> = compiled
        .fusion
        .kernels
        .iter()
        .map(|k| k.parts.len())
        .collect();
    assert_eq!(parts, [2, 1, 1], "{:?}", compiled.fusion.kernels);
    check("epilogue+reshape+concat", &g, 1, 1e-5);
}

/// `y = conv2d(x, w)` and its weight gradient from an input `dy`, and the
/// input gradient when `grad_input`.
fn convolution(x: [usize; 4], w: [usize; 4], stride: usize, pad: usize, grad_input: bool) -> Graph {
    let mut g = Graph::new();
    let xi = input(&mut g, "x", &x);
    let wi = input(&mut g, "w", &w);
    let y = g.add(Op::Conv2d { stride, pad }, &[xi, wi]).unwrap();
    g.output("y", y);
    let shape = g.shape(y).to_vec();
    let dy = input(&mut g, "dy", &shape);
    if grad_input {
        let hw = [x[2], x[3]];
        let dx = g
            .add(Op::Conv2dGradInput { stride, pad, hw }, &[dy, wi])
            .unwrap();
        g.output("dx", dx);
    }
    let khw = [w[2], w[3]];
    let dw = g
        .add(Op::Conv2dGradWeight { stride, pad, khw }, &[xi, dy])
        .unwrap();
    g.output("dw", dw);
    g
}

/// Shapes of the direct path (stride 1, no padding, at most 27 taps):
/// filter counts around its block of eight, row widths with full and
/// partial vectors, one and two channels; and 28 taps, just past it.
#[test]
fn direct_convolution_shapes() {
    for (x, w) in [
        ([3, 1, 12, 21], [11, 1, 3, 3]),
        ([2, 2, 9, 10], [9, 2, 2, 2]),
        ([1, 1, 28, 28], [32, 1, 3, 3]),
        ([2, 7, 5, 6], [3, 7, 2, 2]),
    ] {
        let g = convolution(x, w, 1, 0, false);
        check(&format!("conv {x:?} * {w:?}"), &g, 1, 1e-5);
    }
}

/// A convolution's bias + ReLU, which the call applies as it stores
/// (direct path: stride 1, no padding; im2col path otherwise): the
/// activation alone, and the pre-activation kept beside it (read by a sum,
/// as the gradient would), with a ragged row end (`OW = 10`) and a
/// partial block of filters (`F = 11`).
#[test]
fn convolution_bias_and_relu() {
    for (stride, pad) in [(1, 0), (2, 1)] {
        for keep in [false, true] {
            let mut g = Graph::new();
            let x = input(&mut g, "x", &[3, 2, 7, 12]);
            let w = input(&mut g, "w", &[11, 2, 3, 3]);
            let b = input(&mut g, "b", &[11]);
            let y = g.add(Op::Conv2d { stride, pad }, &[x, w]).unwrap();
            let shape = g.shape(y).to_vec();
            let b = g.reshape(b, &[11, 1, 1]).unwrap();
            let bb = g.broadcast(b, &shape).unwrap();
            let pre = g.add2(y, bb).unwrap();
            let z = g.zeros_like(pre).unwrap();
            let act = g.binary(BinaryOp::Max, pre, z).unwrap();
            g.output("act", act);
            if keep {
                let total = g.sum_all(pre).unwrap();
                g.output("total", total);
            }
            check(
                &format!("conv+bias+relu s={stride} keep={keep}"),
                &g,
                1,
                1e-5,
            );
        }
    }
}

#[test]
fn convolution_and_gradients() {
    for (stride, pad) in [(1, 0), (1, 1), (2, 1)] {
        let g = convolution([2, 3, 7, 6], [4, 3, 3, 3], stride, pad, true);
        check(&format!("conv s={stride} p={pad}"), &g, 1, 1e-5);
    }
}

#[test]
fn pooling_and_gradients() {
    for (size, stride) in [(2, 2), (3, 1)] {
        let mut g = Graph::new();
        let x = input(&mut g, "x", &[2, 3, 6, 7]);
        let mp = g.add(Op::MaxPool2d { size, stride }, &[x]).unwrap();
        g.output("max", mp);
        let ap = g.add(Op::AvgPool2d { size, stride }, &[x]).unwrap();
        g.output("avg", ap);
        let shape = g.shape(mp).to_vec();
        let dy = input(&mut g, "dy", &shape);
        let mg = g.add(Op::MaxPool2dGrad { size, stride }, &[x, dy]).unwrap();
        g.output("max_grad", mg);
        let ag = g
            .add(
                Op::AvgPool2dGrad {
                    size,
                    stride,
                    hw: [6, 7],
                },
                &[dy],
            )
            .unwrap();
        g.output("avg_grad", ag);
        check(&format!("pool {size}/{stride}"), &g, 1, 1e-6);
    }
}

/// 2×2 max pooling (the vectorised path) on values with many ties and a
/// NaN-free relu-like floor, at widths with full and partial vectors, odd
/// heights and widths: the first maximum in row-major order must get the
/// gradient, as in the reference.
#[test]
fn max_pooling_ties_and_tails() {
    for (h, w) in [(6, 7), (9, 37), (4, 16), (5, 2)] {
        let mut g = Graph::new();
        let x = input(&mut g, "x", &[2, 3, h, w]);
        let s = g.scale(x, 2.0).unwrap();
        let f = g.unary(UnaryOp::Floor, s).unwrap();
        let zero = g.full(0.0, &[2, 3, h, w]).unwrap();
        let t = g.binary(BinaryOp::Max, f, zero).unwrap();
        let mp = g.add(Op::MaxPool2d { size: 2, stride: 2 }, &[t]).unwrap();
        g.output("max", mp);
        let shape = g.shape(mp).to_vec();
        let dy = input(&mut g, "dy", &shape);
        let mg = g
            .add(Op::MaxPool2dGrad { size: 2, stride: 2 }, &[t, dy])
            .unwrap();
        g.output("max_grad", mg);
        check(&format!("maxpool ties {h}x{w}"), &g, 1, 0.0);
    }
}

#[test]
fn one_hot_gather_scatter() {
    let mut g = Graph::new();
    let labels = ids(&mut g, "labels", &[5, 2]);
    let oh = g.add(Op::OneHot { classes: 4 }, &[labels]).unwrap();
    g.output("one_hot", oh);
    let table = input(&mut g, "table", &[4, 6]);
    let ga = g.add(Op::Gather, &[table, labels]).unwrap();
    g.output("gather", ga);
    let upd = input(&mut g, "upd", &[5, 2, 6]);
    let sc = g.add(Op::ScatterAdd { rows: 4 }, &[labels, upd]).unwrap();
    g.output("scatter", sc);
    // Out-of-range ids (labels drawn in 0..6 for 4 rows): zeros / dropped.
    check("one_hot/gather/scatter", &g, 6, 1e-6);
}

#[test]
fn random_ops_match_the_reference_bit_for_bit() {
    let mut g = Graph::new();
    let seed = g.input("seed", InputKind::Scalar, &[], DType::I32).unwrap();
    let step = g.input("step", InputKind::Scalar, &[], DType::I32).unwrap();
    let b = g
        .add(
            Op::Bernoulli {
                p: 0.3,
                shape: vec![7, 9],
                stream: 5,
            },
            &[seed, step],
        )
        .unwrap();
    g.output("mask", b);
    let n = g
        .add(
            Op::NormalLike {
                shape: vec![33],
                stream: 9,
            },
            &[seed, step],
        )
        .unwrap();
    g.output("normal", n);
    check("random", &g, 1000, 0.0);
}

#[test]
fn scalars_and_rank_zero() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[]);
    let y = input(&mut g, "y", &[3]);
    let e = g.unary(UnaryOp::Exp, x).unwrap();
    let b = g.broadcast(e, &[3]).unwrap();
    let s = g.mul(b, y).unwrap();
    let t = g.sum_all(s).unwrap();
    g.output("t", t);
    g.output("e", e);
    check("scalars", &g, 1, 1e-6);
}
