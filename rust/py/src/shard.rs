//! One shard at a time, for engines that place shards themselves (Ray): write shard `index`
//! of a corpus into a local directory, exactly as `generate` would; and the shard rules Python
//! writers ask instead of repeating them (the shard count, the compression level).

use crate::error::to_py;
use crate::gil::enter;
use crate::lexicon::PyLexicon;
use hyperword_core::config::{check_compression_level, compression_level_error, Compression};
use hyperword_core::shard;
use hyperword_core::{CorpusConfig, Generator};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};
use std::path::PathBuf;

/// Write shard `index` of the corpus `config` (JSON) into `dir`; returns its manifest record
/// as JSON (index, path, rows, words, text_bytes, bytes, sha256).
#[pyfunction]
pub fn write_shard(py: Python<'_>, dir: PathBuf, lexicon: &PyLexicon, config: &str, index: u64) -> PyResult<String> {
    let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
    shard::check_indices(&cfg, &[index]).map_err(to_py)?;
    let lexicon = lexicon.inner.clone();
    enter(py, None, move |control| {
        let generator = Generator::new(&lexicon, &cfg)?;
        let info = shard::write_shard(&dir, generator, &cfg, index, control)?;
        Ok(serde_json::to_string(&info).expect("shard info serialises"))
    })
}

/// The number of shards of the corpus `config` (JSON): `words / shard_words`, rounded up.
#[pyfunction]
pub fn shard_count(config: &str) -> PyResult<u64> {
    Ok(CorpusConfig::from_json(config).map_err(to_py)?.shard_count())
}

/// Raise `ConfigError` unless `level` (an int, or `None` for the default) is a level
/// `compression` (`zstd`, `lz4` or `none`) takes: the rule of `hyperword_core::config`.
#[pyfunction]
#[pyo3(signature = (compression, level=None))]
pub fn check_shard_compression(compression: &str, level: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let compression = match compression {
        "zstd" => Compression::Zstd,
        "lz4" => Compression::Lz4,
        _ => Compression::None,
    };
    let level = match level {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match (
            v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>(),
            v.extract::<i64>(),
        ) {
            (false, Ok(level)) => Some(level),
            _ => return Err(to_py(compression_level_error(v.str()?.to_cow()?))),
        },
    };
    check_compression_level(compression, level).map_err(to_py)
}
