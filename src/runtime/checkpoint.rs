//! Checkpoints: every parameter and state (layer state, optimizer moments)
//! as a safetensors file, with the training position in its metadata.
//!
//! Writing is atomic: the bytes go to a temporary file in the same
//! directory, which is flushed to disk, renamed over the target, and the
//! directory is synced, so a crash leaves either the old checkpoint or the
//! new one, never half of one; on failure the temporary file is removed.
//! A missing directory is created.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

/// Where training stands, stored in the metadata.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// Epochs completed.
    pub epoch: usize,
    /// Optimizer steps taken (the next step's `t` is `step + 1`).
    pub step: u64,
    /// The plateau schedule's learning-rate factor.
    pub lr_scale: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot write checkpoint {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read checkpoint {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid safetensors file: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path} does not fit this model: {message}")]
    Mismatch { path: PathBuf, message: String },
}

const FORMAT: &str = "dlc-checkpoint-1";

/// Writes `tensors` (name to value) and `pos` to `path`, atomically.
pub fn save(
    path: &Path,
    tensors: &[(&str, &ArrayD<f32>)],
    pos: Position,
) -> Result<(), CheckpointError> {
    let werr = |source| CheckpointError::Write {
        path: path.to_path_buf(),
        source,
    };
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(n, a)| {
            (
                n.to_string(),
                a.iter().flat_map(|v| v.to_le_bytes()).collect(),
                a.shape().to_vec(),
            )
        })
        .collect();
    let mut views = Vec::new();
    for (name, data, shape) in &bytes {
        let view = TensorView::new(Dtype::F32, shape.clone(), data).map_err(|e| {
            CheckpointError::Format {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })?;
        views.push((name.clone(), view));
    }
    let meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("epoch".to_string(), pos.epoch.to_string()),
        ("step".to_string(), pos.step.to_string()),
        ("lr_scale".to_string(), pos.lr_scale.to_string()),
    ]);
    let out =
        safetensors::tensor::serialize(views, Some(meta)).map_err(|e| CheckpointError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    write_atomic(path, &out).map_err(werr)
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        std::fs::create_dir_all(&dir)?;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A checkpoint read back: tensors by name and the position.
#[derive(Debug)]
pub struct Loaded {
    pub tensors: HashMap<String, ArrayD<f32>>,
    pub pos: Position,
}

/// Reads a checkpoint and checks that it holds every name of `expected`
/// (name, shape) with that shape.
pub fn load(path: &Path, expected: &[(&str, &[usize])]) -> Result<Loaded, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let format = |message: String| CheckpointError::Format {
        path: path.to_path_buf(),
        message,
    };
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| format(e.to_string()))?;
    let meta = meta.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(format(format!(
            "its metadata has no `format: {FORMAT}`; it was not written by dlc"
        )));
    }
    let field = |k: &str| {
        meta.get(k)
            .ok_or_else(|| format(format!("its metadata has no `{k}`")))
    };
    let pos = Position {
        epoch: field("epoch")?
            .parse()
            .map_err(|_| format("bad `epoch`".into()))?,
        step: field("step")?
            .parse()
            .map_err(|_| format("bad `step`".into()))?,
        lr_scale: field("lr_scale")?
            .parse()
            .map_err(|_| format("bad `lr_scale`".into()))?,
    };
    let st = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
    let mismatch = |message: String| CheckpointError::Mismatch {
        path: path.to_path_buf(),
        message,
    };
    let mut tensors = HashMap::new();
    for (name, shape) in expected {
        let t = st
            .tensor(name)
            .map_err(|_| mismatch(format!("it has no tensor `{name}`")))?;
        if t.dtype() != Dtype::F32 || t.shape() != *shape {
            return Err(mismatch(format!(
                "`{name}` is {:?}{:?}, the model needs F32{shape:?}",
                t.dtype(),
                t.shape()
            )));
        }
        let values: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let a = ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|e| format(e.to_string()))?;
        tensors.insert(name.to_string(), a);
    }
    Ok(Loaded { tensors, pos })
}
