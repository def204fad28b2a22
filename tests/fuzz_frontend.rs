//! Mutation fuzzing of the front end: parse + check must never panic.
//!
//! Seeds are every `.dlm` file in the repository (examples, std, ui tests);
//! each case applies a few random edits — delete, duplicate or swap a range,
//! insert a token that often breaks shapes or syntax, or (keeping the text
//! parseable, so the checker sees it) change a number or swap one name for
//! another from the same file — and runs the whole front end. A panic fails
//! the test with the mutated text. CI runs the default 256 cases; a long
//! run is `PROPTEST_CASES=200000 cargo test --release --test fuzz_frontend`.

use std::path::PathBuf;

use proptest::prelude::*;

/// The seed texts, read once.
fn seeds() -> &'static [String] {
    static SEEDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(read_seeds)
}

fn read_seeds() -> Vec<String> {
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
    /// The `n`-th number becomes `NUMBERS[k]`.
    Number(usize, usize),
    /// The `n`-th identifier becomes the `m`-th.
    Rename(usize, usize),
}

/// Numbers that stress sizes, axes and positions.
const NUMBERS: &[&str] = &[
    "0", "1", "2", "3", "5", "7", "27", "64", "1000000", "-1", "0.5", "1e9",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1usize..60).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), 0..NUMBERS.len()).prop_map(|(a, k)| Edit::Number(a, k)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Rename(a, b)),
        (any::<usize>(), 0..NUMBERS.len()).prop_map(|(a, k)| Edit::Number(a, k)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Rename(a, b)),
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

/// Byte ranges of the tokens `keep` accepts: runs of identifier characters
/// (outside comments and strings) whose first character passes `first`.
fn tokens(text: &str, first: fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c == '/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            if first(c) {
                out.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    out
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
        Edit::Number(n, k) => {
            let numbers = tokens(text, |c| c.is_ascii_digit());
            if let Some(&(a, b)) = numbers.get(n % numbers.len().max(1)) {
                text.replace_range(a..b, NUMBERS[k]);
            }
        }
        Edit::Rename(n, m) => {
            let names: Vec<(usize, usize)> = tokens(text, |c| c.is_ascii_alphabetic() || c == '_')
                .into_iter()
                .filter(|(a, b)| !text[*a..*b].contains('.'))
                .collect();
            if names.is_empty() {
                return;
            }
            let (a, b) = names[n % names.len()];
            let (c, d) = names[m % names.len()];
            let other = text[c..d].to_string();
            text.replace_range(a..b, &other);
        }
    }
}

proptest! {
    #[test]
    fn front_end_never_panics(seed in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..6)) {
        let seeds = seeds();
        let mut text = seed.get(seeds).clone();
        for e in &edits {
            apply(&mut text, e);
        }
        let checked = dlc::driver::check_source("fuzz.dlm", &text, PathBuf::from("examples"));
        // Rendering must not panic either (spans must lie inside the text).
        let _ = dlc::diag::render_plain(&checked.diags, &checked.sources, 80);
        for d in &checked.diags {
            prop_assert!(!d.code.is_empty() && !d.message.ends_with('.'), "{:?}", d);
        }
    }
}

/// The value-keeping mutations reach the checker: on every example, each
/// number change parses, so the checker (not the parser) judges it.
#[test]
fn number_mutations_reach_the_checker() {
    let mut checked = 0;
    for dir in ["examples"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("examples/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "dlm"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable example");
            for n in 0..8 {
                let mut t = text.clone();
                apply(&mut t, &Edit::Number(n * 7, n % 4));
                let parsed = dlc::driver::parse_source("m.dlm", &t, PathBuf::from("examples"));
                assert!(
                    parsed.diags.is_empty(),
                    "{}: edit {n} broke the syntax",
                    path.display()
                );
                let _ = dlc::driver::check_source("m.dlm", &t, PathBuf::from("examples"));
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} checked mutations");
}
