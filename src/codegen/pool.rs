//! Pooling routines the JIT code calls once per buffer: max and average
//! pooling and their gradients over `[B*C, H, W]` planes. Max pooling keeps
//! the reference's tie rule (the first maximal element of a window, in
//! row-major order, gets the gradient). Max pooling with 2×2 windows and
//! stride 2 runs the AVX-512 routines of `pool_avx512` when the host has
//! AVX-512F, else those of `pool_avx2` when it has AVX2; other windows and
//! hosts run the scalar loops here.

use super::helpers::{f32s, geom};
#[cfg(target_arch = "x86_64")]
use super::helpers::{share, Shared};

/// The row routines of 2×2 stride-2 max pooling on one instruction set.
/// `a` and `b` are a window row pair's two input rows with `2 * ow`
/// readable floats, `out` / `g` an output row of `ow`, and `da` / `db`
/// the gradient rows of `a` / `b`: every one of their first `2 * ow`
/// floats is written.
#[cfg(target_arch = "x86_64")]
pub trait MaxRows {
    unsafe fn forward(a: *const f32, b: *const f32, out: *mut f32, ow: usize);
    unsafe fn grad(
        a: *const f32,
        b: *const f32,
        g: *const f32,
        da: *mut f32,
        db: *mut f32,
        ow: usize,
    );
}

/// Plane geometry of the 2×2 stride-2 paths: input `h x w`, output
/// `oh x ow`, `2 * oh <= h`, `2 * ow <= w`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Planes {
    planes: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

/// `y = maxpool2d(x, 2, 2)`, rows by `R`.
///
/// # Safety
/// `x` holds `planes * h * w` floats, `y` `planes * oh * ow`; the host
/// has `R`'s instructions.
#[cfg(target_arch = "x86_64")]
unsafe fn max2_forward<R: MaxRows>(pl: Planes, x: *const f32, y: *mut f32) {
    for p in 0..pl.planes {
        for i in 0..pl.oh {
            // SAFETY: rows `2i`, `2i + 1` of plane `p` and output row `i`
            // are inside the buffers by the geometry contract.
            unsafe {
                let a = x.add((p * pl.h + 2 * i) * pl.w);
                R::forward(a, a.add(pl.w), y.add((p * pl.oh + i) * pl.ow), pl.ow);
            }
        }
    }
}

/// `dx = maxpool2d_grad(x, dy)`, rows by `R`: `dy` at each window's first
/// maximum, zero elsewhere (also in rows and columns no window covers).
///
/// # Safety
/// As [`max2_forward`], with `dy` of `planes * oh * ow` floats and `dx`
/// of `planes * h * w`.
#[cfg(target_arch = "x86_64")]
unsafe fn max2_grad<R: MaxRows>(pl: Planes, x: *const f32, dy: *const f32, dx: *mut f32) {
    for p in 0..pl.planes {
        for i in 0..pl.oh {
            let row = (p * pl.h + 2 * i) * pl.w;
            // SAFETY: as in `max2_forward`; `dx` has the layout of `x`.
            unsafe {
                let (da, db) = (dx.add(row), dx.add(row + pl.w));
                let g = dy.add((p * pl.oh + i) * pl.ow);
                R::grad(x.add(row), x.add(row + pl.w), g, da, db, pl.ow);
                for c in 2 * pl.ow..pl.w {
                    *da.add(c) = 0.0;
                    *db.add(c) = 0.0;
                }
            }
        }
        let covered = 2 * pl.oh * pl.w;
        // SAFETY: the rows of plane `p` below the last window are in `dx`.
        unsafe {
            let rest = dx.add(p * pl.h * pl.w + covered);
            std::ptr::write_bytes(rest, 0, pl.h * pl.w - covered);
        }
    }
}

/// One instruction set's 2×2 stride-2 max pooling, forward and gradient.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct MaxPool2 {
    forward: unsafe fn(Planes, *const f32, *mut f32),
    grad: unsafe fn(Planes, *const f32, *const f32, *mut f32),
}

#[cfg(target_arch = "x86_64")]
impl MaxPool2 {
    fn of<R: MaxRows>() -> MaxPool2 {
        MaxPool2 {
            forward: max2_forward::<R>,
            grad: max2_grad::<R>,
        }
    }

    /// The routines this host can run, widest first (no allocation: the
    /// training step asks on every call).
    fn available() -> impl Iterator<Item = MaxPool2> {
        let avx512 = std::arch::is_x86_feature_detected!("avx512f")
            .then(MaxPool2::of::<super::pool_avx512::Avx512>);
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            .then(MaxPool2::of::<super::pool_avx2::Avx2>);
        avx512.into_iter().chain(avx2)
    }
}

/// Pooling geometry `[B*C, H, W, size, stride, OH, OW, threads]`.
#[derive(Clone, Copy)]
struct Pool {
    planes: usize,
    h: usize,
    w: usize,
    size: usize,
    stride: usize,
    oh: usize,
    ow: usize,
    /// Workers the 2×2 stride-2 paths share the planes among.
    threads: usize,
}

impl Pool {
    unsafe fn read(g: *const i64) -> Pool {
        let v = geom(g, 8);
        Pool {
            planes: v[0],
            h: v[1],
            w: v[2],
            size: v[3],
            stride: v[4],
            oh: v[5],
            ow: v[6],
            threads: v[7],
        }
    }

    /// The geometry and the widest routines for the 2×2 stride-2 paths,
    /// when one applies on this host.
    #[cfg(target_arch = "x86_64")]
    fn fast(self) -> Option<(MaxPool2, Planes)> {
        let (h, w, oh, ow) = (self.h, self.w, self.oh, self.ow);
        if !(self.size == 2 && self.stride == 2 && 2 * oh <= h && 2 * ow <= w) {
            return None;
        }
        let simd = MaxPool2::available().next()?;
        let planes = Planes {
            planes: self.planes,
            h,
            w,
            oh,
            ow,
        };
        Some((simd, planes))
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
    #[cfg(target_arch = "x86_64")]
    if let Some((simd, planes)) = pl.fast() {
        let (xs, ys) = (
            Shared(x.cast::<f32>().cast_const()),
            Shared(y.cast::<f32>()),
        );
        let (xp, yp) = (pl.h * pl.w, pl.oh * pl.ow);
        share(pl.planes, pl.threads, pl.planes * xp, |lo, hi| {
            let part = Planes {
                planes: hi - lo,
                ..planes
            };
            // SAFETY: the buffers have the geometry's sizes, so planes
            // `lo..hi` are inside them; the workers write disjoint planes.
            // The host has the instructions (checked by `fast`).
            unsafe { (simd.forward)(part, xs.get().add(lo * xp), ys.get().add(lo * yp)) };
        });
        return;
    }
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
    #[cfg(target_arch = "x86_64")]
    if let Some((simd, planes)) = pl.fast() {
        let (xs, dys) = (
            Shared(x.cast::<f32>().cast_const()),
            Shared(dy.cast::<f32>().cast_const()),
        );
        let dxs = Shared(dx.cast::<f32>());
        let (xp, yp) = (pl.h * pl.w, pl.oh * pl.ow);
        share(pl.planes, pl.threads, pl.planes * xp, |lo, hi| {
            let part = Planes {
                planes: hi - lo,
                ..planes
            };
            // SAFETY: as in `maxpool2d`.
            unsafe {
                let (x, dy) = (xs.get().add(lo * xp), dys.get().add(lo * yp));
                (simd.grad)(part, x, dy, dxs.get().add(lo * xp));
            }
        });
        return;
    }
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

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::{MaxPool2, Pool};

    /// Values on a coarse grid (many ties), with NaNs at some positions.
    fn values(n: usize) -> Vec<f32> {
        let mut s = 0x9E37_79B9u32;
        (0..n)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                if i % 23 == 7 {
                    f32::NAN
                } else {
                    (s % 5) as f32
                }
            })
            .collect()
    }

    /// Every vector routine this host has, against the scalar loops, bit for
    /// bit (NaNs included), on widths with full and partial vectors and
    /// rows and columns no window covers.
    #[test]
    fn vector_max_pooling_matches_the_scalar_rule() {
        for (h, w) in [(6, 7), (9, 37), (4, 16), (5, 2), (26, 26), (3, 9)] {
            let pl = Pool {
                planes: 3,
                h,
                w,
                size: 2,
                stride: 2,
                oh: h / 2,
                ow: w / 2,
                threads: 1,
            };
            let (nx, ny) = pl.sizes();
            let x = values(nx);
            let dy: Vec<f32> = (0..ny).map(|i| i as f32 + 1.0).collect();
            let (mut y0, mut dx0) = (vec![0f32; ny], vec![0f32; nx]);
            pl.windows(|yi, base| {
                let k = pl.first_max(&x, base);
                y0[yi] = x[k];
                dx0[k] += dy[yi];
            });
            let (_, planes) = pl.fast().expect("a 2x2 stride-2 geometry");
            for simd in MaxPool2::available() {
                let (mut y, mut dx) = (vec![7f32; ny], vec![7f32; nx]);
                // SAFETY: the buffers have the geometry's sizes; the host
                // has the instructions.
                unsafe {
                    (simd.forward)(planes, x.as_ptr(), y.as_mut_ptr());
                    (simd.grad)(planes, x.as_ptr(), dy.as_ptr(), dx.as_mut_ptr());
                }
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&y), bits(&y0), "forward {h}x{w}");
                assert_eq!(bits(&dx), bits(&dx0), "gradient {h}x{w}");
            }
        }
    }
}
