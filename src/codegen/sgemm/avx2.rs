//! The AVX2 + FMA micro-kernel: a 6 x 16 tile of `dst` in 12 ymm
//! accumulators; per depth step two B loads, six A broadcasts and 12 FMAs.
//! Ragged tiles go through a small stack tile.

use std::arch::x86_64::*;

use super::block::MicroKernel;
use super::Mat;

pub struct Kernel;

const MR: usize = 6;
const NR: usize = 16;

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
}

/// `PACKED`: `a` is a packed panel (`rs = 1`, `cs = MR`), else rows read
/// in place (`cs = 1`).
///
/// # Safety
/// As for [`MicroKernel::tile`]; the host has AVX2 and FMA.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
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
    let mut r = [[_mm256_setzero_ps(); 2]; MR];
    let (mut ap, mut b) = (a.ptr, b);
    let rows: [*const f32; MR] = std::array::from_fn(|i| a.ptr.wrapping_offset(i as isize * a.rs));
    for p in 0..kc {
        let b0 = _mm256_loadu_ps(b);
        let b1 = _mm256_loadu_ps(b.add(8));
        for (i, row) in r.iter_mut().enumerate() {
            let ai = _mm256_broadcast_ss(&*if PACKED { ap.add(i) } else { rows[i].add(p) });
            row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
            row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
        }
        ap = ap.add(MR);
        b = b.add(b_rs);
    }
    if mr == MR && nr == NR {
        for (i, row) in r.iter().enumerate() {
            let p = c.add(i * c_rs);
            let (mut v0, mut v1) = (row[0], row[1]);
            if acc {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(p));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(p.add(8)));
            }
            _mm256_storeu_ps(p, v0);
            _mm256_storeu_ps(p.add(8), v1);
        }
        return;
    }
    let mut t = [0f32; MR * NR];
    for (i, row) in r.iter().enumerate() {
        _mm256_storeu_ps(t.as_mut_ptr().add(i * NR), row[0]);
        _mm256_storeu_ps(t.as_mut_ptr().add(i * NR + 8), row[1]);
    }
    for i in 0..mr {
        for j in 0..nr {
            let p = c.add(i * c_rs + j);
            *p = if acc {
                *p + t[i * NR + j]
            } else {
                t[i * NR + j]
            };
        }
    }
}
