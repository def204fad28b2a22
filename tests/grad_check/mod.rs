//! Gradient checking shared by `grad_ops.rs` and `grad_models.rs`.
//!
//! A check differentiates a scalar loss with the `autodiff` pass, evaluates
//! the gradients with the reference interpreter in `f64`, and compares them
//! with central finite differences `(L(x + h) - L(x - h)) / 2h` of the same
//! loss (evaluated on the DCE'd loss-only graph). The error of one element
//! is `|analytic - numeric| / max(1, |analytic|, |numeric|)`: relative for
//! large gradients, absolute for small ones.

use std::collections::HashMap;

use dlc::ir::interp::interp_outputs;
use dlc::ir::verify::verify;
use dlc::ir::{Graph, NodeId};
use dlc::passes::{autodiff, dce};
use ndarray::{ArrayD, IxDyn};

/// Finite-difference step; central differences are O(h^2) accurate.
const H: f64 = 1e-6;
/// Largest accepted error.
pub const TOL: f64 = 1e-6;

/// A small deterministic generator (xorshift64*), so tests need no crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(name: &str) -> Rng {
        let seed = name.bytes().fold(0x9E37_79B9_7F4A_7C15u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        });
        Rng(seed | 1)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        lo + (hi - lo) * (bits as f64 / (1u64 << 53) as f64)
    }

    pub fn array(&mut self, shape: &[usize], lo: f64, hi: f64) -> ArrayD<f64> {
        ArrayD::from_shape_simple_fn(IxDyn(shape), || self.uniform(lo, hi))
    }

    /// Integers in `0..n`, carried as floats.
    pub fn ids(&mut self, shape: &[usize], n: usize) -> ArrayD<f64> {
        self.array(shape, 0.0, n as f64).mapv(f64::floor)
    }
}

/// Checks d `loss` / d `wrt` against finite differences; every `wrt` node
/// must be an `Input` whose value is in `values`. Returns the max error and
/// prints it, panicking above [`TOL`].
pub fn check_loss(
    name: &str,
    mut g: Graph,
    loss: NodeId,
    wrt: &[NodeId],
    mut values: HashMap<String, ArrayD<f64>>,
) -> f64 {
    let forward = loss_only(&g, loss);
    let names: Vec<String> = wrt.iter().map(|w| input_name(&g, *w)).collect();
    let grads = autodiff(&mut g, loss, wrt).unwrap_or_else(|e| panic!("{name}: autodiff: {e}"));
    for (k, gr) in grads.iter().enumerate() {
        g.output(format!("grad{k}"), *gr);
    }
    verify(&g).unwrap_or_else(|e| panic!("{name}: verify after autodiff: {e}\n{g}"));
    let (g, _) = dce(&g);
    verify(&g).unwrap_or_else(|e| panic!("{name}: verify after dce: {e}\n{g}"));
    let out = interp_outputs(&g, &values).unwrap();
    let mut worst = 0.0f64;
    for k in 0..wrt.len() {
        let input = &names[k];
        let analytic = &out[&format!("grad{k}")];
        let len = values[input].len();
        for e in 0..len {
            let numeric = finite_difference(&forward, &mut values, input, e);
            let a = analytic.iter().nth(e).copied().unwrap();
            let err = (a - numeric).abs() / 1f64.max(a.abs()).max(numeric.abs());
            worst = worst.max(err);
        }
    }
    println!("grad {name}: max error {worst:.2e}");
    assert!(
        worst < TOL,
        "{name}: gradient error {worst:.2e} above {TOL:e}"
    );
    worst
}

/// The graph computing only `loss`, as output `loss`.
fn loss_only(g: &Graph, loss: NodeId) -> Graph {
    let mut f = g.clone();
    f.outputs = vec![("loss".into(), loss)];
    dce(&f).0
}

fn input_name(g: &Graph, id: NodeId) -> String {
    match &g.node(id).op {
        dlc::ir::Op::Input { name, .. } => name.clone(),
        other => panic!("can only check gradients of inputs, got {}", other.name()),
    }
}

fn eval_loss(g: &Graph, values: &HashMap<String, ArrayD<f64>>) -> f64 {
    interp_outputs(g, values).unwrap()["loss"]
        .iter()
        .copied()
        .sum()
}

/// `(L(x + h e_i) - L(x - h e_i)) / 2h` for element `i` of input `name`.
fn finite_difference(
    g: &Graph,
    values: &mut HashMap<String, ArrayD<f64>>,
    name: &str,
    i: usize,
) -> f64 {
    let at = |values: &mut HashMap<String, ArrayD<f64>>, delta: f64| {
        let x = values.get_mut(name).unwrap();
        *x.iter_mut().nth(i).unwrap() += delta;
    };
    at(values, H);
    let plus = eval_loss(g, values);
    at(values, -2.0 * H);
    let minus = eval_loss(g, values);
    at(values, H);
    (plus - minus) / (2.0 * H)
}
