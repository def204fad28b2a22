//! Data blocks evaluated by the runtime (without the checker in front):
//! values, implicit reshapes, windows, and located errors for data that
//! does not fit its declaration.

use std::path::Path;

use dlc::lower::Items;
use dlc::runtime::coded::Values;
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
    let x = &d.column("x").unwrap().values.to_dense();
    assert_eq!(x.shape(), [2, 3, 1]);
    assert_eq!(
        x.iter().copied().collect::<Vec<_>>(),
        [1., 2., 4., 2., 4., 8.]
    );
    assert_eq!(
        d.column("y")
            .unwrap()
            .values
            .to_dense()
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

/// An IDX file of `u8` values with the given dims.
fn idx_u8(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend(values);
    b
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn byte_images_stay_coded_and_give_the_dense_values() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..24).map(|i| (i * 11 % 256) as u8).collect();
    write(dir.path(), "x.idx", &idx_u8(&[3, 2, 4], &pixels));
    write(dir.path(), "y.idx", &idx_u8(&[3], &[7, 0, 255]));
    let d = load(
        dir.path(),
        "d",
        r#"data d {
            x: f32[N, 1, 2, 4] = (idx("x.idx") / 255 - 0.5) * 2
            s: f32[N, 8] = sqrt(reshape(idx("x.idx"), [3, 8]))
            y: i32[N] = idx("y.idx")
        }"#,
    )
    .unwrap();
    let x = &d.column("x").unwrap().values;
    assert!(matches!(x, Values::Coded(_)), "{x:?}");
    assert_eq!(x.shape(), [3, 1, 2, 4]);
    // The same f32 arithmetic as the dense path: x as f32, the constants as f32.
    let want: Vec<f32> = pixels
        .iter()
        .map(|&p| {
            let v = (f64::from(p as f32) / f64::from(255f32)) as f32;
            let v = (f64::from(v) - f64::from(0.5f32)) as f32;
            (f64::from(v) * f64::from(2f32)) as f32
        })
        .collect();
    assert_eq!(x.to_dense().iter().copied().collect::<Vec<_>>(), want);
    let s = d.column("s").unwrap().values.to_dense();
    let want: Vec<f32> = pixels.iter().map(|&p| (p as f32).sqrt()).collect();
    assert_eq!(s.iter().copied().collect::<Vec<_>>(), want);
    // A batch keeps the rows asked for, in order.
    let part = d.select(&[2, 0]);
    let y = part.column("y").unwrap().values.to_dense();
    assert_eq!(y.iter().copied().collect::<Vec<_>>(), [255.0, 7.0]);
    let x = part.column("x").unwrap().values.to_dense();
    assert_eq!(x.shape(), [2, 1, 2, 4]);
    assert_eq!(x[[1, 0, 0, 1]], want_at(&pixels, 1));
}

fn want_at(pixels: &[u8], i: usize) -> f32 {
    let v = (f64::from(pixels[i] as f32) / f64::from(255f32)) as f32;
    let v = (f64::from(v) - f64::from(0.5f32)) as f32;
    (f64::from(v) * f64::from(2f32)) as f32
}

#[test]
fn a_coded_integer_field_with_fractions_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "y.idx", &idx_u8(&[3], &[4, 3, 8]));
    let err = load(
        dir.path(),
        "d",
        r#"data d { y: i32[N] = idx("y.idx") / 2 }"#,
    )
    .unwrap_err();
    assert_eq!(err.code, "data::dtype", "{}", err.message);
    assert!(err.message.contains("1.5"), "{}", err.message);
}
