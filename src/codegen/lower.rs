//! Lowering a fused, planned graph to Cranelift functions, generic over
//! `cranelift_module::Module` (the JIT today, an object file later).
//!
//! Each kernel becomes one function
//! `extern "C" fn(slots: *const *mut u8, part: i64)`. `slots` holds the
//! caller's input pointers, then its output pointers, then the arena base;
//! [`Place`] says where each buffer lives. A kernel that [`parts`] splits
//! runs part `part` of each of its loops (the caller makes one call per
//! part, on different threads); any other ignores `part`. Library parts
//! call imported Rust routines by name (`dlc_matmul`...) with their geometry
//! in a read-only data object.

use std::cell::RefCell;

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{
    types, AbiParam, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, FuncId, Linkage, Module};

use super::call::{call, movement};
use super::emit_loop::{collapse, emit, fill, splits_by_output};
use super::merge::{pieces, ConvTail, Piece};
use super::{CodegenError, Frame, Place, Split};
use crate::ir::{Graph, NodeId, Op};
use crate::passes::fuse::{Fusion, KernelKind};

/// Everything lowering needs besides the module.
pub struct Unit<'a> {
    pub g: &'a Graph,
    pub fusion: &'a Fusion,
    /// Where each node's buffer lives (indexed by the buffer's node id).
    pub places: &'a [Option<Place>],
    /// Arena offset of each kernel's scratch space, if it has one.
    pub scratch: &'a [Option<usize>],
    pub threads: usize,
    /// The slot holding the arena base (after inputs and outputs).
    pub arena_slot: usize,
}

/// The names of the imported routines, with their addresses for the JIT.
pub fn helper_symbols() -> Vec<(&'static str, *const u8)> {
    use super::helpers as h;
    use super::{misc, pool};
    let list: [(&'static str, h::Helper); 14] = [
        ("dlc_matmul", h::matmul),
        ("dlc_conv2d", h::conv2d),
        ("dlc_conv2d_fused", h::conv2d_fused),
        ("dlc_conv2d_grad_input", h::conv2d_grad_input),
        ("dlc_conv2d_grad_weight", h::conv2d_grad_weight),
        ("dlc_maxpool2d", pool::maxpool2d),
        ("dlc_maxpool2d_grad", pool::maxpool2d_grad),
        ("dlc_avgpool2d", pool::avgpool2d),
        ("dlc_avgpool2d_grad", pool::avgpool2d_grad),
        ("dlc_argmax", misc::argmax),
        ("dlc_gather", misc::gather),
        ("dlc_scatter_add", misc::scatter_add),
        ("dlc_bernoulli", misc::bernoulli),
        ("dlc_normal", misc::normal),
    ];
    list.iter().map(|&(n, f)| (n, f as *const u8)).collect()
}

fn kernel_sig<M: Module>(m: &M) -> Signature {
    let mut sig = m.make_signature();
    sig.params
        .push(AbiParam::new(m.target_config().pointer_type()));
    sig.params.push(AbiParam::new(types::I64));
    sig
}

/// Work (points, see [`work`]) below which an elementwise kernel runs
/// whole on one thread: a share of a smaller one is not worth waking a
/// second thread for.
const SPLIT_MIN: usize = 1 << 15;

/// What one transcendental function (a polynomial of some 40 vector
/// instructions, ≈ 8 cycles per element at 4 lanes) costs, in points of
/// a plain load-and-store loop.
const TRANSCENDENTAL: usize = 8;

/// The work of a loop in points: its iterations, each weighted by one
/// plus [`TRANSCENDENTAL`] per transcendental function in its body and
/// half a point per buffer read beyond two, so a small loop of many
/// `tanh`s (an LSTM's gates: 2,048 points, five each) or one summing many
/// buffers (its 28 time steps' weight gradients: 16,384 points) is shared
/// among threads like a large memory-bound one.
fn work(spec: &super::expr::LoopSpec) -> usize {
    use super::expr::ENode;
    use crate::ir::{BinaryOp, UnaryOp};
    let loads = spec
        .nodes
        .iter()
        .filter(|n| matches!(n, ENode::Load { .. }))
        .count();
    let heavy = spec
        .nodes
        .iter()
        .filter(|n| match n {
            ENode::Unary(u, _) => matches!(
                u,
                UnaryOp::Exp
                    | UnaryOp::Log
                    | UnaryOp::Tanh
                    | UnaryOp::Sigmoid
                    | UnaryOp::Sin
                    | UnaryOp::Cos
            ),
            ENode::Binary(op, ..) => *op == BinaryOp::Pow,
            _ => false,
        })
        .count();
    let weight = 1 + TRANSCENDENTAL * heavy + loads.saturating_sub(2) / 2;
    spec.shape.iter().product::<usize>() * weight
}

/// Into how many parts a kernel made of `pieces` is split: `threads` when
/// it is loops only (no movement or call), every loop has a dimension to
/// share (a reduction: an outermost one that owns its outputs, see
/// `emit_loop::splits_by_output`), no loop reads a buffer another loop of
/// the kernel writes (so a part never waits for another's elements), and
/// the loops hold at least [`SPLIT_MIN`] points of [`work`]; 1 otherwise.
pub fn parts(pieces: &[Piece], threads: usize) -> usize {
    use super::expr::{Combine, ENode};
    let mut specs = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match piece {
            Piece::Loop(spec)
                if (spec.combine == Combine::Store && !spec.shape.is_empty())
                    || splits_by_output(spec) =>
            {
                specs.push(spec)
            }
            _ => return 1,
        }
    }
    let writes = |s: &super::expr::LoopSpec| {
        let mut w = vec![s.out];
        w.extend(s.also.iter().map(|&(_, o)| o));
        w
    };
    for (i, a) in specs.iter().enumerate() {
        let written = writes(a);
        for (j, other) in specs.iter().enumerate() {
            let reads = other.nodes.iter().any(|n| match n {
                ENode::Load { buf, .. } => written.contains(buf),
                _ => false,
            });
            let clash = writes(other).iter().any(|o| written.contains(o));
            if i != j && (reads || clash) {
                return 1;
            }
        }
    }
    let points: usize = specs.iter().map(|s| work(s)).sum();
    if threads > 1 && points >= SPLIT_MIN {
        threads
    } else {
        1
    }
}

fn helper_sig<M: Module>(m: &M) -> Signature {
    let mut sig = m.make_signature();
    let ptr = m.target_config().pointer_type();
    for _ in 0..5 {
        sig.params.push(AbiParam::new(ptr));
    }
    sig
}

/// Declares and defines the functions of every kernel: one, or one per
/// stage (see [`stages`]); returns their ids per kernel, each with the
/// number of parts it runs in (see [`parts`]).
pub fn lower<M: Module>(m: &mut M, unit: &Unit) -> Result<Vec<Vec<(FuncId, usize)>>, CodegenError> {
    let mut ctx = m.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut ids = Vec::new();
    for (k, kernel) in unit.fusion.kernels.iter().enumerate() {
        let mut funcs = Vec::new();
        let staged = stages(pieces(unit.g, unit.fusion, kernel), unit.threads);
        for (s, (pieces, n_parts)) in staged.into_iter().enumerate() {
            let name = match s {
                0 => format!("dlc_kernel_{k}"),
                _ => format!("dlc_kernel_{k}_{s}"),
            };
            let id = m.declare_function(&name, Linkage::Export, &kernel_sig(m))?;
            ctx.func.signature = kernel_sig(m);
            {
                let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
                let entry = b.create_block();
                b.append_block_params_for_function_params(entry);
                b.switch_to_block(entry);
                let params = b.block_params(entry);
                let fr = Frame {
                    slots: params[0],
                    entry,
                    loaded: RefCell::new(Vec::new()),
                    places: unit.places,
                    arena_slot: unit.arena_slot,
                    split: (n_parts > 1).then_some(Split {
                        part: params[1],
                        parts: n_parts,
                    }),
                };
                kernel_body(m, &mut b, &fr, unit, k, pieces)?;
                b.ins().return_(&[]);
                b.seal_all_blocks();
                b.finalize(m.target_config());
            }
            m.define_function(id, &mut ctx).map_err(|e| {
                CodegenError::Cranelift(format!("kernel {k} ({}): {e:?}", kernel.label))
            })?;
            m.clear_context(&mut ctx);
            funcs.push((id, n_parts));
        }
        ids.push(funcs);
    }
    Ok(ids)
}

/// A kernel's pieces as the functions it runs as, one after the other,
/// each with its part count. One function, unless the kernel cannot be
/// split among threads as a whole but a run of its loops could (a
/// convolution's bias + ReLU epilogue after the library call): then each
/// run of consecutive loops and each other piece is a function of its own.
fn stages(pieces: Vec<Piece>, threads: usize) -> Vec<(Vec<Piece>, usize)> {
    let whole = parts(&pieces, threads);
    if whole > 1 || threads <= 1 {
        return vec![(pieces, whole)];
    }
    let mut runs: Vec<Vec<Piece>> = Vec::new();
    for piece in pieces {
        let joins = matches!(piece, Piece::Loop(_))
            && matches!(runs.last().and_then(|r| r.last()), Some(Piece::Loop(_)));
        match runs.last_mut() {
            Some(run) if joins => run.push(piece),
            _ => runs.push(vec![piece]),
        }
    }
    let counted: Vec<(Vec<Piece>, usize)> = runs
        .into_iter()
        .map(|run| {
            let n = parts(&run, threads);
            (run, n)
        })
        .collect();
    if counted.iter().all(|&(_, n)| n == 1) {
        return vec![(counted.into_iter().flat_map(|(run, _)| run).collect(), 1)];
    }
    counted
}

fn kernel_body<M: Module>(
    m: &mut M,
    b: &mut FunctionBuilder,
    fr: &Frame,
    unit: &Unit,
    k: usize,
    pieces: Vec<Piece>,
) -> Result<(), CodegenError> {
    let g = unit.g;
    for piece in pieces {
        let (p, part) = match piece {
            Piece::Loop(spec) => {
                emit(b, fr, &spec);
                continue;
            }
            Piece::Conv(p, part, tail) => {
                library(m, b, fr, unit, (k, p), part.root, Some(tail))?;
                continue;
            }
            Piece::Part(p, part) => (p, part),
        };
        match part.kind {
            KernelKind::Loop | KernelKind::Reduce => {
                return Err(CodegenError::Internal(format!(
                    "%{} is a loop but was not made a loop piece",
                    part.root.0
                )))
            }
            KernelKind::Movement => {
                if let Op::Pad { .. } = g.node(part.root).op {
                    let out = fr.buffer(b, unit.fusion.buffer_of[part.root.index()]);
                    fill(b, out, g.node(part.root).shape.iter().product(), 0.0);
                }
                for mut spec in movement(g, unit.fusion, part.root) {
                    collapse(&mut spec);
                    emit(b, fr, &spec);
                }
            }
            KernelKind::Library => library(m, b, fr, unit, (k, p), part.root, None)?,
        }
    }
    Ok(())
}

fn library<M: Module>(
    m: &mut M,
    b: &mut FunctionBuilder,
    fr: &Frame,
    unit: &Unit,
    (k, p): (usize, usize),
    root: NodeId,
    tail: Option<ConvTail>,
) -> Result<(), CodegenError> {
    let mut c = call(unit.g, unit.fusion, root, unit.threads)
        .ok_or_else(|| CodegenError::Internal(format!("%{} is not a library op", root.0)))?;
    if let Some(t) = tail {
        c.name = "dlc_conv2d_fused";
        c.geom.push(i64::from(t.relu));
    }
    let callee = m.declare_function(c.name, Linkage::Import, &helper_sig(m))?;
    let fref = m.declare_func_in_func(callee, b.func);
    let data = m.declare_data(&format!("dlc_geom_{k}_{p}"), Linkage::Local, false, false)?;
    let mut desc = DataDescription::new();
    let bytes: Vec<u8> = c.geom.iter().flat_map(|v| v.to_le_bytes()).collect();
    desc.define(bytes.into_boxed_slice());
    desc.set_align(8);
    m.define_data(data, &desc)?;
    let gv = m.declare_data_in_func(data, b.func);
    let ptr = m.target_config().pointer_type();
    let geom = b.ins().symbol_value(ptr, gv);
    let mut args: Vec<Value> = c.args.iter().map(|&a| fr.buffer(b, a)).collect();
    while args.len() < 3 {
        args.push(b.ins().iconst(ptr, 0));
    }
    let scratch = match unit.scratch[k] {
        Some(off) if c.scratch > 0 => fr.arena(b, off),
        _ => b.ins().iconst(ptr, 0),
    };
    match tail {
        // The fused convolution's fourth pointer is a table of the bias,
        // the second output and the scratch.
        Some(t) => {
            let mut table = Vec::with_capacity(3);
            for buf in [t.bias, t.also] {
                table.push(match buf {
                    Some(buf) => fr.buffer(b, buf),
                    None => b.ins().iconst(ptr, 0),
                });
            }
            table.push(scratch);
            let size = (8 * table.len()) as u32;
            let slot =
                b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
            for (i, v) in table.into_iter().enumerate() {
                b.ins().stack_store(ptr, v, slot, (8 * i) as i32);
            }
            args.push(b.ins().stack_addr(ptr, slot, 0));
        }
        None => args.push(scratch),
    }
    args.push(geom);
    b.ins().call(fref, &args);
    Ok(())
}

impl Frame<'_> {
    /// The address of node `buf`'s buffer.
    pub fn buffer(&self, b: &mut FunctionBuilder, buf: NodeId) -> Value {
        match self.places[buf.index()] {
            Some(Place::Slot(s)) => self.slot(b, s),
            Some(Place::Arena(off)) => self.arena(b, off),
            None => b.ins().iconst(types::I64, 0),
        }
    }

    /// Slot `s`'s pointer, loaded in the entry block, so loops find it in
    /// a register. (Cranelift sinks a movable load to its use and does not
    /// hoist it out of loops again; a load without `can_move` stays where
    /// it is put. The slot table does not change while a kernel runs.)
    fn slot(&self, b: &mut FunctionBuilder, s: usize) -> Value {
        if let Some(&(_, v)) = self.loaded.borrow().iter().find(|(t, _)| *t == s) {
            return v;
        }
        let flags = MemFlagsData::trusted().with_readonly();
        let offset = (s * 8) as i32;
        let v = match b.func.layout.last_inst(self.entry) {
            Some(last) if b.func.dfg.insts[last].opcode().is_terminator() => FuncCursor::new(
                b.func,
            )
            .at_inst(last)
            .ins()
            .load(types::I64, flags, self.slots, offset),
            _ => b.ins().load(types::I64, flags, self.slots, offset),
        };
        self.loaded.borrow_mut().push((s, v));
        v
    }

    /// The arena address `base + off`; the base is the last slot.
    pub fn arena(&self, b: &mut FunctionBuilder, off: usize) -> Value {
        let base = self.slot(b, self.arena_slot);
        b.ins().iadd_imm_s(base, off as i64)
    }
}
