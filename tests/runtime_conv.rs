//! The interpreter's im2col convolution against a direct seven-loop
//! convolution, and its two gradients against the adjoint identities
//! `<conv(x, w), dy> = <x, grad_input(dy, w)> = <w, grad_weight(x, dy)>`.

use dlc::ir::interp_nn::{conv2d, conv2d_grad_input, conv2d_grad_weight};
use ndarray::{ArrayD, IxDyn};

fn array(shape: &[usize], salt: u64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    let values = (0..n as u64)
        .map(|i| {
            let h = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            ((h >> 11) % 2001) as f64 / 1000.0 - 1.0
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).unwrap()
}

/// `y[b, f, i, j] = sum over c, p, q of x[b, c, i*S + p - P, j*S + q - P] * w[f, c, p, q]`.
fn direct(x: &ArrayD<f64>, w: &ArrayD<f64>, stride: usize, pad: usize) -> ArrayD<f64> {
    let (xs, ws) = (x.shape(), w.shape());
    let (oh, ow) = (
        (xs[2] + 2 * pad - ws[2]) / stride + 1,
        (xs[3] + 2 * pad - ws[3]) / stride + 1,
    );
    let mut y = ArrayD::zeros(IxDyn(&[xs[0], ws[0], oh, ow]));
    for b in 0..xs[0] {
        for f in 0..ws[0] {
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc = 0.0;
                    for c in 0..xs[1] {
                        for p in 0..ws[2] {
                            for q in 0..ws[3] {
                                let (r, s) = (
                                    (i * stride + p) as isize - pad as isize,
                                    (j * stride + q) as isize - pad as isize,
                                );
                                if r >= 0 && s >= 0 && (r as usize) < xs[2] && (s as usize) < xs[3]
                                {
                                    acc += x[[b, c, r as usize, s as usize]] * w[[f, c, p, q]];
                                }
                            }
                        }
                    }
                    y[[b, f, i, j]] = acc;
                }
            }
        }
    }
    y
}

fn dot(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn im2col_convolution_matches_the_direct_loops() {
    for (x, w, stride, pad) in [
        (vec![2, 3, 6, 5], vec![4, 3, 3, 3], 1, 0),
        (vec![1, 2, 5, 5], vec![3, 2, 3, 3], 1, 1),
        (vec![2, 1, 7, 6], vec![2, 1, 2, 3], 2, 1),
        (vec![1, 2, 4, 4], vec![1, 2, 4, 4], 3, 2),
    ] {
        let (x, w) = (array(&x, 1), array(&w, 2));
        let (fast, slow) = (conv2d(&x, &w, stride, pad), direct(&x, &w, stride, pad));
        assert_eq!(fast.shape(), slow.shape());
        let worst = fast
            .iter()
            .zip(&slow)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-12,
            "stride {stride} pad {pad}: largest difference {worst}"
        );
        let dy = array(fast.shape(), 3);
        let hw = [x.shape()[2], x.shape()[3]];
        let khw = [w.shape()[2], w.shape()[3]];
        let dx = conv2d_grad_input(&dy, &w, stride, pad, hw);
        let dw = conv2d_grad_weight(&x, &dy, stride, pad, khw);
        let (lhs, via_x, via_w) = (dot(&slow, &dy), dot(&x, &dx), dot(&w, &dw));
        assert!((lhs - via_x).abs() < 1e-9, "grad_input: {lhs} vs {via_x}");
        assert!((lhs - via_w).abs() < 1e-9, "grad_weight: {lhs} vs {via_w}");
    }
}
