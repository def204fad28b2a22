//! `dlc run` end to end: a tiny model trains and writes its metrics, and
//! broken data files give a located report and exit 1, never a panic —
//! from the checker when a header shows the fault, from the runtime's
//! loaders when only the payload does.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn dlc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("dlc runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_trains_evaluates_and_writes_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.jsonl");
    let plot = dir.path().join("curves.svg");
    let save = dir.path().join("net.safetensors");
    let o = dlc(&[
        "run",
        "tests/data/blobs.dlm",
        "--epochs",
        "3",
        "--metrics-out",
        metrics.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
        "--save",
        save.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("epoch 3: loss"), "{stdout}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 4);
    for (i, l) in lines[..3].iter().enumerate() {
        assert_eq!(l["epoch"], i + 1);
        assert!(l["loss"].as_f64().unwrap() > 0.0 && l["val_loss"].is_number());
        let acc = l["val_acc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        let (train, all) = (l["train_seconds"].as_f64(), l["seconds"].as_f64());
        assert!(train.unwrap() > 0.0 && train <= all, "{l}");
        assert!(l["samples"].as_u64().unwrap() > 0);
    }
    assert_eq!(lines[3]["phase"], "test");
    assert!(lines[3]["confusion_matrix"].is_array());
    assert!(std::fs::read_to_string(&plot).unwrap().contains("<svg"));
    assert!(save.exists());
    // Resuming the saved run with the same epoch count has nothing left to do.
    let again = dlc(&[
        "run",
        "tests/data/blobs.dlm",
        "--epochs",
        "3",
        "--resume",
        save.to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!String::from_utf8_lossy(&again.stdout).contains("epoch 1:"));
}

/// `--batch` overrides the train block's: the compiled train step's work
/// (the fusion report's total FLOPs, optimizer update included) grows
/// with it.
#[test]
fn run_batch_overrides_the_train_block() {
    let flops = |batch: &str| {
        let o = dlc(&[
            "run",
            "tests/data/blobs.dlm",
            "--epochs",
            "1",
            "--batch",
            batch,
            "--explain",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        let total = err
            .lines()
            .find(|l| l.contains(" kernels, "))
            .unwrap_or_else(|| panic!("no report total in {err}"));
        let n: String = total
            .split(" kernels, ")
            .nth(1)
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        n.parse::<u64>().expect("a FLOP count")
    };
    let (small, large) = (flops("4"), flops("16"));
    assert!(
        large > 2 * small,
        "batch 4: {small} flop, batch 16: {large}"
    );
}

/// A classifier over 2x2 "images" read from IDX files in `dir`, whose
/// labels' declaration is `labels`.
const IDX_PROGRAM: &str = r#"
layer lin(x: f32[B, I], units: O) -> f32[B, O] {
    param w: f32[I, O] = glorot_uniform
    param b: f32[O] = zeros
    x @ w + b
}
fn sq(p: f32[B, 2], y: f32[B, 2]) -> f32[B] { mean((p - y) ^ 2, axis: 1) }
optimizer plain(lr: float = 0.1) { p - lr * g }
model Net(x: f32[B, 2, 2]) -> f32[B, 2] { reshape(x, [B, 4]) |> lin(2) }
data d {
    x: f32[N, 2, 2] = idx("img.idx") / 255
    y: LABELS
}
train Net on d {
    loss = sq(Net(x), y)
    optimizer = plain()
    epochs = 1
    batch = 2
}
"#;

fn idx(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend(values);
    b
}

/// Writes the program and files into a temporary directory, runs it, and
/// returns the exit code and stderr.
fn run_with(labels: &str, files: &[(&str, Vec<u8>)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let program = IDX_PROGRAM.replace("LABELS", labels);
    std::fs::write(dir.path().join("m.dlm"), program).unwrap();
    for (name, bytes) in files {
        std::fs::File::create(dir.path().join(name))
            .unwrap()
            .write_all(bytes)
            .unwrap();
    }
    let o = dlc(&["run", dir.path().join("m.dlm").to_str().unwrap()]);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    (o.status.code().unwrap_or(-1), err)
}

fn good_images() -> Vec<u8> {
    idx(
        &[4, 2, 2],
        &[0, 255, 0, 255, 255, 0, 255, 0, 1, 2, 3, 4, 5, 6, 7, 8],
    )
}

const CSV_LABELS: &str = r#"f32[N, 2] = csv("y.csv", columns: ["a", "b"])"#;
const CSV: &str = "a,b\n1,0\n0,1\n1,0\n0,1\n";

fn assert_located(code: i32, err: &str, needles: &[&str]) {
    assert_eq!(code, 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in:\n{err}");
    }
    assert!(
        err.contains("m.dlm"),
        "the report points into the program:\n{err}"
    );
}

#[test]
fn a_good_idx_and_csv_pair_runs() {
    let (code, err) = run_with(
        CSV_LABELS,
        &[("img.idx", good_images()), ("y.csv", CSV.into())],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn idx_with_a_bad_magic_number() {
    let mut bad = good_images();
    bad[0] = 0x50;
    let (code, err) = run_with(CSV_LABELS, &[("img.idx", bad), ("y.csv", CSV.into())]);
    assert_located(code, &err, &["img.idx", "not an IDX file", "byte 0"]);
}

#[test]
fn idx_with_a_truncated_payload() {
    let mut short = good_images();
    short.truncate(short.len() - 3);
    let (code, err) = run_with(CSV_LABELS, &[("img.idx", short), ("y.csv", CSV.into())]);
    assert_located(
        code,
        &err,
        &["img.idx", "truncated", "16 bytes from byte 16"],
    );
}

#[test]
fn images_and_labels_with_different_counts() {
    let labels = "a,b\n1,0\n0,1\n1,0\n";
    let (code, err) = run_with(
        CSV_LABELS,
        &[("img.idx", good_images()), ("y.csv", labels.into())],
    );
    assert_located(
        code,
        &err,
        &["data::count", "`y` has 3 samples", "`x` has 4"],
    );
}

#[test]
fn csv_without_the_named_column() {
    let (code, err) = run_with(
        CSV_LABELS,
        &[
            ("img.idx", good_images()),
            ("y.csv", "a,c\n1,0\n0,1\n1,0\n0,1\n".into()),
        ],
    );
    assert_located(code, &err, &["no column `b`"]);
}

#[test]
fn csv_with_a_non_numeric_cell() {
    let text = CSV.replace("0,1\n1,0", "0,1\nx1,0");
    let (code, err) = run_with(
        CSV_LABELS,
        &[("img.idx", good_images()), ("y.csv", text.into())],
    );
    assert_located(code, &err, &["y.csv:4: column `a`", "`x1` is not a number"]);
}

#[test]
fn npy_with_a_bad_header() {
    let labels = r#"f32[N, 2] = npy("y.npy")"#;
    let npy = b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4' ".to_vec();
    let (code, err) = run_with(labels, &[("img.idx", good_images()), ("y.npy", npy)]);
    assert_located(code, &err, &["y.npy"]);
}

#[test]
fn data_that_does_not_fit_the_declared_type() {
    let labels = r#"f32[N, 3] = csv("y.csv", columns: ["a", "b"])"#;
    let (code, err) = run_with(labels, &[("img.idx", good_images()), ("y.csv", CSV.into())]);
    assert_located(
        code,
        &err,
        &[
            "data::shape",
            "field `y` is declared",
            "3 values per sample",
        ],
    );
}

#[test]
fn a_missing_data_file_is_reported_before_running() {
    let (code, err) = run_with(CSV_LABELS, &[("y.csv", CSV.into())]);
    assert_located(code, &err, &["img.idx", "nothing was run"]);
}

#[test]
fn a_missing_model_file_exits_2() {
    let o = dlc(&["run", "tests/data/no_such_model.dlm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(Path::new("tests/data").exists());
}

/// The JIT (the default engine) and the reference interpreter train the
/// same program to the same losses, epoch by epoch, up to f32 rounding.
#[test]
fn jit_and_reference_engines_agree_on_a_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let losses = |engine: &str| -> Vec<f64> {
        let out = dir.path().join(format!("{engine}.jsonl"));
        let o = dlc(&[
            "run",
            "tests/data/blobs.dlm",
            "--epochs",
            "3",
            "--engine",
            engine,
            "--metrics-out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter_map(|l| l["val_loss"].as_f64().or(l["loss"].as_f64()))
            .collect()
    };
    let (jit, reference) = (losses("jit"), losses("reference"));
    assert_eq!(jit.len(), reference.len());
    assert!(jit.len() >= 3);
    for (j, r) in jit.iter().zip(&reference) {
        let rel = (j - r).abs() / r.abs().max(1e-6);
        assert!(rel < 1e-4, "jit {jit:?} vs reference {reference:?}");
    }
}

/// Every bundled example trains one epoch and evaluates with `dlc run`,
/// on its real data, with the default engine.
#[test]
fn every_example_runs_one_epoch() {
    let mut examples: Vec<_> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dlm"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 7, "{examples:?}");
    for example in &examples {
        let o = dlc(&["run", example.to_str().unwrap(), "--epochs", "1"]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{}: {}{stdout}",
            example.display(),
            stderr(&o)
        );
        assert!(
            stdout.contains("epoch 1: loss"),
            "{}: {stdout}",
            example.display()
        );
        assert!(
            stdout.contains("test on"),
            "{}: {stdout}",
            example.display()
        );
    }
}

/// `dlc bench` prints one JSON object whose figures are positive and
/// finite (no timing thresholds: the machine is shared).
#[test]
fn bench_prints_one_json_object_of_sane_figures() {
    let o = dlc(&["bench", "examples/mlp.dlm", "--steps", "5", "--explain"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for field in [
        "compile_ms",
        "lower_codegen_ms",
        "train_samples_per_s",
        "eval_samples_per_s",
        "predict_latency_us",
        "train_loss",
    ] {
        let x = v[field].as_f64().unwrap_or(f64::NAN);
        assert!(x.is_finite() && x > 0.0, "{field} = {}", v[field]);
    }
    if cfg!(target_os = "linux") {
        assert!(v["peak_rss_mb"].as_f64().is_some_and(|m| m > 1.0), "{v}");
    }
    assert_eq!(v["steps"], 5);
    // `--threads` defaults to every core this process may use.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(v["threads"], cores);
    assert_eq!(v["engine"], "jit");
    assert!(v["batch"].as_u64().is_some_and(|b| b > 0), "{v}");
    for kernels in ["train_kernels", "eval_kernels", "predict_kernels"] {
        assert!(v[kernels].as_u64().is_some_and(|k| k > 0), "{v}");
    }
    assert!(stderr(&o).contains("fusion report"), "{}", stderr(&o));
}

#[test]
fn bench_of_a_program_without_a_train_block_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lib.dlm");
    std::fs::write(
        &file,
        "fn sq(p: f32[B, 2]) -> f32[B] { mean(p * p, axis: 1) }\n",
    )
    .unwrap();
    let o = dlc(&["bench", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no `train` block") && err.contains("lib.dlm"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

/// `--explain` prints the train step's kernels, with FLOPs and bytes,
/// before the first epoch.
#[test]
fn run_explain_prints_the_fusion_report() {
    let o = dlc(&["run", "examples/mlp.dlm", "--epochs", "1", "--explain"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("fusion report: train step"), "{err}");
    assert!(err.contains("matmul") && err.contains(" flop "), "{err}");
    let total = err
        .lines()
        .find(|l| l.contains(" kernels, "))
        .expect("a totals line");
    let count: usize = total.split(' ').next().unwrap().parse().unwrap();
    assert!(count > 0, "{total}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("epoch 1: loss"));
}
