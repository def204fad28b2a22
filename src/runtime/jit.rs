//! The Cranelift JIT as an [`Engine`]: each step graph is compiled once by
//! `codegen::compile` into native kernels over a static memory plan, and
//! every batch runs that code.
//!
//! The runtime speaks [`Tensors`] (named `f32` arrays, with integer data
//! such as labels held as exact `f32` values, as the reference interpreter
//! does); the compiled step speaks flat buffers in its own input and output
//! order. This adapter keeps one staging buffer per input and output, sized
//! at compile time, so a step copies the batch in and the results out but
//! allocates only the returned arrays.

use ndarray::{ArrayD, IxDyn};

use super::engine::{Engine, EngineError, Step, Tensors};
use crate::codegen::{self, Compiled, In, Options, Out};
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
        let stage = |sigs: &[codegen::TensorSig]| -> Vec<Buffer> {
            sigs.iter()
                .map(|s| match s.dtype {
                    DType::F32 => Buffer::F32(vec![0.0; s.len()]),
                    DType::I32 => Buffer::I32(vec![0; s.len()]),
                })
                .collect()
        };
        Ok(Box::new(JitStep {
            ins: stage(compiled.inputs()),
            outs: stage(compiled.outputs()),
            compiled,
        }))
    }
}

/// A staging buffer in the compiled step's element type.
enum Buffer {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

struct JitStep {
    compiled: Compiled,
    ins: Vec<Buffer>,
    outs: Vec<Buffer>,
}

impl Step for JitStep {
    fn run(&mut self, inputs: &Tensors) -> Result<Tensors, EngineError> {
        for (sig, buf) in self.compiled.inputs().iter().zip(&mut self.ins) {
            let x = inputs
                .get(&sig.name)
                .ok_or_else(|| EngineError::MissingInput(sig.name.clone()))?;
            if x.len() != sig.len() {
                return Err(EngineError::InputSize {
                    name: sig.name.clone(),
                    expected: sig.len(),
                    got: x.len(),
                });
            }
            match buf {
                Buffer::F32(b) => b.iter_mut().zip(x.iter()).for_each(|(d, s)| *d = *s),
                // Integer data is held as exact f32 values by the runtime.
                Buffer::I32(b) => b.iter_mut().zip(x.iter()).for_each(|(d, s)| *d = *s as i32),
            }
        }
        let ins: Vec<In> = self
            .ins
            .iter()
            .map(|b| match b {
                Buffer::F32(v) => In::F32(v),
                Buffer::I32(v) => In::I32(v),
            })
            .collect();
        let mut outs: Vec<Out> = self
            .outs
            .iter_mut()
            .map(|b| match b {
                Buffer::F32(v) => Out::F32(v),
                Buffer::I32(v) => Out::I32(v),
            })
            .collect();
        self.compiled.run(&ins, &mut outs)?;
        let mut result = Tensors::new();
        for (sig, buf) in self.compiled.outputs().iter().zip(&self.outs) {
            let data: Vec<f32> = match buf {
                Buffer::F32(v) => v.clone(),
                Buffer::I32(v) => v.iter().map(|&i| i as f32).collect(),
            };
            let array = ArrayD::from_shape_vec(IxDyn(&sig.shape), data)
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            result.insert(sig.name.clone(), array);
        }
        Ok(result)
    }
}
