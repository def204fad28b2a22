//! The two AVX2 helpers of rows with a ragged end, shared by the direct
//! convolution and the batch-1 product: which lanes of eight are inside
//! the row, and a load of eight floats that touches only those.

use std::arch::x86_64::{
    __m256, __m256i, _mm256_cmpgt_epi32, _mm256_loadu_ps, _mm256_maskload_ps, _mm256_set1_epi32,
    _mm256_setr_epi32,
};

/// The lanes of a group of eight floats that are inside a row with `n`
/// floats left, as a `vmaskmovps` mask.
///
/// # Safety
/// The host has AVX2.
#[inline(always)]
pub unsafe fn lanes(n: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(n.min(8) as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// Eight floats at `p`, or only the lanes of `mask` (zero elsewhere):
/// `vmaskmovps` is slow, so a full group takes a plain load.
///
/// # Safety
/// The lanes read are in bounds; the host has AVX2.
#[inline(always)]
pub unsafe fn load(p: *const f32, full: bool, mask: __m256i) -> __m256 {
    // SAFETY: the caller guarantees the lanes read are in bounds.
    unsafe {
        if full {
            _mm256_loadu_ps(p)
        } else {
            _mm256_maskload_ps(p, mask)
        }
    }
}
