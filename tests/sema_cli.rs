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
