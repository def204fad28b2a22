//! Shared by the `codegen_*` tests: run a graph through the JIT and the
//! reference interpreter on the same inputs and measure how far apart the
//! outputs are.
//!
//! The distance of one output is its normwise relative error,
//! `max |jit - ref| / max(max |ref|, 1e-6)`, which stays meaningful where
//! individual reference elements are near zero (a sum that cancels); exact
//! mismatches in shape or NaN placement count as infinite.

#![allow(dead_code)]

use std::collections::HashMap;

use dlc::codegen::{compile, Compiled, In, Options, Out};
use dlc::ir::{interp::interp_outputs, DType, Graph, Op};
use ndarray::{ArrayD, IxDyn};

/// A small deterministic generator (xorshift) for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn uniform(&mut self, shape: &[usize], lo: f32, hi: f32) -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(shape), |_| lo + (hi - lo) * self.next_f32())
    }

    pub fn ids(&mut self, shape: &[usize], n: usize) -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(shape), |_| {
            ((self.next_f32() * n as f32) as usize).min(n - 1) as f32
        })
    }
}

pub fn test_options() -> Options {
    Options {
        verify: true,
        ..Options::default()
    }
}

/// Random inputs for every `Input` of `g`: f32 in [-1, 1], i32 ids in
/// `0..id_range`.
pub fn random_inputs(g: &Graph, seed: u64, id_range: usize) -> HashMap<String, ArrayD<f32>> {
    let mut rng = Rng::new(seed);
    let mut out = HashMap::new();
    for n in &g.nodes {
        if let Op::Input {
            name, shape, dtype, ..
        } = &n.op
        {
            let v = match dtype {
                DType::F32 => rng.uniform(shape, -1.0, 1.0),
                DType::I32 => rng.ids(shape, id_range),
            };
            out.insert(name.clone(), v);
        }
    }
    out
}

/// Output buffers for `c`, zero-filled.
pub struct Outputs {
    pub f: Vec<Vec<f32>>,
    pub i: Vec<Vec<i32>>,
}

pub fn run_jit(
    c: &mut Compiled,
    inputs: &HashMap<String, ArrayD<f32>>,
) -> HashMap<String, ArrayD<f32>> {
    let f32s: Vec<Vec<f32>> = c
        .inputs()
        .iter()
        .map(|s| inputs[&s.name].iter().copied().collect())
        .collect();
    let i32s: Vec<Vec<i32>> = c
        .inputs()
        .iter()
        .map(|s| inputs[&s.name].iter().map(|&v| v as i32).collect())
        .collect();
    let ins: Vec<In> = c
        .inputs()
        .iter()
        .enumerate()
        .map(|(k, s)| match s.dtype {
            DType::F32 => In::F32(&f32s[k]),
            DType::I32 => In::I32(&i32s[k]),
        })
        .collect();
    let sigs = c.outputs().to_vec();
    let mut of: Vec<Vec<f32>> = sigs.iter().map(|s| vec![0.0; s.len()]).collect();
    let mut oi: Vec<Vec<i32>> = sigs.iter().map(|s| vec![0; s.len()]).collect();
    {
        let mut outs: Vec<Out> = Vec::new();
        for ((s, f), i) in sigs.iter().zip(of.iter_mut()).zip(oi.iter_mut()) {
            outs.push(match s.dtype {
                DType::F32 => Out::F32(f),
                DType::I32 => Out::I32(i),
            });
        }
        c.run(&ins, &mut outs).expect("run");
    }
    sigs.iter()
        .enumerate()
        .map(|(k, s)| {
            let data: Vec<f32> = match s.dtype {
                DType::F32 => of[k].clone(),
                DType::I32 => oi[k].iter().map(|&v| v as f32).collect(),
            };
            let a = ArrayD::from_shape_vec(IxDyn(&s.shape), data).expect("shape");
            (s.name.clone(), a)
        })
        .collect()
}

/// Normwise relative distance between two arrays (see the file header).
pub fn distance(jit: &ArrayD<f32>, reference: &ArrayD<f32>) -> f64 {
    if jit.shape() != reference.shape() {
        return f64::INFINITY;
    }
    let scale = reference
        .iter()
        .filter(|v| v.is_finite())
        .fold(0f64, |m, &v| m.max(f64::from(v).abs()))
        .max(1e-6);
    let mut worst = 0f64;
    for (&a, &b) in jit.iter().zip(reference) {
        if a.is_nan() != b.is_nan() || (b.is_infinite() && a != b) {
            return f64::INFINITY;
        }
        if b.is_finite() {
            worst = worst.max((f64::from(a) - f64::from(b)).abs() / scale);
        }
    }
    worst
}

/// Compiles `g`, runs both engines on `inputs`, and returns the largest
/// distance over all outputs with the name of the worst one.
pub fn compare(g: &Graph, inputs: &HashMap<String, ArrayD<f32>>) -> (f64, String) {
    let mut c = compile(g, &test_options()).expect("compile");
    let jit = run_jit(&mut c, inputs);
    let reference = interp_outputs::<f32>(g, inputs).expect("interp");
    let mut worst = (0.0, String::new());
    for (name, r) in &reference {
        let d = distance(&jit[name], r);
        if d > worst.0 || worst.1.is_empty() {
            worst = (d, name.clone());
        }
    }
    worst
}
