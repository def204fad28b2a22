//! The Cranelift JIT as an [`Engine`]: each step graph is compiled once by
//! `codegen::compile` into native kernels over a static memory plan, and
//! every batch runs that code.
//!
//! The runtime holds every value as a contiguous `f32` array (integer data
//! such as labels as exact `f32` values, as the reference interpreter
//! does). An `f32` input is bound in place — the state's and the batch's
//! own buffers. An `update:<name>` that `Compiled::in_place` allows (the
//! optimizer's, normally all of them) is written over the state's `name`
//! array itself; the other outputs go to arrays this step owns, and any
//! other update array is swapped with the state's after the kernels run
//! (see [`Outputs::swap_updates`]), so a train step copies no parameter or
//! optimizer state. Only `i32` inputs and outputs
//! (a batch of labels) and any non-contiguous array go through a staging
//! buffer.

use ndarray::{ArrayD, IxDyn};

use super::engine::{lookup, Engine, EngineError, Outputs, Step, Tensors};
use crate::codegen::{self, Compiled, In, KernelReport, Options, Out, TensorSig};
use crate::ir::{DType, Graph};

/// The JIT engine; `threads` is passed to the contractions.
pub struct Jit {
    pub threads: usize,
}

impl Engine for Jit {
    fn compile(&self, graph: &Graph) -> Result<Box<dyn Step>, EngineError> {
        let opts = Options {
            threads: self.threads.max(1),
            ..Options::default()
        };
        let compiled = codegen::compile(graph, &opts)?;
        let inputs = compiled.inputs().to_vec();
        let mut in_place = vec![false; inputs.len()];
        let mut binds = Vec::new();
        let mut outputs = Outputs::default();
        for (k, sig) in compiled.outputs().iter().enumerate() {
            match compiled.in_place().iter().find(|&&(o, _)| o == k) {
                Some(&(_, i)) => {
                    in_place[i] = true;
                    binds.push(Bind::InPlace);
                }
                None => {
                    binds.push(Bind::Own(outputs.values.len()));
                    outputs.names.push(sig.name.clone());
                    outputs.values.push(zeros(sig));
                }
            }
        }
        let mut kernels = codegen::explain(graph, &compiled.fusion);
        for (r, parts) in kernels.iter_mut().zip(compiled.parts()) {
            r.parts = parts;
        }
        Ok(Box::new(JitStep {
            kernels,
            stage_f32: vec![Vec::new(); inputs.len()],
            stage_i32: vec![Vec::new(); inputs.len()],
            out_i32: compiled.outputs().iter().map(|_| Vec::new()).collect(),
            taken: Vec::with_capacity(in_place.iter().filter(|&&p| p).count()),
            in_place,
            binds,
            inputs,
            outputs,
            compiled,
        }))
    }
}

fn zeros(s: &TensorSig) -> ArrayD<f32> {
    ArrayD::zeros(IxDyn(&s.shape))
}

/// Where a compiled output goes.
enum Bind {
    /// `outputs.values[k]`.
    Own(usize),
    /// Over its state input's own array (`Compiled::in_place`).
    InPlace,
}

struct JitStep {
    compiled: Compiled,
    /// `compiled.inputs()`, kept apart so binding can borrow it.
    inputs: Vec<TensorSig>,
    /// Per input: whether its state array is overwritten by its update.
    in_place: Vec<bool>,
    /// Per compiled output.
    binds: Vec<Bind>,
    /// The in-place inputs' state entries, out of the state during a run so
    /// they can be borrowed mutably beside the rest.
    taken: Vec<(String, ArrayD<f32>)>,
    /// Per input: a copy of a non-contiguous `f32` value (usually empty).
    stage_f32: Vec<Vec<f32>>,
    /// Per input: an `i32` input's values.
    stage_i32: Vec<Vec<i32>>,
    /// Per compiled output: an `i32` output's values before they become
    /// `f32`.
    out_i32: Vec<Vec<i32>>,
    /// The outputs not written in place; an in-place update is in the
    /// state already when the step returns.
    outputs: Outputs,
    kernels: Vec<KernelReport>,
}

impl JitStep {
    /// Fills the staging buffers of inputs that cannot be bound in place.
    fn stage(&mut self, state: &Tensors, feeds: &[&Tensors]) -> Result<(), EngineError> {
        for (k, sig) in self.inputs.iter().enumerate() {
            if self.in_place[k] {
                continue;
            }
            let x = lookup(&sig.name, feeds, state)?;
            if x.len() != sig.len() {
                return Err(EngineError::InputSize {
                    name: sig.name.clone(),
                    expected: sig.len(),
                    got: x.len(),
                });
            }
            match sig.dtype {
                DType::F32 if x.as_slice().is_some() => {}
                DType::F32 => {
                    let buf = &mut self.stage_f32[k];
                    buf.clear();
                    buf.extend(x.iter());
                }
                DType::I32 => {
                    let buf = &mut self.stage_i32[k];
                    buf.clear();
                    buf.extend(x.iter().map(|&v| v as i32));
                }
            }
        }
        Ok(())
    }

    /// Makes every output array contiguous and of its compiled size (a
    /// swapped-in state array normally is already) and sizes `i32`
    /// outputs' staging.
    fn prepare_outputs(&mut self) {
        for (sig, (bind, i32s)) in self
            .compiled
            .outputs()
            .iter()
            .zip(self.binds.iter().zip(&mut self.out_i32))
        {
            if let Bind::Own(j) = *bind {
                let v = &mut self.outputs.values[j];
                if v.len() != sig.len() || v.as_slice().is_none() {
                    *v = zeros(sig);
                }
            }
            if sig.dtype == DType::I32 {
                i32s.resize(sig.len(), 0);
            }
        }
    }

    /// Moves the in-place inputs' arrays out of `state` into `taken`, each
    /// contiguous. They must come from the state: a feed of the same name
    /// would be read instead, but then the update could not land in it.
    fn take(&mut self, state: &mut Tensors, feeds: &[&Tensors]) -> Result<(), EngineError> {
        for (sig, _) in self.inputs.iter().zip(&self.in_place).filter(|(_, &p)| p) {
            if feeds.iter().any(|f| f.contains_key(&sig.name)) {
                return Err(EngineError::Internal(format!(
                    "`{}` is updated in place but also fed per batch",
                    sig.name
                )));
            }
            let (name, mut x) = state
                .remove_entry(&sig.name)
                .ok_or_else(|| EngineError::MissingInput(sig.name.clone()))?;
            if x.as_slice().is_none() {
                x = x.as_standard_layout().into_owned();
            }
            self.taken.push((name, x));
        }
        Ok(())
    }

    /// Binds every buffer and runs the kernels.
    fn call(&mut self, state: &Tensors, feeds: &[&Tensors]) -> Result<(), EngineError> {
        let mut taken = self.taken.iter_mut();
        let mut ins = Vec::with_capacity(self.inputs.len());
        for (k, sig) in self.inputs.iter().enumerate() {
            ins.push(match sig.dtype {
                DType::F32 if self.in_place[k] => {
                    let (_, x) = taken.next().expect("one taken array per in-place input");
                    In::F32Mut(x.as_slice_mut().unwrap_or_default())
                }
                DType::F32 => match lookup(&sig.name, feeds, state)?.as_slice() {
                    Some(s) => In::F32(s),
                    None => In::F32(&self.stage_f32[k]),
                },
                DType::I32 => In::I32(&self.stage_i32[k]),
            });
        }
        let mut own = self.outputs.values.iter_mut();
        let mut outs: Vec<Out> = Vec::with_capacity(self.binds.len());
        for ((bind, i32s), sig) in self
            .binds
            .iter()
            .zip(&mut self.out_i32)
            .zip(self.compiled.outputs())
        {
            outs.push(match (bind, sig.dtype) {
                (Bind::InPlace, _) => Out::InPlace,
                (Bind::Own(_), DType::I32) => {
                    own.next();
                    Out::I32(i32s)
                }
                (Bind::Own(_), DType::F32) => {
                    let v = own.next().expect("one array per own output");
                    Out::F32(v.as_slice_mut().unwrap_or_default())
                }
            });
        }
        self.compiled.run(&ins, &mut outs)?;
        Ok(())
    }
}

impl Step for JitStep {
    fn run(&mut self, state: &mut Tensors, feeds: &[&Tensors]) -> Result<&Outputs, EngineError> {
        self.stage(state, feeds)?;
        self.prepare_outputs();
        let taken = self.take(state, feeds);
        let ran = taken.and_then(|()| self.call(state, feeds));
        // The taken arrays go back whatever happened, updated or not.
        for (name, x) in self.taken.drain(..) {
            state.insert(name, x);
        }
        ran?;
        for ((sig, bind), i32s) in self
            .compiled
            .outputs()
            .iter()
            .zip(&self.binds)
            .zip(&self.out_i32)
        {
            if let (DType::I32, Bind::Own(j)) = (sig.dtype, bind) {
                self.outputs.values[*j]
                    .iter_mut()
                    .zip(i32s)
                    .for_each(|(d, &s)| *d = s as f32);
            }
        }
        self.outputs.swap_updates(state);
        Ok(&self.outputs)
    }

    fn kernels(&self) -> Option<&[KernelReport]> {
        Some(&self.kernels)
    }
}
