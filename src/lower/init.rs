//! Parameter initializers: the name a program writes (`= glorot_uniform`)
//! and the values it produces.
//!
//! Values come from the same counter-based Philox generator as dropout,
//! keyed by the run's seed and a hash of the parameter's name, so a
//! parameter's initial value depends on its name and the seed only — not on
//! declaration order, thread count or engine. Fan-in and fan-out follow
//! Keras: `[I, O]` for dense kernels, `[F, C, K, K]` for convolutions.

use ndarray::ArrayD;

use crate::diag::Span;
use crate::ir::rng;

use super::value::Val;
use super::{LowerError, Result};

/// How a parameter or state starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    Zeros,
    Ones,
    Constant(f32),
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    Uniform(f32),
    Normal(f32),
    Orthogonal,
}

impl Init {
    /// The initializer a program named: `zeros` or `normal(std: 0.02)`.
    pub fn from_val(v: Val, span: Span) -> Result<Init> {
        Ok(match v {
            Val::Func(name) => match name.as_str() {
                "zeros" => Init::Zeros,
                "ones" => Init::Ones,
                "glorot_uniform" => Init::GlorotUniform,
                "glorot_normal" => Init::GlorotNormal,
                "he_uniform" => Init::HeUniform,
                "he_normal" => Init::HeNormal,
                "orthogonal" => Init::Orthogonal,
                "uniform" => Init::Uniform(0.05),
                "normal" => Init::Normal(0.05),
                other => {
                    return Err(LowerError::at(
                        span,
                        format!("`{other}` is not an initializer"),
                    ))
                }
            },
            Val::Init(init) => init,
            Val::Int(_) | Val::Float(_) => Init::Constant(v.as_float(span)? as f32),
            other => {
                return Err(LowerError::at(
                    span,
                    format!(
                        "an initializer is a name like `zeros`, got {}",
                        other.describe()
                    ),
                ))
            }
        })
    }

    /// `constant(v)`, `uniform(limit)`, `normal(std)`: initializers with an
    /// argument.
    pub fn with_arg(name: &str, arg: f64) -> Option<Init> {
        Some(match name {
            "constant" => Init::Constant(arg as f32),
            "uniform" => Init::Uniform(arg as f32),
            "normal" => Init::Normal(arg as f32),
            _ => return None,
        })
    }
}

/// Keras' fan-in and fan-out of a weight shape.
fn fans(shape: &[usize]) -> (f64, f64) {
    match shape {
        [] => (1.0, 1.0),
        [n] => (*n as f64, *n as f64),
        [i, o] => (*i as f64, *o as f64),
        [o, i, rest @ ..] => {
            let field: usize = rest.iter().product();
            ((i * field) as f64, (o * field) as f64)
        }
    }
}

/// FNV-1a of the name: the random stream of a parameter.
fn stream_of(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The initial value of a parameter named `name` with `shape`.
pub fn init_value(init: &Init, name: &str, shape: &[usize], seed: u32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    let stream = stream_of(name);
    // Step u32::MAX keeps initial values apart from every training step's
    // dropout masks, which use the same seed.
    let uniform =
        |i: usize| (rng::bits(seed, u32::MAX, stream, i) >> 8) as f64 / (1u32 << 24) as f64;
    let normal = |i: usize| f64::from(rng::normal(seed, u32::MAX, stream, i));
    let (fan_in, fan_out) = fans(shape);
    let values: Vec<f32> = match init {
        Init::Zeros => vec![0.0; n],
        Init::Ones => vec![1.0; n],
        Init::Constant(c) => vec![*c; n],
        Init::Uniform(limit) => (0..n)
            .map(|i| ((2.0 * uniform(i) - 1.0) * f64::from(*limit)) as f32)
            .collect(),
        Init::Normal(std) => (0..n)
            .map(|i| (normal(i) * f64::from(*std)) as f32)
            .collect(),
        Init::GlorotUniform | Init::HeUniform => {
            let scale = if *init == Init::GlorotUniform {
                2.0 / (fan_in + fan_out)
            } else {
                1.0 / fan_in
            };
            let limit = (3.0 * scale).sqrt();
            (0..n)
                .map(|i| ((2.0 * uniform(i) - 1.0) * limit) as f32)
                .collect()
        }
        Init::GlorotNormal | Init::HeNormal => {
            let var = if *init == Init::GlorotNormal {
                2.0 / (fan_in + fan_out)
            } else {
                2.0 / fan_in
            };
            (0..n).map(|i| (normal(i) * var.sqrt()) as f32).collect()
        }
        Init::Orthogonal => orthogonal(shape, &normal),
    };
    ArrayD::from_shape_vec(shape.to_vec(), values).unwrap_or_else(|_| ArrayD::zeros(shape.to_vec()))
}

/// An orthogonal matrix (rows or columns orthonormal, whichever are fewer)
/// by Gram-Schmidt on Gaussian vectors, as Keras' `Orthogonal` does by QR.
fn orthogonal(shape: &[usize], normal: &dyn Fn(usize) -> f64) -> Vec<f32> {
    let rows = shape.first().copied().unwrap_or(1);
    let cols: usize = shape.iter().skip(1).product::<usize>().max(1);
    // Orthonormalise the shorter side: `k` vectors of length `len`.
    let (k, len) = if rows <= cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let mut vecs: Vec<Vec<f64>> = (0..k)
        .map(|v| (0..len).map(|j| normal(v * len + j)).collect())
        .collect();
    for v in 0..k {
        let (done, rest) = vecs.split_at_mut(v);
        let current = &mut rest[0];
        for u in done.iter() {
            let dot: f64 = current.iter().zip(u).map(|(a, b)| a * b).sum();
            current.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = vecs[v].iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        vecs[v].iter_mut().for_each(|x| *x /= norm);
    }
    let mut out = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let x = if rows <= cols { vecs[r][c] } else { vecs[c][r] };
            out[r * cols + c] = x as f32;
        }
    }
    out
}
