//! IDX files (the MNIST format), plain or gzip-compressed.
//!
//! Layout: two zero bytes, a type byte (`0x08` u8, `0x09` i8, `0x0B` i16,
//! `0x0C` i32, `0x0D` f32, `0x0E` f64), the number of dimensions, then each
//! dimension as a big-endian `u32`, then the values, big-endian, row-major.
//! A gzip file is recognised by its magic bytes (`1f 8b`), not its name;
//! byte offsets in errors then count the decompressed stream.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use super::{decode_all, Array, DataError, FileDType, Result};

/// What an IDX header declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxHeader {
    pub dtype: FileDType,
    pub dims: Vec<usize>,
    /// Whether the file is gzip-compressed.
    pub gzip: bool,
}

impl IdxHeader {
    fn header_len(&self) -> u64 {
        4 + 4 * self.dims.len() as u64
    }

    fn payload_len(&self) -> u64 {
        self.dims.iter().map(|&d| d as u64).product::<u64>() * self.dtype.size() as u64
    }
}

/// Opens `path`, transparently decompressing gzip.
fn open(path: &Path) -> Result<(Box<dyn Read>, bool)> {
    let mut file = BufReader::new(File::open(path).map_err(|e| DataError::io(path, e))?);
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| DataError::io(path, e))?;
    let gzip = n == 2 && magic == [0x1f, 0x8b];
    let prefix = std::io::Cursor::new(magic[..n].to_vec());
    let raw = prefix.chain(file);
    Ok(if gzip {
        (Box::new(GzDecoder::new(raw)), true)
    } else {
        (Box::new(raw), false)
    })
}

/// Fills as much of `buf` as the stream has; returns how much that was.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads exactly `len` bytes at stream offset `offset`, or says what is missing.
fn read_exact_at(
    r: &mut dyn Read,
    path: &Path,
    offset: u64,
    len: usize,
    what: &str,
) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let got = read_up_to(r, &mut buf).map_err(|e| corrupt(path, offset, e))?;
    if got < len {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            what: what.to_string(),
            offset,
            expected: len as u64,
            found: got as u64,
        });
    }
    Ok(buf)
}

fn corrupt(path: &Path, offset: u64, e: std::io::Error) -> DataError {
    DataError::malformed(
        path,
        offset,
        format!("the compressed stream is corrupt: {e}"),
    )
}

fn dtype(path: &Path, code: u8) -> Result<FileDType> {
    Ok(match code {
        0x08 => FileDType::U8,
        0x09 => FileDType::I8,
        0x0B => FileDType::I16,
        0x0C => FileDType::I32,
        0x0D => FileDType::F32,
        0x0E => FileDType::F64,
        other => {
            return Err(DataError::malformed(
                path,
                2,
                format!(
                    "unknown IDX element type 0x{other:02x} (expected 08, 09, 0b, 0c, 0d or 0e)"
                ),
            ))
        }
    })
}

fn header_from(r: &mut dyn Read, path: &Path, gzip: bool) -> Result<IdxHeader> {
    let magic = read_exact_at(r, path, 0, 4, "the IDX magic number")?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(DataError::malformed(
            path,
            0,
            format!(
                "not an IDX file: it starts with {:02x} {:02x}, an IDX file with 00 00",
                magic[0], magic[1]
            ),
        ));
    }
    let dtype = dtype(path, magic[2])?;
    let rank = magic[3] as usize;
    if rank == 0 {
        return Err(DataError::malformed(
            path,
            3,
            "an IDX file needs at least one dimension",
        ));
    }
    let raw = read_exact_at(r, path, 4, 4 * rank, "the dimension sizes")?;
    let dims = raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    Ok(IdxHeader { dtype, dims, gzip })
}

/// Reads only the header of an IDX file: element type and dimensions.
pub fn idx_header(path: &Path) -> Result<IdxHeader> {
    let (mut r, gzip) = open(path)?;
    header_from(&mut r, path, gzip)
}

/// Reads a whole IDX file. The payload must have exactly the size the
/// header declares: a short file and trailing bytes are both errors.
pub fn read_idx(path: &Path) -> Result<Array> {
    Ok(read_idx_raw(path)?.decode())
}

/// An IDX payload as the file stores it (big-endian elements).
pub struct RawIdx {
    pub shape: Vec<usize>,
    pub dtype: FileDType,
    pub bytes: Vec<u8>,
}

impl RawIdx {
    pub fn decode(self) -> Array {
        Array {
            values: decode_all(&self.bytes, self.dtype, true),
            shape: self.shape,
        }
    }
}

/// [`read_idx`] without decoding, so byte images can stay bytes.
pub fn read_idx_raw(path: &Path) -> Result<RawIdx> {
    let (mut r, gzip) = open(path)?;
    let header = header_from(&mut r, path, gzip)?;
    let (start, len) = (header.header_len(), header.payload_len());
    let len = usize::try_from(len)
        .map_err(|_| DataError::malformed(path, 4, "the declared dimensions are too large"))?;
    let payload = read_exact_at(&mut r, path, start, len, "the values")?;
    let mut extra = [0u8; 1];
    if read_up_to(&mut r, &mut extra).map_err(|e| corrupt(path, start + len as u64, e))? > 0 {
        return Err(DataError::malformed(
            path,
            start + len as u64,
            format!(
                "trailing data after the {} values the header declares",
                len / header.dtype.size()
            ),
        ));
    }
    Ok(RawIdx {
        shape: header.dims,
        dtype: header.dtype,
        bytes: payload,
    })
}
