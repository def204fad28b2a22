//! Every std file and every example parses cleanly; every example's train,
//! eval and predict steps lower with a small batch (field shapes from the
//! data blocks' declared types), and one train step on synthetic inputs
//! gives a finite loss. The small models must lower their loss in a few
//! steps on a fixed batch.

mod run_step;

use std::collections::HashMap;

use dlc::lower::{
    baseline_fields, data_fields, eval_spec, train_spec, Field, Items, StepKind, TrainSpec,
};
use ndarray::ArrayD;
use run_step::*;

const EXAMPLES: &[(&str, &str)] = &[
    ("mnist_cnn", include_str!("../examples/mnist_cnn.dlm")),
    ("mlp", include_str!("../examples/mlp.dlm")),
    (
        "lstm_classifier",
        include_str!("../examples/lstm_classifier.dlm"),
    ),
    ("transformer", include_str!("../examples/transformer.dlm")),
    ("autoencoder", include_str!("../examples/autoencoder.dlm")),
    (
        "binary_classifier",
        include_str!("../examples/binary_classifier.dlm"),
    ),
    ("gdp_rnn", include_str!("../examples/gdp_rnn.dlm")),
];

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
    run_example_with(name, text, batch, steps, lr, |_| {})
}

/// `run_example` with the synthetic training batch adjusted by `adjust`.
fn run_example_with(
    name: &str,
    text: &str,
    batch: usize,
    steps: usize,
    lr: f32,
    adjust: fn(&mut HashMap<String, ArrayD<f32>>),
) -> Vec<f32> {
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
    let mut data = synthetic_data(&train.graph, 2, &mut rng);
    adjust(&mut data);

    let mut eval_spec = match eval_def(&parsed) {
        Some(e) => eval_spec(t, e).expect("eval spec"),
        None => train_spec(t).expect("train spec"),
    };
    eval_spec.external = external_fields(&parsed, &eval_spec);
    let eval_fields = match eval_def(&parsed) {
        Some(e) => data_fields(data_def(&parsed, &e.data.name)).expect("fields"),
        None => fields.clone(),
    };
    let eval = lower(&items, &eval_spec, &eval_fields, batch, StepKind::Eval);
    let out = run_once(&eval, &synthetic_data(&eval.graph, 2, &mut rng));
    assert!(out["loss"][[]].is_finite(), "{name}: eval loss");
    for k in 0..eval_spec.baselines.len() {
        assert!(out[&format!("baseline:{k}:loss")][[]].is_finite());
    }
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

/// The other data sets' fields the baselines name, as 5 samples each.
fn external_fields(parsed: &dlc::driver::Parsed, spec: &TrainSpec) -> Vec<Field> {
    baseline_fields(spec)
        .into_iter()
        .map(|(d, f)| {
            let field = data_fields(data_def(parsed, &d))
                .expect("fields")
                .into_iter()
                .find(|x| x.name == f)
                .expect("a declared field");
            let mut shape = vec![5];
            shape.extend(field.shape);
            Field {
                name: format!("{d}.{f}"),
                shape,
                dtype: field.dtype,
            }
        })
        .collect()
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

#[test]
fn lstm_classifier_runs_a_step() {
    run_example("lstm_classifier", example("lstm_classifier"), 2, 1, 1e-3);
}

#[test]
fn transformer_runs_a_step() {
    run_example("transformer", example("transformer"), 2, 1, 1e-3);
}

/// The loss after `steps` steps on one fixed batch is below `factor` times
/// the first.
fn assert_learns(name: &str, batch: usize, steps: usize, lr: f32, factor: f32) {
    assert_learns_with(name, batch, steps, lr, factor, |_| {});
}

fn assert_learns_with(
    name: &str,
    batch: usize,
    steps: usize,
    lr: f32,
    factor: f32,
    adjust: fn(&mut HashMap<String, ArrayD<f32>>),
) {
    let losses = run_example_with(name, example(name), batch, steps, lr, adjust);
    let (first, last) = (losses[0], losses[steps - 1]);
    assert!(
        last < first * factor,
        "{name}: loss went from {first} to {last}"
    );
}

#[test]
fn mlp_learns() {
    assert_learns("mlp", 8, 10, 0.05, 0.5);
}

#[test]
fn autoencoder_learns() {
    assert_learns("autoencoder", 8, 10, 1e-2, 0.9);
}

#[test]
fn binary_classifier_learns() {
    // 0/1 targets, so that the loss can approach 0.
    assert_learns_with("binary_classifier", 8, 10, 1e-3, 0.5, |data| {
        if let Some(y) = data.get_mut("y") {
            y.mapv_inplace(f32::round);
        }
    });
}

#[test]
fn gdp_rnn_learns() {
    assert_learns("gdp_rnn", 8, 10, 1e-2, 0.5);
}

#[test]
fn gdp_baselines_are_the_training_mean_and_the_last_value() {
    let parsed = parse("gdp_rnn.dlm", example("gdp_rnn"));
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let mut spec = eval_spec(t, eval_def(&parsed).expect("evaluate")).expect("spec");
    assert_eq!(baseline_fields(&spec), [("gdp_train".into(), "y".into())]);
    spec.external = external_fields(&parsed, &spec);
    let fields = data_fields(data_def(&parsed, "gdp_test")).expect("fields");
    let step = lower(&items, &spec, &fields, 3, StepKind::Eval);
    let mut data = synthetic_data(&step.graph, 2, &mut Rng::new(3));
    let train_y = data["gdp_train.y"].clone();
    let out = run_once(&step, &data);
    let mean = train_y.mean().expect("values");
    assert!(out["baseline:0"].iter().all(|v| (v - mean).abs() < 1e-6));
    let x = data.remove("x").expect("x");
    let last: Vec<f32> = x.outer_iter().map(|w| w[[7, 0]]).collect();
    assert_eq!(out["baseline:1"].iter().copied().collect::<Vec<_>>(), last);
    // Scored with the train block's loss (mse) and the evaluate block's mae.
    let y = &data["y"];
    let mae: Vec<f32> = last
        .iter()
        .zip(y.iter())
        .map(|(p, t)| (p - t).abs())
        .collect();
    assert_eq!(
        out["baseline:1:metric:mae"]
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        mae
    );
    let mse = last
        .iter()
        .zip(y.iter())
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f32>()
        / 3.0;
    assert!((out["baseline:1:loss"][[]] - mse).abs() < 1e-6);
}

/// The number of trained parameters of an example's model.
fn trained_parameters(name: &str) -> usize {
    let parsed = parse(&format!("{name}.dlm"), example(name));
    let items = Items::new(&parsed.files);
    let t = train_def(&parsed);
    let fields = data_fields(data_def(&parsed, &t.data.name)).expect("fields");
    let spec = train_spec(t).expect("spec");
    let step = lower(&items, &spec, &fields, 1, StepKind::Predict);
    step.params
        .iter()
        .filter(|p| p.kind == dlc::lower::ParamKind::Param)
        .map(|p| p.shape.iter().product::<usize>())
        .sum()
}

#[test]
fn parameter_counts_match_keras() {
    // Keras' model.summary() of the seed CNN: 320 + 692,352 + 1,290.
    assert_eq!(trained_parameters("mnist_cnn"), 693_962);
    // LSTM(64) on 28 features: 4 * ((28 + 64) * 64 + 64), then 64 * 10 + 10.
    assert_eq!(trained_parameters("lstm_classifier"), 23_808 + 650);
    // SimpleRNN(32) on 1 feature: (1 + 32) * 32 + 32, then 32 + 1.
    assert_eq!(trained_parameters("gdp_rnn"), 1_088 + 33);
}
