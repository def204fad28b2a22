//! Batches: the seeded order of samples in an epoch, gathering a batch's
//! rows, and augmentation of a training batch.
//!
//! Randomness comes from the same counter-based Philox generator as
//! dropout (`ir::rng`), keyed by the run's seed, so a run is reproducible
//! bit for bit and no generator state needs checkpointing: the order of
//! epoch `e` is a function of `(seed, e)` alone, and a batch's augmentation
//! of `(seed, step)`.

use ndarray::{ArrayD, Axis};

use super::coded::Values;
use super::data_block::{Column, Dataset};
use super::protocol::Augment;
use crate::ir::rng;

/// Streams that keep the runtime's random numbers apart from the graph's
/// (whose streams are node ids, far below these).
const SHUFFLE_STREAM: u32 = 0xD1C0_0001;
const AUGMENT_STREAM: u32 = 0xD1C0_0002;

/// The sample order of one epoch: a Fisher-Yates shuffle of `0..n` driven
/// by Philox bits keyed by `(seed, epoch)`, or `0..n` when not shuffling.
pub fn epoch_order(n: usize, seed: u32, epoch: usize, shuffle: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        for i in (1..n).rev() {
            let r = u64::from(rng::bits(seed, epoch as u32, SHUFFLE_STREAM, i));
            let j = ((r * (i as u64 + 1)) >> 32) as usize;
            order.swap(i, j);
        }
    }
    order
}

/// Splits an order into batches of `size`; the last may be smaller.
pub fn batches(order: &[usize], size: usize) -> impl Iterator<Item = &[usize]> {
    order.chunks(size.max(1))
}

/// The samples at `rows`, in that order, as a batch of contiguous `f32`
/// arrays (see [`Values::gather`]).
pub fn gather(data: &Dataset, rows: &[usize]) -> Dataset {
    let columns = data
        .columns
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            values: Values::Dense(c.values.gather(rows)),
            dtype: c.dtype,
        })
        .collect();
    Dataset {
        name: data.name.clone(),
        columns,
        len: rows.len(),
    }
}

/// Applies the augmentations, in order, to a batch `[B, ...]` of images
/// (the last two axes are height and width; noise applies to any shape).
pub fn augment(x: &mut ArrayD<f32>, augments: &[Augment], seed: u32, step: u32) {
    for (k, a) in augments.iter().enumerate() {
        let stream = AUGMENT_STREAM.wrapping_add(k as u32 * 2);
        match a {
            Augment::Flip {
                horizontal,
                vertical,
            } => flip(x, *horizontal, *vertical, seed, step, stream),
            Augment::Shift { pixels } => shift(x, *pixels, seed, step, stream),
            Augment::Noise { std } => {
                for (i, v) in x.iter_mut().enumerate() {
                    *v += std * rng::normal(seed, step, stream, i);
                }
            }
        }
    }
}

/// Uniform in `0..n` from element `i` of a stream.
fn below(n: usize, seed: u32, step: u32, stream: u32, i: usize) -> usize {
    ((u64::from(rng::bits(seed, step, stream, i)) * n as u64) >> 32) as usize
}

/// Mirrors each sample (with probability 1/2 per direction asked for).
fn flip(x: &mut ArrayD<f32>, horizontal: bool, vertical: bool, seed: u32, step: u32, stream: u32) {
    let rank = x.ndim();
    if rank < 3 {
        return;
    }
    for (b, mut sample) in x.axis_iter_mut(Axis(0)).enumerate() {
        if horizontal && below(2, seed, step, stream, 2 * b) == 1 {
            sample.invert_axis(Axis(rank - 2));
            let flipped = sample.to_owned();
            sample.invert_axis(Axis(rank - 2));
            sample.assign(&flipped);
        }
        if vertical && below(2, seed, step, stream, 2 * b + 1) == 1 {
            sample.invert_axis(Axis(rank - 3));
            let flipped = sample.to_owned();
            sample.invert_axis(Axis(rank - 3));
            sample.assign(&flipped);
        }
    }
}

/// Moves each sample by up to `pixels` in each direction, filling with 0.
fn shift(x: &mut ArrayD<f32>, pixels: usize, seed: u32, step: u32, stream: u32) {
    let rank = x.ndim();
    if rank < 3 || pixels == 0 {
        return;
    }
    let (h, w) = (x.shape()[rank - 2], x.shape()[rank - 1]);
    let span = 2 * pixels + 1;
    for (b, mut sample) in x.axis_iter_mut(Axis(0)).enumerate() {
        let dy = below(span, seed, step, stream + 1, 2 * b) as isize - pixels as isize;
        let dx = below(span, seed, step, stream + 1, 2 * b + 1) as isize - pixels as isize;
        let src = sample.to_owned();
        let planes = sample.len() / (h * w);
        let (Some(out), Some(inp)) = (sample.as_slice_mut(), src.as_slice()) else {
            continue;
        };
        for p in 0..planes {
            for r in 0..h {
                for c in 0..w {
                    let (sr, sc) = (r as isize - dy, c as isize - dx);
                    let inside = sr >= 0 && sc >= 0 && (sr as usize) < h && (sc as usize) < w;
                    out[p * h * w + r * w + c] = if inside {
                        inp[p * h * w + sr as usize * w + sc as usize]
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}
