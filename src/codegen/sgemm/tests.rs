//! Our GEMM against a naive f64 triple loop: shapes from 1 to ~300
//! (primes, panel and block edges), the four transpose combinations,
//! accumulate on and off, every dispatch level, one and two threads.

use proptest::prelude::*;

use super::{sgemm, Level, Mat};

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 2001) as f32 / 1000.0 - 1.0
        })
        .collect()
}

struct Case {
    m: usize,
    n: usize,
    k: usize,
    ta: bool,
    tb: bool,
    acc: bool,
    threads: usize,
}

/// Runs one case at `level`; panics with the first bad element.
fn check(level: Level, c: &Case) {
    let Case {
        m,
        n,
        k,
        ta,
        tb,
        acc,
        threads,
    } = *c;
    let a = values(m * k, (m * 31 + k) as u32);
    let b = values(k * n, (n * 17 + k + 5) as u32);
    let dst_rs = n + 3; // a row stride wider than the row
    let init = values(m * dst_rs, 99);
    let mut d = init.clone();
    let lhs = Mat::row_major(a.as_ptr(), if ta { m } else { k }, ta);
    let rhs = Mat::row_major(b.as_ptr(), if tb { k } else { n }, tb);
    // SAFETY: the buffers have the sizes the strides describe.
    unsafe {
        sgemm(
            level,
            (m, n, k),
            d.as_mut_ptr(),
            dst_rs,
            lhs,
            rhs,
            acc,
            threads,
        );
    }
    let at = |x: &[f32], t: bool, rows: usize, cols: usize, i: usize, j: usize| {
        f64::from(if t { x[j * rows + i] } else { x[i * cols + j] })
    };
    for i in 0..m {
        for j in 0..n {
            let (mut want, mut scale) = (0f64, 0f64);
            for p in 0..k {
                let t = at(&a, ta, m, k, i, p) * at(&b, tb, k, n, p, j);
                want += t;
                scale += t.abs();
            }
            let base = f64::from(init[i * dst_rs + j]);
            if acc {
                want += base;
                scale += base.abs();
            }
            let got = f64::from(d[i * dst_rs + j]);
            assert!(
                (got - want).abs() <= 1e-5 * (scale + 1.0),
                "{level:?} m{m} n{n} k{k} ta{ta} tb{tb} acc{acc} thr{threads}: \
                 [{i},{j}] = {got}, want {want}"
            );
        }
        for j in n..dst_rs {
            assert_eq!(
                d[i * dst_rs + j],
                init[i * dst_rs + j],
                "wrote past the row"
            );
        }
    }
}

fn all_variants(m: usize, n: usize, k: usize, threads: usize) {
    for level in Level::available() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for acc in [false, true] {
                let c = Case {
                    m,
                    n,
                    k,
                    ta,
                    tb,
                    acc,
                    threads,
                };
                check(level, &c);
            }
        }
    }
}

#[test]
fn shapes_at_tile_and_block_edges() {
    let shapes = [
        (1, 1, 1),
        (1, 1, 0),
        (3, 5, 0),
        (5, 3, 0),
        (40, 15, 33),
        (4, 200, 50),
        (2, 65, 300),
        (3, 17, 9),
        (300, 20, 50),
        (101, 32, 40),
        (30, 700, 130),
        (1, 300, 7),
        (300, 1, 13),
        (7, 9, 1),
        (8, 32, 256),
        (9, 33, 257),
        (6, 16, 5),
        (5, 15, 31),
        (32, 256, 64),
        (32, 10, 128),
        (32, 9, 676),
        (9, 676, 32),
        (193, 97, 300),
        (191, 1031, 3),
        (257, 263, 269),
        (128, 2049, 2),
        (385, 40, 17),
    ];
    for (m, n, k) in shapes {
        all_variants(m, n, k, 1);
    }
}

#[test]
fn two_threads_split_rows_and_columns() {
    // Each above the 1 MFLOP threading threshold; the second splits rows.
    // (32, 600, 130) and (20, 700, 90) are computed transposed when B is
    // (a transposed B under 33 rows), (300, 10, 400) always (narrow).
    // The last two are batch-1 and 3-row products over a B of more than
    // 2^18 floats: bands of columns, a ragged last band.
    for (m, n, k) in [
        (128, 300, 130),
        (300, 100, 150),
        (197, 211, 113),
        (33, 1100, 130),
        (32, 600, 130),
        (20, 700, 90),
        (300, 10, 400),
        (1, 333, 900),
        (3, 200, 1400),
    ] {
        all_variants(m, n, k, 2);
    }
}

#[test]
fn levels_are_detected_in_order() {
    let l = Level::available();
    assert_eq!(l.last(), Some(&Level::Scalar));
    assert!(l.contains(&Level::host()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_shapes(m in 1usize..300, n in 1usize..300, k in 1usize..300, ta: bool, tb: bool, acc: bool) {
        for level in Level::available() {
            check(level, &Case { m, n, k, ta, tb, acc, threads: 1 });
        }
    }
}
