//! Static memory plan: one arena, a fixed offset per buffer.
//!
//! After fusion the kernel sequence is fixed, so every buffer has a known
//! live interval `[first kernel that touches it, last kernel that touches
//! it]`. Buffers are placed greedily in kernel order, first fit into the
//! free ranges left by buffers that died earlier (a buffer born at kernel
//! `k` never reuses space freed at `k`, since kernel `k` still reads it).
//! Offsets are 64-byte aligned. The engine allocates the arena once, so a
//! step does no heap allocation.

/// A buffer's size and live range, in kernel indices (inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub bytes: usize,
    pub first: usize,
    pub last: usize,
}

/// Byte offsets (one per interval, in order) and the arena size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemPlan {
    pub offsets: Vec<usize>,
    pub arena_bytes: usize,
}

const ALIGN: usize = 64;

fn align(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// Places every interval; overlapping live ranges never share bytes.
pub fn memplan(intervals: &[Interval]) -> MemPlan {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by_key(|&i| (intervals[i].first, std::cmp::Reverse(intervals[i].bytes)));
    let mut offsets = vec![0; intervals.len()];
    // Live placements: (offset, size, last use).
    let mut live: Vec<(usize, usize, usize)> = Vec::new();
    let mut arena = 0;
    for i in order {
        let iv = intervals[i];
        live.retain(|&(_, _, last)| last >= iv.first);
        let size = align(iv.bytes.max(1));
        let off = first_fit(&mut live, size);
        live.push((off, size, iv.last));
        offsets[i] = off;
        arena = arena.max(off + size);
    }
    MemPlan {
        offsets,
        arena_bytes: arena,
    }
}

/// The lowest offset where `size` bytes fit between live placements.
fn first_fit(live: &mut [(usize, usize, usize)], size: usize) -> usize {
    live.sort_unstable_by_key(|p| p.0);
    let mut at = 0;
    for &(off, len, _) in live.iter() {
        if off >= at + size {
            return at;
        }
        at = at.max(off + len);
    }
    at
}

/// Whether two intervals are live at the same kernel.
pub fn overlaps(a: &Interval, b: &Interval) -> bool {
    a.first <= b.last && b.first <= a.last
}

#[cfg(test)]
mod tests {
    use super::{memplan, overlaps, Interval};

    #[test]
    fn disjoint_lifetimes_share_and_overlapping_ones_do_not() {
        let iv = |bytes, first, last| Interval { bytes, first, last };
        let ivs = [iv(100, 0, 1), iv(100, 1, 2), iv(64, 2, 3), iv(200, 3, 3)];
        let plan = memplan(&ivs);
        for (i, a) in ivs.iter().enumerate() {
            for (j, b) in ivs.iter().enumerate().skip(i + 1) {
                if overlaps(a, b) {
                    let (x, y) = (plan.offsets[i], plan.offsets[j]);
                    let disjoint = x + a.bytes <= y || y + b.bytes <= x;
                    assert!(disjoint, "{i} and {j} overlap in memory");
                }
            }
        }
        // The first buffer dies at kernel 1, so the third reuses its bytes.
        assert_eq!(plan.offsets[2], plan.offsets[0]);
        assert!(plan.arena_bytes < 100 + 100 + 64 + 200);
    }
}
