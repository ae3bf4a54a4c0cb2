//! Reading and writing 2-D little-endian `.npy` files (format version 1.0),
//! enough for the benchmark data that numpy loads with `np.load`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::BenchError;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Element types the benchmark stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dtype {
    /// `<f4`, the embeddings.
    F32,
    /// `<i4`, the intent of each row.
    I32,
}

impl Dtype {
    fn descr(self) -> &'static str {
        match self {
            Self::F32 => "<f4",
            Self::I32 => "<i4",
        }
    }
}

/// Writes a `rows × columns` matrix of 4-byte values, given as little-endian
/// bytes row by row.
pub(crate) fn write(
    path: &Path,
    dtype: Dtype,
    rows: usize,
    columns: usize,
    little_endian: &[u8],
) -> Result<(), BenchError> {
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}",
        dtype.descr()
    );
    // The magic, version and length take 10 bytes; the header ends in a
    // newline and pads the whole preamble to a multiple of 64 bytes.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let header_length = u16::try_from(header.len()).map_err(|_| BenchError::Format {
        path: path.display().to_string(),
        reason: "header longer than 65,535 bytes".into(),
    })?;

    let mut out = BufWriter::new(File::create(path).map_err(|e| BenchError::io(path, e))?);
    out.write_all(MAGIC)
        .and_then(|()| out.write_all(&[1, 0]))
        .and_then(|()| out.write_all(&header_length.to_le_bytes()))
        .and_then(|()| out.write_all(header.as_bytes()))
        .and_then(|()| out.write_all(little_endian))
        .and_then(|()| out.flush())
        .map_err(|e| BenchError::io(path, e))
}

/// Reads the first `max_rows` rows of a 2-D `<f4` file as one vector per row.
pub(crate) fn read_f32_rows(path: &Path, max_rows: usize) -> Result<Vec<Vec<f32>>, BenchError> {
    let (mut input, rows, columns) = open(path, Dtype::F32)?;
    let rows = rows.min(max_rows);
    let mut bytes = vec![0u8; columns * 4];
    let mut out = Vec::with_capacity(rows);
    for _ in 0..rows {
        input
            .read_exact(&mut bytes)
            .map_err(|e| BenchError::io(path, e))?;
        let row = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.push(row);
    }
    Ok(out)
}

/// Reads the first `max_rows` values of an `(n, 1)` `<i4` file.
pub(crate) fn read_i32_column(path: &Path, max_rows: usize) -> Result<Vec<i32>, BenchError> {
    let (mut input, rows, columns) = open(path, Dtype::I32)?;
    if columns != 1 {
        return Err(BenchError::Format {
            path: path.display().to_string(),
            reason: format!("expected one column, found {columns}"),
        });
    }
    let mut bytes = vec![0u8; rows.min(max_rows) * 4];
    input
        .read_exact(&mut bytes)
        .map_err(|e| BenchError::io(path, e))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Opens a C-order 2-D file of `dtype` and returns the reader positioned at
/// the data, with the row and column counts.
fn open(path: &Path, dtype: Dtype) -> Result<(BufReader<File>, usize, usize), BenchError> {
    let format_error = |reason: String| BenchError::Format {
        path: path.display().to_string(),
        reason,
    };
    let mut input = BufReader::new(File::open(path).map_err(|e| BenchError::io(path, e))?);
    let mut preamble = [0u8; 10];
    input
        .read_exact(&mut preamble)
        .map_err(|e| BenchError::io(path, e))?;
    if &preamble[..6] != MAGIC || preamble[6] != 1 {
        return Err(format_error("not an .npy file of format version 1".into()));
    }
    let header_length = usize::from(u16::from_le_bytes([preamble[8], preamble[9]]));
    let mut header = vec![0u8; header_length];
    input
        .read_exact(&mut header)
        .map_err(|e| BenchError::io(path, e))?;
    let header = String::from_utf8_lossy(&header);

    if !header.contains(&format!("'descr': '{}'", dtype.descr())) {
        return Err(format_error(format!("expected dtype {}", dtype.descr())));
    }
    if !header.contains("'fortran_order': False") {
        return Err(format_error("expected C order".into()));
    }
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .ok_or_else(|| format_error("missing shape".into()))?;
    let dimensions: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| format_error(format!("invalid shape ({shape})")))?;
    match dimensions[..] {
        [rows, columns] => Ok((input, rows, columns)),
        _ => Err(format_error(format!(
            "expected 2 dimensions, found ({shape})"
        ))),
    }
}
