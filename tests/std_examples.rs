//! Every std file and every example parses cleanly; every example's train,
//! eval and predict steps lower with a small batch (field shapes from the
//! data blocks' declared types), and one train step on synthetic inputs
//! gives a finite loss. The small models must lower their loss in a few
//! steps on a fixed batch.

mod run_step;

use dlc::lower::{data_fields, eval_spec, train_spec, Items, StepKind};
use run_step::*;

const EXAMPLES: &[(&str, &str)] = &[("mnist_cnn", include_str!("../examples/mnist_cnn.dlm"))];

#[test]
fn std_files_parse_without_diagnostics() {
    // Parsing any program parses the std with it; an empty user file
    // isolates the std's diagnostics.
    assert!(!dlc::stdlib::FILES.is_empty());
    let parsed = parse("empty.dlm", "");
    assert_eq!(parsed.files.len(), dlc::stdlib::FILES.len() + 1);
    for (name, text) in dlc::stdlib::FILES {
        assert!(text.starts_with("//!"), "{name} needs a //! header");
    }
}

#[test]
fn every_example_file_is_listed() {
    let mut on_disk: Vec<String> = std::fs::read_dir("examples")
        .expect("examples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".dlm").map(str::to_owned))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

/// Lowers all three steps of an example and runs `steps` train steps;
/// returns the losses.
fn run_example(name: &str, text: &str, batch: usize, steps: usize, lr: f32) -> Vec<f32> {
    let parsed = parse(&format!("{name}.dlm"), text);
    assert!(
        parsed
            .files
            .last()
            .and_then(|(_, p)| p.doc.as_ref())
            .is_some(),
        "{name} needs a //! header"
    );
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let spec = train_spec(t).expect("train spec");
    let fields = data_fields(data_def(&parsed, &t.data.name)).expect("fields");
    let train = lower(&items, &spec, &fields, batch, StepKind::Train);
    let mut rng = Rng::new(1);
    let data = synthetic_data(&train.graph, 2, &mut rng);

    let eval_spec = match eval_def(&parsed) {
        Some(e) => eval_spec(t, e).expect("eval spec"),
        None => train_spec(t).expect("train spec"),
    };
    let eval = lower(&items, &eval_spec, &fields, batch, StepKind::Eval);
    let out = run_once(&eval, &synthetic_data(&eval.graph, 2, &mut rng));
    assert!(out["loss"][[]].is_finite(), "{name}: eval loss");
    for m in &eval_spec.metrics {
        let v = &out[&format!("metric:{m}")];
        assert_eq!(v.shape()[0], batch, "{name}: metric {m}");
        assert!(v.iter().all(|x| x.is_finite()), "{name}: metric {m}");
    }
    let predict = lower(&items, &spec, &fields, 1, StepKind::Predict);
    let out = run_once(&predict, &synthetic_data(&predict.graph, 2, &mut rng));
    assert!(out["pred"].iter().all(|x| x.is_finite()), "{name}: predict");

    let losses = train_losses(&train, &data, steps, lr);
    assert!(
        losses.iter().all(|l| l.is_finite()),
        "{name}: losses {losses:?}"
    );
    println!("{name}: losses {losses:?}");
    losses
}

fn example(name: &str) -> &'static str {
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no example {name}"))
}

#[test]
fn mnist_cnn_runs_a_step() {
    run_example("mnist_cnn", example("mnist_cnn"), 4, 1, 1e-3);
}
