//! The checker accepts the standard library and every example as written,
//! and proves the shapes and parameter counts of the MNIST CNN symbolically.

use std::path::Path;

use dlc::diag::render_plain;
use dlc::sema::summary::Count;

fn check(path: &Path) -> dlc::driver::Checked {
    dlc::driver::check_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn std_checks_clean() {
    let checked = dlc::driver::check_source("empty.dlm", "", "examples".into());
    assert!(
        checked.diags.is_empty(),
        "{}",
        render_plain(&checked.diags, &checked.sources, 100)
    );
}

#[test]
fn every_example_checks_clean() {
    let mut paths: Vec<_> = std::fs::read_dir("examples")
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dlm"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "only {} examples", paths.len());
    for path in &paths {
        let checked = check(path);
        assert!(
            checked.diags.is_empty(),
            "{}:\n{}",
            path.display(),
            render_plain(&checked.diags, &checked.sources, 100)
        );
        assert!(
            !checked.program.models.is_empty(),
            "{} has no model",
            path.display()
        );
    }
}

#[test]
fn mnist_cnn_summary_is_symbolic_in_the_batch() {
    let checked = check(Path::new("examples/mnist_cnn.dlm"));
    let model = &checked.program.models[0];
    let rows: Vec<(&str, &str)> = model
        .layers
        .iter()
        .map(|r| (r.name.as_str(), r.output.as_str()))
        .collect();
    assert_eq!(rows[0], ("conv2d", "f32[B, 32, 26, 26]"));
    assert!(rows.contains(&("maxpool2d", "f32[B, 32, 13, 13]")));
    assert!(rows.contains(&("flatten", "f32[B, 5408]")));
    assert_eq!(rows.last(), Some(&("dense_1", "f32[B, 10]")));
    // Keras counts 693,962 parameters for this model.
    assert_eq!(model.params, Count::Known(693_962));
    let run = &checked.program.runs[0];
    assert_eq!((run.epochs, run.batch), (Some(10), Some(32)));
    assert_eq!(run.loss_type.as_deref(), Some("f32[B]"));
}
