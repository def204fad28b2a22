//! The IR's text form, the builder's shape errors, and `verify` catching
//! broken graphs.

use dlc::ir::verify::verify;
use dlc::ir::{DType, Graph, InputKind, IrError, NodeId, Op, UnaryOp};
use dlc::passes::{autodiff, dce};

fn dense_graph() -> (Graph, NodeId, NodeId) {
    let mut g = Graph::new();
    let x = g.input("x", InputKind::Data, &[2, 3], DType::F32).unwrap();
    let w = g.input("w", InputKind::Param, &[3, 4], DType::F32).unwrap();
    let b = g.input("b", InputKind::Param, &[4], DType::F32).unwrap();
    let y = g.matmul(x, w).unwrap();
    let bb = g.broadcast(b, &[2, 4]).unwrap();
    let y = g.add2(y, bb).unwrap();
    let y = g.unary(UnaryOp::Tanh, y).unwrap();
    let loss = g.sum_all(y).unwrap();
    g.output("loss", loss);
    (g, loss, w)
}

#[test]
fn text_form_of_a_dense_layer() {
    let (g, _, _) = dense_graph();
    insta::assert_snapshot!(g.to_string(), @r#"
    %0 = input[data "x"] : f32[2, 3]
    %1 = input[param "w"] : f32[3, 4]
    %2 = input[param "b"] : f32[4]
    %3 = matmul %0, %1 : f32[2, 4]
    %4 = broadcast %2 : f32[2, 4]
    %5 = add %3, %4 : f32[2, 4]
    %6 = tanh %5 : f32[2, 4]
    %7 = sum[axes=[0, 1]] %6 : f32[]
    out loss = %7
    "#);
}

#[test]
fn text_form_after_autodiff_and_dce() {
    let (mut g, loss, w) = dense_graph();
    let grads = autodiff(&mut g, loss, &[w]).unwrap();
    g.output("dw", grads[0]);
    let (g, _) = dce(&g);
    verify(&g).unwrap();
    // The gradient of `sum` is reshape + broadcast, of tanh `1 - y^2`, and
    // of the weight a transposed-flag matmul: no transpose materialised.
    insta::assert_snapshot!(g.to_string(), @r#"
    %0 = input[data "x"] : f32[2, 3]
    %1 = input[param "w"] : f32[3, 4]
    %2 = input[param "b"] : f32[4]
    %3 = matmul %0, %1 : f32[2, 4]
    %4 = broadcast %2 : f32[2, 4]
    %5 = add %3, %4 : f32[2, 4]
    %6 = tanh %5 : f32[2, 4]
    %7 = sum[axes=[0, 1]] %6 : f32[]
    %8 = full[1.0] : f32[]
    %9 = reshape %8 : f32[1, 1]
    %10 = broadcast %9 : f32[2, 4]
    %11 = mul %6, %6 : f32[2, 4]
    %12 = full[1.0] : f32[2, 4]
    %13 = sub %12, %11 : f32[2, 4]
    %14 = mul %10, %13 : f32[2, 4]
    %15 = matmul[ta] %0, %14 : f32[3, 4]
    out loss = %7
    out dw = %15
    "#);
}

#[test]
fn text_form_of_attributes() {
    let mut g = Graph::new();
    let x = g
        .input("x", InputKind::Data, &[1, 2, 4, 4], DType::F32)
        .unwrap();
    let k = g
        .input("k", InputKind::Param, &[3, 2, 3, 3], DType::F32)
        .unwrap();
    let seed = g.input("seed", InputKind::Scalar, &[], DType::I32).unwrap();
    let step = g.input("step", InputKind::Scalar, &[], DType::I32).unwrap();
    let c = g.add(Op::Conv2d { stride: 1, pad: 1 }, &[x, k]).unwrap();
    let p = g.add(Op::MaxPool2d { size: 2, stride: 2 }, &[c]).unwrap();
    let drop = Op::Bernoulli {
        p: 0.5,
        shape: vec![1, 3, 2, 2],
        stream: 7,
    };
    let m = g.add(drop, &[seed, step]).unwrap();
    let d = g.mul(p, m).unwrap();
    let t = g.transpose(d, &[0, 2, 3, 1]).unwrap();
    let s = g
        .add(
            Op::Slice {
                axis: 3,
                start: 1,
                end: 3,
            },
            &[t],
        )
        .unwrap();
    let a = g.add(Op::ArgMax { axis: 3 }, &[s]).unwrap();
    g.output("out", a);
    insta::assert_snapshot!(g.to_string(), @r#"
    %0 = input[data "x"] : f32[1, 2, 4, 4]
    %1 = input[param "k"] : f32[3, 2, 3, 3]
    %2 = input[scalar "seed"] : i32[]
    %3 = input[scalar "step"] : i32[]
    %4 = conv2d[stride=1, pad=1] %0, %1 : f32[1, 3, 4, 4]
    %5 = maxpool2d[size=2, stride=2] %4 : f32[1, 3, 2, 2]
    %6 = bernoulli[p=0.5, stream=7] %2, %3 : f32[1, 3, 2, 2]
    %7 = mul %5, %6 : f32[1, 3, 2, 2]
    %8 = transpose[perm=[0, 2, 3, 1]] %7 : f32[1, 2, 2, 3]
    %9 = slice[axis=3, 1..3] %8 : f32[1, 2, 2, 2]
    %10 = argmax[axis=3] %9 : i32[1, 2, 2]
    out out = %10
    "#);
}

#[test]
fn builder_rejects_bad_shapes() {
    let mut g = Graph::new();
    let a = g.input("a", InputKind::Data, &[2, 3], DType::F32).unwrap();
    let b = g.input("b", InputKind::Data, &[3, 2], DType::F32).unwrap();
    let l = g.input("l", InputKind::Data, &[2], DType::I32).unwrap();
    let err = g.add2(a, b).unwrap_err();
    assert_eq!(err.to_string(), "add: shapes differ: [2, 3] and [3, 2]");
    let err = g.broadcast(a, &[4, 3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "broadcast: cannot broadcast [2, 3] to [4, 3]"
    );
    let err = g
        .add(
            Op::MatMul {
                ta: false,
                tb: true,
            },
            &[a, b],
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "matmul: cannot multiply [2, 3] by [3, 2]");
    assert!(g.unary(UnaryOp::Exp, l).is_err());
    assert!(g.add(Op::Conv2d { stride: 1, pad: 0 }, &[a, b]).is_err());
    assert!(g.add(Op::Gather, &[a, a]).is_err());
    assert_eq!(g.nodes.len(), 3, "failed adds leave the graph unchanged");
}

#[test]
fn verify_catches_broken_graphs() {
    let (good, _, _) = dense_graph();
    verify(&good).unwrap();

    let mut g = good.clone();
    g.nodes[5].shape = vec![4, 2];
    let err = verify(&g).unwrap_err();
    assert_eq!(
        err.to_string(),
        "%5: recorded f32[4, 2], rule gives f32[2, 4]"
    );

    let mut g = good.clone();
    g.nodes[3].inputs[1] = NodeId(6);
    let err = verify(&g).unwrap_err();
    assert_eq!(err.to_string(), "%3: input %6 does not precede its use");

    let mut g = good.clone();
    g.nodes[3].op = Op::MatMul {
        ta: true,
        tb: false,
    };
    assert!(matches!(verify(&g), Err(IrError::Verify { node: 3, .. })));

    let mut g = good.clone();
    g.nodes[2].op = g.nodes[1].op.clone();
    g.nodes[2].shape = vec![3, 4];
    let err = verify(&g).unwrap_err();
    assert_eq!(err.to_string(), "%2: duplicate input name `w`");

    let mut g = good;
    g.output("ghost", NodeId(99));
    assert!(verify(&g).is_err());
}
