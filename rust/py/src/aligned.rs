//! Word-aligned token shards: the lexicon words a mnemophrase corpus draws from, and the
//! shards encoded from per-word token ids (all logic in `hyperword_core::aligned`).

use crate::error::to_py;
use crate::gil::enter;
use crate::lexicon::PyLexicon;
use hyperword_core::aligned::{encode_shards, EntryTokens, TokenTable};
use hyperword_core::npy::Dtype;
use hyperword_core::{CorpusConfig, Fuser};
use pyo3::prelude::*;
use std::path::PathBuf;

/// The words of every lexicon entry as the corpus `config` (JSON) writes them (cased), in
/// entry-id order, and the joiner between the words of a phrase.
#[pyfunction]
pub fn aligned_words(lexicon: &PyLexicon, config: &str) -> PyResult<(Vec<String>, String)> {
    let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
    let fuser = Fuser::new(&lexicon.inner, &cfg.fusion).map_err(to_py)?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok((
        (0..fuser.entries()).map(|e| text(fuser.word(e as u32))).collect(),
        text(fuser.joiner()),
    ))
}

/// Encode the shards `shards` of the mnemophrase corpus `config` (JSON) into `out` from
/// per-entry token ids (`first`: a word opening a text, `inner`: a word inside one, as flat
/// ids with `len(entries) + 1` offsets). Returns the written shards as a JSON list.
#[pyfunction]
#[pyo3(signature = (out, lexicon, config, first_ids, first_offsets, inner_ids, inner_offsets, joiner, eos, vocab_size, dtype, shards, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn encode_aligned(
    py: Python<'_>,
    out: PathBuf,
    lexicon: &PyLexicon,
    config: &str,
    first_ids: Vec<u32>,
    first_offsets: Vec<u64>,
    inner_ids: Vec<u32>,
    inner_offsets: Vec<u64>,
    joiner: Vec<u32>,
    eos: u32,
    vocab_size: u64,
    dtype: &str,
    shards: Vec<u64>,
    threads: Option<usize>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let cfg = CorpusConfig::from_json(config).map_err(to_py)?;
    let table = TokenTable {
        first: EntryTokens {
            ids: first_ids,
            offsets: first_offsets,
        },
        inner: EntryTokens {
            ids: inner_ids,
            offsets: inner_offsets,
        },
        joiner,
        eos,
        vocab_size,
        dtype: Dtype::from_descr(dtype).map_err(to_py)?,
    };
    let lexicon = lexicon.inner.clone();
    enter(py, progress.as_ref(), move |control| {
        let written = encode_shards(&out, &lexicon, &cfg, &table, &shards, threads, control)?;
        Ok(serde_json::to_string(&written).expect("token shards serialise"))
    })
}
