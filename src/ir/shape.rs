//! Shape and dtype rules: one function from an op and its input types to
//! its output type.
//!
//! The builder (`Graph::add`) and `verify` both call [`infer`], so a graph
//! that was built without error also verifies. Errors are plain strings: the
//! user never sees them (sema reports shape errors against the source), they
//! name internal bugs in lowering or in a pass.

use super::op::{BinaryOp, DType, Op};

/// The type of a tensor value: concrete shape and element type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    pub shape: Vec<usize>,
    pub dtype: DType,
}

impl Type {
    pub fn f32(shape: &[usize]) -> Type {
        Type {
            shape: shape.to_vec(),
            dtype: DType::F32,
        }
    }
}

type Rule = Result<Type, String>;

/// The output type of `op` applied to inputs of types `ins`.
pub fn infer(op: &Op, ins: &[&Type]) -> Rule {
    match op {
        Op::Input { shape, dtype, .. } => leaf(ins, shape, *dtype),
        Op::Full { shape, .. } => leaf(ins, shape, DType::F32),
        Op::Arange { n } => leaf(ins, &[*n], DType::F32),
        Op::Unary(_) => {
            let [x] = arity::<1>(ins)?;
            want_f32(x)?;
            Ok(x.clone())
        }
        Op::Binary(b) => binary(*b, ins),
        Op::Where => {
            let [c, a, b] = arity::<3>(ins)?;
            same_shape(&[c, a, b])?;
            want_f32(c)?;
            same_dtype(a, b)?;
            Ok(a.clone())
        }
        Op::Broadcast { shape } => {
            let [x] = arity::<1>(ins)?;
            broadcast(&x.shape, shape)?;
            Ok(Type {
                shape: shape.clone(),
                dtype: x.dtype,
            })
        }
        Op::Reshape { shape } => reshape(ins, shape),
        Op::Transpose { perm } => transpose(ins, perm),
        Op::Slice { axis, start, end } => slice(ins, *axis, *start, *end),
        Op::Pad {
            axis,
            before,
            after,
        } => {
            let [x] = arity::<1>(ins)?;
            let mut shape = x.shape.clone();
            *axis_mut(&mut shape, *axis)? += before + after;
            Ok(Type {
                shape,
                dtype: x.dtype,
            })
        }
        Op::Concat { axis } => concat(ins, *axis),
        Op::Sum { axes } | Op::Max { axes } => {
            let [x] = arity::<1>(ins)?;
            want_f32(x)?;
            Ok(Type::f32(&reduce(&x.shape, axes)?))
        }
        Op::ArgMax { axis } => {
            let [x] = arity::<1>(ins)?;
            want_f32(x)?;
            let shape = reduce(&x.shape, &[*axis])?;
            Ok(Type {
                shape,
                dtype: DType::I32,
            })
        }
        Op::MatMul { ta, tb } => matmul(ins, *ta, *tb),
        Op::Conv2d { stride, pad } => super::shape_nn::conv2d(ins, *stride, *pad),
        Op::Conv2dGradInput { stride, pad, hw } => {
            super::shape_nn::conv2d_grad_input(ins, *stride, *pad, *hw)
        }
        Op::Conv2dGradWeight { stride, pad, khw } => {
            super::shape_nn::conv2d_grad_weight(ins, *stride, *pad, *khw)
        }
        Op::MaxPool2d { size, stride } | Op::AvgPool2d { size, stride } => {
            let [x] = arity::<1>(ins)?;
            super::shape_nn::pool(x, *size, *stride)
        }
        Op::MaxPool2dGrad { size, stride } => {
            let [x, dy] = arity::<2>(ins)?;
            want(dy, &super::shape_nn::pool(x, *size, *stride)?)?;
            Ok(x.clone())
        }
        Op::AvgPool2dGrad { size, stride, hw } => {
            let [dy] = arity::<1>(ins)?;
            super::shape_nn::avgpool_grad(dy, *size, *stride, *hw)
        }
        Op::OneHot { classes } => {
            let [ids] = arity::<1>(ins)?;
            want_i32(ids)?;
            Ok(Type::f32(&[ids.shape.as_slice(), &[*classes]].concat()))
        }
        Op::Gather => super::shape_nn::gather(ins),
        Op::ScatterAdd { rows } => super::shape_nn::scatter_add(ins, *rows),
        Op::Cast { to } => {
            let [x] = arity::<1>(ins)?;
            Ok(Type {
                shape: x.shape.clone(),
                dtype: *to,
            })
        }
        Op::StopGradient => {
            let [x] = arity::<1>(ins)?;
            Ok(x.clone())
        }
        Op::Bernoulli { p, shape, .. } => {
            if !(0.0..=1.0).contains(p) {
                return Err(format!("probability {p} is outside [0, 1]"));
            }
            random(ins, shape)
        }
        Op::NormalLike { shape, .. } => random(ins, shape),
    }
}

/// Exactly `N` inputs, as an array for destructuring.
pub(super) fn arity<'a, const N: usize>(ins: &[&'a Type]) -> Result<[&'a Type; N], String> {
    <[&Type; N]>::try_from(ins).map_err(|_| format!("expects {N} inputs, got {}", ins.len()))
}

pub(super) fn want_f32(t: &Type) -> Result<(), String> {
    match t.dtype {
        DType::F32 => Ok(()),
        DType::I32 => Err("expects f32, got i32".into()),
    }
}

pub(super) fn want_i32(t: &Type) -> Result<(), String> {
    match t.dtype {
        DType::I32 => Ok(()),
        DType::F32 => Err("expects i32, got f32".into()),
    }
}

/// `t` must be exactly `expected`.
pub(super) fn want(t: &Type, expected: &Type) -> Result<(), String> {
    if t == expected {
        Ok(())
    } else {
        Err(format!(
            "expects {}{:?}, got {}{:?}",
            expected.dtype, expected.shape, t.dtype, t.shape
        ))
    }
}

fn same_shape(ts: &[&Type]) -> Result<(), String> {
    match ts.iter().find(|t| t.shape != ts[0].shape) {
        None => Ok(()),
        Some(t) => Err(format!(
            "shapes differ: {:?} and {:?}",
            ts[0].shape, t.shape
        )),
    }
}

fn same_dtype(a: &Type, b: &Type) -> Result<(), String> {
    if a.dtype == b.dtype {
        Ok(())
    } else {
        Err(format!("dtypes differ: {} and {}", a.dtype, b.dtype))
    }
}

fn axis_mut(shape: &mut [usize], axis: usize) -> Result<&mut usize, String> {
    let rank = shape.len();
    shape
        .get_mut(axis)
        .ok_or_else(|| format!("axis {axis} out of range for rank {rank}"))
}

fn leaf(ins: &[&Type], shape: &[usize], dtype: DType) -> Rule {
    arity::<0>(ins)?;
    Ok(Type {
        shape: shape.to_vec(),
        dtype,
    })
}

fn binary(b: BinaryOp, ins: &[&Type]) -> Rule {
    let [x, y] = arity::<2>(ins)?;
    same_shape(&[x, y])?;
    same_dtype(x, y)?;
    if b.is_comparison() {
        Ok(Type::f32(&x.shape))
    } else {
        want_f32(x)?;
        Ok(x.clone())
    }
}

/// Checks that `from` broadcasts to `to` (right-aligned, dims equal or 1).
pub fn broadcast(from: &[usize], to: &[usize]) -> Result<(), String> {
    let lead = to
        .len()
        .checked_sub(from.len())
        .ok_or_else(|| format!("cannot broadcast {from:?} to lower rank {to:?}"))?;
    let ok = from
        .iter()
        .zip(&to[lead..])
        .all(|(&f, &t)| f == t || f == 1);
    if ok {
        Ok(())
    } else {
        Err(format!("cannot broadcast {from:?} to {to:?}"))
    }
}

fn reshape(ins: &[&Type], shape: &[usize]) -> Rule {
    let [x] = arity::<1>(ins)?;
    let (from, to) = (
        x.shape.iter().product::<usize>(),
        shape.iter().product::<usize>(),
    );
    if from != to {
        return Err(format!(
            "cannot reshape {:?} ({from} elements) to {shape:?}",
            x.shape
        ));
    }
    Ok(Type {
        shape: shape.to_vec(),
        dtype: x.dtype,
    })
}

fn transpose(ins: &[&Type], perm: &[usize]) -> Rule {
    let [x] = arity::<1>(ins)?;
    let mut sorted = perm.to_vec();
    sorted.sort_unstable();
    if sorted != (0..x.shape.len()).collect::<Vec<_>>() {
        return Err(format!(
            "{perm:?} is not a permutation of rank {}",
            x.shape.len()
        ));
    }
    Ok(Type {
        shape: perm.iter().map(|&p| x.shape[p]).collect(),
        dtype: x.dtype,
    })
}

fn slice(ins: &[&Type], axis: usize, start: usize, end: usize) -> Rule {
    let [x] = arity::<1>(ins)?;
    let mut shape = x.shape.clone();
    let dim = axis_mut(&mut shape, axis)?;
    if start > end || end > *dim {
        return Err(format!(
            "slice {start}..{end} out of range for length {dim}"
        ));
    }
    *dim = end - start;
    Ok(Type {
        shape,
        dtype: x.dtype,
    })
}

fn concat(ins: &[&Type], axis: usize) -> Rule {
    let first = ins.first().ok_or("expects at least 1 input")?;
    let mut shape = first.shape.clone();
    *axis_mut(&mut shape, axis)? = 0;
    for t in ins {
        same_dtype(first, t)?;
        let mut other = t.shape.clone();
        let len = std::mem::take(axis_mut(&mut other, axis)?);
        if other
            .iter()
            .enumerate()
            .any(|(i, &d)| i != axis && d != shape[i])
        {
            return Err(format!("cannot concat {:?} and {:?}", first.shape, t.shape));
        }
        shape[axis] += len;
    }
    Ok(Type {
        shape,
        dtype: first.dtype,
    })
}

/// The shape left after removing `axes`, which must be sorted and distinct.
pub fn reduce(shape: &[usize], axes: &[usize]) -> Result<Vec<usize>, String> {
    let ordered = axes.windows(2).all(|w| w[0] < w[1]);
    if !ordered || axes.iter().any(|&a| a >= shape.len()) {
        return Err(format!("bad axes {axes:?} for rank {}", shape.len()));
    }
    Ok(shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect())
}

/// Splits `[..., R, C]` into leading dims and the last two, swapped if `t`.
pub fn matrix_dims(shape: &[usize], t: bool) -> Result<(&[usize], usize, usize), String> {
    let n = shape.len();
    if n < 2 {
        return Err(format!("matmul operand {shape:?} has rank below 2"));
    }
    let (r, c) = (shape[n - 2], shape[n - 1]);
    Ok((
        &shape[..n - 2],
        if t { c } else { r },
        if t { r } else { c },
    ))
}

fn matmul(ins: &[&Type], ta: bool, tb: bool) -> Rule {
    let [a, b] = arity::<2>(ins)?;
    want_f32(a)?;
    want_f32(b)?;
    let (lead_a, m, ka) = matrix_dims(&a.shape, ta)?;
    let (lead_b, kb, n) = matrix_dims(&b.shape, tb)?;
    if lead_a != lead_b || ka != kb {
        return Err(format!("cannot multiply {:?} by {:?}", a.shape, b.shape));
    }
    Ok(Type::f32(&[lead_a, &[m, n]].concat()))
}

fn random(ins: &[&Type], shape: &[usize]) -> Rule {
    let [seed, step] = arity::<2>(ins)?;
    let scalar = Type {
        shape: vec![],
        dtype: DType::I32,
    };
    want(seed, &scalar)?;
    want(step, &scalar)?;
    Ok(Type::f32(shape))
}
