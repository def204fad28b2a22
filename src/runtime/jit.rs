//! The Cranelift JIT as an [`Engine`]: each step graph is compiled once by
//! `codegen::compile` into native kernels over a static memory plan, and
//! every batch runs that code.
//!
//! The runtime holds every value as a contiguous `f32` array (integer data
//! such as labels as exact `f32` values, as the reference interpreter
//! does). An `f32` input is bound in place — the state's and the batch's
//! own buffers — and the outputs are written straight into arrays this
//! step owns; after the kernels run, each `update:<name>` array is swapped
//! with the state's (see [`Outputs::swap_updates`]), so a train step
//! copies no parameter or optimizer state. Only `i32` inputs and outputs
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
        let outputs = Outputs {
            names: compiled.outputs().iter().map(|s| s.name.clone()).collect(),
            values: compiled.outputs().iter().map(zeros).collect(),
        };
        Ok(Box::new(JitStep {
            kernels: codegen::explain(graph, &compiled.fusion),
            stage_f32: vec![Vec::new(); inputs.len()],
            stage_i32: vec![Vec::new(); inputs.len()],
            out_i32: compiled.outputs().iter().map(|_| Vec::new()).collect(),
            inputs,
            outputs,
            compiled,
        }))
    }
}

fn zeros(s: &TensorSig) -> ArrayD<f32> {
    ArrayD::zeros(IxDyn(&s.shape))
}

struct JitStep {
    compiled: Compiled,
    /// `compiled.inputs()`, kept apart so binding can borrow it.
    inputs: Vec<TensorSig>,
    /// Per input: a copy of a non-contiguous `f32` value (usually empty).
    stage_f32: Vec<Vec<f32>>,
    /// Per input: an `i32` input's values.
    stage_i32: Vec<Vec<i32>>,
    /// Per output: an `i32` output's values before they become `f32`.
    out_i32: Vec<Vec<i32>>,
    outputs: Outputs,
    kernels: Vec<KernelReport>,
}

impl JitStep {
    /// Fills the staging buffers of inputs that cannot be bound in place.
    fn stage(&mut self, state: &Tensors, feeds: &[&Tensors]) -> Result<(), EngineError> {
        for (k, sig) in self.inputs.iter().enumerate() {
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
        for (k, sig) in self.compiled.outputs().iter().enumerate() {
            let v = &mut self.outputs.values[k];
            if v.len() != sig.len() || v.as_slice().is_none() {
                *v = zeros(sig);
            }
            if sig.dtype == DType::I32 {
                self.out_i32[k].resize(sig.len(), 0);
            }
        }
    }
}

impl Step for JitStep {
    fn run(&mut self, state: &mut Tensors, feeds: &[&Tensors]) -> Result<&Outputs, EngineError> {
        self.stage(state, feeds)?;
        self.prepare_outputs();
        {
            let mut ins = Vec::with_capacity(self.inputs.len());
            for (k, sig) in self.inputs.iter().enumerate() {
                ins.push(match sig.dtype {
                    DType::F32 => match lookup(&sig.name, feeds, state)?.as_slice() {
                        Some(s) => In::F32(s),
                        None => In::F32(&self.stage_f32[k]),
                    },
                    DType::I32 => In::I32(&self.stage_i32[k]),
                });
            }
            let mut outs: Vec<Out> = self
                .outputs
                .values
                .iter_mut()
                .zip(&mut self.out_i32)
                .zip(self.compiled.outputs())
                .map(|((v, i), sig)| match sig.dtype {
                    DType::F32 => Out::F32(v.as_slice_mut().unwrap_or_default()),
                    DType::I32 => Out::I32(i),
                })
                .collect();
            self.compiled.run(&ins, &mut outs)?;
        }
        for (k, sig) in self.compiled.outputs().iter().enumerate() {
            if sig.dtype == DType::I32 {
                let v = &mut self.outputs.values[k];
                v.iter_mut()
                    .zip(&self.out_i32[k])
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
