//! Products with at most four rows and row-contiguous B (batch-1
//! predict, `x[1, k] @ w[k, n]`): no packing, each B row is streamed once
//! for all rows of A; ragged column ends use masked loads and stores.
//! AVX-512: 64 columns at a time in 4 zmm accumulators per row. AVX2 (16
//! ymm registers): 32 columns per pass in 4 accumulators per row for one
//! or two rows, 16 columns in 2 for three or four.

use std::arch::x86_64::*;

use super::block::Dst;
use super::Mat;

/// Columns per pass.
const W: usize = 64;

/// Whether [`run`] takes a product of `m` rows with this B.
pub fn fits(m: usize, rhs: Mat) -> bool {
    m <= 4 && rhs.cs == 1
}

/// `dst (+)= lhs @ rhs` for `fits(m, rhs)` (see `sgemm`).
///
/// # Safety
/// As for `sgemm`; `dst.cs == 1`; the host has AVX-512F and FMA.
pub unsafe fn run_avx512(dims: (usize, usize, usize), dst: Dst, lhs: Mat, rhs: Mat, acc: bool) {
    match dims.0 {
        1 => rows::<1>(dims, dst, lhs, rhs, acc),
        2 => rows::<2>(dims, dst, lhs, rhs, acc),
        3 => rows::<3>(dims, dst, lhs, rhs, acc),
        _ => rows::<4>(dims, dst, lhs, rhs, acc),
    }
}

/// The lanes of columns `lo..lo+16` that are below `n`.
fn lanes(n: usize, lo: usize) -> __mmask16 {
    let c = n.saturating_sub(lo).min(16);
    ((1u32 << c) - 1) as __mmask16
}

/// # Safety
/// As for [`run`], with `R == m`.
#[target_feature(enable = "avx512f,fma")]
unsafe fn rows<const R: usize>(
    (_, n, k): (usize, usize, usize),
    dst: Dst,
    lhs: Mat,
    rhs: Mat,
    acc: bool,
) {
    for j0 in (0..n).step_by(W) {
        let masks: [__mmask16; 4] = std::array::from_fn(|v| lanes(n, j0 + 16 * v));
        let mut r = [[_mm512_setzero_ps(); 4]; R];
        for p in 0..k {
            let b = rhs.at(p, j0).ptr;
            let bv: [__m512; 4] =
                std::array::from_fn(|v| _mm512_maskz_loadu_ps(masks[v], b.add(16 * v)));
            for (i, row) in r.iter_mut().enumerate() {
                let a = _mm512_set1_ps(*lhs.at(i, p).ptr);
                for (x, &b) in row.iter_mut().zip(&bv) {
                    *x = _mm512_fmadd_ps(a, b, *x);
                }
            }
        }
        for (i, row) in r.iter().enumerate() {
            let d = dst.ptr.add(i * dst.rs + j0);
            for (v, &x) in row.iter().enumerate() {
                let dv = d.add(16 * v);
                let x = if acc {
                    _mm512_add_ps(x, _mm512_maskz_loadu_ps(masks[v], dv))
                } else {
                    x
                };
                _mm512_mask_storeu_ps(dv, masks[v], x);
            }
        }
    }
}

/// `dst (+)= lhs @ rhs` for `fits(m, rhs)` (see `sgemm`).
///
/// # Safety
/// As for `sgemm`; `dst.cs == 1`; the host has AVX2 and FMA.
pub unsafe fn run_avx2(dims: (usize, usize, usize), dst: Dst, lhs: Mat, rhs: Mat, acc: bool) {
    match dims.0 {
        1 => rows_avx2::<1, 4>(dims, dst, lhs, rhs, acc),
        2 => rows_avx2::<2, 4>(dims, dst, lhs, rhs, acc),
        3 => rows_avx2::<3, 2>(dims, dst, lhs, rhs, acc),
        _ => rows_avx2::<4, 2>(dims, dst, lhs, rhs, acc),
    }
}

/// The lanes of columns `lo..lo+8` that are below `n`, as a maskload mask.
///
/// # Safety
/// The host has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn lanes_avx2(n: usize, lo: usize) -> __m256i {
    let c = n.saturating_sub(lo).min(8) as i32;
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(c),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// `V` ymm vectors (8 columns each) per row of A.
///
/// # Safety
/// As for [`run_avx2`], with `R == m`.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_avx2<const R: usize, const V: usize>(
    (_, n, k): (usize, usize, usize),
    dst: Dst,
    lhs: Mat,
    rhs: Mat,
    acc: bool,
) {
    for j0 in (0..n).step_by(8 * V) {
        let masks: [__m256i; V] = std::array::from_fn(|v| lanes_avx2(n, j0 + 8 * v));
        let full = j0 + 8 * V <= n;
        let mut r = [[_mm256_setzero_ps(); V]; R];
        for p in 0..k {
            let b = rhs.at(p, j0).ptr;
            let bv: [__m256; V] = std::array::from_fn(|v| {
                if full {
                    _mm256_loadu_ps(b.add(8 * v))
                } else {
                    _mm256_maskload_ps(b.add(8 * v), masks[v])
                }
            });
            for (i, row) in r.iter_mut().enumerate() {
                let a = _mm256_broadcast_ss(&*lhs.at(i, p).ptr);
                for (x, &b) in row.iter_mut().zip(&bv) {
                    *x = _mm256_fmadd_ps(a, b, *x);
                }
            }
        }
        for (i, row) in r.iter().enumerate() {
            let d = dst.ptr.add(i * dst.rs + j0);
            for (v, &x) in row.iter().enumerate() {
                let dv = d.add(8 * v);
                let x = if acc {
                    _mm256_add_ps(x, _mm256_maskload_ps(dv, masks[v]))
                } else {
                    x
                };
                _mm256_maskstore_ps(dv, masks[v], x);
            }
        }
    }
}
