//! Symbolic dimensions in a normal form.
//!
//! A [`Dim`] is a polynomial with integer coefficients over atoms: dimension
//! symbols (`B`, `H`) and the quotients that could not be simplified
//! (`floor((H - 3) / 2)`, `D / heads`). Terms are kept in a sorted map with no
//! zero coefficients, so two dimensions are equal exactly when their normal
//! forms are: `2*H - H` and `H` are the same value. Arithmetic saturates
//! instead of overflowing: a user's huge constant gives a wrong size in a
//! message, never a panic.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// A factor of a monomial.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Atom {
    Sym(String),
    /// An exact quotient not reducible to a polynomial: `D / heads`.
    Div(Box<Dim>, Box<Dim>),
    Floor(Box<Dim>, Box<Dim>),
    Ceil(Box<Dim>, Box<Dim>),
}

/// A polynomial over [`Atom`]s: monomial (sorted atoms) to coefficient.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dim {
    terms: BTreeMap<Vec<Atom>, i64>,
}

/// Why a division failed.
#[derive(Clone, Debug, PartialEq)]
pub enum DivError {
    Zero,
    /// `a / b` with a provable remainder.
    Remainder(i64, i64),
}

impl Dim {
    pub fn constant(c: i64) -> Dim {
        let mut terms = BTreeMap::new();
        if c != 0 {
            terms.insert(Vec::new(), c);
        }
        Dim { terms }
    }

    pub fn sym(name: &str) -> Dim {
        Dim::atom(Atom::Sym(name.to_string()))
    }

    fn atom(a: Atom) -> Dim {
        let mut terms = BTreeMap::new();
        terms.insert(vec![a], 1);
        Dim { terms }
    }

    /// The value, when the dimension is a constant.
    pub fn as_const(&self) -> Option<i64> {
        match self.terms.len() {
            0 => Some(0),
            1 => self.terms.get(&Vec::new()).copied(),
            _ => None,
        }
    }

    /// The symbol, when the dimension is exactly one symbol.
    pub fn as_sym(&self) -> Option<&str> {
        match self.single() {
            Some(([Atom::Sym(s)], 1)) => Some(s),
            _ => None,
        }
    }

    fn single(&self) -> Option<(&[Atom], i64)> {
        if self.terms.len() != 1 {
            return None;
        }
        self.terms.iter().next().map(|(m, c)| (m.as_slice(), *c))
    }

    fn add_term(&mut self, mono: Vec<Atom>, c: i64) {
        let entry = self.terms.entry(mono).or_insert(0);
        *entry = entry.saturating_add(c);
        self.terms.retain(|_, c| *c != 0);
    }

    pub fn add(&self, other: &Dim) -> Dim {
        let mut out = self.clone();
        for (m, c) in &other.terms {
            out.add_term(m.clone(), *c);
        }
        out
    }

    pub fn neg(&self) -> Dim {
        self.scale(-1)
    }

    pub fn sub(&self, other: &Dim) -> Dim {
        self.add(&other.neg())
    }

    fn scale(&self, k: i64) -> Dim {
        let mut out = Dim::default();
        for (m, c) in &self.terms {
            out.add_term(m.clone(), c.saturating_mul(k));
        }
        out
    }

    pub fn mul(&self, other: &Dim) -> Dim {
        let mut out = Dim::default();
        for (ma, ca) in &self.terms {
            for (mb, cb) in &other.terms {
                let mut m = ma.clone();
                m.extend(mb.iter().cloned());
                m.sort();
                out.add_term(m, ca.saturating_mul(*cb));
            }
        }
        out.cancel_quotients()
    }

    /// `q * (p / q)` is `p`: replaces a quotient atom whose monomial carries
    /// its divisor.
    fn cancel_quotients(self) -> Dim {
        let mut out = Dim::default();
        for (mono, c) in self.terms {
            let found = mono.iter().position(|a| matches!(a, Atom::Div(..)));
            let Some(i) = found else {
                out.add_term(mono, c);
                continue;
            };
            let mut rest = mono.clone();
            let atom = rest.remove(i);
            let Atom::Div(p, q) = atom else {
                out.add_term(mono, c);
                continue;
            };
            let mut rest_dim = Dim::default();
            rest_dim.add_term(rest, c);
            match rest_dim.divide_exactly(&q) {
                Some(k) => out = out.add(&k.mul(&p)),
                None => out.add_term(mono, c),
            }
        }
        out
    }

    /// `self / d` when it is provably a polynomial, else `None`.
    fn divide_exactly(&self, d: &Dim) -> Option<Dim> {
        if let Some(k) = d.as_const() {
            if k == 0 {
                return None;
            }
            let mut out = Dim::default();
            for (m, c) in &self.terms {
                if c % k != 0 {
                    return None;
                }
                out.add_term(m.clone(), c / k);
            }
            return Some(out);
        }
        let (dm, dc) = d.single()?;
        let mut out = Dim::default();
        for (m, c) in &self.terms {
            if c % dc != 0 {
                return None;
            }
            let mut rest = m.clone();
            for a in dm {
                let i = rest.iter().position(|x| x == a)?;
                rest.remove(i);
            }
            out.add_term(rest, c / dc);
        }
        Some(out)
    }

    /// Exact division: a provable remainder is an error; an undecidable one
    /// is kept as a quotient atom.
    pub fn div(&self, d: &Dim) -> Result<Dim, DivError> {
        if d.as_const() == Some(0) {
            return Err(DivError::Zero);
        }
        if let Some(q) = self.divide_exactly(d) {
            return Ok(q);
        }
        if let (Some(a), Some(b)) = (self.as_const(), d.as_const()) {
            return Err(DivError::Remainder(a, b));
        }
        Ok(Dim::atom(Atom::Div(
            Box::new(self.clone()),
            Box::new(d.clone()),
        )))
    }

    /// `floor(self / d)`.
    pub fn floor_div(&self, d: &Dim) -> Result<Dim, DivError> {
        self.rounded_div(d, false)
    }

    /// `ceil(self / d)`.
    pub fn ceil_div(&self, d: &Dim) -> Result<Dim, DivError> {
        self.rounded_div(d, true)
    }

    fn rounded_div(&self, d: &Dim, ceil: bool) -> Result<Dim, DivError> {
        if d.as_const() == Some(0) {
            return Err(DivError::Zero);
        }
        if let Some(q) = self.divide_exactly(d) {
            return Ok(q);
        }
        let round = |a: i64, b: i64| {
            if ceil {
                a.saturating_neg().div_euclid(b).saturating_neg()
            } else {
                a.div_euclid(b)
            }
        };
        if let Some(k) = d.as_const().filter(|k| *k > 0) {
            // Split off the constant: if every other coefficient divides,
            // floor((k q + r) / k) = q + floor(r / k).
            let konst = self.as_const_part();
            let symbolic = self.sub(&Dim::constant(konst));
            if let Some(q) = symbolic.divide_exactly(d) {
                return Ok(q.add(&Dim::constant(round(konst, k))));
            }
        }
        let (a, b) = (Box::new(self.clone()), Box::new(d.clone()));
        Ok(Dim::atom(if ceil {
            Atom::Ceil(a, b)
        } else {
            Atom::Floor(a, b)
        }))
    }

    fn as_const_part(&self) -> i64 {
        self.terms.get(&Vec::new()).copied().unwrap_or(0)
    }

    /// Replaces symbols by dimensions; `None` when a symbol has no value.
    pub fn subst(&self, env: &dyn Fn(&str) -> Option<Dim>) -> Option<Dim> {
        let mut out = Dim::default();
        for (mono, c) in &self.terms {
            let mut term = Dim::constant(*c);
            for a in mono {
                term = term.mul(&a.subst(env)?);
            }
            out = out.add(&term);
        }
        Some(out)
    }

    /// Every symbol the dimension mentions.
    pub fn symbols(&self, out: &mut Vec<String>) {
        for mono in self.terms.keys() {
            for a in mono {
                match a {
                    Atom::Sym(s) => {
                        if !out.contains(s) {
                            out.push(s.clone());
                        }
                    }
                    Atom::Div(p, q) | Atom::Floor(p, q) | Atom::Ceil(p, q) => {
                        p.symbols(out);
                        q.symbols(out);
                    }
                }
            }
        }
    }

    /// `self` as `a * sym + rest` with `sym` absent from `a` and `rest`.
    pub fn linear_in(&self, sym: &str) -> Option<(Dim, Dim)> {
        let target = Atom::Sym(sym.to_string());
        let (mut a, mut rest) = (Dim::default(), Dim::default());
        for (mono, c) in &self.terms {
            let count = mono.iter().filter(|x| **x == target).count();
            let nested = mono.iter().any(|x| {
                !matches!(x, Atom::Sym(_)) && {
                    let mut v = Vec::new();
                    Dim::atom(x.clone()).symbols(&mut v);
                    v.iter().any(|s| s == sym)
                }
            });
            if nested || count > 1 {
                return None;
            }
            if count == 1 {
                let m: Vec<Atom> = mono.iter().filter(|x| **x != target).cloned().collect();
                a.add_term(m, *c);
            } else {
                rest.add_term(mono.clone(), *c);
            }
        }
        Some((a, rest))
    }
}

impl Atom {
    fn subst(&self, env: &dyn Fn(&str) -> Option<Dim>) -> Option<Dim> {
        match self {
            Atom::Sym(s) => env(s),
            Atom::Div(p, q) => p.subst(env)?.div(&q.subst(env)?).ok(),
            Atom::Floor(p, q) => p.subst(env)?.floor_div(&q.subst(env)?).ok(),
            Atom::Ceil(p, q) => p.subst(env)?.ceil_div(&q.subst(env)?).ok(),
        }
    }
}

/// Symbol to value, for [`Dim::subst`].
pub fn lookup(map: &HashMap<String, Option<Dim>>) -> impl Fn(&str) -> Option<Dim> + '_ {
    move |s| map.get(s).cloned().flatten()
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grouped = |d: &Dim| {
            if d.terms.len() > 1 || d.single().is_some_and(|(m, c)| c != 1 && !m.is_empty()) {
                format!("({d})")
            } else {
                d.to_string()
            }
        };
        match self {
            Atom::Sym(s) => f.write_str(s),
            Atom::Div(p, q) => write!(f, "{} / {}", grouped(p), grouped(q)),
            Atom::Floor(p, q) => write!(f, "floor({} / {})", grouped(p), grouped(q)),
            Atom::Ceil(p, q) => write!(f, "ceil({} / {})", grouped(p), grouped(q)),
        }
    }
}

impl fmt::Display for Dim {
    /// Highest degree first, the constant last: `2*H + W - 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        let mut terms: Vec<(&Vec<Atom>, &i64)> = self.terms.iter().collect();
        terms.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
        for (i, (mono, c)) in terms.into_iter().enumerate() {
            let (sign, mag) = if *c < 0 {
                ("-", c.unsigned_abs())
            } else {
                ("+", c.unsigned_abs())
            };
            match (i, sign) {
                (0, "-") => f.write_str("-")?,
                (0, _) => {}
                _ => write!(f, " {sign} ")?,
            }
            let factors: Vec<String> = mono
                .iter()
                .map(|a| match a {
                    Atom::Div(..) if mono.len() > 1 || mag != 1 => format!("({a})"),
                    _ => a.to_string(),
                })
                .collect();
            match (mag, factors.is_empty()) {
                (m, true) => write!(f, "{m}")?,
                (1, false) => f.write_str(&factors.join("*"))?,
                (m, false) => write!(f, "{m}*{}", factors.join("*"))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h() -> Dim {
        Dim::sym("H")
    }

    #[test]
    fn normal_form_cancels() {
        let two_h = Dim::constant(2).mul(&h());
        assert_eq!(two_h.sub(&h()), h());
        assert_eq!(h().sub(&h()).as_const(), Some(0));
        assert_eq!(two_h.add(&Dim::constant(-3)).to_string(), "2*H - 3");
    }

    #[test]
    fn division() {
        let d = Dim::sym("D");
        let heads = Dim::sym("heads");
        let q = d.div(&heads).expect("symbolic quotient");
        assert_eq!(q.to_string(), "D / heads");
        assert_eq!(heads.mul(&q), d);
        assert_eq!(
            Dim::constant(10).div(&Dim::constant(3)),
            Err(DivError::Remainder(10, 3))
        );
        let two_h = Dim::constant(2).mul(&h());
        assert_eq!(two_h.div(&Dim::constant(2)), Ok(h()));
    }

    #[test]
    fn rounded_division() {
        // floor((28 - 3) / 2) + 1 = 13; floor((H - 2) / 1) = H - 2.
        let c = Dim::constant;
        assert_eq!(c(25).floor_div(&c(2)), Ok(c(12)));
        assert_eq!(c(25).ceil_div(&c(2)), Ok(c(13)));
        assert_eq!(h().sub(&c(2)).floor_div(&c(1)), Ok(h().sub(&c(2))));
        let two_h = c(2).mul(&h());
        assert_eq!(two_h.add(&c(3)).floor_div(&c(2)), Ok(h().add(&c(1))));
        let odd = h().sub(&c(3)).floor_div(&c(2)).expect("opaque");
        assert_eq!(odd.to_string(), "floor((H - 3) / 2)");
        let env = |s: &str| (s == "H").then(|| c(28));
        assert_eq!(odd.subst(&env), Some(c(12)));
    }

    #[test]
    fn linear_solving() {
        let c = Dim::constant;
        let (a, rest) = c(2).mul(&h()).add(&c(1)).linear_in("H").expect("linear");
        assert_eq!((a, rest), (c(2), c(1)));
        assert!(h().mul(&h()).linear_in("H").is_none());
    }
}
