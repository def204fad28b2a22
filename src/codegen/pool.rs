//! Pooling routines the JIT code calls once per buffer: max and average
//! pooling and their gradients over `[B*C, H, W]` planes. Max pooling keeps
//! the reference's tie rule (the first maximal element of a window, in
//! row-major order, gets the gradient). Max pooling with 2×2 windows and
//! stride 2 runs the AVX-512 routines of `pool_avx512` when the host has
//! AVX-512F, else those of `pool_avx2` when it has AVX2; other windows and
//! hosts run the scalar loops here.

use super::helpers::{f32s, geom};

/// The vector routines a host runs.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
enum Simd {
    Avx512,
    Avx2,
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

    /// The geometry and vector width for the 2×2 stride-2 paths, when one
    /// applies on this host.
    #[cfg(target_arch = "x86_64")]
    fn fast(self) -> Option<(Simd, super::pool_avx512::Planes)> {
        let (h, w, oh, ow) = (self.h, self.w, self.oh, self.ow);
        let two = self.size == 2 && self.stride == 2 && 2 * oh <= h && 2 * ow <= w;
        let simd = if std::arch::is_x86_feature_detected!("avx512f") {
            Simd::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2") {
            Simd::Avx2
        } else {
            return None;
        };
        let planes = super::pool_avx512::Planes {
            planes: self.planes,
            h,
            w,
            oh,
            ow,
        };
        two.then_some((simd, planes))
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
        // SAFETY: the buffers have the geometry's sizes and the host has
        // the instructions (checked by `fast`).
        unsafe {
            match simd {
                Simd::Avx512 => super::pool_avx512::max_forward(planes, x.cast(), y.cast()),
                Simd::Avx2 => super::pool_avx2::max_forward(planes, x.cast(), y.cast()),
            }
        }
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
        let (x, dy, dx) = (x.cast(), dy.cast(), dx.cast());
        // SAFETY: as in `maxpool2d`.
        unsafe {
            match simd {
                Simd::Avx512 => super::pool_avx512::max_grad(planes, x, dy, dx),
                Simd::Avx2 => super::pool_avx2::max_grad(planes, x, dy, dx),
            }
        }
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
    use super::{Pool, Simd};

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
        let mut simds = Vec::new();
        if std::arch::is_x86_feature_detected!("avx512f") {
            simds.push(Simd::Avx512);
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            simds.push(Simd::Avx2);
        }
        for (h, w) in [(6, 7), (9, 37), (4, 16), (5, 2), (26, 26), (3, 9)] {
            let pl = Pool {
                planes: 3,
                h,
                w,
                size: 2,
                stride: 2,
                oh: h / 2,
                ow: w / 2,
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
            for &simd in &simds {
                let (mut y, mut dx) = (vec![7f32; ny], vec![7f32; nx]);
                // SAFETY: the buffers have the geometry's sizes; the host
                // has the instructions.
                unsafe {
                    match simd {
                        Simd::Avx512 => {
                            super::super::pool_avx512::max_forward(
                                planes,
                                x.as_ptr(),
                                y.as_mut_ptr(),
                            );
                            super::super::pool_avx512::max_grad(
                                planes,
                                x.as_ptr(),
                                dy.as_ptr(),
                                dx.as_mut_ptr(),
                            );
                        }
                        Simd::Avx2 => {
                            super::super::pool_avx2::max_forward(
                                planes,
                                x.as_ptr(),
                                y.as_mut_ptr(),
                            );
                            super::super::pool_avx2::max_grad(
                                planes,
                                x.as_ptr(),
                                dy.as_ptr(),
                                dx.as_mut_ptr(),
                            );
                        }
                    }
                }
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&y), bits(&y0), "forward {h}x{w}");
                assert_eq!(bits(&dx), bits(&dx0), "gradient {h}x{w}");
            }
        }
    }
}
