//! `dlc check` end to end, kept few: exit codes 0 / 1 / 2, the model
//! summary, and `--format json`.

use std::process::{Command, Output};

fn dlc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("dlc runs")
}

#[test]
fn a_good_model_prints_its_summary() {
    let out = dlc(&["check", "examples/mnist_cnn.dlm"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("conv2d     f32[B, 32, 26, 26]      320"),
        "{stdout}"
    );
    assert!(stdout.contains("parameters: 693,962 trainable"), "{stdout}");
    assert!(stdout.contains("optimizer      adam(lr: 0.001"), "{stdout}");
}

#[test]
fn json_summary_parses() {
    let out = dlc(&["check", "--format", "json", "examples/mnist_cnn.dlm"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["models"][0]["name"], "Cnn");
    assert_eq!(v["models"][0]["params"], 693_962);
    assert_eq!(v["runs"][0]["epochs"], 10);
}

#[test]
fn a_broken_model_exits_1_with_its_diagnostic() {
    let out = dlc(&["check", "tests/ui/shape_flatten_missing.dlm"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("shape::mismatch"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_file_exits_2() {
    let out = dlc(&["check", "no/such/model.dlm"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The IR text of a step after each stage: the backward pass appears with
/// autodiff, DCE only removes nodes, and fusion reports kernels.
#[test]
fn dump_after_each_stage() {
    let text = |stage: &str, step: &str| {
        let out = dlc(&[
            "check",
            "examples/mlp.dlm",
            "--dump-after",
            stage,
            "--step",
            step,
            "--batch",
            "4",
        ]);
        assert_eq!(out.status.code(), Some(0), "{stage} {step}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let nodes = |t: &str| t.lines().filter(|l| l.starts_with('%')).count();
    let lower = text("lower", "train");
    assert!(lower.contains("input[data \"x\"] : f32[4, 784]"), "{lower}");
    assert!(lower.contains("out loss = "), "{lower}");
    assert!(!lower.contains("out update:"), "{lower}");
    let autodiff = text("autodiff", "train");
    assert!(autodiff.contains("out update:dense.w = "), "{autodiff}");
    let dce = text("dce", "train");
    assert!(nodes(&lower) < nodes(&dce) && nodes(&dce) <= nodes(&autodiff));
    let predict = text("dce", "predict");
    assert!(predict.contains("out pred = ") && !predict.contains("out loss"));
    let fuse = text("fuse", "train");
    assert!(fuse.contains("optimizer update"), "{fuse}");
    assert!(
        fuse.lines().last().unwrap_or("").contains(" kernels, "),
        "{fuse}"
    );
    let out = dlc(&[
        "check",
        "examples/mlp.dlm",
        "--dump-after",
        "autodiff",
        "--step",
        "eval",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only train steps are differentiated"));
}
