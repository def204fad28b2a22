//! Shape rules of the neural-network ops: convolution, pooling, gather.
//!
//! Output sizes follow the usual floor formula `(H + 2P - K) / S + 1`; a
//! gradient op takes the forward input's spatial size as an attribute and
//! checks that the forward formula maps it to the size of `dy`.

use super::op::DType;
use super::shape::{arity, want, want_f32, want_i32, Type};

type Rule = Result<Type, String>;

/// `(H + 2P - K) / S + 1`, or an error when the window does not fit.
fn out_len(h: usize, k: usize, stride: usize, pad: usize) -> Result<usize, String> {
    if stride == 0 || k == 0 {
        return Err("stride and window must be positive".into());
    }
    let padded = h + 2 * pad;
    if padded < k {
        return Err(format!("window {k} larger than padded input {padded}"));
    }
    Ok((padded - k) / stride + 1)
}

fn rank4(t: &Type) -> Result<[usize; 4], String> {
    want_f32(t)?;
    <[usize; 4]>::try_from(t.shape.as_slice())
        .map_err(|_| format!("expects rank 4 (NCHW), got {:?}", t.shape))
}

fn conv_out(x: [usize; 4], w: [usize; 4], stride: usize, pad: usize) -> Result<Type, String> {
    let ([b, c, h, wd], [f, wc, kh, kw]) = (x, w);
    if c != wc {
        return Err(format!("input has {c} channels, weight expects {wc}"));
    }
    let oh = out_len(h, kh, stride, pad)?;
    let ow = out_len(wd, kw, stride, pad)?;
    Ok(Type::f32(&[b, f, oh, ow]))
}

/// `x: [B, C, H, W]`, `w: [F, C, KH, KW]` -> `[B, F, OH, OW]`.
pub fn conv2d(ins: &[&Type], stride: usize, pad: usize) -> Rule {
    let [x, w] = arity::<2>(ins)?;
    conv_out(rank4(x)?, rank4(w)?, stride, pad)
}

/// `dy: [B, F, OH, OW]`, `w: [F, C, KH, KW]` -> `[B, C, H, W]`.
pub fn conv2d_grad_input(ins: &[&Type], stride: usize, pad: usize, hw: [usize; 2]) -> Rule {
    let [dy, w] = arity::<2>(ins)?;
    let ([b, _, _, _], w4) = (rank4(dy)?, rank4(w)?);
    let x = [b, w4[1], hw[0], hw[1]];
    want(dy, &conv_out(x, w4, stride, pad)?)?;
    Ok(Type::f32(&x))
}

/// `x: [B, C, H, W]`, `dy: [B, F, OH, OW]` -> `[F, C, KH, KW]`.
pub fn conv2d_grad_weight(ins: &[&Type], stride: usize, pad: usize, khw: [usize; 2]) -> Rule {
    let [x, dy] = arity::<2>(ins)?;
    let (x4, dy4) = (rank4(x)?, rank4(dy)?);
    let w = [dy4[1], x4[1], khw[0], khw[1]];
    want(dy, &conv_out(x4, w, stride, pad)?)?;
    Ok(Type::f32(&w))
}

/// `x: [B, C, H, W]` -> `[B, C, (H - K) / S + 1, (W - K) / S + 1]`.
pub fn pool(x: &Type, size: usize, stride: usize) -> Rule {
    let [b, c, h, w] = rank4(x)?;
    Ok(Type::f32(&[
        b,
        c,
        out_len(h, size, stride, 0)?,
        out_len(w, size, stride, 0)?,
    ]))
}

/// `dy: [B, C, OH, OW]` -> `[B, C, H, W]`.
pub fn avgpool_grad(dy: &Type, size: usize, stride: usize, hw: [usize; 2]) -> Rule {
    let [b, c, _, _] = rank4(dy)?;
    let x = Type::f32(&[b, c, hw[0], hw[1]]);
    want(dy, &pool(&x, size, stride)?)?;
    Ok(x)
}

/// `table: f32[V, D]`, `ids: i32[...]` -> `f32[..., D]`.
pub fn gather(ins: &[&Type]) -> Rule {
    let [table, ids] = arity::<2>(ins)?;
    want_f32(table)?;
    want_i32(ids)?;
    let [_, d] = <[usize; 2]>::try_from(table.shape.as_slice())
        .map_err(|_| format!("table must be rank 2, got {:?}", table.shape))?;
    Ok(Type::f32(&[ids.shape.as_slice(), &[d]].concat()))
}

/// `ids: i32[...]`, `upd: f32[..., D]` -> `f32[rows, D]`.
pub fn scatter_add(ins: &[&Type], rows: usize) -> Rule {
    let [ids, upd] = arity::<2>(ins)?;
    want_i32(ids)?;
    want_f32(upd)?;
    let d = match upd.shape.split_last() {
        Some((&d, lead)) if lead == ids.shape.as_slice() => d,
        _ => {
            return Err(format!(
                "updates {:?} do not match ids {:?}",
                upd.shape, ids.shape
            ))
        }
    };
    Ok(Type {
        shape: vec![rows, d],
        dtype: DType::F32,
    })
}
