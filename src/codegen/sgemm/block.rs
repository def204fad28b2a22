//! The blocked product for one thread: loops over `NC` column blocks, `KC`
//! depth blocks and `MC` row blocks (BLIS order), packing, and the
//! micro-kernel call per `MR x NR` tile. Edge tiles are computed in full
//! from zero-padded panels and stored partially by the kernel; a
//! column-major `dst` (a product computed transposed) goes through a
//! bounce tile.

use super::{scratch, Mat};

/// Depth of a packed block: a `KC x 32` B panel (32 KiB) plus an
/// `8 x KC` A panel (8 KiB) fit the 48 KiB L1.
const KC: usize = 256;
/// Rows of a packed A block (`MC x KC`, ~192 KiB of the 1 MiB L2).
const MC: usize = 192;
/// Columns of a packed B block (`KC x NC`, 512 KiB: with the A block it
/// stays in L2).
const NC: usize = 512;

/// Floats of packing space for the largest blocks of any micro-kernel
/// (`MR <= MC`, `NR <= 32`). Every product asks for this much, so a thread
/// allocates its packing space once, whichever parts of which products it
/// happens to run.
pub(super) const PACKED: usize = (MC + NC + 32) * KC;

/// A register-tiled micro-kernel.
pub trait MicroKernel {
    /// Rows of a tile.
    const MR: usize;
    /// Columns of a tile.
    const NR: usize;

    /// `c[i, j] (+)= Σ_p a(i, p) * b[p*b_rs + j]` for `i < mr`, `j < nr`
    /// (`+=` when `acc`); `c[i, j]` is at `c + i*c_rs + j`. `a` is a packed
    /// panel (`rs = 1`, `cs = MR`) or rows of A read in place.
    ///
    /// # Safety
    /// `a` is readable at `MR x kc`, `b` has `kc` readable rows of
    /// `NR` floats at stride `b_rs`, `c` is writable at the `mr x nr`
    /// tile, `mr <= MR`, `nr <= NR`, and the host supports the kernel.
    #[allow(clippy::too_many_arguments)]
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
    );

    /// Stores bounce tile `t` (row stride `NR`) transposed into a
    /// column-major `dst`: `c[j * cs + i] (+)= t[i * NR + j]` for
    /// `i < mr`, `j < nr` (a tile column is a contiguous run of `dst`).
    ///
    /// # Safety
    /// `c` is writable at those elements; the host supports the kernel.
    unsafe fn store_transposed(
        t: &[f32; TILE],
        c: *mut f32,
        cs: usize,
        mr: usize,
        nr: usize,
        acc: bool,
    ) {
        store_columns(t, Self::NR, c, cs, (mr, 0, nr), acc);
    }
}

/// Whether the kernel reads B in place: its rows are contiguous and the
/// rows of `dst` are too few to pay for packing every B panel.
fn direct_b(m: usize, rhs: Mat) -> bool {
    rhs.cs == 1 && m <= 64
}

/// Whether the kernel reads A in place: its rows are contiguous (eight
/// row streams prefetch as well as one packed panel, and packing
/// row-major A is a scalar transpose).
fn direct_a(lhs: Mat) -> bool {
    lhs.cs == 1
}

/// The output: element `(i, j)` at `ptr + i*rs + j*cs`, with `rs == 1` or
/// `cs == 1`.
#[derive(Clone, Copy)]
pub struct Dst {
    pub ptr: *mut f32,
    pub rs: usize,
    pub cs: usize,
}

/// The largest `MR * NR` of the kernels (the bounce tile's size).
pub(super) const TILE: usize = 256;

/// Stores one tile: straight from the kernel when `dst` rows are
/// contiguous, else through a bounce tile transposed into `dst`.
///
/// # Safety
/// As for [`MicroKernel::tile`], with `c` the tile's origin in `dst`.
#[allow(clippy::too_many_arguments)]
unsafe fn tile<K: MicroKernel>(
    kc: usize,
    a: Mat,
    (b, b_rs): (*const f32, usize),
    dst: Dst,
    c: *mut f32,
    mr: usize,
    nr: usize,
    acc: bool,
) {
    if dst.cs == 1 {
        return K::tile(kc, a, b, b_rs, c, dst.rs, mr, nr, acc);
    }
    let mut t = [0f32; TILE];
    K::tile(kc, a, b, b_rs, t.as_mut_ptr(), K::NR, mr, nr, false);
    K::store_transposed(&t, c, dst.cs, mr, nr, acc);
}

/// `c[j * cs + i] (+)= t[i * nr_stride + j]` for `i < mr`, `j < nr`:
/// tile columns `from..nr` one element at a time.
///
/// # Safety
/// `c` is writable at those elements.
pub(super) unsafe fn store_columns(
    t: &[f32; TILE],
    nr_stride: usize,
    c: *mut f32,
    cs: usize,
    (mr, from, nr): (usize, usize, usize),
    acc: bool,
) {
    for j in from..nr {
        let d = std::slice::from_raw_parts_mut(c.add(j * cs), mr);
        for (i, d) in d.iter_mut().enumerate() {
            let v = t[i * nr_stride + j];
            *d = if acc { *d + v } else { v };
        }
    }
}

/// `dst (+)= lhs @ rhs` (see `sgemm`).
///
/// # Safety
/// As for `sgemm`, and `K` must be supported by the host.
pub unsafe fn run<K: MicroKernel>(
    (m, n, k): (usize, usize, usize),
    dst: Dst,
    lhs: Mat,
    rhs: Mat,
    accumulate: bool,
) {
    const { assert!(K::MR * K::NR <= TILE) };
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    *dst.ptr.add(i * dst.rs + j * dst.cs) = 0.0;
                }
            }
        }
        return;
    }
    let mc_max = (MC / K::MR * K::MR).min(m.next_multiple_of(K::MR));
    let kc_max = KC.min(k);
    let direct = direct_b(m, rhs);
    let in_place_a = direct_a(lhs);
    let nc_max = if direct {
        K::NR
    } else {
        NC.min(n.next_multiple_of(K::NR))
    };
    let a_len = mc_max * kc_max;
    debug_assert!(a_len + nc_max * kc_max <= PACKED);
    scratch::with(PACKED, |buf| {
        let (pa, pb) = (buf, buf.add(a_len));
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let acc = accumulate || pc > 0;
                // In place, only the ragged last panel is packed.
                let packed_from = if direct { nc / K::NR * K::NR } else { 0 };
                if packed_from < nc {
                    pack_b::<K>(rhs.at(pc, jc + packed_from), kc, nc - packed_from, pb);
                }
                for ic in (0..m).step_by(mc_max) {
                    let mc = mc_max.min(m - ic);
                    // In place, only the ragged last panel is packed.
                    let a_from = if in_place_a { mc / K::MR * K::MR } else { 0 };
                    if a_from < mc {
                        pack_a::<K>(lhs.at(ic + a_from, pc), mc - a_from, kc, pa);
                    }
                    for jr in (0..nc).step_by(K::NR) {
                        let nr = K::NR.min(nc - jr);
                        let (b, b_rs) = if jr < packed_from {
                            (rhs.at(pc, jc + jr).ptr, rhs.rs as usize)
                        } else {
                            (pb.add((jr - packed_from) * kc).cast_const(), K::NR)
                        };
                        for ir in (0..mc).step_by(K::MR) {
                            let c = dst.ptr.add((ic + ir) * dst.rs + (jc + jr) * dst.cs);
                            let a = if ir < a_from {
                                lhs.at(ic + ir, pc)
                            } else {
                                Mat {
                                    ptr: pa.add((ir - a_from) * kc),
                                    rs: 1,
                                    cs: K::MR as isize,
                                }
                            };
                            let mr = K::MR.min(mc - ir);
                            tile::<K>(kc, a, (b, b_rs), dst, c, mr, nr, acc);
                        }
                    }
                }
            }
        }
    });
}

/// Packs `src[0..mc, 0..kc]` into `MR`-row panels, zero-padded: element
/// `(i, p)` of panel `q` at `q*MR*kc + p*MR + i`.
///
/// # Safety
/// `src` readable at the block, `dst` writable at `ceil(mc/MR)*MR*kc`.
unsafe fn pack_a<K: MicroKernel>(src: Mat, mc: usize, kc: usize, dst: *mut f32) {
    if src.rs == 1 {
        // Transposed A: each depth step's column is contiguous.
        for q in 0..mc.div_ceil(K::MR) {
            let rows = K::MR.min(mc - q * K::MR);
            for p in 0..kc {
                let (s, d) = (src.at(q * K::MR, p).ptr, dst.add((q * kc + p) * K::MR));
                if rows == K::MR {
                    // A constant length: an inlined copy, not a memcpy call.
                    std::ptr::copy_nonoverlapping(s, d, K::MR);
                } else {
                    std::ptr::copy_nonoverlapping(s, d, rows);
                    std::ptr::write_bytes(d.add(rows), 0, K::MR - rows);
                }
            }
        }
        return;
    }
    for q in 0..mc.div_ceil(K::MR) {
        let panel = dst.add(q * K::MR * kc);
        for i in 0..K::MR {
            let row = q * K::MR + i;
            if row >= mc {
                for p in 0..kc {
                    *panel.add(p * K::MR + i) = 0.0;
                }
                continue;
            }
            let s = src.at(row, 0);
            for p in 0..kc {
                *panel.add(p * K::MR + i) = *s.ptr.offset(p as isize * s.cs);
            }
        }
    }
}

/// Packs `src[0..kc, 0..nc]` into `NR`-column panels, zero-padded: element
/// `(p, j)` of panel `q` at `q*NR*kc + p*NR + j`.
///
/// # Safety
/// `src` readable at the block, `dst` writable at `ceil(nc/NR)*NR*kc`.
unsafe fn pack_b<K: MicroKernel>(src: Mat, kc: usize, nc: usize, dst: *mut f32) {
    for q in 0..nc.div_ceil(K::NR) {
        let panel = dst.add(q * K::NR * kc);
        let cols = K::NR.min(nc - q * K::NR);
        if src.rs == 1 && src.cs != 1 {
            // Transposed B: walk each column's contiguous run.
            for j in 0..K::NR {
                let s = src.at(0, q * K::NR + j.min(cols - 1));
                for p in 0..kc {
                    *panel.add(p * K::NR + j) = if j < cols { *s.ptr.add(p) } else { 0.0 };
                }
            }
            continue;
        }
        for p in 0..kc {
            let s = src.at(p, q * K::NR);
            let d = panel.add(p * K::NR);
            if s.cs == 1 && cols == K::NR {
                std::ptr::copy_nonoverlapping(s.ptr, d, K::NR);
            } else if s.cs == 1 {
                std::ptr::copy_nonoverlapping(s.ptr, d, cols);
            } else {
                for j in 0..cols {
                    *d.add(j) = *s.ptr.offset(j as isize * s.cs);
                }
            }
            for j in cols..K::NR {
                *d.add(j) = 0.0;
            }
        }
    }
}
