//! The manifest of a generated corpus from its shards' records, byte for byte what `generate`
//! writes (for engines that place shards themselves).

use crate::error::to_py;
use crate::lexicon::PyLexicon;
use hyperword_core::error::Error;
use hyperword_core::manifest::Manifest;
use hyperword_core::shard::ShardInfo;
use hyperword_core::{CorpusConfig, Generator};
use pyo3::prelude::*;
use std::path::PathBuf;

/// `manifest.json` of the corpus `config` (JSON) made of `shards` (a JSON list of shard
/// records); with no shards, its `fingerprint` is the corpus's identity.
#[pyfunction]
pub fn corpus_manifest(lexicon: &PyLexicon, config: &str, shards: &str) -> PyResult<String> {
    let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
    let shards: Vec<ShardInfo> =
        serde_json::from_str(shards).map_err(|e| to_py(Error::Corrupt(format!("invalid shard records: {e}"))))?;
    let content = Generator::new(&lexicon.inner, &cfg)
        .map_err(to_py)?
        .content(&lexicon.inner);
    Ok(Manifest::new(&cfg, content, shards).to_json())
}

/// Raise `CorruptCorpusError` when `name`, listed by the manifest `manifest` as `entry`, is not
/// a plain file name inside its directory (the rule of `hyperword_core::manifest`).
#[pyfunction]
pub fn check_entry_path(manifest: PathBuf, entry: &str, name: &str) -> PyResult<()> {
    hyperword_core::manifest::check_entry_path(&manifest, entry, name).map_err(to_py)
}
