//! Reference kernels for elementwise, movement, reduction and matmul ops.
//!
//! Each kernel is the plainest correct ndarray code for its op; shapes were
//! checked when the graph was built, so kernels index without re-checking.

use ndarray::{concatenate, s, Array2, Array3, ArrayD, ArrayViewD, Axis, IxDyn, Slice, Zip};

use super::interp::{lit, Float};
use super::op::{BinaryOp, UnaryOp};

fn bool_to<T: Float>(b: bool) -> T {
    if b {
        T::one()
    } else {
        T::zero()
    }
}

/// `x: [...]` -> `[...]`.
pub fn unary<T: Float>(u: UnaryOp, x: &ArrayD<T>) -> ArrayD<T> {
    let f: fn(T) -> T = match u {
        UnaryOp::Neg => |v| -v,
        UnaryOp::Exp => T::exp,
        UnaryOp::Log => T::ln,
        UnaryOp::Sqrt => T::sqrt,
        UnaryOp::Tanh => T::tanh,
        UnaryOp::Sigmoid => |v| T::one() / (T::one() + (-v).exp()),
        UnaryOp::Sin => T::sin,
        UnaryOp::Cos => T::cos,
        UnaryOp::Abs => T::abs,
        // Zero at zero (unlike `signum`, which gives 1 for +0).
        UnaryOp::Sign => |v| bool_to::<T>(v > T::zero()) - bool_to::<T>(v < T::zero()),
        UnaryOp::Floor => T::floor,
        UnaryOp::Recip => T::recip,
    };
    x.mapv(f)
}

/// `a, b: [...]` -> `[...]`.
pub fn binary<T: Float>(op: BinaryOp, a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<T> {
    let f: fn(T, T) -> T = match op {
        BinaryOp::Add => |x, y| x + y,
        BinaryOp::Sub => |x, y| x - y,
        BinaryOp::Mul => |x, y| x * y,
        BinaryOp::Div => |x, y| x / y,
        BinaryOp::Pow => T::powf,
        // Ties pick `a`; the gradient rule routes ties the same way.
        BinaryOp::Max => |x, y| if x >= y { x } else { y },
        BinaryOp::Min => |x, y| if x <= y { x } else { y },
        BinaryOp::Rem => |x, y| x - y * (x / y).floor(),
        BinaryOp::Lt => |x, y| bool_to(x < y),
        BinaryOp::Le => |x, y| bool_to(x <= y),
        BinaryOp::Gt => |x, y| bool_to(x > y),
        BinaryOp::Ge => |x, y| bool_to(x >= y),
        BinaryOp::Eq => |x, y| bool_to(x == y),
        BinaryOp::Ne => |x, y| bool_to(x != y),
    };
    Zip::from(a).and(b).map_collect(|&x, &y| f(x, y))
}

/// `c, a, b: [...]` -> `[...]`.
pub fn select<T: Float>(c: &ArrayD<T>, a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<T> {
    Zip::from(c)
        .and(a)
        .and(b)
        .map_collect(|&c, &a, &b| if c != T::zero() { a } else { b })
}

/// NumPy broadcast (ndarray's rule is the same: right-aligned, 1s stretch).
pub fn broadcast<T: Float>(x: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    x.broadcast(IxDyn(shape))
        .expect("shape rule checked broadcast")
        .to_owned()
}

/// Same elements in row-major order.
pub fn reshape<T: Float>(x: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    x.as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(shape))
        .expect("shape rule checked element count")
}

pub fn slice<T: Float>(x: &ArrayD<T>, axis: usize, start: usize, end: usize) -> ArrayD<T> {
    x.slice_axis(Axis(axis), Slice::from(start..end)).to_owned()
}

/// Zeros around `x` along `axis`.
pub fn pad<T: Float>(x: &ArrayD<T>, axis: usize, before: usize, after: usize) -> ArrayD<T> {
    let mut shape = x.shape().to_vec();
    shape[axis] += before + after;
    let mut out = ArrayD::zeros(IxDyn(&shape));
    let len = x.shape()[axis];
    out.slice_axis_mut(Axis(axis), Slice::from(before..before + len))
        .assign(x);
    out
}

pub fn concat<T: Float>(xs: &[&ArrayD<T>], axis: usize) -> ArrayD<T> {
    let views: Vec<ArrayViewD<T>> = xs.iter().map(|x| x.view()).collect();
    concatenate(Axis(axis), &views).expect("shape rule checked concat")
}

/// Sums over `axes`, last first so earlier axis numbers stay valid.
pub fn sum<T: Float>(x: &ArrayD<T>, axes: &[usize]) -> ArrayD<T> {
    axes.iter()
        .rev()
        .fold(x.clone(), |acc, &a| acc.sum_axis(Axis(a)))
}

pub fn max<T: Float>(x: &ArrayD<T>, axes: &[usize]) -> ArrayD<T> {
    axes.iter().rev().fold(x.clone(), |acc, &a| {
        acc.fold_axis(Axis(a), T::neg_infinity(), |&m, &v| m.max(v))
    })
}

/// Position of the first maximum along `axis`, as an exact integer.
pub fn argmax<T: Float>(x: &ArrayD<T>, axis: usize) -> ArrayD<T> {
    x.map_axis(Axis(axis), |lane| {
        let mut best = 0;
        for (i, &v) in lane.iter().enumerate() {
            if v > lane[best] {
                best = i;
            }
        }
        lit(best as f64)
    })
}

/// `[..., R, C]` as a `[batch, R, C]` view (`[batch, C, R]` when `t`),
/// copying only when `x` is not in row-major layout.
fn batched<T: Float>(x: &ArrayD<T>, t: bool) -> Array3<T> {
    let n = x.ndim();
    let (r, c) = (x.shape()[n - 2], x.shape()[n - 1]);
    let batch = x.len() / (r * c).max(1);
    let mut m = x
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((batch, r, c))
        .expect("element count preserved");
    if t {
        m.swap_axes(1, 2);
    }
    m
}

/// `a: [..., M, K]`, `b: [..., K, N]` -> `[..., M, N]`, one plain matrix
/// product per leading index (transposes are strided views, not copies).
pub fn matmul<T: Float>(a: &ArrayD<T>, b: &ArrayD<T>, ta: bool, tb: bool) -> ArrayD<T> {
    let (a3, b3) = (batched(a, ta), batched(b, tb));
    let (batch, m, n) = (a3.shape()[0], a3.shape()[1], b3.shape()[2]);
    let lead = &a.shape()[..a.ndim() - 2];
    let shape = [lead, &[m, n]].concat();
    if batch == 1 {
        let prod = a3.index_axis(Axis(0), 0).dot(&b3.index_axis(Axis(0), 0));
        return reshape(&prod.into_dyn(), &shape);
    }
    let mut out = Array3::zeros((batch, m, n));
    for i in 0..batch {
        let prod: Array2<T> = a3.slice(s![i, .., ..]).dot(&b3.slice(s![i, .., ..]));
        out.slice_mut(s![i, .., ..]).assign(&prod);
    }
    out.into_dyn()
        .into_shape_with_order(IxDyn(&shape))
        .expect("size")
}
