//! AVX2 max pooling for the 2×2 window with stride 2, forward and
//! gradient, four windows per 256-bit vector: the same decisions as
//! `pool_avx512` (see there for why they are the reference's tie and NaN
//! rule), with compares producing lane masks instead of mask registers.
//! A row's last `ow % 4` windows take the scalar path of the same rule.
//! `pool` runs the planes and rows and checks
//! `is_x86_feature_detected!("avx2")`.

use std::arch::x86_64::{
    __m256, __m256i, _mm256_and_ps, _mm256_andnot_ps, _mm256_blend_ps, _mm256_blendv_ps,
    _mm256_castps128_ps256, _mm256_castps256_ps128, _mm256_castsi256_ps, _mm256_cmp_ps,
    _mm256_loadu_ps, _mm256_or_ps, _mm256_permute_ps, _mm256_permutevar8x32_ps, _mm256_set1_epi32,
    _mm256_setr_epi32, _mm256_storeu_ps, _mm_loadu_ps, _mm_storeu_ps, _CMP_GT_OQ, _CMP_UNORD_Q,
};

use super::pool::MaxRows;

/// Windows per vector.
const V: usize = 4;

/// Per-window decisions of the four windows whose rows start at `a` and
/// `b`, valid in the even lanes (all-ones lanes for true).
struct Windows {
    ga: __m256,
    gb: __m256,
    vb: __m256,
    ha: __m256,
    hb: __m256,
}

/// # Safety
/// Eight floats at `a` and at `b` are readable; the host has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn windows(a: *const f32, b: *const f32) -> Windows {
    // SAFETY: the caller guarantees eight floats at each pointer.
    let (av, bv) = unsafe { (_mm256_loadu_ps(a), _mm256_loadu_ps(b)) };
    let (asw, bsw) = (_mm256_permute_ps::<0xB1>(av), _mm256_permute_ps::<0xB1>(bv));
    let ga = _mm256_cmp_ps::<_CMP_GT_OQ>(asw, av);
    let gb = _mm256_or_ps(
        _mm256_cmp_ps::<_CMP_GT_OQ>(bsw, bv),
        _mm256_cmp_ps::<_CMP_UNORD_Q>(bv, bv),
    );
    let ha = _mm256_blendv_ps(av, asw, ga);
    let hb = _mm256_blendv_ps(bv, bsw, gb);
    let vb = _mm256_cmp_ps::<_CMP_GT_OQ>(hb, ha);
    Windows { ga, gb, vb, ha, hb }
}

/// Offset `0..4` of the first maximum of the window `(a0, a1; b0, b1)`
/// in row-major order (the scalar form of [`windows`]).
fn first_max(a: [f32; 2], b: [f32; 2]) -> usize {
    let ga = a[1] > a[0];
    let ha = if ga { a[1] } else { a[0] };
    let gb = b[1] > b[0] || b[0].is_nan();
    let hb = if gb { b[1] } else { b[0] };
    if hb > ha {
        2 + usize::from(gb)
    } else {
        usize::from(ga)
    }
}

/// The row routines of `pool::MaxRows` on AVX2.
pub struct Avx2;

impl MaxRows for Avx2 {
    #[target_feature(enable = "avx2")]
    unsafe fn forward(a: *const f32, b: *const f32, out: *mut f32, ow: usize) {
        // The even lanes first (only the low half of the result is stored).
        let even: __m256i = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
        let full = ow / V * V;
        // SAFETY: windows `0..ow` are in the rows (`MaxRows`); a group of
        // four windows reads `2 * (j + 4) <= 2 * ow` floats of a row.
        unsafe {
            for j in (0..full).step_by(V) {
                let w = windows(a.add(2 * j), b.add(2 * j));
                let win = _mm256_blendv_ps(w.ha, w.hb, w.vb);
                let packed = _mm256_permutevar8x32_ps(win, even);
                _mm_storeu_ps(out.add(j), _mm256_castps256_ps128(packed));
            }
            for j in full..ow {
                let (ra, rb) = (a.add(2 * j), b.add(2 * j));
                let k = first_max([*ra, *ra.add(1)], [*rb, *rb.add(1)]);
                *out.add(j) = if k < 2 { *ra.add(k) } else { *rb.add(k - 2) };
            }
        }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn grad(
        a: *const f32,
        b: *const f32,
        g: *const f32,
        da: *mut f32,
        db: *mut f32,
        ow: usize,
    ) {
        let dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
        let ones = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        let full = ow / V * V;
        // SAFETY: as in `forward`.
        unsafe {
            for j in (0..full).step_by(V) {
                let w = windows(a.add(2 * j), b.add(2 * j));
                let d =
                    _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(g.add(j))), dup);
                // Even lanes: which of the window's four elements wins.
                let a0 = _mm256_andnot_ps(_mm256_or_ps(w.vb, w.ga), ones);
                let a1 = _mm256_andnot_ps(w.vb, w.ga);
                let b0 = _mm256_andnot_ps(w.gb, w.vb);
                let b1 = _mm256_and_ps(w.gb, w.vb);
                // Lane 2j takes the `*0` decision, lane 2j + 1 the `*1` one.
                let ma = _mm256_blend_ps::<0xAA>(a0, _mm256_permute_ps::<0xA0>(a1));
                let mb = _mm256_blend_ps::<0xAA>(b0, _mm256_permute_ps::<0xA0>(b1));
                _mm256_storeu_ps(da.add(2 * j), _mm256_and_ps(ma, d));
                _mm256_storeu_ps(db.add(2 * j), _mm256_and_ps(mb, d));
            }
            for j in full..ow {
                let (ra, rb) = (a.add(2 * j), b.add(2 * j));
                let k = first_max([*ra, *ra.add(1)], [*rb, *rb.add(1)]);
                let v = *g.add(j);
                for (e, out) in [da, da.add(1), db, db.add(1)].into_iter().enumerate() {
                    *out.add(2 * j) = if e == k { v } else { 0.0 };
                }
            }
        }
    }
}
