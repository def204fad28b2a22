//! The reference interpreter on hand-computed cases, the counter-based
//! RNG's reproducibility, DCE, and source spans on backward nodes.

use std::collections::HashMap;

use dlc::diag::{FileId, Span};
use dlc::ir::interp::{interp_outputs, Float};
use dlc::ir::{BinaryOp, DType, Graph, InputKind, NodeId, Op, UnaryOp};
use dlc::passes::{autodiff, dce};
use ndarray::{ArrayD, IxDyn};

fn arr(shape: &[usize], v: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
}

/// Runs `g` on named inputs and returns output `out`.
fn run<T: Float>(g: &Graph, inputs: &[(&str, ArrayD<T>)]) -> ArrayD<T> {
    let inputs: HashMap<String, ArrayD<T>> = inputs
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    interp_outputs(g, &inputs).unwrap().remove("out").unwrap()
}

/// `op(a)` or `op(a, b)` on inputs of the given shapes, as output `out`.
fn graph(op: Op, ins: &[(&str, &[usize], DType)]) -> Graph {
    let mut g = Graph::new();
    let ids: Vec<NodeId> = ins
        .iter()
        .map(|(n, s, d)| g.input(n, InputKind::Data, s, *d).unwrap())
        .collect();
    let out = g.add(op, &ids).unwrap();
    g.output("out", out);
    g
}

const F: DType = DType::F32;
const I: DType = DType::I32;

#[test]
fn matmul_by_hand() {
    let a = arr(&[2, 2], &[1., 2., 3., 4.]);
    let b = arr(&[2, 2], &[5., 6., 7., 8.]);
    let ins: &[(&str, &[usize], DType)] = &[("a", &[2, 2], F), ("b", &[2, 2], F)];
    let g = graph(
        Op::MatMul {
            ta: false,
            tb: false,
        },
        ins,
    );
    let got = run(&g, &[("a", a.clone()), ("b", b.clone())]);
    assert_eq!(got, arr(&[2, 2], &[19., 22., 43., 50.]));
    let g = graph(
        Op::MatMul {
            ta: false,
            tb: true,
        },
        ins,
    );
    let got = run(&g, &[("a", a), ("b", b)]);
    assert_eq!(got, arr(&[2, 2], &[17., 23., 39., 53.]));
}

#[test]
fn conv2d_by_hand() {
    // x: [1, 1, 3, 3] = 1..9
    let x = arr(&[1, 1, 3, 3], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]);
    // w: [1, 1, 2, 2] = [[1, 0], [0, -1]]: y[i, j] = x[i, j] - x[i+1, j+1] = -4
    let w = arr(&[1, 1, 2, 2], &[1., 0., 0., -1.]);
    let ins: &[(&str, &[usize], DType)] = &[("x", &[1, 1, 3, 3], F), ("w", &[1, 1, 2, 2], F)];
    let g = graph(Op::Conv2d { stride: 1, pad: 0 }, ins);
    assert_eq!(
        run(&g, &[("x", x.clone()), ("w", w)]),
        arr(&[1, 1, 2, 2], &[-4.; 4])
    );
    // Ones with pad 1, stride 2: windows {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}.
    let g = graph(Op::Conv2d { stride: 2, pad: 1 }, ins);
    let ones = arr(&[1, 1, 2, 2], &[1.; 4]);
    let got = run(&g, &[("x", x), ("w", ones)]);
    assert_eq!(got, arr(&[1, 1, 2, 2], &[1., 5., 11., 28.]));
}

#[test]
fn pooling_by_hand() {
    #[rustfmt::skip]
    let x = arr(&[1, 1, 4, 4], &[
        1., 2., 5., 0.,
        3., 4., 1., 1.,
        0., 0., 9., 8.,
        1., 2., 7., 6.,
    ]);
    let ins: &[(&str, &[usize], DType)] = &[("x", &[1, 1, 4, 4], F)];
    let g = graph(Op::MaxPool2d { size: 2, stride: 2 }, ins);
    assert_eq!(
        run(&g, &[("x", x.clone())]),
        arr(&[1, 1, 2, 2], &[4., 5., 2., 9.])
    );
    let g = graph(Op::AvgPool2d { size: 2, stride: 2 }, ins);
    let avg = arr(&[1, 1, 2, 2], &[2.5, 1.75, 0.75, 7.5]);
    assert_eq!(run(&g, &[("x", x.clone())]), avg);
    // The gradient goes to each window's maximum (the first of ties).
    let ins: &[(&str, &[usize], DType)] = &[("x", &[1, 1, 4, 4], F), ("dy", &[1, 1, 2, 2], F)];
    let g = graph(Op::MaxPool2dGrad { size: 2, stride: 2 }, ins);
    let dy = arr(&[1, 1, 2, 2], &[10., 20., 30., 40.]);
    #[rustfmt::skip]
    let dx = arr(&[1, 1, 4, 4], &[
        0., 0., 20., 0.,
        0., 10., 0., 0.,
        0., 0., 40., 0.,
        0., 30., 0., 0.,
    ]);
    assert_eq!(run(&g, &[("x", x), ("dy", dy)]), dx);
}

#[test]
fn gather_and_scatter_by_hand() {
    let table = arr(&[3, 2], &[1., 2., 3., 4., 5., 6.]);
    let ids = arr(&[2, 2], &[2., 0., 1., 1.]);
    let g = graph(Op::Gather, &[("t", &[3, 2], F), ("ids", &[2, 2], I)]);
    let got = run(&g, &[("t", table), ("ids", ids.clone())]);
    assert_eq!(got, arr(&[2, 2, 2], &[5., 6., 1., 2., 3., 4., 3., 4.]));
    let g = graph(
        Op::ScatterAdd { rows: 3 },
        &[("ids", &[2, 2], I), ("u", &[2, 2, 2], F)],
    );
    let got = run(&g, &[("ids", ids), ("u", arr(&[2, 2, 2], &[1.; 8]))]);
    assert_eq!(got, arr(&[3, 2], &[1., 1., 2., 2., 1., 1.]));
}

#[test]
fn small_ops_by_hand() {
    let g = graph(Op::OneHot { classes: 3 }, &[("l", &[3], I)]);
    let got = run(&g, &[("l", arr(&[3], &[2., 0., 7.]))]);
    assert_eq!(got, arr(&[3, 3], &[0., 0., 1., 1., 0., 0., 0., 0., 0.]));
    let g = graph(Op::ArgMax { axis: 1 }, &[("x", &[2, 3], F)]);
    let got = run(&g, &[("x", arr(&[2, 3], &[1., 5., 5., 9., 2., 3.]))]);
    assert_eq!(got, arr(&[2], &[1., 0.]));
    let g = graph(Op::Binary(BinaryOp::Rem), &[("a", &[2], F), ("b", &[2], F)]);
    let got = run(
        &g,
        &[("a", arr(&[2], &[-1., 7.])), ("b", arr(&[2], &[3., -3.]))],
    );
    assert_eq!(got, arr(&[2], &[2., -2.]), "floored remainder");
    let g = graph(Op::Unary(UnaryOp::Sign), &[("x", &[3], F)]);
    assert_eq!(
        run(&g, &[("x", arr(&[3], &[-2., 0., 3.]))]),
        arr(&[3], &[-1., 0., 1.])
    );
    let g = graph(
        Op::Broadcast {
            shape: vec![2, 3, 2],
        },
        &[("x", &[3, 1], F)],
    );
    let got = run(&g, &[("x", arr(&[3, 1], &[1., 2., 3.]))]);
    assert_eq!(
        got,
        arr(
            &[2, 3, 2],
            &[1., 1., 2., 2., 3., 3., 1., 1., 2., 2., 3., 3.]
        )
    );
    let g = graph(Op::Cast { to: I }, &[("x", &[2], F)]);
    assert_eq!(
        run(&g, &[("x", arr(&[2], &[-1.7, 2.9]))]),
        arr(&[2], &[-1., 2.])
    );
}

/// `bernoulli` and `normal_like` of `[n]` fed by scalar seed and step.
fn random_graph(n: usize, p: f32) -> Graph {
    let mut g = Graph::new();
    // A dead node first, so DCE renumbers the random ops.
    let dead = g.full(3.0, &[2]).unwrap();
    g.unary(UnaryOp::Exp, dead).unwrap();
    let seed = g.input("seed", InputKind::Scalar, &[], I).unwrap();
    let step = g.input("step", InputKind::Scalar, &[], I).unwrap();
    let b = Op::Bernoulli {
        p,
        shape: vec![n],
        stream: g.next_stream(),
    };
    let mask = g.add(b, &[seed, step]).unwrap();
    let b2 = Op::Bernoulli {
        p,
        shape: vec![n],
        stream: g.next_stream(),
    };
    let other = g.add(b2, &[seed, step]).unwrap();
    let normal = Op::NormalLike {
        shape: vec![n],
        stream: g.next_stream(),
    };
    let noise = g.add(normal, &[seed, step]).unwrap();
    g.output("mask", mask);
    g.output("other", other);
    g.output("noise", noise);
    g
}

fn sample<T: Float>(g: &Graph, seed: f64, step: f64) -> HashMap<String, ArrayD<T>> {
    let scalar = |v: f64| ArrayD::from_elem(IxDyn(&[]), T::from_f64(v).unwrap());
    let inputs = HashMap::from([("seed".into(), scalar(seed)), ("step".into(), scalar(step))]);
    interp_outputs(g, &inputs).unwrap()
}

fn mean(a: &ArrayD<f64>) -> f64 {
    a.iter().sum::<f64>() / a.len() as f64
}

#[test]
fn rng_is_reproducible_and_keyed() {
    let g = random_graph(10_000, 0.3);
    let a = sample::<f64>(&g, 42.0, 5.0);
    assert_eq!(a, sample::<f64>(&g, 42.0, 5.0), "same seed and step");
    let next_step = sample::<f64>(&g, 42.0, 6.0);
    assert_ne!(a["mask"], next_step["mask"], "a new step draws a new mask");
    assert_ne!(a["mask"], sample::<f64>(&g, 43.0, 5.0)["mask"], "seed");
    assert_ne!(a["mask"], a["other"], "two dropout sites differ");
    // The f32 interpreter draws exactly the same values.
    let a32 = sample::<f32>(&g, 42.0, 5.0);
    assert_eq!(a["mask"], a32["mask"].mapv(f64::from));
    assert_eq!(a["noise"], a32["noise"].mapv(f64::from));
    // DCE renumbers the nodes; streams keep the samples.
    let (small, _) = dce(&g);
    assert!(small.nodes.len() < g.nodes.len());
    assert_eq!(a, sample::<f64>(&small, 42.0, 5.0));
}

#[test]
fn rng_statistics() {
    let g = random_graph(20_000, 0.3);
    let s = sample::<f64>(&g, 1.0, 0.0);
    assert!(s["mask"].iter().all(|&v| v == 0.0 || v == 1.0));
    let p = mean(&s["mask"]);
    assert!((p - 0.3).abs() < 0.015, "bernoulli mean {p}");
    let m = mean(&s["noise"]);
    let var = mean(&s["noise"].mapv(|v| (v - m) * (v - m)));
    assert!(
        m.abs() < 0.03 && (var - 1.0).abs() < 0.05,
        "normal mean {m}, variance {var}"
    );
    for (p, want) in [(0.0, 0.0), (1.0, 1.0)] {
        let s = sample::<f64>(&random_graph(100, p), 9.0, 9.0);
        assert!(s["mask"].iter().all(|&v| v == want), "p = {p}");
    }
}

#[test]
fn dce_keeps_inputs_and_live_nodes() {
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Data, &[2], F).unwrap();
    let unused = g.input("unused", InputKind::Param, &[2], F).unwrap();
    g.unary(UnaryOp::Exp, unused).unwrap();
    let y = g.unary(UnaryOp::Neg, x).unwrap();
    g.output("out", y);
    let (small, map) = dce(&g);
    assert_eq!(small.nodes.len(), 3);
    assert_eq!(
        map,
        vec![Some(NodeId(0)), Some(NodeId(1)), None, Some(NodeId(2))]
    );
    let got = run(
        &small,
        &[
            ("x", arr(&[2], &[1., -2.])),
            ("unused", arr(&[2], &[0.; 2])),
        ],
    );
    assert_eq!(got, arr(&[2], &[-1., 2.]));
}

#[test]
fn backward_nodes_keep_forward_spans() {
    let span = |s| Some(Span::new(FileId(0), s, s + 4));
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Param, &[3], F).unwrap();
    g.current_span = span(10);
    let t = g.unary(UnaryOp::Tanh, x).unwrap();
    g.current_span = span(20);
    let loss = g.sum_all(t).unwrap();
    g.current_span = None;
    let before = g.nodes.len();
    let grads = autodiff(&mut g, loss, &[x]).unwrap();
    assert_eq!(
        g.node(grads[0]).span,
        span(10),
        "d tanh comes from the tanh"
    );
    let spans: Vec<_> = g.nodes[before..].iter().map(|n| n.span).collect();
    assert!(
        spans.iter().all(|s| *s == span(10) || *s == span(20)),
        "{spans:?}"
    );
    assert_eq!(g.current_span, None, "autodiff restores the current span");
}

#[test]
fn autodiff_reports_misuse() {
    use dlc::ir::IrError;
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Param, &[1, 1, 2, 2], F).unwrap();
    let dy = g.input("dy", InputKind::Data, &[1, 1, 1, 1], F).unwrap();
    assert_eq!(autodiff(&mut g, x, &[x]), Err(IrError::NonScalarLoss(0)));
    let pool_grad = Op::MaxPool2dGrad { size: 2, stride: 2 };
    let dx = g.add(pool_grad, &[x, dy]).unwrap();
    let loss = g.sum_all(dx).unwrap();
    assert_eq!(
        autodiff(&mut g, loss, &[dy]),
        Err(IrError::NoGradient("maxpool2d_grad"))
    );
}
