//! Shape rules shared by operators and primitives: NumPy broadcasting,
//! matrix products, axes.

use super::dims::Dim;
use super::types::{Rest, Shape};

/// Where two shapes fail to broadcast: the axis of each (from the left).
#[derive(Debug)]
pub struct BroadcastErr {
    pub a_axis: usize,
    pub b_axis: usize,
    pub a_dim: Dim,
    pub b_dim: Dim,
}

fn is_one(d: &Option<Dim>) -> bool {
    d.as_ref().and_then(Dim::as_const) == Some(1)
}

/// NumPy broadcasting: align on the right; each pair equal or one is 1.
pub fn broadcast(a: &Shape, b: &Shape) -> Result<Shape, BroadcastErr> {
    let (na, nb) = (a.dims.len(), b.dims.len());
    let n = na.max(nb);
    let mut dims = vec![None; n];
    for i in 0..n {
        let da = (i < na).then(|| a.dims.get(na - 1 - i)).flatten();
        let db = (i < nb).then(|| b.dims.get(nb - 1 - i)).flatten();
        let out = match (da, db) {
            (None, Some(d)) | (Some(d), None) => d.clone(),
            (None, None) => None,
            (Some(x), Some(y)) => match (x, y) {
                (Some(p), Some(q)) if p == q => Some(p.clone()),
                _ if is_one(x) => y.clone(),
                _ if is_one(y) => x.clone(),
                (Some(p), Some(q)) => {
                    return Err(BroadcastErr {
                        a_axis: na - 1 - i,
                        b_axis: nb - 1 - i,
                        a_dim: p.clone(),
                        b_dim: q.clone(),
                    })
                }
                (Some(p), None) | (None, Some(p)) => Some(p.clone()),
                (None, None) => None,
            },
        };
        if let Some(slot) = dims.get_mut(n - 1 - i) {
            *slot = out;
        }
    }
    let rest = match (&a.rest, &b.rest) {
        (None, None) => None,
        (Some(r), None) | (None, Some(r)) => Some(r.clone()),
        (Some(x), Some(y)) if x == y => Some(x.clone()),
        _ => Some(Rest::Any),
    };
    Ok(Shape { rest, dims })
}

/// Why a matrix product does not type.
pub enum MatmulErr {
    /// Operand ranks that no rule accepts.
    Rank,
    /// The contracted sizes differ.
    Inner(Option<Dim>, Option<Dim>),
    /// Batched product with different leading dimensions.
    Batch,
}

fn agree(x: &Option<Dim>, y: &Option<Dim>) -> bool {
    match (x, y) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// `[..., M, K] @ [K, N] -> [..., M, N]`, or batched with equal leading dims.
pub fn matmul(a: &Shape, b: &Shape) -> Result<Shape, MatmulErr> {
    if a.rest == Some(Rest::Any) || b.rest == Some(Rest::Any) {
        return Ok(Shape::unknown());
    }
    let (Some(k), Some(b_last)) = (a.dims.last(), b.dims.last()) else {
        return Err(MatmulErr::Rank);
    };
    let lead = &a.dims[..a.dims.len() - 1];
    if b.rest.is_none() && b.dims.len() == 2 {
        let k2 = b.dims.first().cloned().flatten();
        if !agree(k, &k2) {
            return Err(MatmulErr::Inner(k.clone(), k2));
        }
        let mut dims = lead.to_vec();
        dims.push(b_last.clone());
        return Ok(Shape {
            rest: a.rest.clone(),
            dims,
        });
    }
    if a.rest != b.rest || a.dims.len() != b.dims.len() || a.dims.len() < 2 {
        return Err(MatmulErr::Rank);
    }
    let n = b.dims.len();
    let k2 = b.dims.get(n - 2).cloned().flatten();
    if !agree(k, &k2) {
        return Err(MatmulErr::Inner(k.clone(), k2));
    }
    let batch_a = &a.dims[..n - 2];
    let batch_b = &b.dims[..n - 2];
    if !batch_a.iter().zip(batch_b).all(|(x, y)| agree(x, y)) {
        return Err(MatmulErr::Batch);
    }
    let mut dims = lead.to_vec();
    dims.push(b_last.clone());
    Ok(Shape {
        rest: a.rest.clone(),
        dims,
    })
}

/// A possibly negative axis of a known-rank shape, in range.
pub fn axis(axis: i64, rank: usize) -> Option<usize> {
    let r = i64::try_from(rank).ok()?;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}
