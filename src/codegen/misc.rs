//! Non-contraction routines the JIT code calls once per buffer: argmax,
//! gather/scatter-add and the random ops (Philox, exactly as the
//! reference).

use std::slice;

use super::helpers::{f32s, geom, i32s};
use crate::ir::rng;

/// Geometry `[outer, len, inner]`: `x: [outer, len, inner]` -> `i32[outer, inner]`.
pub unsafe extern "C" fn argmax(x: *mut u8, out: *mut u8, _: *mut u8, _: *mut u8, g: *const i64) {
    let &[outer, len, inner] = geom(g, 3) else {
        return;
    };
    let x = f32s(x, outer * len * inner);
    let out = slice::from_raw_parts_mut(out.cast::<i32>(), outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| x[(o * len + k) * inner + i];
            let mut best = 0;
            for k in 1..len {
                if at(k) > at(best) {
                    best = k;
                }
            }
            out[o * inner + i] = best as i32;
        }
    }
}

/// Geometry `[V, D, ids]`: rows of `table` by id, zeros when out of range.
pub unsafe extern "C" fn gather(t: *mut u8, ids: *mut u8, out: *mut u8, _: *mut u8, g: *const i64) {
    let &[v, d, n] = geom(g, 3) else {
        return;
    };
    let (t, ids, out) = (f32s(t, v * d), i32s(ids, n), f32s(out, n * d));
    for (row, &id) in out.chunks_exact_mut(d.max(1)).zip(ids) {
        match usize::try_from(id).ok().filter(|&i| i < v) {
            Some(i) => row.copy_from_slice(&t[i * d..(i + 1) * d]),
            None => row.fill(0.0),
        }
    }
}

/// Geometry `[rows, D, ids]`: `out[id] += upd[k]`, out-of-range ids dropped.
pub unsafe extern "C" fn scatter_add(
    ids: *mut u8,
    upd: *mut u8,
    out: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let &[rows, d, n] = geom(g, 3) else {
        return;
    };
    let (ids, upd, out) = (i32s(ids, n), f32s(upd, n * d), f32s(out, rows * d));
    out.fill(0.0);
    for (k, &id) in ids.iter().enumerate() {
        if let Some(i) = usize::try_from(id).ok().filter(|&i| i < rows) {
            for j in 0..d {
                out[i * d + j] += upd[k * d + j];
            }
        }
    }
}

/// Geometry `[n, stream, p as f32 bits]`.
pub unsafe extern "C" fn bernoulli(
    seed: *mut u8,
    step: *mut u8,
    out: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let &[n, stream, p] = geom(g, 3) else {
        return;
    };
    let (seed, step) = (*seed.cast::<u32>(), *step.cast::<u32>());
    let p = f32::from_bits(p as u32);
    for (i, o) in f32s(out, n).iter_mut().enumerate() {
        *o = rng::bernoulli(seed, step, stream as u32, i, p);
    }
}

/// Geometry `[n, stream]`.
pub unsafe extern "C" fn normal(
    seed: *mut u8,
    step: *mut u8,
    out: *mut u8,
    _: *mut u8,
    g: *const i64,
) {
    let &[n, stream] = geom(g, 2) else {
        return;
    };
    let (seed, step) = (*seed.cast::<u32>(), *step.cast::<u32>());
    for (i, o) in f32s(out, n).iter_mut().enumerate() {
        *o = rng::normal(seed, step, stream as u32, i);
    }
}
