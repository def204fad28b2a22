//! Products with at most four rows and row-contiguous B (batch-1
//! predict, `x[1, k] @ w[k, n]`) on AVX-512: no packing, each B row is
//! streamed once for all rows of A, 64 columns at a time in 4 zmm
//! accumulators per row; ragged column ends use masked loads and stores.

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
pub unsafe fn run(dims: (usize, usize, usize), dst: Dst, lhs: Mat, rhs: Mat, acc: bool) {
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
