//! The checker's view of values: tensor types with symbolic shapes, static
//! scalars, and a poison type that silences follow-on errors.

use std::fmt;

use crate::syntax::ast::DType;

use super::dims::Dim;

/// Leading dimensions matched as a group (`...`).
#[derive(Clone, Debug, PartialEq)]
pub enum Rest {
    /// The `...` of the signature being checked: some fixed, unknown dims.
    Named(String),
    /// Any number of dimensions nobody knows (a poisoned or unread shape).
    Any,
}

/// A shape: optional leading group, then dimensions; `None` is a dimension
/// the checker could not know (it agrees with anything).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Shape {
    pub rest: Option<Rest>,
    pub dims: Vec<Option<Dim>>,
}

impl Shape {
    pub fn known(dims: Vec<Dim>) -> Shape {
        Shape {
            rest: None,
            dims: dims.into_iter().map(Some).collect(),
        }
    }

    pub fn unknown() -> Shape {
        Shape {
            rest: Some(Rest::Any),
            dims: Vec::new(),
        }
    }

    /// The rank, when no leading group hides it.
    pub fn rank(&self) -> Option<usize> {
        self.rest.is_none().then_some(self.dims.len())
    }

    pub fn is_scalar(&self) -> bool {
        self.rank() == Some(0)
    }

    /// Number of elements, when every dimension is known.
    pub fn numel(&self) -> Option<Dim> {
        if self.rest.is_some() {
            return None;
        }
        self.dims
            .iter()
            .try_fold(Dim::constant(1), |acc, d| d.as_ref().map(|d| acc.mul(d)))
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        match &self.rest {
            Some(Rest::Named(_)) => parts.push("...".into()),
            Some(Rest::Any) => parts.push("..?".into()),
            None => {}
        }
        for d in &self.dims {
            parts.push(d.as_ref().map_or("?".to_string(), Dim::to_string));
        }
        write!(f, "[{}]", parts.join(", "))
    }
}

/// The type of an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Tensor(DType, Shape),
    /// A static integer; its value when known (a dimension is an int).
    Int(Option<Dim>),
    Float(Option<f64>),
    /// A static bool; its value when known (`training` is not).
    Bool(Option<bool>),
    Str(Option<String>),
    /// `f32` written as a value, as in `cast(x, f32)`.
    DType(DType),
    Tuple(Vec<Ty>),
    List(Vec<Ty>),
    Range(Option<(i64, i64)>),
    /// A definition, primitive or initializer named as a value.
    Func(String),
    /// An initializer with its argument: `normal(std: 0.02)`.
    Init,
    /// The type of an expression that already had an error: agrees with
    /// everything and reports nothing more.
    Error,
}

impl Ty {
    pub fn tensor(dtype: DType, dims: Vec<Dim>) -> Ty {
        Ty::Tensor(dtype, Shape::known(dims))
    }

    /// What kind of value, for messages: `a tensor f32[B, 10]`, `an int`.
    pub fn describe(&self) -> String {
        match self {
            Ty::Tensor(..) => format!("a tensor {self}"),
            Ty::Int(_) => "an int".into(),
            Ty::Float(_) => "a float".into(),
            Ty::Bool(_) => "a bool".into(),
            Ty::Str(_) => "a string".into(),
            Ty::DType(_) => "an element type".into(),
            Ty::Tuple(_) => format!("a tuple {self}"),
            Ty::List(_) => "a list".into(),
            Ty::Range(_) => "a range".into(),
            Ty::Func(n) => format!("the function `{n}`"),
            Ty::Init => "an initializer".into(),
            Ty::Error => "an erroneous value".into(),
        }
    }

    /// A tensor view of numbers and bools: `2.0` is an `f32[]`.
    pub fn as_tensor(&self) -> Option<(DType, Shape)> {
        match self {
            Ty::Tensor(d, s) => Some((*d, s.clone())),
            Ty::Float(_) | Ty::Bool(_) => Some((DType::F32, Shape::default())),
            Ty::Int(_) => Some((DType::I32, Shape::default())),
            _ => None,
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Ty::Int(_) | Ty::Float(_))
    }
}

pub fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::I32 => "i32",
        DType::U8 => "u8",
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Tensor(d, s) if s.is_scalar() => f.write_str(dtype_name(*d)),
            Ty::Tensor(d, s) => write!(f, "{}{s}", dtype_name(*d)),
            Ty::Int(Some(v)) => write!(f, "{v}"),
            Ty::Int(None) => f.write_str("int"),
            Ty::Float(_) => f.write_str("float"),
            Ty::Bool(_) => f.write_str("bool"),
            Ty::Str(_) => f.write_str("str"),
            Ty::DType(d) => f.write_str(dtype_name(*d)),
            Ty::Tuple(ts) | Ty::List(ts) => {
                let inner: Vec<String> = ts.iter().map(Ty::to_string).collect();
                let (open, close) = if matches!(self, Ty::Tuple(_)) {
                    ("(", ")")
                } else {
                    ("[", "]")
                };
                write!(f, "{open}{}{close}", inner.join(", "))
            }
            Ty::Range(_) => f.write_str("range"),
            Ty::Func(n) => f.write_str(n),
            Ty::Init => f.write_str("initializer"),
            Ty::Error => f.write_str("?"),
        }
    }
}
