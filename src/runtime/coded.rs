//! Compact storage for data whose values come from a byte-typed file.
//!
//! An image data set is a `u8` file and a field like `idx(...) / 255`: 60,000
//! Fashion-MNIST images are 47 MB as bytes and 188 MB as `f32`. Such a
//! field has at most 256 distinct values, so it is kept as its byte
//! [codes](Coded::codes) and a 256-entry table of the values they stand
//! for. Elementwise arithmetic with a number maps the table (the same `f32`
//! arithmetic the dense path does, value for value, so nothing changes but
//! the memory), and a batch is decoded when it is fed to a step. Anything else
//! (indexing, arithmetic between two arrays, series helpers) decodes first.

use std::sync::Arc;

use ndarray::{ArcArray, ArrayD, Axis, IxDyn};

/// How many rows ahead of the one being copied [`Values::gather`] asks
/// the cache for: a batch's rows are scattered over the data set, so
/// without it each row's first lines wait on memory.
const AHEAD: usize = 4;

/// Asks the cache for the `len` elements of row `r` of `all` (nothing
/// when `r` is `None` or off the end, or on other architectures).
fn prefetch_row<T>(all: &[T], r: Option<&usize>, len: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(row) = r.and_then(|&r| all.get(r * len..(r + 1) * len)) {
        let bytes = std::mem::size_of_val(row);
        let base = row.as_ptr().cast::<i8>();
        for off in (0..bytes).step_by(64) {
            // SAFETY: `base + off` is inside `row`; a prefetch has no
            // architectural effect.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(base.add(off))
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (all, r, len);
}

/// Appends `table[k]` for each code `k` to `out`: 16 codes at a time by
/// AVX-512 two-register permutes where the host has them (the 256-entry
/// table in 16 registers, 8 permutes and 7 blends per 16 codes), one
/// lookup at a time otherwise. The values are the table's either way.
fn decode_into(codes: &[u8], table: &[f32; 256], out: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the host has AVX-512F.
        unsafe { decode_avx512(codes, table, out) };
        return;
    }
    out.extend(codes.iter().map(|&k| table[usize::from(k)]));
}

/// [`decode_into`] for hosts with AVX-512F.
///
/// # Safety
/// The host must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn decode_avx512(codes: &[u8], table: &[f32; 256], out: &mut Vec<f32>) {
    use std::arch::x86_64::*;
    let t: [__m512; 16] = std::array::from_fn(|j| _mm512_loadu_ps(table[16 * j..].as_ptr()));
    let whole = codes.len() / 16;
    out.reserve(codes.len());
    let start = out.len();
    let dst = out.as_mut_ptr().add(start);
    for c in 0..whole {
        let idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(codes.as_ptr().add(16 * c).cast()));
        // A permute picks by the low 5 bits from a pair of registers; bits
        // 5..7 say which pair.
        let pair = _mm512_srli_epi32::<5>(idx);
        let mut r = _mm512_permutex2var_ps(t[0], idx, t[1]);
        for p in 1..8 {
            let m = _mm512_cmpeq_epi32_mask(pair, _mm512_set1_epi32(p as i32));
            let v = _mm512_permutex2var_ps(t[2 * p], idx, t[2 * p + 1]);
            r = _mm512_mask_mov_ps(r, m, v);
        }
        _mm512_storeu_ps(dst.add(16 * c), r);
    }
    // SAFETY: the loop wrote `16 * whole` floats after `start`, inside the
    // reserved capacity.
    out.set_len(start + 16 * whole);
    out.extend(codes[16 * whole..].iter().map(|&k| table[usize::from(k)]));
}

/// Values as byte codes into a table: element `i` is `table[codes[i]]`.
#[derive(Clone, Debug)]
pub struct Coded {
    /// Shared: clones (the data loader's cache, fields of other blocks) do
    /// not copy the data.
    pub codes: ArcArray<u8, IxDyn>,
    pub table: Arc<[f32; 256]>,
}

impl Coded {
    /// A byte array standing for its own values.
    pub fn bytes(codes: ArrayD<u8>) -> Coded {
        let mut table = [0.0f32; 256];
        for (i, t) in table.iter_mut().enumerate() {
            *t = i as f32;
        }
        Coded {
            codes: codes.into_shared(),
            table: Arc::new(table),
        }
    }

    pub fn shape(&self) -> &[usize] {
        self.codes.shape()
    }

    /// The same codes standing for `f(value)`.
    pub fn map(&self, f: impl Fn(f32) -> f32) -> Coded {
        let mut table = *self.table;
        for t in &mut table {
            *t = f(*t);
        }
        Coded {
            codes: self.codes.clone(),
            table: Arc::new(table),
        }
    }

    /// The same values in another shape with as many elements (`None`
    /// when the counts differ).
    pub fn reshape(self, shape: &[usize]) -> Option<Coded> {
        let codes = self
            .codes
            .into_shape_with_order(IxDyn(shape))
            .ok()?
            .into_shared();
        Some(Coded {
            codes,
            table: self.table,
        })
    }

    pub fn decode(&self) -> ArrayD<f32> {
        self.codes.mapv(|c| self.table[usize::from(c)])
    }

    /// The samples (first axis) at `rows`, still coded.
    pub fn select(&self, rows: &[usize]) -> Coded {
        Coded {
            codes: self.codes.select(Axis(0), rows).into_shared(),
            table: self.table.clone(),
        }
    }

    /// Each distinct value that occurs, once.
    pub fn used_values(&self) -> Vec<f32> {
        let mut seen = [false; 256];
        for &c in self.codes.iter() {
            seen[usize::from(c)] = true;
        }
        (0..256)
            .filter(|&c| seen[c])
            .map(|c| self.table[c])
            .collect()
    }
}

/// A field's values over the whole data set.
#[derive(Clone, Debug)]
pub enum Values {
    Dense(ArrayD<f32>),
    Coded(Coded),
}

impl Values {
    pub fn shape(&self) -> &[usize] {
        match self {
            Values::Dense(a) => a.shape(),
            Values::Coded(c) => c.shape(),
        }
    }

    /// The samples (first axis) at `rows`, in the same representation.
    pub fn select(&self, rows: &[usize]) -> Values {
        match self {
            Values::Dense(a) => Values::Dense(a.select(Axis(0), rows)),
            Values::Coded(c) => Values::Coded(c.select(rows)),
        }
    }

    /// The samples at `rows`, in that order, as one contiguous `f32`
    /// array: whole rows copied (or decoded) at a time; ndarray's `select`
    /// is the fallback for a non-contiguous dense array.
    pub fn gather(&self, rows: &[usize]) -> ArrayD<f32> {
        let mut shape = self.shape().to_vec();
        let row = shape.iter().skip(1).product::<usize>();
        shape[0] = rows.len();
        let mut v = Vec::with_capacity(rows.len() * row);
        match self {
            Values::Dense(a) => match a.as_slice() {
                Some(all) => {
                    for (i, &r) in rows.iter().enumerate() {
                        prefetch_row(all, rows.get(i + AHEAD), row);
                        v.extend_from_slice(&all[r * row..(r + 1) * row]);
                    }
                }
                None => return a.select(Axis(0), rows),
            },
            Values::Coded(c) => match c.codes.as_slice() {
                Some(all) => {
                    let table: &[f32; 256] = &c.table;
                    for (i, &r) in rows.iter().enumerate() {
                        prefetch_row(all, rows.get(i + AHEAD), row);
                        decode_into(&all[r * row..(r + 1) * row], table, &mut v);
                    }
                }
                None => return c.select(rows).decode(),
            },
        }
        ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap_or_else(|_| self.select(rows).into_dense())
    }

    /// Every value as `f32`, moved when already dense.
    pub fn into_dense(self) -> ArrayD<f32> {
        match self {
            Values::Dense(a) => a,
            Values::Coded(c) => c.decode(),
        }
    }

    /// Every value as `f32` (a copy).
    pub fn to_dense(&self) -> ArrayD<f32> {
        match self {
            Values::Dense(a) => a.clone(),
            Values::Coded(c) => c.decode(),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::{Coded, Values};

    /// Rows gathered in any order (repeats, the last row, whose prefetch
    /// look-ahead runs off the end) are the rows of the data, for coded
    /// and dense values alike.
    /// Every code, at every offset in a 16-code block and in a ragged
    /// tail, decodes to its table entry (the AVX-512 permute path where
    /// the host has it).
    #[test]
    fn decoding_gives_each_code_its_table_value() {
        let table: [f32; 256] = std::array::from_fn(|k| (k as f32 * 0.37).sin() - 0.5);
        for len in [0, 5, 16, 37, 256, 300] {
            let codes: Vec<u8> = (0..len).map(|i| (i * 97 + len) as u8).collect();
            let mut out = vec![7.0];
            super::decode_into(&codes, &table, &mut out);
            assert_eq!(out.len(), len + 1);
            assert_eq!(out[0], 7.0);
            for (i, &k) in codes.iter().enumerate() {
                assert_eq!(
                    out[i + 1].to_bits(),
                    table[usize::from(k)].to_bits(),
                    "code {k}"
                );
            }
        }
    }

    #[test]
    fn gather_copies_the_requested_rows_in_order() {
        let (n, row) = (9, 37);
        let bytes: Vec<u8> = (0..n * row).map(|i| (i * 7 % 251) as u8).collect();
        let codes = ArrayD::from_shape_vec(IxDyn(&[n, row]), bytes.clone()).unwrap();
        let coded = Values::Coded(Coded::bytes(codes).map(|v| v / 255.0));
        let dense = Values::Dense(coded.to_dense());
        let rows = [8, 0, 3, 3, 7, 1, 8];
        for values in [&coded, &dense] {
            let got = values.gather(&rows);
            assert_eq!(got.shape(), [rows.len(), row]);
            for (i, &r) in rows.iter().enumerate() {
                for j in 0..row {
                    let want = f32::from(bytes[r * row + j]) / 255.0;
                    assert_eq!(got[[i, j]], want, "row {r}, column {j}");
                }
            }
        }
    }
}
