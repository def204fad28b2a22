//! Compiling a graph into a runnable step, and running it.
//!
//! Layout: graph inputs are bound in arena order of their `Input` nodes,
//! outputs in `Graph::outputs` order. An output's buffer is the caller's
//! output slice itself when its value is computed by a kernel and claimed by
//! no other output; otherwise (an input passed through, or a value named
//! twice) it is copied after the kernels run. Every other buffer gets a
//! fixed arena offset from `passes::memplan`.

use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::default_libcall_names;

use super::call::call;
use super::helpers::Shared;
use super::inplace::in_place;
use super::lower::{helper_symbols, lower, Unit};
use super::subnormal::Flushed;
use super::team;
use super::{CodegenError, Options, Place};
use crate::ir::{DType, Graph, NodeId, Op};
use crate::passes::fuse::{fuse, Fusion, KernelKind, Role};
use crate::passes::memplan::{memplan, Interval};

/// Name, shape and dtype of a bound tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSig {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
}

impl TensorSig {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An input buffer.
pub enum In<'a> {
    F32(&'a [f32]),
    I32(&'a [i32]),
    /// An input the step may overwrite with its in-place output (see
    /// [`Compiled::in_place`]); read-only otherwise.
    F32Mut(&'a mut [f32]),
}

/// An output buffer.
pub enum Out<'a> {
    F32(&'a mut [f32]),
    I32(&'a mut [i32]),
    /// Written into the buffer of its in-place partner input, which must be
    /// bound as [`In::F32Mut`].
    InPlace,
}

/// Where an output not bound in place is copied from.
#[derive(Clone, Copy, Debug)]
enum Source {
    Slot(usize),
    Arena(usize),
}

/// 64-byte aligned arena storage.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u8; 64]);

type KernelFn = unsafe extern "C" fn(*const *mut u8, i64);

/// A compiled step: call [`Compiled::run`] with buffers in the order of
/// [`Compiled::inputs`] and [`Compiled::outputs`].
pub struct Compiled {
    module: Option<JITModule>,
    /// Per kernel, its functions (stages, `lower::stages`) and the parts
    /// each runs in (`lower::parts`).
    kernels: Vec<Vec<(KernelFn, usize)>>,
    slots: Vec<*mut u8>,
    arena: Vec<Block>,
    inputs: Vec<TensorSig>,
    outputs: Vec<TensorSig>,
    copies: Vec<(usize, Source, usize)>,
    in_place: Vec<(usize, usize)>,
    /// The fused graph's kernels, for reports.
    pub fusion: Fusion,
    pub arena_bytes: usize,
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the kernel pointers die with `self`; nothing else
            // refers to the module's code.
            unsafe { m.free_memory() };
        }
    }
}

fn sig(g: &Graph, name: &str, id: NodeId) -> TensorSig {
    TensorSig {
        name: name.to_string(),
        shape: g.shape(id).to_vec(),
        dtype: g.node(id).dtype,
    }
}

fn bytes_of(g: &Graph, id: NodeId) -> usize {
    g.shape(id).iter().product::<usize>() * 4
}

/// Compiles `g` for this host.
pub fn compile(g: &Graph, opts: &Options) -> Result<Compiled, CodegenError> {
    crate::ir::verify::verify(g).map_err(|e| CodegenError::Internal(e.to_string()))?;
    let fusion = fuse(g);
    let (input_ids, inputs): (Vec<NodeId>, Vec<TensorSig>) = (0..g.nodes.len() as u32)
        .map(NodeId)
        .filter_map(|i| {
            let Op::Input { name, .. } = &g.node(i).op else {
                return None;
            };
            Some((i, sig(g, name, i)))
        })
        .unzip();
    let outputs: Vec<TensorSig> = g.outputs.iter().map(|(n, id)| sig(g, n, *id)).collect();
    let n_in = inputs.len();
    let mut places: Vec<Option<Place>> = vec![None; g.nodes.len()];
    for (k, &i) in input_ids.iter().enumerate() {
        places[i.index()] = Some(Place::Slot(k));
    }
    let mut pending = Vec::new();
    for (k, (_, id)) in g.outputs.iter().enumerate() {
        let root = fusion.buffer_of[id.index()];
        if places[root.index()].is_none() {
            places[root.index()] = Some(Place::Slot(n_in + k));
        } else {
            pending.push((k, root));
        }
    }
    let in_place = in_place(g, &fusion, &input_ids, &places);
    let (intervals, owners) = intervals(g, &fusion, &places);
    let plan = memplan(&intervals);
    let mut scratch = vec![None; fusion.kernels.len()];
    for (iv, (owner, off)) in owners.iter().zip(&plan.offsets).enumerate() {
        match owner {
            Owner::Buffer(b) => places[b.index()] = Some(Place::Arena(*off)),
            Owner::Scratch(k) => scratch[*k] = Some(*off),
        }
        let _ = iv;
    }
    let copies = pending
        .into_iter()
        .map(|(k, root)| {
            let src = match places[root.index()] {
                Some(Place::Slot(s)) => Source::Slot(s),
                Some(Place::Arena(o)) => Source::Arena(o),
                None => Source::Arena(0),
            };
            (k, src, bytes_of(g, root))
        })
        .collect();
    let arena_slot = n_in + outputs.len();
    let mut module = jit_module(opts)?;
    let unit = Unit {
        g,
        fusion: &fusion,
        places: &places,
        scratch: &scratch,
        threads: opts.threads,
        arena_slot,
    };
    let ids = lower(&mut module, &unit)?;
    module.finalize_definitions()?;
    let kernels = ids
        .iter()
        .map(|stages| {
            stages
                .iter()
                .map(|&(id, parts)| {
                    let p = module.get_finalized_function(id);
                    // SAFETY: every kernel function was defined with the
                    // signature `fn(*const *mut u8, i64)` by `lower`.
                    (
                        unsafe { std::mem::transmute::<*const u8, KernelFn>(p) },
                        parts,
                    )
                })
                .collect()
        })
        .collect();
    let blocks = plan.arena_bytes.div_ceil(64).max(1);
    Ok(Compiled {
        module: Some(module),
        kernels,
        slots: vec![std::ptr::null_mut(); arena_slot + 1],
        arena: vec![Block([0; 64]); blocks],
        inputs,
        outputs,
        copies,
        in_place,
        fusion,
        arena_bytes: plan.arena_bytes,
    })
}

fn jit_module(opts: &Options) -> Result<JITModule, CodegenError> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| {
        f.set(k, v)
            .map_err(|e| CodegenError::Cranelift(format!("{k}={v}: {e}")))
    };
    set(
        &mut flags,
        "opt_level",
        if opts.optimize { "speed" } else { "none" },
    )?;
    set(
        &mut flags,
        "enable_verifier",
        if opts.verify { "true" } else { "false" },
    )?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    set(&mut flags, "is_pic", "false")?;
    let isa = cranelift_native::builder()
        .map_err(|e| CodegenError::Host(e.to_string()))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| CodegenError::Host(e.to_string()))?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr) in helper_symbols() {
        jb.symbol(name, ptr);
    }
    Ok(JITModule::new(jb))
}

/// What an arena interval holds.
enum Owner {
    Buffer(NodeId),
    Scratch(usize),
}

/// Live intervals of every arena buffer (not placed in a slot) and of each
/// kernel's scratch space.
fn intervals(g: &Graph, f: &Fusion, places: &[Option<Place>]) -> (Vec<Interval>, Vec<Owner>) {
    let mut span: Vec<Option<(usize, usize)>> = vec![None; g.nodes.len()];
    let mut touch = |b: NodeId, k: usize| {
        let s = &mut span[b.index()];
        *s = Some(s.map_or((k, k), |(a, z)| (a.min(k), z.max(k))));
    };
    let mut ivs = Vec::new();
    let mut owners = Vec::new();
    for (k, kernel) in f.kernels.iter().enumerate() {
        let mut scratch = 0;
        for part in &kernel.parts {
            touch(f.buffer_of[part.root.index()], k);
            for m in &part.members {
                for p in &g.node(*m).inputs {
                    if f.roles[p.index()] != Role::Inline {
                        touch(f.buffer_of[p.index()], k);
                    }
                }
            }
            if part.kind == KernelKind::Library {
                scratch = scratch.max(call(g, f, part.root, 1).map_or(0, |c| c.scratch));
            }
        }
        if scratch > 0 {
            ivs.push(Interval {
                bytes: scratch * 4,
                first: k,
                last: k,
            });
            owners.push(Owner::Scratch(k));
        }
    }
    for (i, s) in span.iter().enumerate() {
        if let (Some((first, last)), None) = (s, places[i]) {
            ivs.push(Interval {
                bytes: bytes_of(g, NodeId(i as u32)),
                first: *first,
                last: *last,
            });
            owners.push(Owner::Buffer(NodeId(i as u32)));
        }
    }
    (ivs, owners)
}

impl Compiled {
    pub fn inputs(&self) -> &[TensorSig] {
        &self.inputs
    }

    pub fn outputs(&self) -> &[TensorSig] {
        &self.outputs
    }

    /// `(output, input)` index pairs whose output may be bound as
    /// [`Out::InPlace`]: written over the input's buffer as the step goes,
    /// with the same result (see `codegen::inplace`).
    pub fn in_place(&self) -> &[(usize, usize)] {
        &self.in_place
    }

    /// Per kernel, how many threads share its loops (1: not split; for a
    /// kernel run in stages, its most shared stage).
    pub fn parts(&self) -> impl Iterator<Item = usize> + '_ {
        self.kernels
            .iter()
            .map(|stages| stages.iter().map(|&(_, parts)| parts).max().unwrap_or(1))
    }

    /// Runs the step. `inputs` and `outputs` follow [`Compiled::inputs`]
    /// and [`Compiled::outputs`]; lengths and dtypes are checked.
    pub fn run(&mut self, inputs: &[In], outputs: &mut [Out]) -> Result<(), CodegenError> {
        check_arity("inputs", self.inputs.len(), inputs.len())?;
        check_arity("outputs", self.outputs.len(), outputs.len())?;
        for (k, (s, x)) in self.inputs.iter().zip(inputs).enumerate() {
            let (ptr, len, dt) = match x {
                In::F32(v) => (v.as_ptr().cast::<u8>(), v.len(), DType::F32),
                In::I32(v) => (v.as_ptr().cast::<u8>(), v.len(), DType::I32),
                In::F32Mut(v) => (v.as_ptr().cast::<u8>(), v.len(), DType::F32),
            };
            check_binding("input", s, len, dt)?;
            self.slots[k] = ptr.cast_mut();
        }
        let n_in = self.inputs.len();
        for (k, (s, y)) in self.outputs.iter().zip(outputs.iter_mut()).enumerate() {
            let ptr = match y {
                Out::F32(v) => {
                    check_binding("output", s, v.len(), DType::F32)?;
                    v.as_mut_ptr().cast::<u8>()
                }
                Out::I32(v) => {
                    check_binding("output", s, v.len(), DType::I32)?;
                    v.as_mut_ptr().cast::<u8>()
                }
                Out::InPlace => {
                    let partner = self.in_place.iter().find(|&&(o, _)| o == k);
                    match partner {
                        Some(&(_, i)) if matches!(inputs[i], In::F32Mut(_)) => self.slots[i],
                        _ => return Err(CodegenError::InPlace(s.name.clone())),
                    }
                }
            };
            self.slots[n_in + k] = ptr;
        }
        let last = self.slots.len() - 1;
        self.slots[last] = self.arena.as_mut_ptr().cast::<u8>();
        // The slot table is only read while the kernels run.
        let slots = Shared(self.slots.as_ptr());
        let _flushed = Flushed::new();
        for &(kernel, parts) in self.kernels.iter().flatten() {
            // SAFETY: the slots point at buffers of the sizes the kernels
            // were compiled for (checked above) and at the arena, which is
            // as large as the memory plan says. The parts of a split
            // kernel write disjoint elements and read none that another
            // part writes (`lower::parts`).
            let run = |part: usize| unsafe { kernel(slots.get(), part as i64) };
            if parts > 1 {
                team::run(parts, &run);
            } else {
                run(0);
            }
        }
        for &(k, src, bytes) in &self.copies {
            let from = match src {
                Source::Slot(s) => self.slots[s].cast_const(),
                Source::Arena(o) => self.slots[last].cast_const().wrapping_add(o),
            };
            // SAFETY: `from` holds `bytes` bytes of the value (an input or
            // an arena/output buffer), and output `k` was checked to hold
            // as many; distinct buffers never overlap.
            unsafe { std::ptr::copy_nonoverlapping(from, self.slots[n_in + k], bytes) };
        }
        Ok(())
    }
}

fn check_arity(what: &'static str, expected: usize, got: usize) -> Result<(), CodegenError> {
    if expected == got {
        Ok(())
    } else {
        Err(CodegenError::Arity {
            what,
            expected,
            got,
        })
    }
}

fn check_binding(
    what: &'static str,
    s: &TensorSig,
    len: usize,
    dtype: DType,
) -> Result<(), CodegenError> {
    if s.len() == len && s.dtype == dtype {
        return Ok(());
    }
    Err(CodegenError::Binding {
        what,
        name: s.name.clone(),
        expected: s.len(),
        dtype: s.dtype,
        got: len,
        got_dtype: dtype,
    })
}
