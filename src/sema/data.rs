//! Data blocks: sources (`idx`, `csv`, `npy`, `npz`, `windows`, `next`,
//! `normalize`) and their argument kinds, field types with the sample count
//! first, per-sample element counts and sample counts that agree.
//!
//! Files are probed, not loaded: the runtime's header probes give an IDX
//! file's dims, a CSV file's column names and row count, an NPY array's
//! shape, so declared types are proven against the files themselves.

use crate::diag::{Diagnostic, Span};
use crate::syntax::ast::{Arg, DType, DataDef, DataItem, DimKind, Ident};

use crate::runtime::data as probe;

use super::calls::Formal;
use super::dims::Dim;
use super::expr::{kind_error, Ctx, Scope};
use super::names::suggest;
use super::types::{Shape, Ty};
use super::unify::tensor_type_string;
use super::{Checker, DataInfo};

/// Every data source.
pub const SOURCES: &[&str] = &["idx", "csv", "npy", "npz", "windows", "next", "normalize"];

impl Checker<'_> {
    /// The checked fields of a data block, checking it on first use.
    pub fn data_info(&mut self, name: &str) -> DataInfo {
        if let Some(info) = self.data.get(name) {
            return info.clone();
        }
        let Some((key, def)) = self.g.data.get_key_value(name).map(|(k, d)| (*k, *d)) else {
            return DataInfo::default();
        };
        // Inserted first so that a block naming itself terminates.
        self.data.insert(key, DataInfo::default());
        let info = self.check_data(def);
        self.data.insert(key, info.clone());
        info
    }

    fn check_data(&mut self, d: &DataDef) -> DataInfo {
        let mut sc = Scope::new(Ctx::Data);
        let mut info = DataInfo::default();
        let mut count: Option<(Dim, Span, String)> = None;
        for item in &d.items {
            match item {
                DataItem::Let(l) => self.let_(l, &mut sc),
                DataItem::Field(f) => {
                    let value = self.expr(&f.value, &mut sc);
                    let first = f.ty.dims.as_ref().and_then(|ds| ds.first());
                    if first.filter(|d| d.kind != DimKind::Rest).is_none() {
                        self.report(
                            Diagnostic::error(
                                "data::type",
                                format!(
                                    "field `{}` needs the sample count as its first dimension",
                                    f.name.name
                                ),
                                f.ty.span,
                            )
                            .with_label("no sample dimension")
                            .with_help(format!(
                                "write `{}: {}[N, ...]`",
                                f.name.name,
                                super::types::dtype_name(f.ty.dtype)
                            )),
                        );
                        info.fields.push((f.name.name.clone(), Ty::Error));
                        continue;
                    }
                    let declared = match sc.env.instantiate(&f.ty) {
                        Ok(s) => s,
                        Err(_) => Shape::unknown(),
                    };
                    let declared_ty = Ty::Tensor(f.ty.dtype, declared.clone());
                    self.check_field(f, &value, &declared, &mut count);
                    sc.vars.insert(f.name.name.clone(), declared_ty.clone());
                    info.fields.push((f.name.name.clone(), declared_ty));
                }
            }
        }
        info
    }

    /// A field's value against its declared type: element type converts,
    /// a reshape that keeps the per-sample count is implicit.
    fn check_field(
        &mut self,
        f: &crate::syntax::ast::DataField,
        value: &Ty,
        declared: &Shape,
        count: &mut Option<(Dim, Span, String)>,
    ) {
        let Some((_, actual)) = value.as_tensor() else {
            if *value != Ty::Error {
                self.report(kind_error(
                    &format!("field `{}` must be a tensor", f.name.name),
                    value,
                    f.value.span,
                ));
            }
            return;
        };
        let per_sample = |s: &Shape| -> Option<Dim> {
            if s.rest.is_some() {
                return None;
            }
            Shape {
                rest: None,
                dims: s.dims.get(1..)?.to_vec(),
            }
            .numel()
        };
        if let (Some(want), Some(got)) = (per_sample(declared), per_sample(&actual)) {
            if want != got {
                self.report(
                    Diagnostic::error(
                        "data::shape",
                        format!("field `{}` is declared with {want} values per sample but its value has {got}", f.name.name),
                        f.value.span,
                    )
                    .with_label(format!("this is {value}"))
                    .with_related(f.ty.span, format!("declared {}", tensor_type_string(&f.ty)))
                    .with_help("a reshape is implicit only when the number of values per sample is the same"),
                );
                return;
            }
        }
        if actual.rest.is_none() && actual.dims.is_empty() {
            self.report(
                Diagnostic::error(
                    "data::shape",
                    format!(
                        "field `{}` is a single value, not one per sample",
                        f.name.name
                    ),
                    f.value.span,
                )
                .with_label(format!("this is {value}")),
            );
            return;
        }
        let n = if actual.rest.is_none() {
            actual.dims.first().cloned().flatten()
        } else {
            None
        };
        if let Some(n) = n.filter(|n| n.as_const().is_some()) {
            match count {
                Some((m, span, other)) if *m != n => {
                    let (m, span, other) = (m.clone(), *span, other.clone());
                    self.report(
                        Diagnostic::error(
                            "data::count",
                            format!(
                                "field `{}` has {n} samples but `{other}` has {m}",
                                f.name.name
                            ),
                            f.value.span,
                        )
                        .with_label(format!("{n} samples"))
                        .with_related(span, format!("{m} samples"))
                        .with_help("every field of a data set needs one entry per sample"),
                    );
                }
                Some(_) => {}
                None => *count = Some((n, f.value.span, f.name.name.clone())),
            }
        }
    }

    /// A data source call.
    pub fn source(
        &mut self,
        name: &str,
        callee: &Ident,
        args: &[Arg],
        tys: &[Ty],
        span: Span,
    ) -> Ty {
        if tys.contains(&Ty::Error) {
            return Ty::Error;
        }
        let names: &[(&str, bool)] = match name {
            "idx" | "npy" => &[("path", true)],
            "npz" => &[("path", true), ("key", true)],
            "csv" => &[
                ("path", true),
                ("column", false),
                ("columns", false),
                ("rows", false),
            ],
            "windows" | "next" => &[("s", true), ("size", true)],
            _ => &[("s", true), ("like", false)],
        };
        let fs = Formal::builtin(names);
        let Some(slots) = self.match_args(&callee.name, &fs, args, span) else {
            return Ty::Error;
        };
        let get = |k: &str| {
            let i = names.iter().position(|(n, _)| *n == k)?;
            let a = slots.get(i).copied().flatten()?;
            Some((tys.get(a)?, args.get(a)?.value.span))
        };
        let file = match get("path") {
            Some((Ty::Str(Some(path)), s)) => Some((self.base_dir.join(path), path.clone(), s)),
            Some((p, s)) => return self.report(kind_error("a data path must be a string", p, s)),
            None => None,
        };
        if let Some((full, path, s)) = &file {
            if !full.exists() {
                return self.report(
                    Diagnostic::error("data::file", format!("no file `{path}`"), *s)
                        .with_label("not found")
                        .with_help(format!(
                            "paths are relative to the model file's directory ({})",
                            self.base_dir.display()
                        )),
                );
            }
        }
        let probe = |e: probe::DataError, s: Span| {
            Diagnostic::error("data::format", format!("cannot use this file: {e}"), s)
                .with_label("unreadable here")
                .with_help("check that the file has the format its source expects")
        };
        match name {
            "idx" => {
                let Some((full, _, s)) = &file else {
                    return Ty::Error;
                };
                match probe::idx_header(full) {
                    Ok(h) => Ty::Tensor(file_dtype(h.dtype), known(&h.dims)),
                    Err(e) => self.report(probe(e, *s)),
                }
            }
            "npy" | "npz" => {
                let Some((full, _, s)) = &file else {
                    return Ty::Error;
                };
                let header = match get("key") {
                    Some((Ty::Str(Some(k)), _)) => probe::npz_header(full, k),
                    Some((k, s)) => return self.report(kind_error("`key` must be a string", k, s)),
                    None => probe::npy_header(full),
                };
                match header {
                    Ok(h) => Ty::Tensor(file_dtype(h.dtype), known(&h.shape)),
                    Err(e) => self.report(probe(e, *s)),
                }
            }
            "csv" => {
                let Some((full, _, s)) = &file else {
                    return Ty::Error;
                };
                let header = match probe::csv_columns(full) {
                    Ok(h) => h,
                    Err(e) => return self.report(probe(e, *s)),
                };
                self.csv(&header, get("column"), get("columns"), get("rows"), span)
            }
            "windows" | "next" => {
                let (s, ss) = get("s").unwrap_or((&Ty::Error, span));
                let (t, st) = get("size").unwrap_or((&Ty::Error, span));
                let Ty::Int(size) = t else {
                    return self.report(kind_error("`size` must be an int", t, st));
                };
                let Some((_, shape)) = s.as_tensor() else {
                    return self.report(kind_error("a series must be a tensor", s, ss));
                };
                if shape.rank().is_some_and(|r| r != 1) {
                    return self.report(
                        Diagnostic::error(
                            "shape::rank",
                            format!("`{name}` takes a series f32[N], found {s}"),
                            ss,
                        )
                        .with_label(format!("this is {s}"))
                        .with_help("select one column: `csv(path, column: \"c\")`"),
                    );
                }
                let n = shape.dims.first().cloned().flatten();
                let len = n.zip(size.clone()).map(|(n, t)| n.sub(&t));
                if let Some(c) = len.as_ref().and_then(Dim::as_const).filter(|c| *c <= 0) {
                    return self.report(
                        Diagnostic::error(
                            "data::shape",
                            format!(
                                "`{name}` of size {} leaves {c} samples",
                                size.as_ref().map_or("?".into(), Dim::to_string)
                            ),
                            st,
                        )
                        .with_label("window too long")
                        .with_help("the series must be longer than the window"),
                    );
                }
                let dims = if name == "windows" {
                    vec![len, size.clone()]
                } else {
                    vec![len]
                };
                Ty::Tensor(DType::F32, Shape { rest: None, dims })
            }
            _ => {
                let (s, ss) = get("s").unwrap_or((&Ty::Error, span));
                if let Some((l, sl)) = get("like") {
                    if l.as_tensor().is_none() {
                        return self.report(kind_error("`like` must be a tensor", l, sl));
                    }
                }
                match s {
                    Ty::Tensor(..) => s.clone(),
                    t => self.report(kind_error("`normalize` takes a tensor", t, ss)),
                }
            }
        }
    }

    fn csv(
        &mut self,
        header: &probe::CsvHeader,
        column: Option<(&Ty, Span)>,
        columns: Option<(&Ty, Span)>,
        rows: Option<(&Ty, Span)>,
        span: Span,
    ) -> Ty {
        let n = match rows {
            Some((Ty::Range(Some((a, b))), s)) => {
                if b <= a || *a < 0 {
                    return self.report(
                        Diagnostic::error("data::rows", format!("rows {a}..{b} select nothing"), s)
                            .with_label("empty range")
                            .with_help(
                                "`rows: a..b` keeps rows a to b - 1; b must be larger than a",
                            ),
                    );
                }
                if *b as u64 > header.rows as u64 {
                    return self.report(
                        Diagnostic::error(
                            "data::rows",
                            format!(
                                "rows {a}..{b} asked for, but the file has {} data rows",
                                header.rows
                            ),
                            s,
                        )
                        .with_label(format!("past row {}", header.rows))
                        .with_help(format!("the last range that fits is {a}..{}", header.rows)),
                    );
                }
                Some(Dim::constant(b - a))
            }
            Some((Ty::Range(None), _)) => None,
            None => Some(Dim::constant(header.rows as i64)),
            Some((t, s)) => return self.report(kind_error("`rows` must be a range `a..b`", t, s)),
        };
        let selected: Vec<(Option<String>, Span)> = match (column, columns) {
            (Some((Ty::Str(c), s)), None) => vec![(c.clone(), s)],
            (Some((t, s)), None) => {
                return self.report(kind_error("`column` must be a string", t, s))
            }
            (None, Some((Ty::List(items), s))) => {
                let mut out = Vec::new();
                for i in items {
                    match i {
                        Ty::Str(c) => out.push((c.clone(), s)),
                        bad => {
                            return self.report(kind_error(
                                "`columns` must be a list of strings",
                                bad,
                                s,
                            ))
                        }
                    }
                }
                out
            }
            (None, Some((t, s))) => {
                return self.report(kind_error("`columns` must be a list of strings", t, s))
            }
            (Some(_), Some((_, s))) => {
                return self.report(
                    Diagnostic::error(
                        "data::source",
                        "`csv` takes `column` or `columns`, not both",
                        s,
                    )
                    .with_label("second selection")
                    .with_help(
                        "`column: \"c\"` gives f32[N]; `columns: [\"a\", \"b\"]` gives f32[N, 2]",
                    ),
                )
            }
            (None, None) => return self.report(
                Diagnostic::error("data::source", "`csv` needs `column` or `columns`", span)
                    .with_label("which columns?")
                    .with_help(
                        "`column: \"c\"` gives f32[N]; `columns: [\"a\", \"b\"]` gives f32[N, 2]",
                    ),
            ),
        };
        let names: Vec<&str> = header.names.iter().map(String::as_str).collect();
        for (c, s) in &selected {
            let Some(c) = c else { continue };
            if !names.contains(&c.as_str()) {
                let d =
                    Diagnostic::error("data::column", format!("the file has no column `{c}`"), *s)
                        .with_label("no such column");
                let d = match suggest(c, names.iter().copied()) {
                    Some(sug) => d.with_help(format!("did you mean `{sug}`?")),
                    None => d.with_help(format!("the columns are {}", names.join(", "))),
                };
                return self.report(d);
            }
        }
        let dims = match column {
            Some(_) => vec![n],
            None => vec![n, Some(Dim::constant(selected.len() as i64))],
        };
        Ty::Tensor(DType::F32, Shape { rest: None, dims })
    }
}

/// The element type a file's values get.
fn file_dtype(d: probe::FileDType) -> DType {
    match d {
        probe::FileDType::U8 | probe::FileDType::Bool => DType::U8,
        d if d.is_integer() => DType::I32,
        _ => DType::F32,
    }
}

fn known(dims: &[usize]) -> Shape {
    Shape::known(
        dims.iter()
            .map(|d| Dim::constant(i64::try_from(*d).unwrap_or(i64::MAX)))
            .collect(),
    )
}
