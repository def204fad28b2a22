//! Products with at most four rows and row-contiguous B (batch-1
//! predict, `x[1, k] @ w[k, n]`): no packing, each B row is streamed once
//! for all rows of A; ragged column ends use masked loads and stores.
//! AVX-512: 128 columns per pass in 8 zmm accumulators per row for one or
//! two rows, 64 in 4 for three or four: a dense layer 128 wide streams B
//! once, row after row, instead of two passes that each read half of every
//! row (the halves the prefetcher fetched for the first pass are gone from
//! L2 before the second). AVX2 (16 ymm registers): 32 columns per pass in
//! 4 accumulators per row for one or two rows, 16 columns in 2 for three
//! or four.
//!
//! One loop body ([`rows`]) is written against the few vector operations
//! of [`Vector`]; it is inlined into a `#[target_feature]` wrapper per
//! instruction set, so the intrinsics compile for that set only.

use std::arch::x86_64::*;

use super::super::lanes_avx2;
use super::block::Dst;
use super::Mat;

/// Whether the `run_*` functions take a product of `m` rows with this B.
pub fn fits(m: usize, rhs: Mat) -> bool {
    m <= 4 && rhs.cs == 1
}

/// The vector operations [`rows`] needs. Every method is `inline(always)`
/// and only called from functions compiled for the instruction set.
trait Vector {
    type V: Copy;
    /// Which lanes of a vector starting at a column are below `n`.
    type Mask: Copy;
    /// Floats per vector.
    const LANES: usize;
    unsafe fn mask(n: usize, lo: usize) -> Self::Mask;
    unsafe fn zero() -> Self::V;
    unsafe fn splat(p: *const f32) -> Self::V;
    /// Loads the lanes of `m` (all of them when `full`).
    unsafe fn load(p: *const f32, m: Self::Mask, full: bool) -> Self::V;
    unsafe fn store(p: *mut f32, m: Self::Mask, full: bool, v: Self::V);
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
}

struct Zmm;

impl Vector for Zmm {
    type V = __m512;
    type Mask = __mmask16;
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn mask(n: usize, lo: usize) -> __mmask16 {
        let c = n.saturating_sub(lo).min(16);
        ((1u32 << c) - 1) as __mmask16
    }
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m512 {
        _mm512_set1_ps(*p)
    }
    // Masked moves cost no more than plain ones here.
    #[inline(always)]
    unsafe fn load(p: *const f32, m: __mmask16, _: bool) -> __m512 {
        _mm512_maskz_loadu_ps(m, p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, m: __mmask16, _: bool, v: __m512) {
        _mm512_mask_storeu_ps(p, m, v)
    }
    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
}

struct Ymm;

impl Vector for Ymm {
    type V = __m256;
    type Mask = __m256i;
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn mask(n: usize, lo: usize) -> __m256i {
        lanes_avx2::lanes(n.saturating_sub(lo))
    }
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m256 {
        _mm256_broadcast_ss(&*p)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32, m: __m256i, full: bool) -> __m256 {
        lanes_avx2::load(p, full, m)
    }
    // `vmaskmovps` is slow (stores especially, on Zen 3): only the ragged
    // end of a row takes it.
    #[inline(always)]
    unsafe fn store(p: *mut f32, m: __m256i, full: bool, v: __m256) {
        if full {
            _mm256_storeu_ps(p, v)
        } else {
            _mm256_maskstore_ps(p, m, v)
        }
    }
    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
}

/// `dst (+)= lhs @ rhs` for `fits(m, rhs)` (see `sgemm`).
///
/// # Safety
/// As for `sgemm`; `dst.cs == 1`; the host has AVX-512F and FMA.
pub unsafe fn run_avx512(dims: (usize, usize, usize), dst: Dst, lhs: Mat, rhs: Mat, acc: bool) {
    match dims.0 {
        1 => on_avx512::<1, 8>(dims, dst, lhs, rhs, acc),
        2 => on_avx512::<2, 8>(dims, dst, lhs, rhs, acc),
        3 => on_avx512::<3, 4>(dims, dst, lhs, rhs, acc),
        _ => on_avx512::<4, 4>(dims, dst, lhs, rhs, acc),
    }
}

/// `dst (+)= lhs @ rhs` for `fits(m, rhs)` (see `sgemm`).
///
/// # Safety
/// As for `sgemm`; `dst.cs == 1`; the host has AVX2 and FMA.
pub unsafe fn run_avx2(dims: (usize, usize, usize), dst: Dst, lhs: Mat, rhs: Mat, acc: bool) {
    match dims.0 {
        1 => on_avx2::<1, 4>(dims, dst, lhs, rhs, acc),
        2 => on_avx2::<2, 4>(dims, dst, lhs, rhs, acc),
        3 => on_avx2::<3, 2>(dims, dst, lhs, rhs, acc),
        _ => on_avx2::<4, 2>(dims, dst, lhs, rhs, acc),
    }
}

/// # Safety
/// As for [`run_avx512`], with `R == m`.
#[target_feature(enable = "avx512f,fma")]
unsafe fn on_avx512<const R: usize, const N: usize>(
    d: (usize, usize, usize),
    dst: Dst,
    l: Mat,
    r: Mat,
    a: bool,
) {
    rows::<Zmm, R, N>(d, dst, l, r, a)
}

/// # Safety
/// As for [`run_avx2`], with `R == m`.
#[target_feature(enable = "avx2,fma")]
unsafe fn on_avx2<const R: usize, const N: usize>(
    d: (usize, usize, usize),
    dst: Dst,
    l: Mat,
    r: Mat,
    a: bool,
) {
    rows::<Ymm, R, N>(d, dst, l, r, a)
}

/// `N` vectors per row of A, `R == m` rows.
///
/// # Safety
/// As for the `run_*` functions; called only from a wrapper compiled for
/// `S`'s instruction set.
#[inline(always)]
unsafe fn rows<S: Vector, const R: usize, const N: usize>(
    (_, n, k): (usize, usize, usize),
    dst: Dst,
    lhs: Mat,
    rhs: Mat,
    acc: bool,
) {
    let l = S::LANES;
    for j0 in (0..n).step_by(l * N) {
        let masks: [S::Mask; N] = std::array::from_fn(|v| S::mask(n, j0 + l * v));
        let full = j0 + l * N <= n;
        let mut r = [[S::zero(); N]; R];
        for p in 0..k {
            let b = rhs.at(p, j0).ptr;
            let bv: [S::V; N] = std::array::from_fn(|v| S::load(b.add(l * v), masks[v], full));
            for (i, row) in r.iter_mut().enumerate() {
                let a = S::splat(lhs.at(i, p).ptr);
                for (x, &b) in row.iter_mut().zip(&bv) {
                    *x = S::fma(a, b, *x);
                }
            }
        }
        for (i, row) in r.iter().enumerate() {
            let d = dst.ptr.add(i * dst.rs + j0);
            for (v, &x) in row.iter().enumerate() {
                let dv = d.add(l * v);
                let x = if acc {
                    S::add(x, S::load(dv, masks[v], full))
                } else {
                    x
                };
                S::store(dv, masks[v], full, x);
            }
        }
    }
}
