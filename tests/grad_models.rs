//! Whole small models against central finite differences in f64: an MLP
//! with softmax cross-entropy, a small CNN, a 3-step unrolled LSTM cell and
//! a scaled dot-product attention block. Each builds its graph the way
//! lowering will (explicit broadcasts, reshapes around matmuls), takes the
//! gradient of the loss with respect to every parameter, and checks it.

mod grad_check;

use std::collections::HashMap;

use dlc::ir::{BinaryOp, DType, Graph, InputKind, IrError, NodeId, Op, UnaryOp};
use grad_check::{check_loss, Rng};
use ndarray::ArrayD;

/// Builds inputs and their random values as a model declares them.
struct Model {
    g: Graph,
    rng: Rng,
    values: HashMap<String, ArrayD<f64>>,
    params: Vec<NodeId>,
}

type R = Result<NodeId, IrError>;

impl Model {
    fn new(name: &str) -> Model {
        Model {
            g: Graph::new(),
            rng: Rng::new(name),
            values: HashMap::new(),
            params: vec![],
        }
    }

    fn param(&mut self, name: &str, shape: &[usize]) -> NodeId {
        let id = self.data(name, shape);
        self.params.push(id);
        id
    }

    fn data(&mut self, name: &str, shape: &[usize]) -> NodeId {
        let v = self.rng.array(shape, -1.0, 1.0);
        self.values.insert(name.into(), v);
        self.g
            .input(name, InputKind::Param, shape, DType::F32)
            .unwrap()
    }

    fn labels(&mut self, name: &str, shape: &[usize], classes: usize) -> NodeId {
        let v = self.rng.ids(shape, classes);
        self.values.insert(name.into(), v);
        self.g
            .input(name, InputKind::Data, shape, DType::I32)
            .unwrap()
    }

    fn check(self, name: &str, loss: NodeId) -> f64 {
        check_loss(name, self.g, loss, &self.params, self.values)
    }
}

/// `x: [N, I] @ w: [I, O] + b: [O]` -> `[N, O]`.
fn dense(g: &mut Graph, x: NodeId, w: NodeId, b: NodeId) -> R {
    let y = g.matmul(x, w)?;
    let shape = g.shape(y).to_vec();
    let b = g.broadcast(b, &shape)?;
    g.add2(y, b)
}

fn relu(g: &mut Graph, x: NodeId) -> R {
    let zero = g.zeros_like(x)?;
    g.binary(BinaryOp::Max, x, zero)
}

/// Reduces the last axis and broadcasts the result back.
fn along_last(g: &mut Graph, x: NodeId, op: fn(Vec<usize>) -> Op) -> R {
    let shape = g.shape(x).to_vec();
    let last = shape.len() - 1;
    let r = g.add(op(vec![last]), &[x])?;
    let kept = [&shape[..last], &[1]].concat();
    let r = g.reshape(r, &kept)?;
    g.broadcast(r, &shape)
}

/// Softmax over the last axis, shifted by the (stopped) maximum.
fn softmax(g: &mut Graph, x: NodeId) -> R {
    let m = along_last(g, x, |axes| Op::Max { axes })?;
    let m = g.add(Op::StopGradient, &[m])?;
    let z = g.sub(x, m)?;
    let e = g.unary(UnaryOp::Exp, z)?;
    let s = along_last(g, e, |axes| Op::Sum { axes })?;
    g.div(e, s)
}

/// Mean over the batch of `-log softmax(logits)[label]`, as logsumexp minus
/// the label's logit. `logits: [N, C]`, `labels: i32[N]`.
fn cross_entropy(g: &mut Graph, logits: NodeId, labels: NodeId) -> R {
    let [n, c] = <[usize; 2]>::try_from(g.shape(logits)).unwrap();
    let m = along_last(g, logits, |axes| Op::Max { axes })?;
    let z = g.sub(logits, m)?;
    let e = g.unary(UnaryOp::Exp, z)?;
    let s = g.sum(e, &[1])?;
    let lse = g.unary(UnaryOp::Log, s)?;
    let oh = g.add(Op::OneHot { classes: c }, &[labels])?;
    let picked = g.mul(z, oh)?;
    let picked = g.sum(picked, &[1])?;
    let per_sample = g.sub(lse, picked)?;
    let total = g.sum_all(per_sample)?;
    g.scale(total, 1.0 / n as f32)
}

#[test]
fn mlp_softmax_cross_entropy() {
    let mut m = Model::new("mlp");
    let x = m.data("x", &[4, 5]);
    let y = m.labels("y", &[4], 3);
    let (w1, b1) = (m.param("w1", &[5, 6]), m.param("b1", &[6]));
    let (w2, b2) = (m.param("w2", &[6, 3]), m.param("b2", &[3]));
    let g = &mut m.g;
    let h = dense(g, x, w1, b1).unwrap();
    let h = relu(g, h).unwrap();
    let logits = dense(g, h, w2, b2).unwrap();
    let loss = cross_entropy(g, logits, y).unwrap();
    m.check("mlp", loss);
}

#[test]
fn cnn_conv_relu_maxpool_dense() {
    let mut m = Model::new("cnn");
    let x = m.data("x", &[2, 1, 6, 6]);
    let y = m.labels("y", &[2], 4);
    let k = m.param("k", &[3, 1, 3, 3]);
    let (w, b) = (m.param("w", &[27, 4]), m.param("b", &[4]));
    let g = &mut m.g;
    // x: [2, 1, 6, 6] -> [2, 3, 6, 6] -> [2, 3, 3, 3] -> [2, 27] -> [2, 4]
    let c = g.add(Op::Conv2d { stride: 1, pad: 1 }, &[x, k]).unwrap();
    let c = relu(g, c).unwrap();
    let p = g.add(Op::MaxPool2d { size: 2, stride: 2 }, &[c]).unwrap();
    let f = g.reshape(p, &[2, 27]).unwrap();
    let logits = dense(g, f, w, b).unwrap();
    let loss = cross_entropy(g, logits, y).unwrap();
    m.check("cnn", loss);
}

#[test]
fn lstm_three_steps() {
    const B: usize = 2;
    const I: usize = 3;
    const H: usize = 4;
    let mut m = Model::new("lstm");
    let xs = m.data("x", &[B, 3, I]);
    let r = m.data("r", &[B, H]);
    let (w, u, b) = (
        m.param("w", &[I, 4 * H]),
        m.param("u", &[H, 4 * H]),
        m.param("b", &[4 * H]),
    );
    let g = &mut m.g;
    let mut h = g.full(0.0, &[B, H]).unwrap();
    let mut c = h;
    for t in 0..3 {
        let x = g
            .add(
                Op::Slice {
                    axis: 1,
                    start: t,
                    end: t + 1,
                },
                &[xs],
            )
            .unwrap();
        let x = g.reshape(x, &[B, I]).unwrap();
        (h, c) = lstm_cell(g, x, h, c, [w, u, b]).unwrap();
    }
    let weighted = g.mul(h, r).unwrap();
    let loss = g.sum_all(weighted).unwrap();
    m.check("lstm", loss);
}

/// One LSTM step; gates `[i, f, g, o]` are slices of `x w + h u + b`.
fn lstm_cell(
    g: &mut Graph,
    x: NodeId,
    h: NodeId,
    c: NodeId,
    [w, u, b]: [NodeId; 3],
) -> Result<(NodeId, NodeId), IrError> {
    let hidden = g.shape(h)[1];
    let zx = dense(g, x, w, b)?;
    let zh = g.matmul(h, u)?;
    let z = g.add2(zx, zh)?;
    let mut gate = |k: usize, f: UnaryOp| -> R {
        let s = g.add(
            Op::Slice {
                axis: 1,
                start: k * hidden,
                end: (k + 1) * hidden,
            },
            &[z],
        )?;
        g.unary(f, s)
    };
    let i = gate(0, UnaryOp::Sigmoid)?;
    let f = gate(1, UnaryOp::Sigmoid)?;
    let cand = gate(2, UnaryOp::Tanh)?;
    let o = gate(3, UnaryOp::Sigmoid)?;
    let keep = g.mul(f, c)?;
    let write = g.mul(i, cand)?;
    let c = g.add2(keep, write)?;
    let tc = g.unary(UnaryOp::Tanh, c)?;
    Ok((g.mul(o, tc)?, c))
}

#[test]
fn scaled_dot_product_attention() {
    const B: usize = 2;
    const T: usize = 3;
    const D: usize = 4;
    let mut m = Model::new("attention");
    let x = m.data("x", &[B, T, D]);
    let r = m.data("r", &[B, T, D]);
    let wq = m.param("wq", &[D, D]);
    let wk = m.param("wk", &[D, D]);
    let wv = m.param("wv", &[D, D]);
    let g = &mut m.g;
    // Projections run on [B*T, D] rows, then split back into [B, T, D].
    let rows = g.reshape(x, &[B * T, D]).unwrap();
    let mut project = |w| -> R {
        let p = g.matmul(rows, w)?;
        g.reshape(p, &[B, T, D])
    };
    let (q, k, v) = (
        project(wq).unwrap(),
        project(wk).unwrap(),
        project(wv).unwrap(),
    );
    // scores: [B, T, T] = q k^T / sqrt(D)
    let s = g
        .add(
            Op::MatMul {
                ta: false,
                tb: true,
            },
            &[q, k],
        )
        .unwrap();
    let s = g.scale(s, 1.0 / (D as f32).sqrt()).unwrap();
    let p = softmax(g, s).unwrap();
    let out = g.matmul(p, v).unwrap();
    let weighted = g.mul(out, r).unwrap();
    let loss = g.sum_all(weighted).unwrap();
    m.check("attention", loss);
}
