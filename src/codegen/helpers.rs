//! Rust routines the JIT code calls once per buffer (never per element):
//! matmul through our `sgemm` (AVX-512 micro-kernels, runtime dispatch)
//! and convolution and its gradients as im2col + sgemm, or directly
//! (`conv_direct`) when the depth `C*KH*KW` is small. Pooling is in
//! `pool`, argmax, gather/scatter and the random ops in `misc`.
//!
//! Every routine has the signature [`Helper`]: four buffer pointers (unused
//! ones are null) and a pointer to an `i64` geometry array owned by the
//! compiled step. Geometry layouts are documented per routine and built in
//! `emit_call.rs`. The routines trust their geometry: it was derived from
//! the graph's checked shapes, and the buffers from the memory plan.

use std::slice;

use super::sgemm::{self, Mat};

/// `fn(p0, p1, p2, p3, geometry)`.
pub type Helper = unsafe extern "C" fn(*mut u8, *mut u8, *mut u8, *mut u8, *const i64);

/// A raw pointer (or pointer table) the team's workers may share; the routines
/// using it give each worker disjoint elements to write. Read it with
/// [`Shared::get`] inside a closure, so the closure captures the wrapper
/// and not the bare pointer.
#[derive(Clone, Copy)]
pub(super) struct Shared<P: Copy>(pub(super) P);

// SAFETY: see the type's documentation; every user states why its
// workers' accesses are disjoint.
unsafe impl<P: Copy> Send for Shared<P> {}
unsafe impl<P: Copy> Sync for Shared<P> {}

impl<P: Copy> Shared<P> {
    pub(super) fn get(self) -> P {
        self.0
    }
}

/// Elements below which a routine's work is not shared among threads.
pub(super) const SHARE_MIN: usize = 1 << 15;

/// Runs `body(lo, hi)` for `threads` contiguous chunks of `0..n` on the
/// [`team`](super::team); inline, as one chunk, when `threads <= 1` or `work` (the
/// elements the whole job touches) is below [`SHARE_MIN`].
pub(super) fn share(n: usize, threads: usize, work: usize, body: impl Fn(usize, usize) + Sync) {
    let parts = threads.clamp(1, n.max(1));
    if parts == 1 || work < SHARE_MIN {
        body(0, n);
        return;
    }
    super::team::chunks(n, parts, 1, body);
}

pub(super) unsafe fn geom<'a>(g: *const i64, n: usize) -> &'a [usize] {
    slice::from_raw_parts(g.cast::<usize>(), n)
}

pub(super) unsafe fn f32s<'a>(p: *mut u8, n: usize) -> &'a mut [f32] {
    slice::from_raw_parts_mut(p.cast::<f32>(), n)
}

pub(super) unsafe fn i32s<'a>(p: *mut u8, n: usize) -> &'a [i32] {
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
#[derive(Clone, Copy)]
pub(super) struct Conv {
    pub(super) b: usize,
    pub(super) c: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) f: usize,
    pub(super) kh: usize,
    pub(super) kw: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
    pub(super) stride: usize,
    pub(super) pad: usize,
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

    /// Whether the direct path computes this convolution on this host.
    #[cfg(target_arch = "x86_64")]
    fn direct(&self) -> bool {
        let host = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        host && super::conv_direct::fits(self)
    }

    /// The depth of the im2col product: taps per output pixel.
    pub(super) fn ckk(&self) -> usize {
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

/// What a convolution does to each output `z` before it is stored: a
/// layer's bias and ReLU, folded into the call (`merge::fold_conv`).
#[derive(Clone, Copy)]
pub(super) struct Epilogue {
    /// Adds `bias[f]` to filter `f`'s outputs first (null: nothing).
    pub(super) bias: *const f32,
    /// Stores `max(z, 0)` in `y` instead of `z`.
    pub(super) relu: bool,
    /// A second output, laid out as `y`, that gets `max(z, 0)` (null:
    /// none).
    pub(super) also: *mut f32,
}

impl Epilogue {
    const NONE: Epilogue = Epilogue {
        bias: std::ptr::null(),
        relu: false,
        also: std::ptr::null_mut(),
    };

    fn is_none(&self) -> bool {
        self.bias.is_null() && !self.relu && self.also.is_null()
    }

    /// The epilogue of the outputs from element `at` on: the second output
    /// moved along with `y`.
    ///
    /// # Safety
    /// A non-null `also` has more than `at` floats.
    unsafe fn from(self, at: usize) -> Epilogue {
        let also = if self.also.is_null() {
            self.also
        } else {
            self.also.add(at)
        };
        Epilogue { also, ..self }
    }

    /// Applies the epilogue to `n` outputs `y` (and `also`) of filter `f`,
    /// as the JIT's loops compute `z + bias` and `max(z, 0.0)`.
    ///
    /// # Safety
    /// `y` and a non-null `also` have `n` floats, a non-null `bias` `f + 1`.
    unsafe fn apply(self, f: usize, y: *mut f32, n: usize) {
        let also = self.also;
        let bias = if self.bias.is_null() {
            None
        } else {
            Some(*self.bias.add(f))
        };
        for i in 0..n {
            let z = match bias {
                Some(b) => *y.add(i) + b,
                None => *y.add(i),
            };
            let r = if z >= 0.0 { z } else { 0.0 };
            *y.add(i) = if self.relu { r } else { z };
            if !also.is_null() {
                *also.add(i) = r;
            }
        }
    }
}

/// `y = conv2d(x, w)`; `scratch` holds one image's columns.
pub unsafe extern "C" fn conv2d(x: *mut u8, w: *mut u8, y: *mut u8, s: *mut u8, g: *const i64) {
    conv_forward(Conv::read(g), x, w, y, s, Epilogue::NONE);
}

/// [`conv2d`] with an [`Epilogue`]: `t` points to three pointers, the
/// `[F]` bias (null: none), the second output (null: none) and the
/// scratch; the geometry's 13th entry is 1 when `y` gets `max(z, 0)`.
pub unsafe extern "C" fn conv2d_fused(
    x: *mut u8,
    w: *mut u8,
    y: *mut u8,
    t: *mut u8,
    g: *const i64,
) {
    let t = t.cast::<*mut u8>().cast_const();
    let ep = Epilogue {
        bias: (*t).cast::<f32>().cast_const(),
        relu: geom(g, 13)[12] == 1,
        also: (*t.add(1)).cast::<f32>(),
    };
    conv_forward(Conv::read(g), x, w, y, *t.add(2), ep);
}

/// The forward convolution: direct, the epilogue applied in registers; or
/// im2col + sgemm per image, the epilogue applied after each image's
/// product while it is in cache.
unsafe fn conv_forward(cv: Conv, x: *mut u8, w: *mut u8, y: *mut u8, s: *mut u8, ep: Epilogue) {
    #[cfg(target_arch = "x86_64")]
    if cv.direct() {
        let (img, out) = (cv.c * cv.h * cv.w, cv.f * cv.pixels());
        let (xs, ys) = (
            Shared(x.cast::<f32>().cast_const()),
            Shared(y.cast::<f32>()),
        );
        let (w, ep) = (Shared(w.cast::<f32>().cast_const()), Shared(ep));
        share(cv.b, cv.threads, cv.b * out, |lo, hi| {
            let part = Conv { b: hi - lo, ..cv };
            // SAFETY: the buffers have the geometry's sizes, so images
            // `lo..hi` of `x`, `y` and `also` are inside them; the workers
            // write disjoint images of `y` and `also`. `direct` checked the
            // host.
            unsafe {
                let (x, y) = (xs.get().add(lo * img), ys.get().add(lo * out));
                let ep = ep.get().from(lo * out);
                super::conv_direct::forward(part, x, w.get(), y, ep);
            }
        });
        return;
    }
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
        if !ep.is_none() {
            for f in 0..cv.f {
                let at = (b * cv.f + f) * p;
                ep.from(at).apply(f, y.cast::<f32>().add(at), p);
            }
        }
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
    #[cfg(target_arch = "x86_64")]
    if cv.direct() {
        let (xs, dys) = (
            Shared(x.cast::<f32>().cast_const()),
            Shared(dy.cast::<f32>().cast_const()),
        );
        let dws = Shared(dw.cast::<f32>());
        let work = cv.b * cv.f * cv.pixels();
        share(cv.f, cv.threads, work, |lo, hi| {
            // SAFETY: as in `conv2d`; the workers write the disjoint
            // filters `lo..hi` of `dw`.
            unsafe { super::conv_direct::grad_weight(cv, lo..hi, xs.get(), dys.get(), dws.get()) };
        });
        return;
    }
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
