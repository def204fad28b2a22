//! Direct convolution for few taps (`C * KH * KW <= MAX_TAPS`), stride 1
//! and no padding — a CNN's first layer on one- or three-channel images,
//! where im2col + GEMM has a depth of 9 to 27: the columns cost more to
//! write than the product to compute, and the micro-kernel spends its time
//! loading and storing tiles. AVX2 + FMA, eight output pixels of a row per
//! vector, ragged row ends through masked loads and a stack tile (lanes past the
//! row are neither read nor written).
//!
//! - Forward: for each block of eight filters, eight accumulators (one per
//!   filter) over the taps; each tap is one load of eight input pixels and
//!   eight FMAs with the filters' broadcast weights. A row's last group
//!   overlaps the one before instead of being ragged, when the row has
//!   eight pixels. Each output is finished in registers before it is
//!   stored ([`Epilogue`]): the filter's bias, and `max(z, 0)` in place of
//!   `z` or into a second buffer — a layer's bias + ReLU without a second
//!   pass over its output.
//! - Weight gradient: for each filter, one accumulator per tap (up to
//!   `TB` at a time) over every pixel of every image: one load of eight
//!   `dy` values, then one input load and one FMA per tap; the lanes are
//!   summed once at the end. The sum runs in a different order than the
//!   im2col product's, so results differ in the last bits.
//!
//! Callers check [`fits`] and that the host has AVX2 and FMA.

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_and_ps, _mm256_castps256_ps128, _mm256_cmp_ps,
    _mm256_extractf128_ps, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    _mm_add_ps, _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps, _CMP_GE_OQ,
};

use super::helpers::{Conv, Epilogue};
use super::lanes_avx2::{lanes, load};

/// The most taps the direct path takes (three channels of 3×3).
pub const MAX_TAPS: usize = 27;
/// Filters per forward block.
const FB: usize = 8;
/// Taps per gradient block (accumulators held in registers).
const TB: usize = 9;

/// Whether the direct path computes this convolution.
pub fn fits(g: &Conv) -> bool {
    g.stride == 1
        && g.pad == 0
        && (1..=MAX_TAPS).contains(&g.ckk())
        && g.oh + g.kh == g.h + 1
        && g.ow + g.kw == g.w + 1
}

/// Offsets of the taps from an output pixel's top-left input, in the
/// weights' `[C, KH, KW]` order.
fn offsets(g: &Conv) -> [usize; MAX_TAPS] {
    let mut off = [0; MAX_TAPS];
    let mut t = 0;
    for c in 0..g.c {
        for i in 0..g.kh {
            for j in 0..g.kw {
                off[t] = (c * g.h + i) * g.w + j;
                t += 1;
            }
        }
    }
    off
}

/// `max(z, 0)` as the JIT's loops compute `max(z, 0.0)` (`z >= 0 ? z :
/// 0`): NaN gives 0, `-0` stays `-0`.
#[inline]
#[target_feature(enable = "avx2")]
fn relu(z: __m256) -> __m256 {
    _mm256_and_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(z, _mm256_setzero_ps()), z)
}

/// `y = conv2d(x, w)` for [`fits`] geometries, each output passed through
/// `ep`.
///
/// # Safety
/// `x` holds `B*C*H*W` floats, `w` `F*C*KH*KW`, `y` (and `ep.also` when
/// not null) `B*F*OH*OW`, `ep.bias` (when not null) `F`; the host has AVX2
/// and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn forward(g: Conv, x: *const f32, w: *const f32, y: *mut f32, ep: Epilogue) {
    let (taps, off) = (g.ckk(), offsets(&g));
    let (img, plane) = (g.c * g.h * g.w, g.oh * g.ow);
    for f0 in (0..g.f).step_by(FB) {
        let nf = (g.f - f0).min(FB);
        // The block's weights as `[tap][filter]`; missing filters repeat
        // the last one (computed, never stored).
        let mut wt = [0f32; MAX_TAPS * FB];
        for t in 0..taps {
            for fb in 0..FB {
                // SAFETY: `f0 + min(fb, nf - 1) < F` and `t < taps`.
                wt[t * FB + fb] = unsafe { *w.add((f0 + fb.min(nf - 1)) * taps + t) };
            }
        }
        for b in 0..g.b {
            for oy in 0..g.oh {
                for group in (0..g.ow).step_by(8) {
                    // A row at least eight wide ends with a whole group
                    // that overlaps the one before: those pixels are
                    // computed twice, the same way, and stored twice with
                    // the same values, instead of through masked loads and
                    // partial stores.
                    let ox = group.min(g.ow.saturating_sub(8));
                    let n = g.ow - ox;
                    let (full, mask) = (n >= 8, lanes(n));
                    let mut acc = [_mm256_setzero_ps(); FB];
                    // SAFETY: pixel `(oy, ox + lane)` for a lane below `n`
                    // reads input `(oy + i, ox + lane + j)`, inside the image
                    // because `OH + KH = H + 1` and `OW + KW = W + 1`.
                    unsafe {
                        let base = x.add(b * img + oy * g.w + ox);
                        for (t, &o) in off[..taps].iter().enumerate() {
                            let xv = load(base.add(o), full, mask);
                            for (fb, a) in acc.iter_mut().enumerate() {
                                *a = _mm256_fmadd_ps(_mm256_set1_ps(wt[t * FB + fb]), xv, *a);
                            }
                        }
                        let at = (b * g.f + f0) * plane + oy * g.ow + ox;
                        for (fb, &a) in acc[..nf].iter().enumerate() {
                            let z = if ep.bias.is_null() {
                                a
                            } else {
                                _mm256_add_ps(a, _mm256_set1_ps(*ep.bias.add(f0 + fb)))
                            };
                            let r = relu(z);
                            let to = at + fb * plane;
                            store(y.add(to), if ep.relu { r } else { z }, n);
                            if !ep.also.is_null() {
                                store(ep.also.add(to), r, n);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The first `n` lanes of `v` at `p`: all eight with one store, fewer
/// through a stack tile (`vmaskmovps` stores are slow on Zen 3).
///
/// # Safety
/// `p` has `min(n, 8)` floats to write; the host has AVX.
#[inline]
#[target_feature(enable = "avx")]
unsafe fn store(p: *mut f32, v: __m256, n: usize) {
    // SAFETY: the caller guarantees the lanes written are in bounds.
    unsafe {
        if n >= 8 {
            _mm256_storeu_ps(p, v);
        } else {
            let mut tile = [0f32; 8];
            _mm256_storeu_ps(tile.as_mut_ptr(), v);
            std::ptr::copy_nonoverlapping(tile.as_ptr(), p, n);
        }
    }
}

/// The sum of the eight lanes.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ps(s, _mm_shuffle_ps::<1>(s, s)))
}

/// `dw = conv2d_grad_weight(x, dy)` for [`fits`] geometries, filters
/// `filters` (a sub-range of `0..F`) only.
///
/// # Safety
/// `x` holds `B*C*H*W` floats, `dy` `B*F*OH*OW`, `dw` `F*C*KH*KW`; the
/// host has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn grad_weight(
    g: Conv,
    filters: std::ops::Range<usize>,
    x: *const f32,
    dy: *const f32,
    dw: *mut f32,
) {
    let (taps, off) = (g.ckk(), offsets(&g));
    let (img, plane) = (g.c * g.h * g.w, g.oh * g.ow);
    for f in filters {
        for t0 in (0..taps).step_by(TB) {
            let nt = (taps - t0).min(TB);
            // Missing taps repeat the last one (computed, never stored).
            let o: [usize; TB] = std::array::from_fn(|k| off[t0 + k.min(nt - 1)]);
            let mut acc = [_mm256_setzero_ps(); TB];
            for b in 0..g.b {
                for oy in 0..g.oh {
                    for ox in (0..g.ow).step_by(8) {
                        let n = g.ow - ox;
                        let (full, mask) = (n >= 8, lanes(n));
                        // SAFETY: as in `forward`; masked lanes of `dy` and
                        // of the inputs are zero, so they add nothing.
                        unsafe {
                            let d =
                                load(dy.add((b * g.f + f) * plane + oy * g.ow + ox), full, mask);
                            let base = x.add(b * img + oy * g.w + ox);
                            for (a, &o) in acc.iter_mut().zip(&o) {
                                *a = _mm256_fmadd_ps(d, load(base.add(o), full, mask), *a);
                            }
                        }
                    }
                }
            }
            for (k, &a) in acc[..nt].iter().enumerate() {
                // SAFETY: `f < F`, `t0 + k < taps`.
                unsafe { *dw.add(f * taps + t0 + k) = hsum(a) };
            }
        }
    }
}
