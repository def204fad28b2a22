//! The parser accepts every construct of the language reference, applies
//! precedence and the pipe rewrite, and turns syntax errors into located
//! diagnostics.

use dlc::diag::{FileId, SourceMap};
use dlc::syntax::ast::{self, DimKind, DimOp, ExprKind, Item, Stmt, Type};
use dlc::syntax::parse;

fn parse_ok(text: &str) -> ast::Program {
    let (program, diags) = parse(FileId(0), text);
    if !diags.is_empty() {
        let mut sources = SourceMap::default();
        sources.add("test.dlm", text);
        panic!("{}", dlc::diag::render_plain(&diags, &sources, 80));
    }
    program
}

/// The result expression of the only `fn` in `text`.
fn result_of(text: &str) -> ast::Expr {
    match parse_ok(text).items.into_iter().next() {
        Some(Item::Def(def)) => *def.body.result,
        other => panic!("expected a def, got {other:?}"),
    }
}

/// A compact prefix rendering of an expression, to assert on structure.
fn sexp(e: &ast::Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Float(v) => format!("{v:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Name(n) => n.name.clone(),
        ExprKind::Unary(op, x) => format!("({op:?} {})", sexp(x)),
        ExprKind::Binary(op, a, b) => format!("({op:?} {} {})", sexp(a), sexp(b)),
        ExprKind::Call {
            callee,
            args,
            piped,
        } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{}:{}", n.name, sexp(&a.value)),
                    None => sexp(&a.value),
                })
                .collect();
            format!(
                "{}{}({})",
                callee.name,
                if *piped { "|" } else { "" },
                args.join(" ")
            )
        }
        ExprKind::Index(x, items) => format!("{}[{}]", sexp(x), items.len()),
        ExprKind::Field(x, f) => format!("{}.{}", sexp(x), f.name),
        ExprKind::Tuple(xs) => format!("({})", xs.iter().map(sexp).collect::<Vec<_>>().join(", ")),
        ExprKind::List(xs) => format!("[{}]", xs.iter().map(sexp).collect::<Vec<_>>().join(", ")),
        ExprKind::Range(a, b) => format!("{}..{}", sexp(a), sexp(b)),
        ExprKind::If(c, _, _) => format!("(if {})", sexp(c)),
        ExprKind::Scan(s) => format!(
            "(scan{} {})",
            if s.collect { "*" } else { "" },
            s.carries.len()
        ),
    }
}

fn expr(src: &str) -> String {
    sexp(&result_of(&format!("fn f() -> f32 {{ {src} }}")))
}

#[test]
fn precedence_follows_the_reference() {
    assert_eq!(expr("a + b * c"), "(Add a (Mul b c))");
    assert_eq!(expr("a - b - c"), "(Sub (Sub a b) c)");
    assert_eq!(expr("-x ^ 2"), "(Neg (Pow x 2))");
    assert_eq!(expr("a ^ b ^ c"), "(Pow a (Pow b c))");
    assert_eq!(expr("x @ w + b"), "(Add (MatMul x w) b)");
    assert_eq!(expr("a < b && c || d"), "(Or (And (Lt a b) c) d)");
    assert_eq!(expr("0..n - 1"), "0..(Sub n 1)");
    assert_eq!(expr("1e-3 * 2.5"), "(Mul 0.001 2.5)");
}

#[test]
fn pipes_become_calls_with_the_left_side_first() {
    assert_eq!(expr("x |> relu"), "relu|(x)");
    assert_eq!(
        expr("x |> conv2d(32, kernel: 3) |> relu |> dense(10)"),
        "dense|(relu|(conv2d|(x 32 kernel:3)) 10)"
    );
    assert_eq!(expr("a + b |> f"), "f|((Add a b))");
}

#[test]
fn calls_and_indexes_need_no_space_before_the_bracket() {
    // A tuple on the line after a `let` is the block's value, not a call.
    let e = result_of("fn f() -> f32 { let z = g\n (h, c) }");
    assert_eq!(sexp(&e), "(h, c)");
    assert_eq!(expr("x[:, -1, 0:4]"), "x[3]");
    assert_eq!(expr("d.x"), "d.x");
}

#[test]
fn dimensions_keep_their_arithmetic() {
    let p = parse_ok(
        "layer c(x: f32[B, C, H, W], k: K) -> f32[B, C, floor((H - K) / 2) + 1, ceil(W / 2)] { x }",
    );
    let Some(Item::Def(def)) = p.items.first() else {
        panic!()
    };
    let Type::Tensor(t) = &def.ret else { panic!() };
    let dims = t.dims.as_ref().unwrap();
    let DimKind::Bin(DimOp::Add, lhs, _) = &dims[2].kind else {
        panic!("{:?}", dims[2])
    };
    assert!(matches!(lhs.kind, DimKind::Bin(DimOp::FloorDiv, _, _)));
    assert!(matches!(dims[3].kind, DimKind::Bin(DimOp::CeilDiv, _, _)));
    assert!(matches!(def.params[1].ty, Type::Dim(_)));
}

#[test]
fn every_item_kind_parses_with_its_docs() {
    let p = parse_ok(
        r#"//! A file.
use std.nn.{dense, relu}
/// A layer.
layer l(x: f32[..., I], /// Width.
        units: O, act: str = "relu") -> f32[..., O] {
    /// Weights.
    param w: f32[I, O] = glorot_uniform
    state s: f32[O] = zeros
    let (a, b): (f32[O], f32[O]) = (s, s)
    update s = s * 0.5
    let h = collect (h = zeros(O)) over xt in x along 1 { h + xt }
    x @ w
}
optimizer sgd(lr: float = 0.01) { state m = zeros
  p - lr * g }
data d {
    let g = csv("a.csv", column: "v", rows: 0..160)
    x: f32[N, 4] = windows(g, size: 4)
}
train M on d { loss = mse(M(x), y)  optimizer = sgd() epochs = 2 }
evaluate M on d { metrics = [mae] }
"#,
    );
    assert_eq!(p.doc.as_deref(), Some("A file."));
    assert_eq!(p.items.len(), 6);
    let Item::Def(def) = &p.items[1] else {
        panic!()
    };
    assert_eq!(def.doc.as_deref(), Some("A layer."));
    assert_eq!(def.params[1].doc.as_deref(), Some("Width."));
    let Stmt::Param(w) = &def.body.stmts[0] else {
        panic!()
    };
    assert_eq!(w.doc.as_deref(), Some("Weights."));
    let Item::Train(t) = &p.items[4] else {
        panic!()
    };
    let keys: Vec<&str> = t.settings.iter().map(|s| s.key.name.as_str()).collect();
    assert_eq!(keys, ["loss", "optimizer", "epochs"]);
}

fn first_error(text: &str) -> String {
    let (_, diags) = parse(FileId(0), text);
    let d = diags.first().expect("a syntax error");
    format!(
        "{} @{}: {} | {}",
        d.code,
        d.span.start,
        d.message,
        d.help.clone().unwrap_or_default()
    )
}

#[test]
fn syntax_errors_say_what_was_expected_and_where() {
    let e = first_error("model M(x: f32[B, 4]) -> f32[B, 4] { x |> dense(4 }");
    assert_eq!(
        e,
        "syntax::unclosed @47: unclosed `(` | add the missing `)`"
    );
    let e = first_error("train M on d { epochs: 10 }");
    assert!(e.contains("`key = value`"), "{e}");
    let e = first_error("fn f(x: f32) -> f32 { let a = x; a }");
    assert!(e.contains("no `;`"), "{e}");
    let e = first_error("fn f(x: f32) -> f32 { let a = x\n -a }");
    assert!(e.contains("parentheses"), "{e}");
    let e = first_error("fn f() -> f32 { x |> 1 }");
    assert!(e.starts_with("syntax::pipe"), "{e}");
    let e = first_error("fn f() -> f32 { 99999999999999999999 }");
    assert!(e.starts_with("syntax::number"), "{e}");
}
