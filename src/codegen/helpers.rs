//! Rust routines the JIT code calls once per buffer (never per element):
//! matmul through our `sgemm` (AVX-512 micro-kernels, runtime dispatch),
//! convolution and its gradients as im2col + sgemm, pooling, argmax,
//! gather/scatter and the random ops (Philox, exactly as the reference).
//!
//! Every routine has the signature [`Helper`]: four buffer pointers (unused
//! ones are null) and a pointer to an `i64` geometry array owned by the
//! compiled step. Geometry layouts are documented per routine and built in
//! `emit_call.rs`. The routines trust their geometry: it was derived from
//! the graph's checked shapes, and the buffers from the memory plan.

use std::slice;

use super::sgemm::{self, Mat};
use crate::ir::rng;

/// `fn(p0, p1, p2, p3, geometry)`.
pub type Helper = unsafe extern "C" fn(*mut u8, *mut u8, *mut u8, *mut u8, *const i64);

unsafe fn geom<'a>(g: *const i64, n: usize) -> &'a [usize] {
    slice::from_raw_parts(g.cast::<usize>(), n)
}

unsafe fn f32s<'a>(p: *mut u8, n: usize) -> &'a mut [f32] {
    slice::from_raw_parts_mut(p.cast::<f32>(), n)
}

unsafe fn i32s<'a>(p: *mut u8, n: usize) -> &'a [i32] {
    slice::from_raw_parts(p.cast::<i32>().cast_const(), n)
}

/// `dst[m, n] (+)= lhs[m, k] @ rhs[k, n]`, `dst` row-major.
unsafe fn gemm_f32(
    dims: (usize, usize, usize),
    dst: *mut f32,
    lhs: Mat,
    rhs: Mat,
    accumulate: bool,
    threads: usize,
) {
    sgemm::gemm(dims, dst, dims.1, lhs, rhs, accumulate, threads);
}

/// `c = a @ b` per batch; geometry `[batch, m, n, k, ta, tb, threads]`.
pub unsafe extern "C" fn matmul(a: *mut u8, b: *mut u8, c: *mut u8, _: *mut u8, g: *const i64) {
    let &[batch, m, n, k, ta, tb, threads] = geom(g, 7) else {
        return;
    };
    let (a, b, c) = (a.cast::<f32>(), b.cast::<f32>(), c.cast::<f32>());
    for i in 0..batch {
        let lhs = Mat::row_major(a.add(i * m * k), if ta == 1 { m } else { k }, ta == 1);
        let rhs = Mat::row_major(b.add(i * k * n), if tb == 1 { k } else { n }, tb == 1);
        gemm_f32((m, n, k), c.add(i * m * n), lhs, rhs, false, threads);
    }
}

/// Convolution geometry `[B, C, H, W, F, KH, KW, OH, OW, stride, pad, threads]`.
struct Conv {
    b: usize,
    c: usize,
    h: usize,
    w: usize,
    f: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    stride: usize,
    pad: usize,
    threads: usize,
}

impl Conv {
    unsafe fn read(g: *const i64) -> Conv {
        let v = geom(g, 12);
        Conv {
            b: v[0],
            c: v[1],
            h: v[2],
            w: v[3],
            f: v[4],
            kh: v[5],
            kw: v[6],
            oh: v[7],
            ow: v[8],
            stride: v[9],
            pad: v[10],
            threads: v[11],
        }
    }

    fn ckk(&self) -> usize {
        self.c * self.kh * self.kw
    }

    fn pixels(&self) -> usize {
        self.oh * self.ow
    }

    /// Calls `visit(col_index, x_index)` for every in-bounds tap of image 0.
    fn taps(&self, mut visit: impl FnMut(usize, usize)) {
        let p = self.pixels();
        for c in 0..self.c {
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = (c * self.kh + i) * self.kw + j;
                    for oy in 0..self.oh {
                        let y = (oy * self.stride + i) as isize - self.pad as isize;
                        if y < 0 || y >= self.h as isize {
                            continue;
                        }
                        for ox in 0..self.ow {
                            let x = (ox * self.stride + j) as isize - self.pad as isize;
                            if x >= 0 && x < self.w as isize {
                                let xi = (c * self.h + y as usize) * self.w + x as usize;
                                visit(row * p + oy * self.ow + ox, xi);
                            }
                        }
                    }
                }
            }
        }
    }

    fn im2col(&self, x: &[f32], col: &mut [f32]) {
        col.fill(0.0);
        self.taps(|ci, xi| col[ci] = x[xi]);
    }
}

/// `y = conv2d(x, w)`; `scratch` holds one image's columns.
pub unsafe extern "C" fn conv2d(x: *mut u8, w: *mut u8, y: *mut u8, s: *mut u8, g: *const i64) {
    let cv = Conv::read(g);
    let (ckk, p) = (cv.ckk(), cv.pixels());
    let img = cv.c * cv.h * cv.w;
    let x = f32s(x, cv.b * img);
    let col = f32s(s, ckk * p);
    let wm = Mat::row_major(w.cast::<f32>(), ckk, false);
    for b in 0..cv.b {
        cv.im2col(&x[b * img..(b + 1) * img], col);
        let dst = y.cast::<f32>().add(b * cv.f * p);
        let rhs = Mat::row_major(col.as_ptr(), p, false);
        gemm_f32((cv.f, p, ckk), dst, wm, rhs, false, cv.threads);
    }
}

/// `dx = conv2d_grad_input(dy, w)`: columns `w^T dy`, then col2im.
pub unsafe extern "C" fn conv2d_grad_input(
    dy: *mut u8,
    w: *mut u8,
    dx: *mut u8,
    s: *mut u8,
    g: *const i64,
) {
    let cv = Conv::read(g);
    let (ckk, p) = (cv.ckk(), cv.pixels());
    let img = cv.c * cv.h * cv.w;
    let dx = f32s(dx, cv.b * img);
    let col = f32s(s, ckk * p);
    let wt = Mat::row_major(w.cast::<f32>(), ckk, true);
    dx.fill(0.0);
    for b in 0..cv.b {
        let rhs = Mat::row_major(dy.cast::<f32>().add(b * cv.f * p).cast_const(), p, false);
        gemm_f32((ckk, p, cv.f), col.as_mut_ptr(), wt, rhs, false, cv.threads);
        let out = &mut dx[b * img..(b + 1) * img];
        cv.taps(|ci, xi| out[xi] += col[ci]);
    }
}

/// `dw = conv2d_grad_weight(x, dy)`: `Σ_b dy_b col_b^T`.
pub unsafe extern "C" fn conv2d_grad_weight(
    x: *mut u8,
    dy: *mut u8,
    dw: *mut u8,
    s: *mut u8,
    g: *const i64,
) {
    let cv = Conv::read(g);
    let (ckk, p) = (cv.ckk(), cv.pixels());
    let img = cv.c * cv.h * cv.w;
    let x = f32s(x, cv.b * img);
    let col = f32s(s, ckk * p);
    for b in 0..cv.b {
        cv.im2col(&x[b * img..(b + 1) * img], col);
        let lhs = Mat::row_major(dy.cast::<f32>().add(b * cv.f * p).cast_const(), p, false);
        let rhs = Mat::row_major(col.as_ptr(), p, true);
        gemm_f32(
            (cv.f, ckk, p),
            dw.cast::<f32>(),
            lhs,
            rhs,
            b > 0,
            cv.threads,
        );
    }
    if cv.b == 0 {
        f32s(dw, cv.f * ckk).fill(0.0);
    }
}

/// Pooling geometry `[B*C, H, W, size, stride, OH, OW]`.
#[derive(Clone, Copy)]
struct Pool {
    planes: usize,
    h: usize,
    w: usize,
    size: usize,
    stride: usize,
    oh: usize,
    ow: usize,
}

impl Pool {
    unsafe fn read(g: *const i64) -> Pool {
        let v = geom(g, 7);
        Pool {
            planes: v[0],
            h: v[1],
            w: v[2],
            size: v[3],
            stride: v[4],
            oh: v[5],
            ow: v[6],
        }
    }

    fn sizes(self) -> (usize, usize) {
        (
            self.planes * self.h * self.w,
            self.planes * self.oh * self.ow,
        )
    }

    /// Calls `visit(y_index, x index of the window's top-left element)`.
    fn windows(self, mut visit: impl FnMut(usize, usize)) {
        for p in 0..self.planes {
            for i in 0..self.oh {
                for j in 0..self.ow {
                    let base = p * self.h * self.w + i * self.stride * self.w + j * self.stride;
                    visit((p * self.oh + i) * self.ow + j, base);
                }
            }
        }
    }

    /// The first maximal index of the window at `base`, in row-major
    /// order (the reference's tie rule).
    fn first_max(self, x: &[f32], base: usize) -> usize {
        let (mut best, mut best_v) = (base, x[base]);
        for a in 0..self.size {
            let row = base + a * self.w;
            for (k, &v) in x[row..row + self.size].iter().enumerate() {
                // Branch-free select: window values are unpredictable.
                let better = v > best_v;
                best = if better { row + k } else { best };
                best_v = if better { v } else { best_v };
            }
        }
        best
    }

    fn window_sum(self, x: &[f32], base: usize) -> f32 {
        let mut acc = 0.0;
        for a in 0..self.size {
            let row = base + a * self.w;
            acc += x[row..row + self.size].iter().sum::<f32>();
        }
        acc
    }
}

pub unsafe extern "C" fn maxpool2d(x: *mut u8, y: *mut u8, _: *mut u8, _: *mut u8, g: *const i64) {
    let pl = Pool::read(g);
    let (nx, ny) = pl.sizes();
    let (x, y) = (f32s(x, nx), f32s(y, ny));
    pl.windows(|yi, base| y[yi] = x[pl.first_max(x, base)]);
}

pub unsafe extern "C" fn maxpool2d_grad(
    x: *mut u8,
    dy: *mut u8,
    dx: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let pl = Pool::read(g);
    let (nx, ny) = pl.sizes();
    let (x, dy, dx) = (f32s(x, nx), f32s(dy, ny), f32s(dx, nx));
    dx.fill(0.0);
    pl.windows(|yi, base| dx[pl.first_max(x, base)] += dy[yi]);
}

pub unsafe extern "C" fn avgpool2d(x: *mut u8, y: *mut u8, _: *mut u8, _: *mut u8, g: *const i64) {
    let pl = Pool::read(g);
    let (nx, ny) = pl.sizes();
    let inv = 1.0 / (pl.size * pl.size) as f32;
    let (x, y) = (f32s(x, nx), f32s(y, ny));
    pl.windows(|yi, base| y[yi] = pl.window_sum(x, base) * inv);
}

pub unsafe extern "C" fn avgpool2d_grad(
    dy: *mut u8,
    dx: *mut u8,
    _: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let pl = Pool::read(g);
    let (nx, ny) = pl.sizes();
    let inv = 1.0 / (pl.size * pl.size) as f32;
    let (dy, dx) = (f32s(dy, ny), f32s(dx, nx));
    dx.fill(0.0);
    pl.windows(|yi, base| {
        let v = dy[yi] * inv;
        for a in 0..pl.size {
            let row = base + a * pl.w;
            for d in &mut dx[row..row + pl.size] {
                *d += v;
            }
        }
    });
}

/// Geometry `[outer, len, inner]`: `x: [outer, len, inner]` -> `i32[outer, inner]`.
pub unsafe extern "C" fn argmax(x: *mut u8, out: *mut u8, _: *mut u8, _: *mut u8, g: *const i64) {
    let &[outer, len, inner] = geom(g, 3) else {
        return;
    };
    let x = f32s(x, outer * len * inner);
    let out = slice::from_raw_parts_mut(out.cast::<i32>(), outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| x[(o * len + k) * inner + i];
            let mut best = 0;
            for k in 1..len {
                if at(k) > at(best) {
                    best = k;
                }
            }
            out[o * inner + i] = best as i32;
        }
    }
}

/// Geometry `[V, D, ids]`: rows of `table` by id, zeros when out of range.
pub unsafe extern "C" fn gather(t: *mut u8, ids: *mut u8, out: *mut u8, _: *mut u8, g: *const i64) {
    let &[v, d, n] = geom(g, 3) else {
        return;
    };
    let (t, ids, out) = (f32s(t, v * d), i32s(ids, n), f32s(out, n * d));
    for (row, &id) in out.chunks_exact_mut(d.max(1)).zip(ids) {
        match usize::try_from(id).ok().filter(|&i| i < v) {
            Some(i) => row.copy_from_slice(&t[i * d..(i + 1) * d]),
            None => row.fill(0.0),
        }
    }
}

/// Geometry `[rows, D, ids]`: `out[id] += upd[k]`, out-of-range ids dropped.
pub unsafe extern "C" fn scatter_add(
    ids: *mut u8,
    upd: *mut u8,
    out: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let &[rows, d, n] = geom(g, 3) else {
        return;
    };
    let (ids, upd, out) = (i32s(ids, n), f32s(upd, n * d), f32s(out, rows * d));
    out.fill(0.0);
    for (k, &id) in ids.iter().enumerate() {
        if let Some(i) = usize::try_from(id).ok().filter(|&i| i < rows) {
            for j in 0..d {
                out[i * d + j] += upd[k * d + j];
            }
        }
    }
}

/// Geometry `[n, stream, p as f32 bits]`.
pub unsafe extern "C" fn bernoulli(
    seed: *mut u8,
    step: *mut u8,
    out: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let &[n, stream, p] = geom(g, 3) else {
        return;
    };
    let (seed, step) = (*seed.cast::<u32>(), *step.cast::<u32>());
    let p = f32::from_bits(p as u32);
    for (i, o) in f32s(out, n).iter_mut().enumerate() {
        *o = rng::bernoulli(seed, step, stream as u32, i, p);
    }
}

/// Geometry `[n, stream]`.
pub unsafe extern "C" fn normal(
    seed: *mut u8,
    step: *mut u8,
    out: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let &[n, stream] = geom(g, 2) else {
        return;
    };
    let (seed, step) = (*seed.cast::<u32>(), *step.cast::<u32>());
    for (i, o) in f32s(out, n).iter_mut().enumerate() {
        *o = rng::normal(seed, step, stream as u32, i);
    }
}
