//! The training loop through the library: determinism, checkpoint round
//! trips and resumption, atomic checkpoint writes, the protocol settings.

use std::path::{Path, PathBuf};

use dlc::runtime::checkpoint::{self, Position};
use dlc::runtime::engine::EngineKind;
use dlc::runtime::run::{run_program, Outcome};
use dlc::runtime::train::{EpochRecord, Observer, RunOptions};

struct Quiet;

impl Observer for Quiet {
    fn batch(&mut self, _: usize, _: usize, _: usize, _: f64) {}
    fn epoch(&mut self, _: &EpochRecord) {}
}

fn blobs() -> String {
    std::fs::read_to_string("tests/data/blobs.dlm").unwrap()
}

/// Runs a program text whose relative paths start in tests/data.
fn run(text: &str, options: RunOptions) -> Outcome {
    let parsed = dlc::driver::parse_source("blobs.dlm", text, PathBuf::from("tests/data"));
    assert!(parsed.diags.is_empty(), "{:?}", parsed.diags);
    let engine = EngineKind::Reference.engine();
    let options = RunOptions {
        base_dir: PathBuf::from("tests/data"),
        ..options
    };
    match run_program(&parsed.files, engine.as_ref(), &options, &mut Quiet) {
        Ok(o) => o,
        Err(e) => panic!("run failed: {e}"),
    }
}

fn losses(o: &Outcome) -> Vec<u64> {
    o.trained
        .history
        .iter()
        .flat_map(|r| [r.get("loss").unwrap(), r.get("val_loss").unwrap()])
        .map(f64::to_bits)
        .collect()
}

#[test]
fn same_seed_gives_bit_identical_losses() {
    let a = run(&blobs(), RunOptions::default());
    let b = run(&blobs(), RunOptions::default());
    assert_eq!(losses(&a), losses(&b));
    let other = run(
        &blobs().replace("seed      = 7", "seed      = 8"),
        RunOptions::default(),
    );
    assert_ne!(losses(&a), losses(&other), "the seed should change the run");
}

#[test]
fn the_model_learns_and_is_evaluated() {
    let o = run(&blobs(), RunOptions::default());
    let first = o.trained.history[0].get("loss").unwrap();
    let last = o.trained.history.last().unwrap().get("loss").unwrap();
    assert!(last < first * 0.5, "loss went from {first} to {last}");
    let e = &o.evaluations[0];
    let acc = e
        .values
        .iter()
        .find(|(n, _)| n == "acc")
        .unwrap()
        .1
        .scalar()
        .unwrap();
    assert!(acc > 0.8, "test accuracy {acc}");
    let cm = e
        .values
        .iter()
        .find(|(n, _)| n == "confusion_matrix")
        .unwrap();
    let dlc::runtime::metrics::MetricValue::Matrix(m) = &cm.1 else {
        panic!("{cm:?}")
    };
    assert_eq!(m.iter().flatten().sum::<u64>(), 24);
}

#[test]
fn resuming_from_a_checkpoint_continues_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let text = blobs().replace(
        "epochs    = 8",
        &format!("epochs = 4\n checkpoint = {:?}", path.display().to_string()),
    );
    let straight = run(&text, RunOptions::default());
    // The checkpoint holds the last epoch; stop after 2 and resume.
    let half = run(
        &text,
        RunOptions {
            epochs: Some(2),
            ..RunOptions::default()
        },
    );
    let saved = checkpoint::load(&path, &[]).unwrap();
    assert_eq!(saved.pos.epoch, 2);
    assert_eq!(saved.pos.step, half.trained.pos.step);
    let resumed = run(
        &text,
        RunOptions {
            resume: Some(path.clone()),
            ..RunOptions::default()
        },
    );
    assert_eq!(resumed.trained.history.len(), 2);
    assert_eq!(resumed.trained.pos.epoch, 4);
    for name in &straight.param_names {
        assert_eq!(
            straight.trained.state[name], resumed.trained.state[name],
            "{name} differs after resuming"
        );
    }
}

#[test]
fn checkpoint_round_trip_keeps_values_and_position() {
    let o = run(
        &blobs(),
        RunOptions {
            epochs: Some(1),
            ..RunOptions::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/model.safetensors");
    let tensors: Vec<_> = o
        .param_names
        .iter()
        .map(|n| (n.as_str(), &o.trained.state[n]))
        .collect();
    checkpoint::save(&path, &tensors, o.trained.pos).unwrap();
    let expected: Vec<(&str, &[usize])> = tensors.iter().map(|(n, v)| (*n, v.shape())).collect();
    let back = checkpoint::load(&path, &expected).unwrap();
    assert_eq!(back.pos, o.trained.pos);
    for (n, v) in &tensors {
        assert_eq!(&&back.tensors[*n], v);
    }
    assert!(
        o.param_names.iter().any(|n| n.starts_with("opt:")),
        "optimizer state is saved too"
    );
    let wrong = [("lin.w", &[3usize, 3][..])];
    let err = checkpoint::load(&path, &wrong).unwrap_err().to_string();
    assert!(
        err.contains("does not fit this model") && err.contains("lin.w"),
        "{err}"
    );
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn a_failed_checkpoint_write_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a non-empty directory, so the final rename fails after
    // the temporary file was written.
    let target = dir.path().join("taken.safetensors");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let a = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[2]));
    let pos = Position {
        epoch: 1,
        step: 1,
        lr_scale: 1.0,
    };
    let err = checkpoint::save(&target, &[("w", &a)], pos).unwrap_err();
    assert!(err.to_string().contains("taken.safetensors"), "{err}");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    // A good write replaces the old file whole.
    let file = dir.path().join("ok.safetensors");
    std::fs::write(&file, b"old").unwrap();
    checkpoint::save(&file, &[("w", &a)], pos).unwrap();
    assert_eq!(checkpoint::load(&file, &[("w", &[2])]).unwrap().pos, pos);
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn a_file_that_is_not_a_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.safetensors");
    std::fs::write(&path, b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ").unwrap();
    let err = checkpoint::load(&path, &[]).unwrap_err().to_string();
    assert!(err.contains("junk.safetensors"), "{err}");
}

#[test]
fn schedules_early_stopping_class_weights_and_augmentation_run() {
    let text = blobs()
        .replace(
            "metrics   = [acc]",
            "metrics = [acc]\n schedule = step(every: 2, factor: 0.5)\n \
             early_stopping = early_stopping(monitor: \"val_loss\", patience: 1, restore_best: true)\n \
             class_weights = [1.0, 2.0, 1.0]\n augment = [noise(std: 0.05)]\n regularize = l2(0.0001)",
        )
        .replace("epochs    = 8", "epochs = 30");
    let o = run(&text, RunOptions::default());
    let h = &o.trained.history;
    assert_eq!(h[0].lr, 0.05);
    assert_eq!(h[2].lr, 0.025);
    assert!(
        o.trained.stopped_after.is_some(),
        "patience 1 should stop within 30 epochs"
    );
    assert!(h.len() < 30);
}
