//! AVX-512 max pooling for the common 2×2 window with stride 2 (the seed
//! CNN's `maxpool2d(2)`), forward and gradient, eight windows per vector.
//!
//! A window's two rows `a = (a0, a1)` and `b = (b0, b1)` are loaded as they
//! lie in memory (window `j` in lanes `2j`, `2j + 1`); a pair swap puts each
//! right neighbour under its left one, so even lanes decide
//! - `ga = a1 > a0`, `ha = ga ? a1 : a0` (the first maximum of row `a`);
//! - `gb = b1 > b0 || b0 is NaN`, `hb = gb ? b1 : b0`;
//! - `vb = hb > ha`, the window's winner `vb ? hb : ha`.
//!
//! That is the reference's rule exactly — the first maximal element in
//! row-major order, a NaN in the first position sticks, a NaN elsewhere is
//! skipped — because a strict `>` only moves the choice to a later element.
//! The forward compresses the even lanes into eight outputs; the gradient
//! writes `dy` to the winner and `0` to the other three, so each element
//! of `dx` is stored once (windows do not overlap) with no fill and no
//! scatter. `pool` runs the planes and rows and checks
//! `is_x86_feature_detected!("avx512f")`.

use std::arch::x86_64::{
    __m512, __mmask16, _mm512_loadu_si512, _mm512_mask_blend_ps, _mm512_mask_cmp_ps_mask,
    _mm512_mask_storeu_ps, _mm512_maskz_compress_ps, _mm512_maskz_loadu_ps, _mm512_maskz_mov_ps,
    _mm512_permute_ps, _mm512_permutexvar_ps, _CMP_GT_OQ, _CMP_UNORD_Q,
};

use super::pool::MaxRows;

const EVEN: __mmask16 = 0x5555;
/// Lane `2j` and `2j + 1` take window `j`'s gradient.
const DUP: [i32; 16] = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7];

/// The low `n` lanes (`n <= 16`).
fn low(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

/// Per-window decisions of the up-to-eight windows whose rows start at
/// `a` and `b`, reading `2n` floats of each row.
struct Windows {
    ga: __mmask16,
    gb: __mmask16,
    vb: __mmask16,
    ha: __m512,
    hb: __m512,
}

#[target_feature(enable = "avx512f")]
unsafe fn windows(a: *const f32, b: *const f32, n: usize) -> Windows {
    let m = low(2 * n);
    // SAFETY: masked loads touch only the `2n` floats of each row that the
    // caller guarantees are in bounds.
    let (av, bv) = unsafe { (_mm512_maskz_loadu_ps(m, a), _mm512_maskz_loadu_ps(m, b)) };
    let (asw, bsw) = (_mm512_permute_ps::<0xB1>(av), _mm512_permute_ps::<0xB1>(bv));
    let ga = _mm512_mask_cmp_ps_mask::<_CMP_GT_OQ>(EVEN, asw, av);
    let gb = _mm512_mask_cmp_ps_mask::<_CMP_GT_OQ>(EVEN, bsw, bv)
        | _mm512_mask_cmp_ps_mask::<_CMP_UNORD_Q>(EVEN, bv, bv);
    let ha = _mm512_mask_blend_ps(ga, av, asw);
    let hb = _mm512_mask_blend_ps(gb, bv, bsw);
    let vb = _mm512_mask_cmp_ps_mask::<_CMP_GT_OQ>(EVEN, hb, ha);
    Windows { ga, gb, vb, ha, hb }
}

/// The row routines of `pool::MaxRows` on AVX-512F.
pub struct Avx512;

impl MaxRows for Avx512 {
    #[target_feature(enable = "avx512f")]
    unsafe fn forward(a: *const f32, b: *const f32, out: *mut f32, ow: usize) {
        for j in (0..ow).step_by(8) {
            let n = (ow - j).min(8);
            // SAFETY: windows `j..j + n` are in the rows (`MaxRows`).
            unsafe {
                let w = windows(a.add(2 * j), b.add(2 * j), n);
                let win = _mm512_mask_blend_ps(w.vb, w.ha, w.hb);
                let packed = _mm512_maskz_compress_ps(EVEN, win);
                _mm512_mask_storeu_ps(out.add(j), low(n), packed);
            }
        }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn grad(
        a: *const f32,
        b: *const f32,
        g: *const f32,
        da: *mut f32,
        db: *mut f32,
        ow: usize,
    ) {
        // SAFETY: `DUP` is 16 `i32`s, one unaligned 512-bit load.
        let dup = unsafe { _mm512_loadu_si512(DUP.as_ptr().cast()) };
        for j in (0..ow).step_by(8) {
            let n = (ow - j).min(8);
            // SAFETY: windows `j..j + n` are in the rows (`MaxRows`).
            unsafe {
                let w = windows(a.add(2 * j), b.add(2 * j), n);
                let d = _mm512_permutexvar_ps(dup, _mm512_maskz_loadu_ps(low(n), g.add(j)));
                let (na, nb) = (EVEN & !w.vb, EVEN & w.vb);
                let ma = (na & !w.ga) | ((na & w.ga) << 1);
                let mb = (nb & !w.gb) | ((nb & w.gb) << 1);
                let m = low(2 * n);
                _mm512_mask_storeu_ps(da.add(2 * j), m, _mm512_maskz_mov_ps(ma, d));
                _mm512_mask_storeu_ps(db.add(2 * j), m, _mm512_maskz_mov_ps(mb, d));
            }
        }
    }
}
