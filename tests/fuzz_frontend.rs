//! Mutation fuzzing of the front end: parse + check must never panic.
//!
//! Seeds are every `.dlm` file in the repository (examples, std, ui tests);
//! each case applies a few random edits — delete, duplicate or swap a range,
//! insert a token that often breaks shapes or syntax — and runs the whole
//! front end. A panic fails the test with the mutated text. CI runs the
//! default 256 cases; a long run is `PROPTEST_CASES=200000 cargo test
//! --release --test fuzz_frontend`.

use std::path::PathBuf;

use proptest::prelude::*;

fn seeds() -> Vec<String> {
    let mut texts = Vec::new();
    for dir in ["examples", "std", "tests/ui"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|e| e == "dlm") {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push(text);
                }
            }
        }
    }
    assert!(!texts.is_empty(), "no seed files found");
    texts
}

/// Fragments that tend to reach deep into the checker when inserted.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "=",
    "|>",
    "@",
    "*",
    "/",
    "-",
    "...",
    "0",
    "1",
    "-1",
    "28",
    "99999999999",
    "1e-3",
    "B",
    "N",
    "x",
    "y",
    "f32[B]",
    "f32[B, 3, 3]",
    "i32[N]",
    "dense(3)",
    "flatten",
    "relu",
    "reshape(x, [B, 7])",
    "sum(x, axis: 5)",
    "\"",
    "\"missing.csv\"",
    "training",
    "let",
    "param",
    "scan",
    "layer",
    "model",
    "train",
    "data",
    "floor(",
    "\n",
    " ",
];

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..60).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

/// The nearest char boundary at or before `at` (mod the length).
fn boundary(text: &str, at: usize) -> usize {
    let mut i = if text.is_empty() {
        0
    } else {
        at % (text.len() + 1)
    };
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, edit: &Edit) {
    match *edit {
        Edit::Delete(at, n) => {
            let a = boundary(text, at);
            let b = boundary(text, (a + n).min(text.len()));
            text.replace_range(a..b.max(a), "");
        }
        Edit::Duplicate(at, n) => {
            let a = boundary(text, at);
            let b = boundary(text, (a + n).min(text.len())).max(a);
            let piece = text[a..b].to_string();
            text.insert_str(b, &piece);
        }
        Edit::Insert(at, t) => {
            let a = boundary(text, at);
            text.insert_str(a, TOKENS[t]);
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
            }
            *text = lines.join("\n");
        }
    }
}

proptest! {
    #[test]
    fn front_end_never_panics(seed in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6)) {
        let seeds = seeds();
        let mut text = seed.get(&seeds).clone();
        for e in &edits {
            apply(&mut text, e);
        }
        let checked = dlc::driver::check_source("fuzz.dlm", &text, PathBuf::from("examples"));
        // Rendering must not panic either (spans must lie inside the text).
        let _ = dlc::diag::render_plain(&checked.diags, &checked.sources, 80);
    }
}
