//! Flat `.npy` files written in a stream, byte-identical to `numpy.save` of the same 1-D array
//! (the Python writer `hyperword/encode/npy.py` is the other half of this contract).
//!
//! numpy pads a version-1.0 header to a multiple of 64 bytes and reserves room for the longest
//! shape, so its length does not depend on the array length: the data is written after that
//! many bytes and the header is filled in once the length is known. The file lives under a
//! hidden temporary name until [`NpyWriter::finish`] syncs it, hashes it and renames it.

use crate::error::{Error, IoContext, Result};
use crate::shard::file_digest;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Element types of token and offset arrays (little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    U16,
    U32,
    I64,
}

impl Dtype {
    /// numpy's `descr` string.
    pub fn descr(self) -> &'static str {
        match self {
            Dtype::U16 => "<u2",
            Dtype::U32 => "<u4",
            Dtype::I64 => "<i8",
        }
    }

    pub fn from_descr(descr: &str) -> Result<Dtype> {
        match descr {
            "<u2" | "uint16" => Ok(Dtype::U16),
            "<u4" | "uint32" => Ok(Dtype::U32),
            "<i8" | "int64" => Ok(Dtype::I64),
            other => Err(Error::config(format!(
                "unsupported array dtype {other:?}: expected uint16, uint32 or int64"
            ))),
        }
    }

    pub fn size(self) -> usize {
        match self {
            Dtype::U16 => 2,
            Dtype::U32 => 4,
            Dtype::I64 => 8,
        }
    }

    /// The largest value an element holds.
    pub fn max(self) -> u64 {
        match self {
            Dtype::U16 => u16::MAX as u64,
            Dtype::U32 => u32::MAX as u64,
            Dtype::I64 => i64::MAX as u64,
        }
    }
}

/// numpy's `GROWTH_AXIS_MAX_DIGITS`: spare room left in the header for a longer shape.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
const ARRAY_ALIGN: usize = 64;

/// The version-1.0 header numpy writes for a 1-D C-order array of `len` items.
pub fn header(dtype: Dtype, len: u64) -> Vec<u8> {
    let shape = format!("({len},)");
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        dtype.descr()
    );
    let digits = len.to_string().len();
    dict.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    let hlen = dict.len() + 1; // the final newline
    let pad = ARRAY_ALIGN - (6 + 2 + 2 + hlen) % ARRAY_ALIGN;
    let mut out = Vec::with_capacity(10 + hlen + pad);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&((hlen + pad) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(&vec![b' '; pad]);
    out.push(b'\n');
    out
}

/// A 1-D `.npy` array written item by item; see the module documentation.
pub struct NpyWriter {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    dtype: Dtype,
    len: u64,
    scratch: Vec<u8>,
}

/// What a finished file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub len: u64,
    pub bytes: u64,
    pub sha256: String,
}

impl NpyWriter {
    pub fn create(path: &Path, dtype: Dtype) -> Result<NpyWriter> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.tmp"));
        let reserved = header(dtype, 0).len();
        if header(dtype, u64::MAX).len() != reserved {
            return Err(Error::Internal(
                "the .npy header width depends on the array length".into(),
            ));
        }
        let mut file = BufWriter::with_capacity(1 << 20, File::create(&tmp).at(&tmp)?);
        file.seek(SeekFrom::Start(reserved as u64)).at(&tmp)?;
        Ok(NpyWriter {
            path: path.to_path_buf(),
            tmp,
            file: Some(file),
            dtype,
            len: 0,
            scratch: Vec::new(),
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append `values`, each narrowed to the file's dtype (the caller guarantees they fit).
    pub fn write(&mut self, values: &[u64]) -> Result<()> {
        self.scratch.clear();
        self.scratch.reserve(values.len() * self.dtype.size());
        match self.dtype {
            Dtype::U16 => values
                .iter()
                .for_each(|&v| self.scratch.extend_from_slice(&(v as u16).to_le_bytes())),
            Dtype::U32 => values
                .iter()
                .for_each(|&v| self.scratch.extend_from_slice(&(v as u32).to_le_bytes())),
            Dtype::I64 => values
                .iter()
                .for_each(|&v| self.scratch.extend_from_slice(&(v as i64).to_le_bytes())),
        }
        self.write_raw(values.len() as u64)
    }

    /// Append token ids (u32) narrowed to the file's dtype.
    pub fn write_u32(&mut self, values: &[u32]) -> Result<()> {
        self.scratch.clear();
        self.scratch.reserve(values.len() * self.dtype.size());
        match self.dtype {
            Dtype::U16 => values
                .iter()
                .for_each(|&v| self.scratch.extend_from_slice(&(v as u16).to_le_bytes())),
            Dtype::U32 => values
                .iter()
                .for_each(|&v| self.scratch.extend_from_slice(&v.to_le_bytes())),
            Dtype::I64 => values
                .iter()
                .for_each(|&v| self.scratch.extend_from_slice(&(v as i64).to_le_bytes())),
        }
        self.write_raw(values.len() as u64)
    }

    // Write errors name the file being written (`DIR/tokens-00003.npy: No space left on
    // device`), not its hidden temporary, which is gone by the time the error is read.
    fn write_raw(&mut self, items: u64) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Internal("write after finish".into()))?;
        file.write_all(&self.scratch).at(&self.path)?;
        self.len += items;
        Ok(())
    }

    /// Fill in the header, sync, hash and rename into place; on failure (a full disk fails
    /// the flush of what is buffered) the temporary file is removed.
    pub fn finish(mut self) -> Result<Written> {
        let file = self
            .file
            .take()
            .ok_or_else(|| Error::Internal("finish called twice".into()))?;
        let result = self.seal(file);
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    fn seal(&self, mut file: BufWriter<File>) -> Result<Written> {
        file.seek(SeekFrom::Start(0)).at(&self.path)?;
        file.write_all(&header(self.dtype, self.len)).at(&self.path)?;
        let file = file.into_inner().map_err(|e| e.into_error()).at(&self.path)?;
        file.sync_all().at(&self.path)?;
        drop(file);
        let (bytes, sha256) = file_digest(&self.tmp)?;
        std::fs::rename(&self.tmp, &self.path).at(&self.path)?;
        Ok(Written {
            len: self.len,
            bytes,
            sha256,
        })
    }
}

impl Drop for NpyWriter {
    /// An unfinished file (an error, a cancellation) leaves nothing behind.
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_to_64_bytes_whatever_the_length() {
        for len in [0u64, 7, 123_456_789, u64::MAX] {
            let h = header(Dtype::U16, len);
            assert_eq!(h.len(), 128, "len {len}");
            assert!(h.ends_with(b"\n"));
        }
        let h = String::from_utf8_lossy(&header(Dtype::I64, 3)).into_owned();
        assert!(
            h.contains("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"),
            "{h}"
        );
    }

    #[test]
    fn a_dropped_writer_leaves_nothing_and_a_finished_one_holds_its_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let mut w = NpyWriter::create(&path, Dtype::U16).unwrap();
        w.write_u32(&[1, 2, 65535]).unwrap();
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let mut w = NpyWriter::create(&path, Dtype::U16).unwrap();
        w.write_u32(&[1, 2, 65535]).unwrap();
        let written = w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(written.bytes, bytes.len() as u64);
        assert_eq!(&bytes[128..], &[1, 0, 2, 0, 255, 255]);
        assert_eq!(written.len, 3);
    }
}
