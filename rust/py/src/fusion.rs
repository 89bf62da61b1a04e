//! `sample`: a few phrases as Python strings, for a look at a configuration.

use crate::error::to_py;
use crate::gil::enter;
use crate::lexicon::PyLexicon;
use hyperword_core::corpus;
use hyperword_core::error::Error;
use hyperword_core::FusionConfig;
use pyo3::prelude::*;

/// The first `n` phrases of shard 0 for `fusion` (JSON) and `seed`.
#[pyfunction]
pub fn sample(py: Python<'_>, lexicon: &PyLexicon, fusion: &str, seed: u64, n: usize) -> PyResult<Vec<String>> {
    let cfg: FusionConfig =
        serde_json::from_str(fusion).map_err(|e| to_py(Error::config(format!("invalid configuration: {e}"))))?;
    let lexicon = lexicon.inner.clone();
    enter(py, None, move |_| corpus::sample(&lexicon, &cfg, seed, n))
}
