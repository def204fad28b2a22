//! Emits a [`LoopSpec`] as a CLIF loop nest.
//!
//! Adjacent iteration dims that every access walks contiguously are merged
//! first, so most elementwise kernels become one flat loop. The innermost
//! loop runs 4 lanes at a time (`f32x4`, FMA when the host has it) when
//! every access there is contiguous or constant, then a scalar tail; other
//! loops are scalar. Reductions keep four vector accumulators when the
//! reduced dim is innermost (so consecutive adds do not wait on each
//! other) and update the output in place otherwise.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

use super::expr::{Combine, ENode, Flat, LoopSpec};
use super::math::Lanes;
use super::{Frame, Split};
use crate::ir::{BinaryOp, DType, UnaryOp};

/// Puts a reduction's first kept dimension (one the output walks)
/// outermost, when the outermost is reduced and the kept one is not the
/// innermost, so the loop can be shared among threads by outputs
/// (`lower::parts`). Each output still takes its terms in the same order.
pub fn kept_first(spec: &mut LoopSpec) {
    let r = spec.shape.len();
    if spec.combine == Combine::Store || r < 3 || spec.out_flat.strides[0] != 0 {
        return;
    }
    let Some(d) = (1..r - 1).find(|&d| spec.out_flat.strides[d] != 0) else {
        return;
    };
    let n = spec.shape.remove(d);
    spec.shape.insert(0, n);
    for f in flats_mut(spec) {
        let s = f.strides.remove(d);
        f.strides.insert(0, s);
    }
}

/// Whether a reduction can be shared among threads by its outermost
/// dimension: each index of it owns a contiguous block of the output
/// (`out_len / shape[0]` elements) that no other index touches.
pub fn splits_by_output(spec: &LoopSpec) -> bool {
    let r = spec.shape.len();
    let o = &spec.out_flat;
    if r < 2 || o.offset != 0 || o.strides.iter().any(|&s| s < 0) || o.strides[0] == 0 {
        return false;
    }
    let block = o.strides[0];
    let reach: i64 = (1..r)
        .map(|d| (spec.shape[d] as i64 - 1) * o.strides[d])
        .sum();
    block as usize * spec.shape[0] == spec.out_len && reach < block
}

/// Merges dims `i`, `i + 1` wherever all accesses allow it.
pub fn collapse(spec: &mut LoopSpec) {
    let mut i = 0;
    while i + 1 < spec.shape.len() {
        let inner = spec.shape[i + 1] as i64;
        let mergeable = flats(spec).all(|f| f.strides[i] == f.strides[i + 1] * inner);
        if mergeable {
            spec.shape[i + 1] *= spec.shape[i];
            spec.shape.remove(i);
            for f in flats_mut(spec) {
                f.strides.remove(i);
            }
        } else {
            i += 1;
        }
    }
}

fn flats(spec: &LoopSpec) -> impl Iterator<Item = &Flat> {
    spec.nodes
        .iter()
        .filter_map(|n| match n {
            ENode::Load { flat, .. } | ENode::Index(flat) => Some(flat),
            _ => None,
        })
        .chain(std::iter::once(&spec.out_flat))
}

fn flats_mut(spec: &mut LoopSpec) -> Vec<&mut Flat> {
    let mut v: Vec<&mut Flat> = spec
        .nodes
        .iter_mut()
        .filter_map(|n| match n {
            ENode::Load { flat, .. } | ENode::Index(flat) => Some(flat),
            _ => None,
        })
        .collect();
    v.push(&mut spec.out_flat);
    v
}

fn ty_of(l: Lanes, d: DType) -> types::Type {
    match d {
        DType::F32 => l.f,
        DType::I32 => l.i,
    }
}

/// Accumulators of a reduction's vector loop.
const ACCS: usize = 4;

/// Loop state: partial element offsets of every access (loads and index
/// nodes by node position, then the output) at the current loop level.
struct Nest<'s> {
    spec: &'s LoopSpec,
    bases: Vec<Option<Value>>,
    out_base: Value,
    /// The buffers of `spec.also`, in order.
    also_bases: Vec<Value>,
    split: Option<Split>,
}

/// Emits the whole loop nest of `spec` (collapsed by the caller).
pub fn emit(b: &mut FunctionBuilder, fr: &Frame, spec: &LoopSpec) {
    let bases = spec
        .nodes
        .iter()
        .map(|n| match n {
            ENode::Load { buf, .. } => Some(fr.buffer(b, *buf)),
            _ => None,
        })
        .collect();
    let out_base = fr.buffer(b, spec.out);
    let also_bases = spec.also.iter().map(|&(_, o)| fr.buffer(b, o)).collect();
    let nest = Nest {
        spec,
        bases,
        out_base,
        also_bases,
        split: fr.split,
    };
    if spec.combine != Combine::Store {
        let init = if spec.combine == Combine::Sum {
            0.0
        } else {
            f32::NEG_INFINITY
        };
        match fr.split {
            // Only this part's outputs (`splits_by_output`).
            Some(s) => {
                let (lo, hi) = share(b, s, spec.shape[0], 1);
                let block = spec.out_flat.strides[0];
                let lo = b.ins().imul_imm_s(lo, block);
                let hi = b.ins().imul_imm_s(hi, block);
                fill_span(b, out_base, Span::Run(lo, hi), init);
            }
            None => fill(b, out_base, spec.out_len, init),
        }
    }
    let offsets: Vec<Value> = flats(spec)
        .map(|f| b.ins().iconst(types::I64, f.offset))
        .collect();
    nest.level(b, 0, &offsets);
}

/// `len` copies of `value` from `base`.
pub fn fill(b: &mut FunctionBuilder, base: Value, len: usize, value: f32) {
    let v4 = Lanes::new(4);
    let splat = v4.fc(b, value);
    let vec_end = (len / 4 * 4) as i64;
    counted(b, 0, vec_end, 4, |b, i| {
        let addr = elem_addr(b, base, i);
        b.ins().store(MemFlagsData::trusted(), splat, addr, 0);
    });
    fill_span(b, base, Span::Fixed(vec_end, len as i64), value);
}

/// `value` at every element of `span`, one at a time.
fn fill_span(b: &mut FunctionBuilder, base: Value, span: Span, value: f32) {
    let s = b.ins().f32const(value);
    span.each(b, 1, |b, i| {
        let addr = elem_addr(b, base, i);
        b.ins().store(MemFlagsData::trusted(), s, addr, 0);
    });
}

fn elem_addr(b: &mut FunctionBuilder, base: Value, i: Value) -> Value {
    let off = b.ins().ishl_imm_u(i, 2);
    b.ins().iadd(base, off)
}

/// `for i in (start..end).step_by(step) { body(i) }` with `i: i64`.
pub fn counted(
    b: &mut FunctionBuilder,
    start: i64,
    end: i64,
    step: i64,
    body: impl FnMut(&mut FunctionBuilder, Value),
) {
    if start >= end {
        return;
    }
    let s = b.ins().iconst(types::I64, start);
    let limit = b.ins().iconst(types::I64, end - step + 1);
    looped(b, s, limit, step, body);
}

/// [`counted`] with bounds known only at run time.
fn counted_from(
    b: &mut FunctionBuilder,
    start: Value,
    end: Value,
    step: i64,
    body: impl FnMut(&mut FunctionBuilder, Value),
) {
    let limit = b.ins().iadd_imm_s(end, 1 - step);
    looped(b, start, limit, step, body);
}

/// `i = start; while i < limit { body(i); i += step }`.
fn looped(
    b: &mut FunctionBuilder,
    start: Value,
    limit: Value,
    step: i64,
    mut body: impl FnMut(&mut FunctionBuilder, Value),
) {
    let header = b.create_block();
    let block = b.create_block();
    let exit = b.create_block();
    b.append_block_param(header, types::I64);
    b.ins().jump(header, &[start.into()]);
    b.switch_to_block(header);
    let i = b.block_params(header)[0];
    let more = b.ins().icmp(IntCC::SignedLessThan, i, limit);
    b.ins().brif(more, block, &[], exit, &[]);
    b.switch_to_block(block);
    body(b, i);
    let next = b.ins().iadd_imm_s(i, step);
    b.ins().jump(header, &[next.into()]);
    b.switch_to_block(exit);
}

/// An iteration range of one loop: fixed, or this call's share of a split
/// kernel's outermost dimension.
#[derive(Clone, Copy)]
enum Span {
    Fixed(i64, i64),
    Run(Value, Value),
}

impl Span {
    fn each(
        self,
        b: &mut FunctionBuilder,
        step: i64,
        body: impl FnMut(&mut FunctionBuilder, Value),
    ) {
        match self {
            Span::Fixed(start, end) => counted(b, start, end, step, body),
            Span::Run(start, end) => counted_from(b, start, end, step, body),
        }
    }
}

impl Nest<'_> {
    fn rank(&self) -> usize {
        self.spec.shape.len()
    }

    fn level(&self, b: &mut FunctionBuilder, d: usize, offsets: &[Value]) {
        if self.rank() == 0 {
            self.scalar_point(b, offsets);
            return;
        }
        if d + 1 == self.rank() {
            self.inner(b, offsets);
            return;
        }
        let strides: Vec<i64> = flats(self.spec).map(|f| f.strides[d]).collect();
        let n = self.spec.shape[d] as i64;
        let span = match self.split {
            Some(s) if d == 0 => {
                let (lo, hi) = share(b, s, n as usize, 1);
                Span::Run(lo, hi)
            }
            _ => Span::Fixed(0, n),
        };
        span.each(b, 1, |b, i| {
            let next = advance(b, offsets, &strides, i);
            self.level(b, d + 1, &next);
        });
    }

    /// The vector and scalar ranges of the innermost loop (`n` points,
    /// vectors up to `vec_end`); when the kernel is split and this is its
    /// only dimension, this call's share of them.
    fn inner_spans(&self, b: &mut FunctionBuilder, n: i64, vec_end: i64) -> [Span; 2] {
        match self.split {
            Some(s) if self.rank() == 1 => {
                // Shares are whole cache lines, so only the last one has a
                // scalar tail.
                let (lo, hi) = share(b, s, n as usize, 16);
                let ve = b.ins().iconst(types::I64, vec_end);
                let vec_hi = b.ins().smin(hi, ve);
                let tail_lo = b.ins().smax(lo, ve);
                [Span::Run(lo, vec_hi), Span::Run(tail_lo, hi)]
            }
            _ => [Span::Fixed(0, vec_end), Span::Fixed(vec_end, n)],
        }
    }

    fn inner_strides(&self) -> Vec<i64> {
        let d = self.rank() - 1;
        flats(self.spec).map(|f| f.strides[d]).collect()
    }

    fn vectorizable(&self) -> bool {
        let n = self.spec.shape[self.rank() - 1];
        let d = self.rank() - 1;
        let loads_ok = self.spec.nodes.iter().all(|e| match e {
            ENode::Load { flat, .. } => matches!(flat.strides[d], 0 | 1),
            _ => true,
        });
        let out = self.spec.out_flat.strides[d];
        n >= 4 && loads_ok && (out == 1 || (out == 0 && self.spec.combine != Combine::Store))
    }

    fn inner(&self, b: &mut FunctionBuilder, offsets: &[Value]) {
        let n = self.spec.shape[self.rank() - 1] as i64;
        let strides = self.inner_strides();
        let out_stride = *strides.last().expect("output access");
        let reduce_inner = out_stride == 0 && self.spec.combine != Combine::Store;
        let vec_end = if self.vectorizable() { n / 4 * 4 } else { 0 };
        if !reduce_inner {
            let spans = self.inner_spans(b, n, vec_end);
            for (w, span) in [4, 1].into_iter().zip(spans) {
                span.each(b, w as i64, |b, i| {
                    let offs = advance(b, offsets, &strides, i);
                    let vals = self.body(b, Lanes::new(w), &offs, i);
                    self.update_out(b, Lanes::new(w), &offs, &vals);
                });
            }
            return;
        }
        let l4 = Lanes::new(4);
        let init = self.identity();
        let acc = if vec_end > 0 {
            // Four vectors at a time into four accumulators (one chain
            // would wait an add's latency per vector), then the rest of
            // the vectors into their combination.
            let wide_end = vec_end / 16 * 16;
            let start = l4.fc(b, init);
            let wide = self.acc_loop(b, l4, offsets, &strides, (0, wide_end), [start; ACCS]);
            let acc = self.acc_loop(b, l4, offsets, &strides, (wide_end, vec_end), [wide]);
            Some(horizontal(b, self.spec.combine, acc))
        } else {
            None
        };
        let l1 = Lanes::new(1);
        let start = match acc {
            Some(a) => a,
            None => l1.fc(b, init),
        };
        let total = self.acc_loop(b, l1, offsets, &strides, (vec_end, n), [start]);
        let out_off = *offsets.last().expect("output access");
        self.combine_into(b, l1, out_off, total);
    }

    fn identity(&self) -> f32 {
        match self.spec.combine {
            Combine::Sum | Combine::Store => 0.0,
            Combine::Max => f32::NEG_INFINITY,
        }
    }

    /// A loop over `start..end` carrying `K` accumulators of `l.lanes`
    /// lanes: accumulator `j` takes the `j`-th vector of each step of
    /// `K` vectors (`end - start` is a multiple of `K` vectors). Returns
    /// their combination, `(a0 + a1) + (a2 + a3)` for four: the same
    /// order whatever the thread count.
    fn acc_loop<const K: usize>(
        &self,
        b: &mut FunctionBuilder,
        l: Lanes,
        offsets: &[Value],
        strides: &[i64],
        (start, end): (i64, i64),
        init: [Value; K],
    ) -> Value {
        let lanes = l.f.lane_count() as usize;
        let step = (K * lanes) as i64;
        let mut accs = init.to_vec();
        if start < end {
            let header = b.create_block();
            let block = b.create_block();
            let exit = b.create_block();
            b.append_block_param(header, types::I64);
            for _ in 0..K {
                b.append_block_param(header, l.f);
                b.append_block_param(exit, l.f);
            }
            let s = b.ins().iconst(types::I64, start);
            let args: Vec<_> = std::iter::once(s).chain(init).map(Into::into).collect();
            b.ins().jump(header, &args);
            b.switch_to_block(header);
            let params = b.block_params(header).to_vec();
            let (i, acc) = (params[0], &params[1..]);
            let more = b.ins().icmp_imm_s(IntCC::SignedLessThan, i, end - step + 1);
            let carried: Vec<_> = acc.iter().map(|&a| a.into()).collect();
            b.ins().brif(more, block, &[], exit, &carried);
            b.switch_to_block(block);
            let mut next_accs = Vec::with_capacity(K);
            for (j, &a) in acc.iter().enumerate() {
                let ij = b.ins().iadd_imm_s(i, (j * lanes) as i64);
                let offs = advance(b, offsets, strides, ij);
                let v = self.body(b, l, &offs, ij)[self.spec.root];
                next_accs.push(combine(b, l, self.spec.combine, a, v));
            }
            let next = b.ins().iadd_imm_s(i, step);
            let args: Vec<_> = std::iter::once(next)
                .chain(next_accs)
                .map(Into::into)
                .collect();
            b.ins().jump(header, &args);
            b.switch_to_block(exit);
            accs = b.block_params(exit).to_vec();
        }
        while accs.len() > 1 {
            accs = accs
                .chunks(2)
                .map(|p| match *p {
                    [x, y] => combine(b, l, self.spec.combine, x, y),
                    _ => p[0],
                })
                .collect();
        }
        accs[0]
    }

    fn scalar_point(&self, b: &mut FunctionBuilder, offsets: &[Value]) {
        let l = Lanes::new(1);
        let zero = b.ins().iconst(types::I64, 0);
        let vals = self.body(b, l, offsets, zero);
        self.update_out(b, l, offsets, &vals);
    }

    fn update_out(&self, b: &mut FunctionBuilder, l: Lanes, offs: &[Value], vals: &[Value]) {
        let out_off = *offs.last().expect("output access");
        let v = vals[self.spec.root];
        match self.spec.combine {
            Combine::Store => {
                let addr = elem_addr(b, self.out_base, out_off);
                b.ins().store(MemFlagsData::trusted(), v, addr, 0);
                for (&(e, _), &base) in self.spec.also.iter().zip(&self.also_bases) {
                    let addr = elem_addr(b, base, out_off);
                    b.ins().store(MemFlagsData::trusted(), vals[e], addr, 0);
                }
            }
            Combine::Sum | Combine::Max => self.combine_into(b, l, out_off, v),
        }
    }

    fn combine_into(&self, b: &mut FunctionBuilder, l: Lanes, off: Value, v: Value) {
        let addr = elem_addr(b, self.out_base, off);
        let old = b.ins().load(l.f, MemFlagsData::trusted(), addr, 0);
        let new = combine(b, l, self.spec.combine, old, v);
        b.ins().store(MemFlagsData::trusted(), new, addr, 0);
    }

    /// The values of the body's nodes at the point whose access offsets
    /// are `offs`; `i` is the innermost index (for index nodes in vector
    /// mode).
    fn body(&self, b: &mut FunctionBuilder, l: Lanes, offs: &[Value], _i: Value) -> Vec<Value> {
        let mut vals: Vec<Value> = Vec::with_capacity(self.spec.nodes.len());
        let mut k = 0;
        let inner = self.rank().saturating_sub(1);
        for (pos, node) in self.spec.nodes.iter().enumerate() {
            let v = match node {
                ENode::Load { flat, dtype, .. } => {
                    let base = self.bases[pos].expect("load base");
                    let addr = elem_addr(b, base, offs[k]);
                    let contiguous = self.rank() > 0 && flat.strides[inner] == 1;
                    k += 1;
                    load(b, l, ty_of(l, *dtype), addr, contiguous)
                }
                ENode::Index(flat) => {
                    let stride = if self.rank() > 0 {
                        flat.strides[inner]
                    } else {
                        0
                    };
                    let v = index_value(b, l, offs[k], stride);
                    k += 1;
                    v
                }
                ENode::ConstF(c) => l.fc(b, *c),
                ENode::Unary(u, x) => unary(b, l, *u, vals[*x]),
                ENode::Binary(op, x, y, dt) => {
                    let y_const = match self.spec.nodes[*y] {
                        ENode::ConstF(c) => Some(c),
                        _ => None,
                    };
                    binary(b, l, *op, vals[*x], vals[*y], *dt, y_const)
                }
                ENode::Select(c, x, y, _) => {
                    let zero = l.fc(b, 0.0);
                    let m = b.ins().fcmp(FloatCC::NotEqual, vals[*c], zero);
                    l.pick(b, m, vals[*x], vals[*y])
                }
                ENode::F32ToI32(x) => b.ins().fcvt_to_sint_sat(l.i, vals[*x]),
                ENode::I32ToF32(x) => b.ins().fcvt_from_sint(l.f, vals[*x]),
                ENode::Same(x) => vals[*x],
            };
            vals.push(v);
        }
        vals
    }
}

/// Part `s.part`'s share `[lo, hi)` of `0..n`: chunks of `n / s.parts`
/// rounded up to a multiple of `align` (empty past the end).
fn share(b: &mut FunctionBuilder, s: Split, n: usize, align: usize) -> (Value, Value) {
    let chunk = n.div_ceil(s.parts).next_multiple_of(align) as i64;
    let end = b.ins().iconst(types::I64, n as i64);
    let lo = b.ins().imul_imm_s(s.part, chunk);
    let lo = b.ins().smin(lo, end);
    let hi = b.ins().iadd_imm_s(lo, chunk);
    let hi = b.ins().smin(hi, end);
    (lo, hi)
}

/// Offsets one level deeper: `offsets[j] + i * strides[j]`.
fn advance(b: &mut FunctionBuilder, offsets: &[Value], strides: &[i64], i: Value) -> Vec<Value> {
    offsets
        .iter()
        .zip(strides)
        .map(|(&o, &s)| match s {
            0 => o,
            1 => b.ins().iadd(o, i),
            s => {
                let d = b.ins().imul_imm_s(i, s);
                b.ins().iadd(o, d)
            }
        })
        .collect()
}

fn load(
    b: &mut FunctionBuilder,
    l: Lanes,
    ty: types::Type,
    addr: Value,
    contiguous: bool,
) -> Value {
    let flags = MemFlagsData::trusted().with_readonly().with_can_move();
    if !l.vector() || contiguous {
        return b.ins().load(ty, flags, addr, 0);
    }
    let s = b.ins().load(ty.lane_type(), flags, addr, 0);
    b.ins().splat(ty, s)
}

/// The integer index `off` (plus `stride * lane` per lane) as `i32`.
fn index_value(b: &mut FunctionBuilder, l: Lanes, off: Value, stride: i64) -> Value {
    let s = b.ins().ireduce(types::I32, off);
    if !l.vector() {
        return s;
    }
    let base = b.ins().splat(l.i, s);
    let lanes: Vec<u8> = (0..4i32)
        .flat_map(|k| (k * stride as i32).to_le_bytes())
        .collect();
    let c = b.func.dfg.constants.insert(lanes.into());
    let step = b.ins().vconst(l.i, c);
    b.ins().iadd(base, step)
}

fn horizontal(b: &mut FunctionBuilder, c: Combine, v: Value) -> Value {
    let mut acc = b.ins().extractlane(v, 0);
    for k in 1..4 {
        let x = b.ins().extractlane(v, k);
        acc = combine(b, Lanes::new(1), c, acc, x);
    }
    acc
}

fn combine(b: &mut FunctionBuilder, l: Lanes, c: Combine, acc: Value, v: Value) -> Value {
    match c {
        Combine::Sum => b.ins().fadd(acc, v),
        Combine::Max => l.fsel(b, FloatCC::GreaterThan, v, acc, v, acc),
        Combine::Store => v,
    }
}

fn unary(b: &mut FunctionBuilder, l: Lanes, u: UnaryOp, x: Value) -> Value {
    match u {
        UnaryOp::Neg => b.ins().fneg(x),
        UnaryOp::Exp => l.exp(b, x),
        UnaryOp::Log => l.log(b, x),
        UnaryOp::Sqrt => b.ins().sqrt(x),
        UnaryOp::Tanh => l.tanh(b, x),
        UnaryOp::Sigmoid => l.sigmoid(b, x),
        UnaryOp::Sin => l.sin_cos(b, x, false),
        UnaryOp::Cos => l.sin_cos(b, x, true),
        UnaryOp::Abs => b.ins().fabs(x),
        UnaryOp::Sign => {
            let zero = l.fc(b, 0.0);
            let gt = b.ins().fcmp(FloatCC::GreaterThan, x, zero);
            let lt = b.ins().fcmp(FloatCC::LessThan, x, zero);
            let (p, n) = (l.mask01(b, gt), l.mask01(b, lt));
            b.ins().fsub(p, n)
        }
        UnaryOp::Floor => b.ins().floor(x),
        UnaryOp::Recip => {
            let one = l.fc(b, 1.0);
            b.ins().fdiv(one, x)
        }
    }
}

fn binary(
    b: &mut FunctionBuilder,
    l: Lanes,
    op: BinaryOp,
    x: Value,
    y: Value,
    dt: DType,
    y_const: Option<f32>,
) -> Value {
    if dt == DType::I32 {
        let cc = match op {
            BinaryOp::Lt => IntCC::SignedLessThan,
            BinaryOp::Le => IntCC::SignedLessThanOrEqual,
            BinaryOp::Gt => IntCC::SignedGreaterThan,
            BinaryOp::Ge => IntCC::SignedGreaterThanOrEqual,
            BinaryOp::Eq => IntCC::Equal,
            BinaryOp::Ne
            | BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Pow
            | BinaryOp::Max
            | BinaryOp::Min
            | BinaryOp::Rem => IntCC::NotEqual,
        };
        let m = b.ins().icmp(cc, x, y);
        return l.mask01(b, m);
    }
    let cmp = |b: &mut FunctionBuilder, cc| {
        let m = b.ins().fcmp(cc, x, y);
        l.mask01(b, m)
    };
    match op {
        BinaryOp::Add => b.ins().fadd(x, y),
        BinaryOp::Sub => b.ins().fsub(x, y),
        BinaryOp::Mul => b.ins().fmul(x, y),
        BinaryOp::Div => b.ins().fdiv(x, y),
        BinaryOp::Pow => l.pow(b, x, y, y_const),
        BinaryOp::Max => l.fsel(b, FloatCC::GreaterThanOrEqual, x, y, x, y),
        BinaryOp::Min => l.fsel(b, FloatCC::LessThanOrEqual, x, y, x, y),
        BinaryOp::Rem => {
            let q = b.ins().fdiv(x, y);
            let q = b.ins().floor(q);
            let p = b.ins().fmul(y, q);
            b.ins().fsub(x, p)
        }
        BinaryOp::Lt => cmp(b, FloatCC::LessThan),
        BinaryOp::Le => cmp(b, FloatCC::LessThanOrEqual),
        BinaryOp::Gt => cmp(b, FloatCC::GreaterThan),
        BinaryOp::Ge => cmp(b, FloatCC::GreaterThanOrEqual),
        BinaryOp::Eq => cmp(b, FloatCC::Equal),
        BinaryOp::Ne => cmp(b, FloatCC::NotEqual),
    }
}
