//! The portable micro-kernel: a 4 x 8 tile in plain Rust (the compiler
//! may vectorise it for the baseline target). Used on hosts without AVX2
//! and by the tests.

use super::block::MicroKernel;
use super::Mat;

pub struct Kernel;

const MR: usize = 4;
const NR: usize = 8;

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
        let mut r = [[0f32; NR]; MR];
        // SAFETY (whole body): the caller guarantees `kc` panels of `MR`
        // floats at `a`, `kc` rows of `NR` floats at `b` and the tile at `c`.
        for p in 0..kc {
            let ap = a.ptr.offset(p as isize * a.cs);
            let bp = std::slice::from_raw_parts(b.add(p * b_rs), NR);
            for (i, row) in r.iter_mut().enumerate() {
                let ai = *ap.offset(i as isize * a.rs);
                for (x, &bj) in row.iter_mut().zip(bp) {
                    *x += ai * bj;
                }
            }
        }
        for (i, row) in r.iter().enumerate().take(mr) {
            let out = std::slice::from_raw_parts_mut(c.add(i * c_rs), nr);
            for (o, &v) in out.iter_mut().zip(row) {
                *o = if acc { *o + v } else { v };
            }
        }
    }
}
