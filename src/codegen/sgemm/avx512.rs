//! The AVX-512F micro-kernel: an 8 x 32 tile of `dst` in 16 zmm
//! accumulators; per depth step two B loads, eight A broadcasts and 16
//! FMAs. Ragged tiles are stored with masked loads and stores.

use std::arch::x86_64::*;

use super::block::{store_columns, MicroKernel, TILE};
use super::Mat;

pub struct Kernel;

const MR: usize = 8;
const NR: usize = 32;

/// The lanes of columns `lo..lo+16` that are below `nr`.
fn lanes(nr: usize, lo: usize) -> __mmask16 {
    let n = nr.saturating_sub(lo).min(16);
    ((1u32 << n) - 1) as __mmask16
}

impl MicroKernel for Kernel {
    const MR: usize = MR;
    const NR: usize = NR;

    unsafe fn tile(
        kc: usize,
        a: Mat,
        b: *const f32,
        b_rs: usize,
        c: *mut f32,
        c_rs: usize,
        mr: usize,
        nr: usize,
        acc: bool,
    ) {
        if a.rs == 1 {
            tile::<true>(kc, a, b, b_rs, c, c_rs, mr, nr, acc);
        } else {
            tile::<false>(kc, a, b, b_rs, c, c_rs, mr, nr, acc);
        }
    }

    unsafe fn store_transposed(
        t: &[f32; TILE],
        c: *mut f32,
        cs: usize,
        mr: usize,
        nr: usize,
        acc: bool,
    ) {
        // Full-height tiles: 8 x 8 blocks transposed in registers, each
        // tile column stored as one 8-float run; the rest one by one.
        let full = if mr == MR { nr / 8 * 8 } else { 0 };
        for j in (0..full).step_by(8) {
            transpose8(t.as_ptr().add(j), c.add(j * cs), cs, acc);
        }
        store_columns(t, NR, c, cs, (mr, full, nr), acc);
    }
}

/// `c[q * cs + i] (+)= t[i * NR + q]` for `i, q < 8`: the classic
/// unpack / shuffle / lane-permute 8 x 8 transpose.
///
/// # Safety
/// `t` is readable at those elements, `c` writable; the host has AVX
/// (every AVX-512F host does).
#[target_feature(enable = "avx")]
unsafe fn transpose8(t: *const f32, c: *mut f32, cs: usize, acc: bool) {
    let zero = _mm256_setzero_ps();
    let mut r = [zero; 8];
    for (i, r) in r.iter_mut().enumerate() {
        *r = _mm256_loadu_ps(t.add(i * NR));
    }
    // Row pairs interleaved: `p[2i]` holds columns 0, 1, 4, 5 of rows
    // `2i`, `2i + 1`, `p[2i + 1]` columns 2, 3, 6, 7.
    let mut p = [zero; 8];
    for i in 0..4 {
        p[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        p[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // `w[h][q]`: rows `4h..4h + 4` of columns `q` and `q + 4`, one per
    // 128-bit lane.
    let mut w = [[zero; 4]; 2];
    for (h, w) in w.iter_mut().enumerate() {
        let (a, b) = (&p[4 * h..4 * h + 2], &p[4 * h + 2..4 * h + 4]);
        *w = [
            _mm256_shuffle_ps::<0x44>(a[0], b[0]),
            _mm256_shuffle_ps::<0xEE>(a[0], b[0]),
            _mm256_shuffle_ps::<0x44>(a[1], b[1]),
            _mm256_shuffle_ps::<0xEE>(a[1], b[1]),
        ];
    }
    let (u, v) = (w[0], w[1]);
    for q in 0..4 {
        let cols = [
            _mm256_permute2f128_ps::<0x20>(u[q], v[q]),
            _mm256_permute2f128_ps::<0x31>(u[q], v[q]),
        ];
        for (h, col) in cols.into_iter().enumerate() {
            let d = c.add((q + 4 * h) * cs);
            let col = if acc {
                _mm256_add_ps(_mm256_loadu_ps(d), col)
            } else {
                col
            };
            _mm256_storeu_ps(d, col);
        }
    }
}

/// `PACKED`: `a` is a packed panel (`rs = 1`, `cs = MR`), else rows read
/// in place (`cs = 1`).
///
/// # Safety
/// As for [`MicroKernel::tile`]; the host has AVX-512F and FMA.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,fma")]
unsafe fn tile<const PACKED: bool>(
    kc: usize,
    a: Mat,
    b: *const f32,
    b_rs: usize,
    c: *mut f32,
    c_rs: usize,
    mr: usize,
    nr: usize,
    acc: bool,
) {
    let mut r = [[_mm512_setzero_ps(); 2]; MR];
    let (mut ap, mut b) = (a.ptr, b);
    let rows: [*const f32; MR] = std::array::from_fn(|i| a.ptr.wrapping_offset(i as isize * a.rs));
    for p in 0..kc {
        let b0 = _mm512_loadu_ps(b);
        let b1 = _mm512_loadu_ps(b.add(16));
        for (i, row) in r.iter_mut().enumerate() {
            let ai = _mm512_set1_ps(*if PACKED { ap.add(i) } else { rows[i].add(p) });
            row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
            row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
        }
        ap = ap.add(MR);
        b = b.add(b_rs);
    }
    let (m0, m1) = (lanes(nr, 0), lanes(nr, 16));
    for (i, row) in r.iter().enumerate().take(mr) {
        let p = c.add(i * c_rs);
        let (mut v0, mut v1) = (row[0], row[1]);
        if acc {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, p));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, p.add(16)));
        }
        _mm512_mask_storeu_ps(p, m0, v0);
        _mm512_mask_storeu_ps(p.add(16), m1, v1);
    }
}
