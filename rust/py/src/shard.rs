//! One shard at a time, for engines that place shards themselves (Ray): write shard `index`
//! of a corpus into a local directory, exactly as `generate` would.

use crate::error::to_py;
use crate::gil::enter;
use crate::lexicon::PyLexicon;
use hyperword_core::shard;
use hyperword_core::{CorpusConfig, Generator};
use pyo3::prelude::*;
use std::path::PathBuf;

/// Write shard `index` of the corpus `config` (JSON) into `dir`; returns its manifest record
/// as JSON (index, path, rows, words, text_bytes, bytes, sha256).
#[pyfunction]
pub fn write_shard(py: Python<'_>, dir: PathBuf, lexicon: &PyLexicon, config: &str, index: u64) -> PyResult<String> {
    let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
    if index >= cfg.shard_count() {
        return Err(to_py(hyperword_core::Error::config(format!(
            "shard {index} does not exist: the corpus has {} shards",
            cfg.shard_count()
        ))));
    }
    let lexicon = lexicon.inner.clone();
    enter(py, None, move |control| {
        let generator = Generator::new(&lexicon, &cfg)?;
        let info = shard::write_shard(&dir, generator, &cfg, index, control)?;
        Ok(serde_json::to_string(&info).expect("shard info serialises"))
    })
}
