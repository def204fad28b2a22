//! Series helpers for data blocks: sliding windows, the value after each
//! window, and standardisation.

use super::Array;

/// Every run of `size` values that has one more value after it:
/// `[n] -> [n - size, size]`. Callers ensure `0 < size < series.len()`.
pub fn windows(series: &[f32], size: usize) -> Array {
    let n = series.len().saturating_sub(size);
    let mut values = Vec::with_capacity(n * size);
    for i in 0..n {
        values.extend_from_slice(&series[i..i + size]);
    }
    Array {
        shape: vec![n, size],
        values,
    }
}

/// The value following each window of [`windows`]: `[n] -> [n - size]`.
pub fn next_values(series: &[f32], size: usize) -> Array {
    let values: Vec<f32> = series.iter().skip(size).copied().collect();
    Array {
        shape: vec![values.len()],
        values,
    }
}

/// `(x - mean(like)) / std(like)`, the population standard deviation; a
/// constant `like` only has its mean subtracted.
pub fn normalize(x: &[f32], like: &[f32]) -> Vec<f32> {
    let n = like.len().max(1) as f64;
    let mean = like.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = like.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let std = if var > 0.0 { var.sqrt() } else { 1.0 };
    x.iter()
        .map(|&v| ((v as f64 - mean) / std) as f32)
        .collect()
}
