//! Counter-based random numbers: Philox 4x32-10 (Salmon et al., "Parallel
//! random numbers: as easy as 1, 2, 3", SC 2011).
//!
//! Philox is a keyed bijection on 128-bit counters: ten rounds of two 32x32
//! multiplies with the key added between rounds. Any element of any random
//! tensor can be computed on its own, in any order and on any thread, which
//! is what lets the JIT and this reference produce identical masks.
//!
//! Keying (the contract the JIT must follow):
//! - key     = `[seed, stream]`, `stream` being the random op's attribute
//!   (its node id when it was created, stable under later passes);
//! - counter = `[index / 4, 0, step, 0]` for `bernoulli`, whose element
//!   `index` (row-major) takes word `index % 4` of the block, and
//!   `[index, 1, step, 0]` for `normal_like`, whose element takes words 0
//!   and 1 (Box-Muller). Tensors above 2^32 elements are not supported.
//!
//! Seed and step arrive as `i32[]` graph inputs; the interpreter carries
//! integers in float arrays, so in `f32` they are exact only below 2^24.
//!
//! Conversions use only integer arithmetic or `f32` maths, so results do not
//! depend on the interpreter's float type.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox 4x32 with 10 rounds.
pub fn philox4x32(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = u64::from(M0) * u64::from(c[0]);
        let p1 = u64::from(M1) * u64::from(c[2]);
        c = [
            (p1 >> 32) as u32 ^ c[1] ^ k[0],
            p1 as u32,
            (p0 >> 32) as u32 ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// The 32 random bits of element `index` of a tensor.
pub fn bits(seed: u32, step: u32, stream: u32, index: usize) -> u32 {
    let block = philox4x32([(index / 4) as u32, 0, step, 0], [seed, stream]);
    block[index % 4]
}

/// Bernoulli(p) as 0/1: the top 24 bits compared with `p * 2^24` rounded.
pub fn bernoulli(seed: u32, step: u32, stream: u32, index: usize, p: f32) -> f32 {
    let threshold = (f64::from(p) * 16_777_216.0).round() as u32;
    if bits(seed, step, stream, index) >> 8 < threshold {
        1.0
    } else {
        0.0
    }
}

/// A uniform in (0, 1] from the top 24 bits, never zero so `ln` is finite.
fn open_uniform(b: u32) -> f32 {
    ((b >> 8) + 1) as f32 * (1.0 / 16_777_216.0)
}

/// Standard normal by Box-Muller, from two words of element `index`'s own
/// Philox block (counter `[index, 1, step, 0]`, apart from Bernoulli's).
pub fn normal(seed: u32, step: u32, stream: u32, index: usize) -> f32 {
    let block = philox4x32([index as u32, 1, step, 0], [seed, stream]);
    let (u1, u2) = (open_uniform(block[0]), open_uniform(block[1]));
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::philox4x32;

    /// Known-answer vectors from Random123's `kat_vectors`.
    #[test]
    fn philox_known_answers() {
        assert_eq!(
            philox4x32([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }
}
