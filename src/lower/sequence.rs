//! Indexing, slicing and `scan`/`collect`: the evaluator's operations on
//! axes. `scan` is unrolled over its (known) length; `collect` stacks every
//! step's carries along the scanned axis.

use crate::diag::Span;
use crate::ir::{NodeId, Op};
use crate::syntax::ast::{IndexItem, Scan};

use super::eval::Lowerer;
use super::value::{Frame, Val};
use super::{LowerError, Result};

impl Lowerer<'_> {
    pub(super) fn index(
        &mut self,
        x: Val,
        items: &[IndexItem],
        f: &mut Frame,
        span: Span,
    ) -> Result<Val> {
        let mut node = self.tensor(x, span)?;
        // Axes are processed left to right; `At` removes its axis, so the
        // position in the current tensor trails the item index.
        let mut axis = 0;
        for item in items {
            let len = self.g.shape(node)[axis] as i64;
            let norm = |i: i64| if i < 0 { i + len } else { i };
            match item {
                IndexItem::Full(_) => axis += 1,
                IndexItem::At(e) => {
                    let i = norm(self.expr(e, f)?.as_int(e.span)?);
                    let sliced = self.slice(node, axis, i, i + 1, span)?;
                    let mut shape = self.g.shape(sliced).to_vec();
                    shape.remove(axis);
                    node = self.g.reshape(sliced, &shape)?;
                }
                IndexItem::Range(a, b, s) => {
                    let a = match a {
                        Some(e) => norm(self.expr(e, f)?.as_int(*s)?),
                        None => 0,
                    };
                    let b = match b {
                        Some(e) => norm(self.expr(e, f)?.as_int(*s)?),
                        None => len,
                    };
                    node = self.slice(node, axis, a, b, *s)?;
                    axis += 1;
                }
            }
        }
        Ok(Val::Tensor(node))
    }

    pub fn slice(&mut self, x: NodeId, axis: usize, a: i64, b: i64, span: Span) -> Result<NodeId> {
        let len = self.g.shape(x)[axis] as i64;
        if !(0 <= a && a < b && b <= len) {
            return Err(LowerError::at(
                span,
                format!("range {a}..{b} is outside an axis of length {len}"),
            ));
        }
        let op = Op::Slice {
            axis,
            start: a as usize,
            end: b as usize,
        };
        Ok(self.g.add(op, &[x])?)
    }

    /// Unrolls a `scan` over its sequence; `collect` stacks every step.
    pub(super) fn scan(&mut self, s: &Scan, f: &mut Frame, span: Span) -> Result<Val> {
        let seq = self.expr(&s.seq, f)?;
        let seq = self.tensor(seq, span)?;
        let axis = self.expr(&s.axis, f)?.as_int(span)?;
        let rank = self.g.shape(seq).len() as i64;
        let axis = if axis < 0 { axis + rank } else { axis } as usize;
        let mut carries = Vec::new();
        for (name, init) in &s.carries {
            carries.push((name.name.clone(), self.expr(init, f)?));
        }
        let steps = self.g.shape(seq)[axis];
        let mut history: Vec<Vec<Val>> = vec![Vec::new(); carries.len()];
        for t in 0..steps {
            let mut inner = f.clone();
            let xt = self.slice(seq, axis, t as i64, t as i64 + 1, span)?;
            let mut shape = self.g.shape(xt).to_vec();
            shape.remove(axis);
            let xt = self.g.reshape(xt, &shape)?;
            inner.vars.insert(s.var.name.clone(), Val::Tensor(xt));
            for (name, v) in &carries {
                inner.vars.insert(name.clone(), v.clone());
            }
            let out = self.block(&s.body, &mut inner)?;
            let outs = match (out, carries.len()) {
                (Val::Tuple(vs), n) if n > 1 => vs,
                (v, _) => vec![v],
            };
            for (i, v) in outs.into_iter().enumerate().take(carries.len()) {
                history[i].push(v.clone());
                carries[i].1 = v;
            }
        }
        let finals: Vec<Val> = if s.collect {
            history
                .into_iter()
                .map(|steps| self.stack(steps, axis, span).map(Val::Tensor))
                .collect::<Result<_>>()?
        } else {
            carries.into_iter().map(|(_, v)| v).collect()
        };
        Ok(match <[Val; 1]>::try_from(finals) {
            Ok([one]) => one,
            Err(many) => Val::Tuple(many),
        })
    }

    /// Stacks tensors of one shape along a new axis.
    pub fn stack(&mut self, vals: Vec<Val>, axis: usize, span: Span) -> Result<NodeId> {
        let mut parts = Vec::new();
        for v in vals {
            let n = self.tensor(v, span)?;
            let mut shape = self.g.shape(n).to_vec();
            shape.insert(axis, 1);
            parts.push(self.g.reshape(n, &shape)?);
        }
        Ok(self.g.add(Op::Concat { axis }, &parts)?)
    }
}
