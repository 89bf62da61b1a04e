//! `hyperword._hyperword`: the thin pyo3 layer over `hyperword-core`. Each module here
//! mirrors the core module of the same name; all logic lives in the core.

mod aligned;
mod corpus;
mod dyck;
mod error;
mod fusion;
mod gil;
mod lexicon;
mod manifest;
mod shard;

use pyo3::prelude::*;

/// Called in a forked child (registered with `os.register_at_fork` by the Python package):
/// from then on, work runs on the calling thread.
#[pyfunction]
fn _mark_forked() {
    hyperword_core::control::mark_forked();
}

/// Whether this process is a fork child that runs work single-threaded.
#[pyfunction]
fn _is_forked() -> bool {
    hyperword_core::control::is_forked()
}

/// The limits the formats and the engine enforce, checked before anything is written.
fn limits(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    use hyperword_core::{batch, config, lexicon};
    let d = pyo3::types::PyDict::new(py);
    d.set_item("max_word_bytes", lexicon::MAX_WORD_BYTES)?;
    d.set_item("max_phrase_words", config::MAX_PHRASE_WORDS)?;
    d.set_item("max_joiner_bytes", config::MAX_JOINER_BYTES)?;
    d.set_item("max_shards", config::MAX_SHARDS)?;
    d.set_item("max_words", u64::MAX)?;
    d.set_item("max_batch_text_bytes", batch::MAX_BATCH_TEXT_BYTES)?;
    d.set_item("max_batch_words", config::MAX_BATCH_WORDS)?;
    d.set_item("max_lexicon_text_bytes", u32::MAX)?;
    Ok(d)
}

/// The limits of the kinds that draw no lexicon words (`dyck`, `ngram`), checked up front too.
fn kind_limits(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("max_seq_len", hyperword_core::config::MAX_SEQ_LEN)?;
    d.set_item("max_dyck_k", hyperword_core::dyck::MAX_DYCK_K)?;
    Ok(d)
}

#[pymodule]
fn _hyperword(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", hyperword_core::VERSION)?;
    m.add("ARROW_RS_VERSION", hyperword_core::ARROW_VERSION)?;
    m.add("FORMAT_VERSION", hyperword_core::manifest::FORMAT_VERSION)?;
    m.add("LIMITS", limits(m.py())?)?;
    m.add("KIND_LIMITS", kind_limits(m.py())?)?;
    m.add_class::<lexicon::PyLexicon>()?;
    m.add_class::<corpus::PyBatchStream>()?;
    m.add_class::<corpus::PyOutputLock>()?;
    m.add_class::<corpus::PyCorpusPlan>()?;
    m.add_function(wrap_pyfunction!(corpus::stream, m)?)?;
    m.add_function(wrap_pyfunction!(fusion::sample, m)?)?;
    m.add_function(wrap_pyfunction!(shard::write_shard, m)?)?;
    m.add_function(wrap_pyfunction!(shard::shard_count, m)?)?;
    m.add_function(wrap_pyfunction!(shard::check_shard_compression, m)?)?;
    m.add("DEFAULT_ZSTD_LEVEL", hyperword_core::config::DEFAULT_ZSTD_LEVEL)?;
    m.add("MANIFEST_FILE", hyperword_core::manifest::MANIFEST_FILE)?;
    m.add("STATE_DIR", hyperword_core::corpus::STATE_DIR)?;
    m.add("RUN_FILE", hyperword_core::corpus::RUN_FILE)?;
    m.add("LOCK_FILE", hyperword_core::corpus::LOCK_FILE)?;
    m.add_function(wrap_pyfunction!(manifest::corpus_manifest, m)?)?;
    m.add_function(wrap_pyfunction!(manifest::check_entry_path, m)?)?;
    m.add_function(wrap_pyfunction!(corpus::lock_output, m)?)?;
    m.add_function(wrap_pyfunction!(corpus::check_unlocked, m)?)?;
    m.add_function(wrap_pyfunction!(dyck::dyck_symbols, m)?)?;
    m.add_function(wrap_pyfunction!(aligned::aligned_words, m)?)?;
    m.add_function(wrap_pyfunction!(aligned::encode_aligned, m)?)?;
    m.add_function(wrap_pyfunction!(lexicon::validate_word, m)?)?;
    m.add_class::<lexicon::PyLexiconCheck>()?;
    m.add_function(wrap_pyfunction!(lexicon::check_lexicon, m)?)?;
    m.add_function(wrap_pyfunction!(lexicon::is_language_code, m)?)?;
    m.add_function(wrap_pyfunction!(lexicon::quote, m)?)?;
    m.add_function(wrap_pyfunction!(lexicon::parse_concept, m)?)?;
    m.add_function(wrap_pyfunction!(lexicon::parse_weight, m)?)?;
    m.add_function(wrap_pyfunction!(_mark_forked, m)?)?;
    m.add_function(wrap_pyfunction!(_is_forked, m)?)?;
    error::register(m)
}
