//! The values lowering computes with, and the scope they live in.

use std::collections::HashMap;

use crate::diag::Span;
use crate::ir::{DType, NodeId};

use super::{LowerError, Result};

/// A value during lowering: a graph node, or something known statically.
#[derive(Clone, Debug)]
pub enum Val {
    /// A tensor computed by the graph.
    Tensor(NodeId),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// An element type written as a value, as in `cast(x, i32)`.
    DType(DType),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    /// `a..b`.
    Range(i64, i64),
    /// A definition used as a value (`metrics = [accuracy]`, `= zeros`).
    Func(String),
    /// An initializer with an argument: `normal(std: 0.02)`.
    Init(super::init::Init),
}

impl Val {
    pub fn describe(&self) -> &'static str {
        match self {
            Val::Tensor(_) => "a tensor",
            Val::Int(_) => "an int",
            Val::Float(_) => "a float",
            Val::Bool(_) => "a bool",
            Val::Str(_) => "a string",
            Val::DType(_) => "an element type",
            Val::Tuple(_) => "a tuple",
            Val::List(_) => "a list",
            Val::Range(..) => "a range",
            Val::Func(_) => "a function",
            Val::Init(_) => "an initializer",
        }
    }

    pub fn as_int(&self, span: Span) -> Result<i64> {
        match self {
            Val::Int(v) => Ok(*v),
            other => Err(LowerError::at(
                span,
                format!("expected an int, got {}", other.describe()),
            )),
        }
    }

    pub fn as_float(&self, span: Span) -> Result<f64> {
        match self {
            Val::Int(v) => Ok(*v as f64),
            Val::Float(v) => Ok(*v),
            other => Err(LowerError::at(
                span,
                format!("expected a number, got {}", other.describe()),
            )),
        }
    }

    pub fn as_bool(&self, span: Span) -> Result<bool> {
        match self {
            Val::Bool(v) => Ok(*v),
            other => Err(LowerError::at(
                span,
                format!("expected a bool, got {}", other.describe()),
            )),
        }
    }

    /// A list of ints, as in `reshape(x, [B, 7])` or `axis: [0, 2]`; a single
    /// int is a list of one.
    pub fn as_ints(&self, span: Span) -> Result<Vec<i64>> {
        match self {
            Val::Int(v) => Ok(vec![*v]),
            Val::List(items) | Val::Tuple(items) => items.iter().map(|v| v.as_int(span)).collect(),
            other => Err(LowerError::at(
                span,
                format!("expected a list of ints, got {}", other.describe()),
            )),
        }
    }
}

/// The variables and dimension bindings of one inlined call.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    pub vars: HashMap<String, Val>,
    pub dims: HashMap<String, i64>,
    /// The instance path that names this call's parameters (`dense_1`).
    pub path: String,
}
