//! Data blocks evaluated by the runtime (without the checker in front):
//! values, implicit reshapes, windows, and located errors for data that
//! does not fit its declaration.

use std::path::Path;

use dlc::lower::Items;
use dlc::runtime::data_block::{DataLoader, Dataset, LoadError};

fn load(dir: &Path, block: &str, program: &str) -> Result<Dataset, LoadError> {
    let parsed = dlc::driver::parse_source("d.dlm", program, dir.to_path_buf());
    assert!(parsed.diags.is_empty(), "{:?}", parsed.diags);
    let items = Items::new(&parsed.files);
    let mut loader = DataLoader::new(&items, dir);
    loader.load(block, Default::default())
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (n, t) in files {
        std::fs::write(dir.path().join(n), t).unwrap();
    }
    dir
}

const SERIES: &str = "t,v\n0,1\n1,2\n2,4\n3,8\n4,16\n";

#[test]
fn windows_next_and_normalize() {
    let dir = dir_with(&[("s.csv", SERIES)]);
    let d = load(
        dir.path(),
        "s",
        r#"data s {
            let v = csv("s.csv", column: "v")
            x: f32[N, 3, 1] = windows(v, size: 3)
            y: f32[N, 1] = next(v, size: 3)
            z: f32[N] = normalize(v[0:3], like: v)
        }"#,
    );
    let err = d.unwrap_err();
    assert_eq!(err.code, "data::count", "{}", err.message);
    let d = load(
        dir.path(),
        "s",
        r#"data s {
            let v = csv("s.csv", column: "v")
            x: f32[N, 3, 1] = windows(v, size: 3)
            y: f32[N, 1] = next(v, size: 3)
        }"#,
    )
    .unwrap();
    assert_eq!(d.len, 2);
    let x = &d.column("x").unwrap().values;
    assert_eq!(x.shape(), [2, 3, 1]);
    assert_eq!(
        x.iter().copied().collect::<Vec<_>>(),
        [1., 2., 4., 2., 4., 8.]
    );
    assert_eq!(
        d.column("y")
            .unwrap()
            .values
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [8., 16.]
    );
}

#[test]
fn a_field_whose_shape_does_not_fit() {
    let dir = dir_with(&[("s.csv", SERIES)]);
    let err = load(
        dir.path(),
        "s",
        r#"data s { x: f32[N, 3] = csv("s.csv", columns: ["t", "v"]) }"#,
    )
    .unwrap_err();
    assert_eq!(err.code, "data::shape");
    assert!(
        err.message.contains("declared [N, 3]") && err.message.contains("[5, 2]"),
        "{}",
        err.message
    );
}

#[test]
fn an_integer_field_with_fractions() {
    let dir = dir_with(&[("s.csv", "a\n1\n2.5\n")]);
    let err = load(
        dir.path(),
        "s",
        r#"data s { y: i32[N] = csv("s.csv", column: "a") }"#,
    )
    .unwrap_err();
    assert_eq!(err.code, "data::dtype");
    assert!(err.message.contains("2.5"), "{}", err.message);
}

#[test]
fn a_missing_file_is_an_io_error() {
    let dir = dir_with(&[]);
    let err = load(
        dir.path(),
        "s",
        r#"data s { y: f32[N] = csv("nope.csv", column: "a") }"#,
    )
    .unwrap_err();
    assert!(
        err.is_io() && err.message.contains("nope.csv"),
        "{}",
        err.message
    );
}
