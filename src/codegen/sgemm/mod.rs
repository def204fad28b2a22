//! Our f32 GEMM: `dst[m, n] (+)= lhs[m, k] @ rhs[k, n]` with arbitrary
//! operand strides (the backward pass reads transposed operands in place),
//! `dst` row-major with a row stride.
//!
//! BLIS-style blocking (`block`): B is packed into panels of `NR` columns
//! (`KC x NC` block, L2/L3), A into panels of `MR` rows (`MC x KC` block,
//! L2); a register-tiled micro-kernel computes one `MR x NR` tile from an A
//! panel and a B panel (L1). When B's rows are already contiguous and the
//! block is small, the kernel reads B in place instead of packing it.
//! Packing buffers live in a per-thread [`scratch`] that grows to the
//! largest product seen and is then reused: a steady-state training step
//! allocates nothing here.
//!
//! Micro-kernels by [`Level`], chosen once at run time with
//! `is_x86_feature_detected!` (override: `DLC_SGEMM=avx512|avx2|scalar`,
//! or pass a level to [`sgemm`] directly as the tests do): AVX-512F
//! (`avx512`, 8 x 32 tile in 16 zmm accumulators), AVX2 + FMA (`avx2`,
//! 6 x 16), and portable Rust (`scalar`, 4 x 8). Narrow products and
//! those of a transposed B with few rows are computed transposed, their
//! tiles stored through a bounce tile (8 x 8 register transposes on
//! AVX-512 hosts). `threads > 1` splits the columns (or rows) of the
//! product as computed across the team's threads, each with its own
//! scratch. Products of at most four rows (batch-1 predict) skip blocking
//! on AVX-512 and AVX2 (`gemv`).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod block;
#[cfg(target_arch = "x86_64")]
mod gemv;
mod scalar;
mod scratch;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use block::Dst;

/// A strided matrix operand: element `(i, j)` is at `ptr + i*rs + j*cs`.
#[derive(Clone, Copy, Debug)]
pub struct Mat {
    pub ptr: *const f32,
    pub rs: isize,
    pub cs: isize,
}

impl Mat {
    /// A row-major matrix with `cols` columns, or its transpose when `t`.
    pub fn row_major(ptr: *const f32, cols: usize, t: bool) -> Mat {
        let (rs, cs) = if t {
            (1, cols as isize)
        } else {
            (cols as isize, 1)
        };
        Mat { ptr, rs, cs }
    }

    /// The transpose.
    fn t(self) -> Mat {
        Mat {
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// The operand starting at element `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` must lie inside the matrix.
    unsafe fn at(self, i: usize, j: usize) -> Mat {
        Mat {
            ptr: self.ptr.offset(i as isize * self.rs + j as isize * self.cs),
            ..self
        }
    }
}

/// Which micro-kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Avx512,
    Avx2,
    Scalar,
}

impl Level {
    /// Every level this host can run, best first.
    pub fn available() -> Vec<Level> {
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                v.push(Level::Avx512);
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                v.push(Level::Avx2);
            }
        }
        v.push(Level::Scalar);
        v
    }

    /// The level used by [`gemm`]: the best available, unless
    /// `DLC_SGEMM` names another available one. Decided once.
    pub fn host() -> Level {
        static HOST: OnceLock<Level> = OnceLock::new();
        *HOST.get_or_init(|| {
            let avail = Level::available();
            let wanted = match std::env::var("DLC_SGEMM").as_deref() {
                Ok("avx512") => Some(Level::Avx512),
                Ok("avx2") => Some(Level::Avx2),
                Ok("scalar") => Some(Level::Scalar),
                _ => None,
            };
            wanted.filter(|l| avail.contains(l)).unwrap_or(avail[0])
        })
    }
}

/// [`sgemm`] at the host's level.
///
/// # Safety
/// As for [`sgemm`].
pub unsafe fn gemm(
    dims: (usize, usize, usize),
    dst: *mut f32,
    dst_rs: usize,
    lhs: Mat,
    rhs: Mat,
    accumulate: bool,
    threads: usize,
) {
    sgemm(
        Level::host(),
        dims,
        dst,
        dst_rs,
        lhs,
        rhs,
        accumulate,
        threads,
    );
}

/// Raw pointers shared by the threads of one product.
#[derive(Clone, Copy)]
struct Job {
    dst: Dst,
    lhs: Mat,
    rhs: Mat,
}

impl Job {
    /// The part from column `lo` (`split_n`) or row `lo` on.
    ///
    /// # Safety
    /// `lo` must be inside the matrices.
    unsafe fn from(self, split_n: bool, lo: usize) -> Job {
        if split_n {
            Job {
                dst: Dst {
                    ptr: self.dst.ptr.add(lo * self.dst.cs),
                    ..self.dst
                },
                rhs: self.rhs.at(0, lo),
                ..self
            }
        } else {
            Job {
                dst: Dst {
                    ptr: self.dst.ptr.add(lo * self.dst.rs),
                    ..self.dst
                },
                lhs: self.lhs.at(lo, 0),
                ..self
            }
        }
    }
}

// SAFETY: the workers of one product write disjoint parts of `dst` and only
// read `lhs` and `rhs`, which the caller keeps alive for the whole call.
unsafe impl Send for Job {}
// SAFETY: as above.
unsafe impl Sync for Job {}

/// `dst[m, n] = lhs @ rhs`, or `dst += lhs @ rhs` when `accumulate`, with
/// `(m, n, k) = dims`; `dst` is row-major with row stride `dst_rs`.
///
/// # Safety
/// `lhs` must be readable at every `(i < m, p < k)`, `rhs` at every
/// `(p < k, j < n)`, `dst` writable at every `i * dst_rs + j` for `i < m`,
/// `j < n`, and `dst` must not overlap the operands. `level` must be one of
/// [`Level::available`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    level: Level,
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_rs: usize,
    lhs: Mat,
    rhs: Mat,
    accumulate: bool,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let narrow = n < 16 && m > n;
    let rhs_transposed = rhs.rs == 1 && rhs.cs != 1 && m <= 32 && n > m;
    let transposed = narrow || rhs_transposed;
    let ((m, n, k), job) = if transposed {
        // Compute `dst^T = rhs^T @ lhs^T`: its tiles are full (narrow), or
        // its A is read in place instead of packing a transposed B.
        let dst = Dst {
            ptr: dst,
            rs: 1,
            cs: dst_rs,
        };
        let job = Job {
            dst,
            lhs: rhs.t(),
            rhs: lhs.t(),
        };
        ((n, m, k), job)
    } else {
        let dst = Dst {
            ptr: dst,
            rs: dst_rs,
            cs: 1,
        };
        ((m, n, k), Job { dst, lhs, rhs })
    };
    let parts = threads.clamp(1, 64);
    #[cfg(target_arch = "x86_64")]
    if !transposed && gemv::fits(m, rhs) && level != Level::Scalar {
        let run = |dims, job: Job| match level {
            Level::Avx512 => gemv::run_avx512(dims, job.dst, job.lhs, job.rhs, accumulate),
            _ => gemv::run_avx2(dims, job.dst, job.lhs, job.rhs, accumulate),
        };
        // A batch-1 product streams B once; above ~1 MiB of it (a dense
        // layer on a flattened feature map) the threads each stream a
        // band of 64-column panels, from their own cache.
        if parts == 1 || k * n < GEMV_SHARE_MIN || n < 128 {
            return run((m, n, k), job);
        }
        super::team::chunks(n, parts, 64, |lo, hi| {
            // SAFETY: `lo < n`; the parts write disjoint columns of `dst`.
            unsafe { run((m, hi - lo, k), job.from(true, lo)) };
        });
        return;
    }
    // Below ~1 MFLOP (under ten microseconds) handing out the parts
    // costs more than it saves. (With rayon, which woke sleeping workers
    // per job, the break-even was near 8 MFLOP; the team's workers spin
    // between jobs.)
    if parts == 1 || 2 * m * n * k < 1 << 20 {
        return serial(level, (m, n, k), job, accumulate);
    }
    // Split the wider side in chunks that keep whole 32-column panels.
    let split_n = n >= 64 * parts || n >= m;
    let len = if split_n { n } else { m };
    super::team::chunks(len, parts, 32, |lo, hi| {
        let dims = if split_n {
            (m, hi - lo, k)
        } else {
            (hi - lo, n, k)
        };
        // SAFETY: `lo < len`, so the part starts inside the matrices; the
        // parts write disjoint rows or columns of `dst`.
        unsafe {
            let part = job.from(split_n, lo);
            serial(level, dims, part, accumulate);
        }
    });
}

/// Makes this thread's packing space now, so that no product it runs
/// later allocates (the team's workers call it when they start).
pub(super) fn warm_thread() {
    scratch::with(block::PACKED, |_| ());
}

/// Floats of B above which a product of at most four rows is shared.
const GEMV_SHARE_MIN: usize = 1 << 18;

/// One thread's product.
///
/// # Safety
/// As for [`sgemm`].
unsafe fn serial(level: Level, dims: (usize, usize, usize), job: Job, accumulate: bool) {
    let Job { dst, lhs, rhs } = job;
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => block::run::<avx512::Kernel>(dims, dst, lhs, rhs, accumulate),
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => block::run::<avx2::Kernel>(dims, dst, lhs, rhs, accumulate),
        #[cfg(not(target_arch = "x86_64"))]
        Level::Avx512 | Level::Avx2 => {
            block::run::<scalar::Kernel>(dims, dst, lhs, rhs, accumulate)
        }
        Level::Scalar => block::run::<scalar::Kernel>(dims, dst, lhs, rhs, accumulate),
    }
}
