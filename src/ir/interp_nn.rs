//! Reference kernels for convolution, pooling, one-hot, gather/scatter and
//! the random ops.
//!
//! Convolution and its two gradients are matrix products over im2col
//! patches; im2col and its adjoint col2im share one loop, [`conv_taps`],
//! that visits every in-bounds (patch entry, input position) pair, so the
//! three cannot disagree about padding or stride. Pooling does the same with
//! [`pool_windows`].

use ndarray::{Array2, ArrayD, Dimension, IxDyn};

use super::interp::{lit, Float};
use super::rng;

/// Geometry of a 2-D convolution: `x: [B, C, H, W]`, `w: [F, C, KH, KW]`,
/// `y: [B, F, OH, OW]`.
struct Conv {
    x: [usize; 4],
    w: [usize; 4],
    y: [usize; 4],
    stride: usize,
    pad: usize,
}

impl Conv {
    fn new(x: [usize; 4], w: [usize; 4], stride: usize, pad: usize) -> Conv {
        let out = |len: usize, k: usize| (len + 2 * pad - k) / stride + 1;
        let y = [x[0], w[0], out(x[2], w[2]), out(x[3], w[3])];
        Conv {
            x,
            w,
            y,
            stride,
            pad,
        }
    }
}

fn dims4(a: &ArrayD<impl Float>) -> [usize; 4] {
    <[usize; 4]>::try_from(a.shape()).expect("shape rule checked rank 4")
}

/// Calls `visit(at, x_offset)` for every in-bounds tap of the convolution:
/// `at` is the offset of entry `(row, col)` of the im2col matrix
/// `[C*KH*KW, B*OH*OW]`, where `row = (c, kh, kw)` indexes a weight column
/// of `w: [F, C*KH*KW]` and `col = (b, oh, ow)` an output position, and
/// `x_offset` is the row-major offset of
/// `x[b, c, oh*S + kh - P, ow*S + kw - P]`. Taps that fall in the padding
/// are not visited (they multiply zeros).
fn conv_taps(g: &Conv, mut visit: impl FnMut(usize, usize)) {
    let [batch, chans, h, w] = g.x;
    let [_, _, kh, kw] = g.w;
    let [_, _, oh, ow] = g.y;
    let cols = batch * oh * ow;
    for (c, p, q) in grid3(chans, kh, kw) {
        let row = (c * kh + p) * kw + q;
        for (b, i, j) in grid3(batch, oh, ow) {
            let (r, s) = (i * g.stride + p, j * g.stride + q);
            let inside = (g.pad..h + g.pad).contains(&r) && (g.pad..w + g.pad).contains(&s);
            if inside {
                let col = (b * oh + i) * ow + j;
                visit(
                    row * cols + col,
                    ((b * chans + c) * h + r - g.pad) * w + s - g.pad,
                );
            }
        }
    }
}

fn grid3(a: usize, b: usize, c: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..a).flat_map(move |i| (0..b).flat_map(move |j| (0..c).map(move |k| (i, j, k))))
}

/// im2col: `x: [B, C, H, W]` -> `cols: [C*KH*KW, B*OH*OW]`, each column
/// the input patch one output position sees (zeros in the padding).
fn im2col<T: Float>(x: &ArrayD<T>, g: &Conv) -> Array2<T> {
    let rows = g.x[1] * g.w[2] * g.w[3];
    let cols = g.y[0] * g.y[2] * g.y[3];
    let xs = flat(x);
    let mut out = vec![T::zero(); rows * cols];
    conv_taps(g, |at, xo| out[at] = xs[xo]);
    Array2::from_shape_vec((rows, cols), out).expect("im2col size")
}

/// col2im, the adjoint of [`im2col`]: adds each column entry back into
/// the input position it was copied from. `cols: [C*KH*KW, B*OH*OW]`.
fn col2im<T: Float>(cols: &Array2<T>, g: &Conv) -> ArrayD<T> {
    let cs = match cols.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(cols.iter().copied().collect()),
    };
    let mut dx = vec![T::zero(); g.x.iter().product()];
    conv_taps(g, |at, xo| dx[xo] += cs[at]);
    ArrayD::from_shape_vec(IxDyn(&g.x), dx).expect("col2im size")
}

/// `[B, F, OH, OW]` <-> `[F, B*OH*OW]`, the layout of im2col's products.
fn to_fcols<T: Float>(y: &ArrayD<T>) -> Array2<T> {
    let [b, f, oh, ow] = dims4(y);
    let v = y
        .view()
        .into_shape_with_order((b, f, oh * ow))
        .expect("rank 4");
    let v = v.permuted_axes([1, 0, 2]);
    Array2::from_shape_vec((f, b * oh * ow), v.iter().copied().collect()).expect("size")
}

fn from_fcols<T: Float>(m: Array2<T>, y: [usize; 4]) -> ArrayD<T> {
    let [b, f, oh, ow] = y;
    let v = m.into_shape_with_order((f, b, oh * ow)).expect("size");
    let v = v.permuted_axes([1, 0, 2]);
    let v = v.as_standard_layout().into_owned();
    v.into_shape_with_order(IxDyn(&y)).expect("size")
}

fn weight_matrix<T: Float>(w: &ArrayD<T>) -> Array2<T> {
    let [f, c, kh, kw] = dims4(w);
    let w = w.as_standard_layout().into_owned();
    w.into_shape_with_order((f, c * kh * kw)).expect("rank 4")
}

/// `x: [B, C, H, W]`, `w: [F, C, KH, KW]` -> `[B, F, OH, OW]`:
/// `y[F, B*OH*OW] = w[F, C*KH*KW] . im2col(x)`.
pub fn conv2d<T: Float>(x: &ArrayD<T>, w: &ArrayD<T>, stride: usize, pad: usize) -> ArrayD<T> {
    let g = Conv::new(dims4(x), dims4(w), stride, pad);
    from_fcols(weight_matrix(w).dot(&im2col(x, &g)), g.y)
}

/// `dy: [B, F, OH, OW]`, `w: [F, C, KH, KW]` -> `dx: [B, C, H, W]`:
/// `dx = col2im(w^T[C*KH*KW, F] . dy[F, B*OH*OW])`.
pub fn conv2d_grad_input<T: Float>(
    dy: &ArrayD<T>,
    w: &ArrayD<T>,
    stride: usize,
    pad: usize,
    hw: [usize; 2],
) -> ArrayD<T> {
    let ([b, ..], w4) = (dims4(dy), dims4(w));
    let g = Conv::new([b, w4[1], hw[0], hw[1]], w4, stride, pad);
    col2im(&weight_matrix(w).t().dot(&to_fcols(dy)), &g)
}

/// `x: [B, C, H, W]`, `dy: [B, F, OH, OW]` -> `dw: [F, C, KH, KW]`:
/// `dw[F, C*KH*KW] = dy[F, B*OH*OW] . im2col(x)^T`.
pub fn conv2d_grad_weight<T: Float>(
    x: &ArrayD<T>,
    dy: &ArrayD<T>,
    stride: usize,
    pad: usize,
    khw: [usize; 2],
) -> ArrayD<T> {
    let (x4, dy4) = (dims4(x), dims4(dy));
    let g = Conv::new(x4, [dy4[1], x4[1], khw[0], khw[1]], stride, pad);
    let dw = to_fcols(dy).dot(&im2col(x, &g).t());
    dw.into_shape_with_order(IxDyn(&g.w)).expect("size")
}

/// Calls `visit(y_offset, window)` for every output of a `size`x`size`
/// pooling of `x: [B, C, H, W]`: the output's row-major offset in
/// `[B, C, OH, OW]` and its window's input offsets, in row-major order.
fn pool_windows(x: [usize; 4], size: usize, stride: usize, mut visit: impl FnMut(usize, &[usize])) {
    let [batch, chans, h, w] = x;
    let (oh, ow) = ((h - size) / stride + 1, (w - size) / stride + 1);
    let mut window = Vec::with_capacity(size * size);
    for (b, c, i) in grid3(batch, chans, oh) {
        let plane = (b * chans + c) * h * w;
        for j in 0..ow {
            window.clear();
            for (p, q) in (0..size).flat_map(|p| (0..size).map(move |q| (p, q))) {
                window.push(plane + (i * stride + p) * w + j * stride + q);
            }
            visit(((b * chans + c) * oh + i) * ow + j, &window);
        }
    }
}

fn pool_shape(x: [usize; 4], size: usize, stride: usize) -> [usize; 4] {
    [
        x[0],
        x[1],
        (x[2] - size) / stride + 1,
        (x[3] - size) / stride + 1,
    ]
}

/// The first maximal offset of a window.
fn first_max<T: Float>(xs: &[T], window: &[usize]) -> usize {
    let mut best = window[0];
    for &i in window {
        if xs[i] > xs[best] {
            best = i;
        }
    }
    best
}

/// A row-major copy of `x`'s elements (a borrow when already row-major).
fn flat<T: Float>(x: &ArrayD<T>) -> std::borrow::Cow<'_, [T]> {
    match x.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(x.iter().copied().collect()),
    }
}

fn shaped<T: Float>(shape: [usize; 4], values: Vec<T>) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(&shape), values).expect("pool size")
}

/// `x: [B, C, H, W]` -> `[B, C, OH, OW]`.
pub fn maxpool2d<T: Float>(x: &ArrayD<T>, size: usize, stride: usize) -> ArrayD<T> {
    let (shape, xs) = (pool_shape(dims4(x), size, stride), flat(x));
    let mut y = vec![T::zero(); shape.iter().product()];
    pool_windows(dims4(x), size, stride, |yo, win| {
        y[yo] = xs[first_max(&xs, win)]
    });
    shaped(shape, y)
}

/// `x: [B, C, H, W]`, `dy: [B, C, OH, OW]` -> `dx: [B, C, H, W]`.
pub fn maxpool2d_grad<T: Float>(
    x: &ArrayD<T>,
    dy: &ArrayD<T>,
    size: usize,
    stride: usize,
) -> ArrayD<T> {
    let (xs, dys) = (flat(x), flat(dy));
    let mut dx = vec![T::zero(); x.len()];
    pool_windows(dims4(x), size, stride, |yo, win| {
        dx[first_max(&xs, win)] += dys[yo]
    });
    shaped(dims4(x), dx)
}

/// `x: [B, C, H, W]` -> `[B, C, OH, OW]`.
pub fn avgpool2d<T: Float>(x: &ArrayD<T>, size: usize, stride: usize) -> ArrayD<T> {
    let inv = lit::<T>(1.0 / (size * size) as f64);
    let (shape, xs) = (pool_shape(dims4(x), size, stride), flat(x));
    let mut y = vec![T::zero(); shape.iter().product()];
    pool_windows(dims4(x), size, stride, |yo, win| {
        y[yo] = win.iter().fold(T::zero(), |acc, &i| acc + xs[i]) * inv;
    });
    shaped(shape, y)
}

/// `dy: [B, C, OH, OW]` -> `dx: [B, C, H, W]`.
pub fn avgpool2d_grad<T: Float>(
    dy: &ArrayD<T>,
    size: usize,
    stride: usize,
    hw: [usize; 2],
) -> ArrayD<T> {
    let [b, c, ..] = dims4(dy);
    let inv = lit::<T>(1.0 / (size * size) as f64);
    let x = [b, c, hw[0], hw[1]];
    let dys = flat(dy);
    let mut dx = vec![T::zero(); x.iter().product()];
    pool_windows(x, size, stride, |yo, win| {
        for &i in win {
            dx[i] += dys[yo] * inv;
        }
    });
    shaped(x, dx)
}

/// An integer carried in a float array, or `None` when not a valid index
/// below `len`.
fn index_of<T: Float>(v: T, len: usize) -> Option<usize> {
    let i = v.to_f64()?;
    (i >= 0.0 && i < len as f64).then_some(i as usize)
}

/// `ids: i32[...]` -> `f32[..., classes]`; out-of-range ids give zero rows.
pub fn one_hot<T: Float>(ids: &ArrayD<T>, classes: usize) -> ArrayD<T> {
    let shape = [ids.shape(), &[classes]].concat();
    ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let (c, lead) = idx.slice().split_last().expect("rank at least 1");
        let hit = index_of(ids[lead], classes) == Some(*c);
        if hit {
            T::one()
        } else {
            T::zero()
        }
    })
}

/// `table: f32[V, D]`, `ids: i32[...]` -> `f32[..., D]`; out-of-range ids
/// read zeros.
pub fn gather<T: Float>(table: &ArrayD<T>, ids: &ArrayD<T>) -> ArrayD<T> {
    let (v, d) = (table.shape()[0], table.shape()[1]);
    let shape = [ids.shape(), &[d]].concat();
    ArrayD::from_shape_fn(IxDyn(&shape), |idx| {
        let (j, lead) = idx.slice().split_last().expect("rank at least 1");
        index_of(ids[lead], v).map_or(T::zero(), |row| table[[row, *j]])
    })
}

/// `ids: i32[...]`, `upd: f32[..., D]` -> `f32[rows, D]`; out-of-range ids
/// are dropped, as `gather` reads zeros for them.
pub fn scatter_add<T: Float>(ids: &ArrayD<T>, upd: &ArrayD<T>, rows: usize) -> ArrayD<T> {
    let d = upd.shape()[upd.ndim() - 1];
    let mut out = ArrayD::zeros(IxDyn(&[rows, d]));
    for (lead, &id) in ids.indexed_iter() {
        if let Some(row) = index_of(id, rows) {
            for j in 0..d {
                let src = [lead.slice(), &[j]].concat();
                out[[row, j]] += upd[&src[..]];
            }
        }
    }
    out
}

/// Seed and step: `i32[]` scalars carried as floats, reinterpreted as u32.
fn key<T: Float>(seed: &ArrayD<T>, step: &ArrayD<T>) -> (u32, u32) {
    let int = |a: &ArrayD<T>| a.iter().next().and_then(|v| v.to_i64()).unwrap_or(0) as u32;
    (int(seed), int(step))
}

/// `f32[shape]` of 0/1, each 1 with probability `p` (see `rng.rs`).
pub fn bernoulli<T: Float>(
    seed: &ArrayD<T>,
    step: &ArrayD<T>,
    shape: &[usize],
    stream: u32,
    p: f32,
) -> ArrayD<T> {
    let (seed, step) = key(seed, step);
    let values = (0..shape.iter().product())
        .map(|i| lit(f64::from(rng::bernoulli(seed, step, stream, i, p))))
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).expect("element count")
}

/// `f32[shape]` of standard normal samples (see `rng.rs`).
pub fn normal<T: Float>(
    seed: &ArrayD<T>,
    step: &ArrayD<T>,
    shape: &[usize],
    stream: u32,
) -> ArrayD<T> {
    let (seed, step) = key(seed, step);
    let values = (0..shape.iter().product())
        .map(|i| lit(f64::from(rng::normal(seed, step, stream, i))))
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).expect("element count")
}
