//! Data file loaders and header probes: well-formed files read back their
//! values; corrupt, truncated and malformed files give an error naming the
//! file and the place, never a panic.

use std::io::Write;
use std::path::{Path, PathBuf};

use dlc::runtime::data::{self, DataError, FileDType};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn idx_bytes(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b.extend(values);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn npy_bytes(descr: &str, shape: &str, fortran: bool, payload: &[u8]) -> Vec<u8> {
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((dict.len() as u16).to_le_bytes());
    b.extend(dict.as_bytes());
    b.extend(payload);
    b
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn idx_plain_and_gzip_read_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let raw = idx_bytes(&[2, 3], &[0, 1, 2, 3, 4, 255]);
    for (name, bytes) in [("a.idx", raw.clone()), ("a.idx.gz", gzip(&raw))] {
        let path = write(dir.path(), name, &bytes);
        let a = data::read_idx(&path).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.values, [0.0, 1.0, 2.0, 3.0, 4.0, 255.0]);
        let h = data::idx_header(&path).unwrap();
        assert_eq!(
            (h.dims, h.dtype, h.gzip),
            (vec![2, 3], FileDType::U8, name.ends_with("gz"))
        );
    }
}

#[test]
fn idx_header_of_the_bundled_mnist() {
    let path = Path::new("examples/data/mnist-10k/train-images-idx3-ubyte.gz");
    let h = data::idx_header(path).unwrap();
    assert_eq!(h.dims[1..], [28, 28]);
    let labels = data::idx_header(Path::new(
        "examples/data/mnist-10k/train-labels-idx1-ubyte.gz",
    ))
    .unwrap();
    assert_eq!(labels.dims, [h.dims[0]]);
}

#[test]
fn idx_bad_magic_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.idx", b"PK\x03\x04rest");
    let err = data::read_idx(&path).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DataError::Malformed { offset: 0, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("bad.idx") && msg.contains("not an IDX file"),
        "{msg}"
    );
}

#[test]
fn idx_unknown_element_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.idx", &[0, 0, 0x07, 1, 0, 0, 0, 1, 9]);
    let msg = data::idx_header(&path).unwrap_err().to_string();
    assert!(
        msg.contains("unknown IDX element type 0x07") && msg.contains("byte 2"),
        "{msg}"
    );
}

#[test]
fn idx_truncated_payload_says_how_much_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let raw = idx_bytes(&[4, 5], &[7; 13]);
    for (name, bytes) in [("short.idx", raw.clone()), ("short.idx.gz", gzip(&raw))] {
        let path = write(dir.path(), name, &bytes);
        let err = data::read_idx(&path).unwrap_err();
        match &err {
            DataError::Truncated {
                offset,
                expected,
                found,
                ..
            } => {
                assert_eq!((*offset, *expected, *found), (12, 20, 13));
            }
            other => panic!("expected a truncation, got {other}"),
        }
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn idx_truncated_header_and_trailing_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "h.idx", &[0, 0, 8, 3, 0, 0]);
    assert!(matches!(
        data::idx_header(&path),
        Err(DataError::Truncated { offset: 4, .. })
    ));
    let mut long = idx_bytes(&[2], &[1, 2]);
    long.push(3);
    let path = write(dir.path(), "long.idx", &long);
    let msg = data::read_idx(&path).unwrap_err().to_string();
    assert!(
        msg.contains("trailing data") && msg.contains("byte 10"),
        "{msg}"
    );
}

#[test]
fn idx_corrupt_gzip_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = gzip(&idx_bytes(&[100], &[5; 100]));
    let n = gz.len();
    for b in &mut gz[12..n - 8] {
        *b ^= 0x5a;
    }
    let path = write(dir.path(), "bad.gz", &gz);
    let err = data::read_idx(&path).unwrap_err();
    assert!(err.to_string().contains("bad.gz"), "{err}");
}

#[test]
fn missing_file_is_an_io_error() {
    let err = data::read_idx(Path::new("/nonexistent/x.idx")).unwrap_err();
    assert!(err.is_io() && err.to_string().contains("/nonexistent/x.idx"));
}

const CSV: &str = "\"year\",\"q\",\"gdp\"\n1959,1,2710.5\n1959,2,2778.8\n\n1959,3,2775.5\n";

#[test]
fn csv_columns_rows_and_header_probe() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "m.csv", CSV.as_bytes());
    let h = data::csv_columns(&path).unwrap();
    assert_eq!(h.names, ["year", "q", "gdp"]);
    assert_eq!(h.rows, 3);
    let a = data::read_csv(&path, &["gdp", "q"], Some(1..3)).unwrap();
    assert_eq!(a.shape, [2, 2]);
    assert_eq!(a.values, [2778.8, 2.0, 2775.5, 3.0]);
    let all = data::read_csv(&path, &["year"], None).unwrap();
    assert_eq!(all.shape, [3, 1]);
}

#[test]
fn csv_missing_column_lists_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "m.csv", CSV.as_bytes());
    let msg = data::read_csv(&path, &["realgdp"], None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("no column `realgdp`") && msg.contains("`gdp`"),
        "{msg}"
    );
}

#[test]
fn csv_non_numeric_cell_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = CSV.replace("2778.8", "n/a");
    let path = write(dir.path(), "m.csv", text.as_bytes());
    let msg = data::read_csv(&path, &["gdp"], None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("m.csv:3: column `gdp`: `n/a` is not a number"),
        "{msg}"
    );
}

#[test]
fn csv_short_row_and_rows_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "m.csv", b"a,b\n1,2\n3\n");
    let msg = data::read_csv(&path, &["a"], None).unwrap_err().to_string();
    assert!(
        msg.contains(":3:") && msg.contains("1 fields, the header 2"),
        "{msg}"
    );
    let path = write(dir.path(), "n.csv", CSV.as_bytes());
    let err = data::read_csv(&path, &["q"], Some(0..10)).unwrap_err();
    assert!(matches!(err, DataError::Rows { rows: 3, .. }), "{err}");
}

#[test]
fn npy_f32_i64_big_endian_and_fortran() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "a.npy",
        &npy_bytes("<f4", "(2, 3)", false, &f32s(&[1., 2., 3., 4., 5., 6.])),
    );
    let h = data::npy_header(&path).unwrap();
    assert_eq!((h.dtype, h.shape.clone()), (FileDType::F32, vec![2, 3]));
    assert_eq!(
        data::read_npy(&path).unwrap().values,
        [1., 2., 3., 4., 5., 6.]
    );
    let ints: Vec<u8> = [-1i64, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
    let path = write(dir.path(), "i.npy", &npy_bytes("<i8", "(2,)", false, &ints));
    assert_eq!(data::read_npy(&path).unwrap().values, [-1.0, 7.0]);
    let be: Vec<u8> = [3i32, 4].iter().flat_map(|v| v.to_be_bytes()).collect();
    let path = write(dir.path(), "b.npy", &npy_bytes(">i4", "(2,)", false, &be));
    assert_eq!(data::read_npy(&path).unwrap().values, [3.0, 4.0]);
    // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
    let path = write(
        dir.path(),
        "f.npy",
        &npy_bytes("<f4", "(2, 3)", true, &f32s(&[1., 4., 2., 5., 3., 6.])),
    );
    assert_eq!(
        data::read_npy(&path).unwrap().values,
        [1., 2., 3., 4., 5., 6.]
    );
}

#[test]
fn npy_bad_header_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "m.npy", b"\x93NUMPX\x01\x00");
    assert!(data::npy_header(&path)
        .unwrap_err()
        .to_string()
        .contains("not an NPY file"));
    let path = write(
        dir.path(),
        "d.npy",
        &npy_bytes("<c8", "(2,)", false, &[0; 16]),
    );
    let msg = data::npy_header(&path).unwrap_err().to_string();
    assert!(
        msg.contains("unsupported dtype `<c8`") && msg.contains("byte 10"),
        "{msg}"
    );
    let path = write(
        dir.path(),
        "s.npy",
        &npy_bytes("<f4", "(2, x)", false, &[0; 16]),
    );
    let msg = data::npy_header(&path).unwrap_err().to_string();
    assert!(msg.contains("s.npy") && msg.contains("`shape`"), "{msg}");
}

#[test]
fn npy_truncated_payload() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.npy",
        &npy_bytes("<f4", "(4,)", false, &f32s(&[1., 2.])),
    );
    let err = data::read_npy(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Truncated {
                offset: 128,
                expected: 16,
                found: 8,
                ..
            }
        ),
        "{err}"
    );
}

fn npz(dir: &Path, entries: &[(&str, Vec<u8>)]) -> PathBuf {
    let path = dir.join("a.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (name, bytes) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

#[test]
fn npz_reads_a_key_and_lists_the_others_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let x = npy_bytes("<f4", "(3,)", false, &f32s(&[0.5, 1.5, 2.5]));
    let y = npy_bytes("|u1", "(3,)", false, &[1, 0, 1]);
    let path = npz(dir.path(), &[("x.npy", x), ("y.npy", y)]);
    assert_eq!(data::read_npz(&path, "x").unwrap().values, [0.5, 1.5, 2.5]);
    assert_eq!(data::npz_header(&path, "y").unwrap().dtype, FileDType::U8);
    let msg = data::read_npz(&path, "z").unwrap_err().to_string();
    assert!(
        msg.contains("no array `z`") && msg.contains("`x`, `y`"),
        "{msg}"
    );
}

#[test]
fn npz_that_is_not_a_zip_and_a_broken_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "n.npz", b"hello");
    assert!(data::read_npz(&path, "x")
        .unwrap_err()
        .to_string()
        .contains("not a readable NPZ"));
    let path = npz(
        dir.path(),
        &[("x.npy", npy_bytes("<f4", "(9,)", false, &[0; 8]))],
    );
    let msg = data::read_npz(&path, "x").unwrap_err().to_string();
    assert!(
        msg.contains("a.npz") && msg.contains("`x.npy`") && msg.contains("truncated"),
        "{msg}"
    );
}
