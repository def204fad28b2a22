//! How many kernels fusion leaves, on small graphs with a known best
//! answer and on the example MLP's train step, with the `--explain` report
//! printed for inspection (`cargo test --test codegen_fusion -- --nocapture`).

mod run_step;

use dlc::codegen::{explain, explain_text};
use dlc::ir::{BinaryOp, DType, Graph, InputKind, NodeId, Op, UnaryOp};
use dlc::lower::{data_fields, train_spec, Items, StepKind};
use dlc::passes::fuse::{fuse, KernelKind};
use run_step::{data_def, lower, parse, train_def};

fn input(g: &mut Graph, name: &str, shape: &[usize]) -> NodeId {
    g.input(name, InputKind::Data, shape, DType::F32).unwrap()
}

fn kinds(g: &Graph) -> Vec<Vec<KernelKind>> {
    fuse(g)
        .kernels
        .iter()
        .map(|k| k.parts.iter().map(|p| p.kind).collect())
        .collect()
}

#[test]
fn an_elementwise_chain_is_one_loop() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[4, 5]);
    let b = input(&mut g, "b", &[5]);
    let bb = g.broadcast(b, &[4, 5]).unwrap();
    let y = g.add2(x, bb).unwrap();
    let y = g.unary(UnaryOp::Tanh, y).unwrap();
    let y = g.scale(y, 2.0).unwrap();
    let y = g.unary(UnaryOp::Exp, y).unwrap();
    g.output("y", y);
    assert_eq!(kinds(&g), [[KernelKind::Loop]]);
}

#[test]
fn consecutive_stored_loops_of_one_shape_are_one_pass() {
    // Both values are outputs, so both are stored; they still run as one
    // kernel and one loop that keeps `t` in a register for `e`. A loop over
    // another shape starts a new kernel.
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[4, 8]);
    let t = g.unary(UnaryOp::Tanh, x).unwrap();
    let e = g.unary(UnaryOp::Exp, t).unwrap();
    let e = g.mul(e, x).unwrap();
    let s = g
        .add(
            Op::Slice {
                axis: 1,
                start: 0,
                end: 2,
            },
            &[e],
        )
        .unwrap();
    let s = g.unary(UnaryOp::Neg, s).unwrap();
    g.output("t", t);
    g.output("e", e);
    g.output("s", s);
    let f = fuse(&g);
    let report = explain(&g, &f);
    assert_eq!(
        kinds(&g),
        [
            vec![KernelKind::Loop, KernelKind::Loop],
            vec![KernelKind::Loop]
        ],
        "{}",
        explain_text(&report)
    );
    assert_eq!(report[0].loops, 1, "{}", explain_text(&report));
}

#[test]
fn dense_bias_relu_is_one_kernel_with_an_epilogue() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[8, 16]);
    let w = input(&mut g, "w", &[16, 4]);
    let b = input(&mut g, "b", &[4]);
    let y = g.matmul(x, w).unwrap();
    let bb = g.broadcast(b, &[8, 4]).unwrap();
    let y = g.add2(y, bb).unwrap();
    let z = g.zeros_like(y).unwrap();
    let y = g.binary(BinaryOp::Max, y, z).unwrap();
    g.output("y", y);
    assert_eq!(kinds(&g), [[KernelKind::Library, KernelKind::Loop]]);
}

#[test]
fn a_kept_pre_activation_and_its_relu_share_the_contraction_kernel() {
    // conv + bias is stored (a reduction reads it too); relu joins the
    // same kernel as a second epilogue with its own buffer, the two loops
    // merge into one pass, and that pass folds into the convolution call:
    // no loop is left.
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[2, 1, 6, 6]);
    let w = input(&mut g, "w", &[3, 1, 3, 3]);
    let b = input(&mut g, "b", &[1, 3, 1, 1]);
    let y = g.add(Op::Conv2d { stride: 1, pad: 0 }, &[x, w]).unwrap();
    let bb = g.broadcast(b, &[2, 3, 4, 4]).unwrap();
    let pre = g.add2(y, bb).unwrap();
    let z = g.zeros_like(pre).unwrap();
    let act = g.binary(BinaryOp::Max, pre, z).unwrap();
    let total = g.sum_all(pre).unwrap();
    g.output("act", act);
    g.output("total", total);
    let f = fuse(&g);
    let report = explain(&g, &f);
    assert_eq!(
        kinds(&g)[0],
        [KernelKind::Library, KernelKind::Loop, KernelKind::Loop],
        "{}",
        explain_text(&report)
    );
    assert_eq!(report[0].loops, 0, "{}", explain_text(&report));
}

/// A convolution with `bias` (shape `[F]`) added and `relu` taken as
/// chosen, the result the only output.
fn conv_layer(stride: usize, pad: usize, bias: bool, relu: bool) -> Graph {
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[2, 2, 9, 10]);
    let w = input(&mut g, "w", &[5, 2, 3, 3]);
    // Inputs come before the convolution, as parameters do in a step.
    let b = input(&mut g, "b", &[5]);
    let mut y = g.add(Op::Conv2d { stride, pad }, &[x, w]).unwrap();
    let shape = g.shape(y).to_vec();
    if bias {
        let b = g.reshape(b, &[5, 1, 1]).unwrap();
        let bb = g.broadcast(b, &shape).unwrap();
        y = g.add2(y, bb).unwrap();
    }
    if relu {
        let z = g.zeros_like(y).unwrap();
        y = g.binary(BinaryOp::Max, y, z).unwrap();
    }
    g.output("y", y);
    g
}

#[test]
fn a_convolutions_bias_and_relu_fold_into_the_call() {
    for (stride, pad) in [(1, 0), (2, 1)] {
        for (bias, relu) in [(true, true), (true, false), (false, true)] {
            let g = conv_layer(stride, pad, bias, relu);
            let report = explain(&g, &fuse(&g));
            assert_eq!(report.len(), 1, "{}", explain_text(&report));
            assert_eq!(report[0].loops, 0, "{}", explain_text(&report));
        }
    }
    // Anything else stays a loop: the activation here is not a ReLU.
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[2, 1, 6, 6]);
    let w = input(&mut g, "w", &[3, 1, 3, 3]);
    let y = g.add(Op::Conv2d { stride: 1, pad: 0 }, &[x, w]).unwrap();
    let y = g.unary(UnaryOp::Tanh, y).unwrap();
    g.output("y", y);
    let report = explain(&g, &fuse(&g));
    assert_eq!(report[0].loops, 1, "{}", explain_text(&report));
}

#[test]
fn softmax_is_two_reductions_and_one_loop() {
    // max, then sum(exp(x - max)) with the exp inlined, then the division
    // recomputing exp(x - max) in its loop.
    let mut g = Graph::new();
    let x = input(&mut g, "x", &[8, 10]);
    let m = g.max_over(x, &[1]).unwrap();
    let m = g.reshape(m, &[8, 1]).unwrap();
    let m = g.broadcast(m, &[8, 10]).unwrap();
    let z = g.sub(x, m).unwrap();
    let e = g.unary(UnaryOp::Exp, z).unwrap();
    let s = g.sum(e, &[1]).unwrap();
    let s = g.reshape(s, &[8, 1]).unwrap();
    let s = g.broadcast(s, &[8, 10]).unwrap();
    let p = g.div(e, s).unwrap();
    g.output("p", p);
    let k = kinds(&g);
    // `e` feeds both the sum and the division, so it is stored once.
    assert_eq!(
        k,
        [
            vec![KernelKind::Reduce],
            vec![KernelKind::Loop],
            vec![KernelKind::Reduce],
            vec![KernelKind::Loop]
        ]
    );
}

#[test]
fn mlp_train_step_kernels() {
    let text = include_str!("../examples/mlp.dlm");
    let parsed = parse("mlp.dlm", text);
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let spec = train_spec(t).expect("spec");
    let fields = data_fields(data_def(&parsed, &t.data.name)).expect("fields");
    let step = lower(&items, &spec, &fields, 32, StepKind::Train);
    let g = &step.graph;
    let f = fuse(g);
    let report = explain(g, &f);
    println!("{} nodes\n{}", g.nodes.len(), explain_text(&report));
    // One optimizer kernel updates all 4 parameters and 4 velocities.
    let last = f.kernels.last().expect("kernels");
    assert_eq!(last.parts.len(), 8, "{}", last.label);
    // ...in one pass per parameter: each velocity and its parameter are
    // stored by one multi-output loop.
    let opt = report.last().expect("report");
    assert_eq!(opt.loops, 4, "{}", explain_text(&report));
    // Both forward dense layers fuse their bias (and relu) into the matmul.
    let epilogues = f
        .kernels
        .iter()
        .filter(|k| k.parts.len() == 2 && k.parts[0].kind == KernelKind::Library)
        .count();
    assert!(epilogues >= 2, "{epilogues} matmul epilogues");
    let matmuls = g
        .nodes
        .iter()
        .filter(|n| matches!(n.op, Op::MatMul { .. }))
        .count();
    assert_eq!(matmuls, 5);
    // 151 nodes become 25 kernels (printed above): the first layer's relu
    // joins its matmul + bias kernel, in the same pass; the weight decay
    // term joins the weight gradient's matmul as its epilogue; softmax's
    // `x - max` and `exp` are one pass.
    assert_eq!(report[0].loops, 1, "{}", explain_text(&report));
    assert_eq!(f.kernels.len(), 25, "{}", explain_text(&report));
    let epilogue_of_grad = f.kernels.iter().any(|k| {
        k.parts.len() == 2 && matches!(g.node(k.parts[0].root).op, Op::MatMul { ta: true, .. })
    });
    assert!(epilogue_of_grad, "{}", explain_text(&report));
}

#[test]
fn lstm_train_step_is_a_few_kernels_per_time_step() {
    let text = include_str!("../examples/lstm_classifier.dlm");
    let parsed = parse("lstm_classifier.dlm", text);
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let spec = train_spec(t).expect("spec");
    let fields = data_fields(data_def(&parsed, &t.data.name)).expect("fields");
    let step = lower(&items, &spec, &fields, 32, StepKind::Train);
    let g = &step.graph;
    let f = fuse(g);
    let report = explain(g, &f);
    let text = explain_text(&report);
    // The input projection of all 28 rows is one product; each step is
    // then its recurrent product (+ the projection, as epilogue) and one
    // pass for the four gates, the cell and the hidden state.
    let projections = f
        .kernels
        .iter()
        .filter(|k| {
            k.parts.iter().any(|p| {
                matches!(g.node(p.root).op, Op::MatMul { .. }) && g.shape(p.root)[0] == 32 * 28
            })
        })
        .count();
    assert_eq!(projections, 1, "{text}");
    let gates: Vec<_> = report
        .iter()
        .filter(|r| r.label.starts_with("sigmoid+sigmoid+tanh+sigmoid"))
        .collect();
    assert!(gates.len() >= 27, "{text}");
    assert!(gates.iter().all(|r| r.loops == 1), "{text}");
    // The gates' gradients are joined by one concat per step, with no
    // zero-padded copies; the whole step stays under 8 kernels per row
    // (it was 26 with per-step input products and padded gate gradients).
    assert!(f.kernels.iter().all(|k| k.label != "pad"), "{text}");
    assert!(
        f.kernels.len() < 8 * 28,
        "{} kernels\n{text}",
        f.kernels.len()
    );
}
