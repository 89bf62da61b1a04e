//! Word-aligned token shards: a mnemophrase corpus re-drawn from its configuration and seed,
//! each word replaced by token ids computed once per lexicon entry, so that every word
//! boundary is a token boundary. No text is built and no tokenizer runs per phrase.
//!
//! A shard's phrases are drawn exactly as [`crate::batch::ShardBatches`] draws them (the same
//! random stream, until the shard's word target is reached), so shard `i` here is shard `i`
//! of the corpus. Each phrase becomes: the first word's `first` tokens (as a tokenizer sees a
//! word at the start of a text), then for every later word the joiner's tokens and the word's
//! `inner` tokens (as inside a text), then the end-of-document id.
//! Output per shard: `tokens-NNNNN.npy` and `docs-NNNNN.npy` (int64 end offsets), written as
//! the Python encoder writes them (see [`crate::npy`]).

use crate::config::CorpusConfig;
use crate::control::{effective_threads, run_indexed, Control};
use crate::error::{Error, Result};
use crate::fusion::{shard_rng, Fuser};
use crate::lexicon::Lexicon;
use crate::npy::{Dtype, NpyWriter};
use std::path::Path;

/// Tokens appended to disk at a time (bounded memory whatever the shard size).
const CHUNK_TOKENS: usize = 1 << 20;

/// Token ids of one form of every lexicon entry: entry `i` is `ids[offsets[i]..offsets[i+1]]`.
#[derive(Debug, Clone)]
pub struct EntryTokens {
    pub ids: Vec<u32>,
    pub offsets: Vec<u64>,
}

impl EntryTokens {
    #[inline(always)]
    fn get(&self, entry: u32) -> &[u32] {
        let e = entry as usize;
        &self.ids[self.offsets[e] as usize..self.offsets[e + 1] as usize]
    }

    fn check(&self, what: &str, entries: usize, vocab: u64) -> Result<()> {
        if self.offsets.len() != entries + 1 {
            return Err(Error::config(format!(
                "{what} tokens: {} offsets for {entries} lexicon entries (expected {})",
                self.offsets.len(),
                entries + 1
            )));
        }
        if self.offsets[0] != 0
            || self.offsets.windows(2).any(|w| w[0] > w[1])
            || *self.offsets.last().unwrap_or(&0) != self.ids.len() as u64
        {
            return Err(Error::config(format!(
                "{what} tokens: offsets must start at 0, never decrease and end at {}",
                self.ids.len()
            )));
        }
        check_ids(what, &self.ids, vocab)
    }
}

fn check_ids(what: &str, ids: &[u32], vocab: u64) -> Result<()> {
    match ids.iter().find(|&&t| t as u64 >= vocab) {
        Some(t) => Err(Error::config(format!(
            "{what} tokens: id {t} is outside the vocabulary of {vocab}"
        ))),
        None => Ok(()),
    }
}

/// Everything needed to turn drawn entry ids into token ids.
#[derive(Debug, Clone)]
pub struct TokenTable {
    pub first: EntryTokens,
    pub inner: EntryTokens,
    pub joiner: Vec<u32>,
    pub eos: u32,
    pub vocab_size: u64,
    pub dtype: Dtype,
}

impl TokenTable {
    pub fn check(&self, entries: usize) -> Result<()> {
        if self.vocab_size - 1 > self.dtype.max() || self.dtype == Dtype::I64 {
            return Err(Error::config(format!(
                "a vocabulary of {} ids does not fit {}",
                self.vocab_size,
                self.dtype.descr()
            )));
        }
        self.first.check("first-word", entries, self.vocab_size)?;
        self.inner.check("inner-word", entries, self.vocab_size)?;
        check_ids("joiner", &self.joiner, self.vocab_size)?;
        check_ids("end-of-document", &[self.eos], self.vocab_size)
    }
}

/// One token shard as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenShard {
    pub index: u64,
    pub tokens_path: String,
    pub docs_path: String,
    pub documents: u64,
    pub tokens: u64,
    pub words: u64,
    pub tokens_bytes: u64,
    pub docs_bytes: u64,
    pub tokens_sha256: String,
    pub docs_sha256: String,
}

pub fn tokens_file_name(index: u64) -> String {
    format!("tokens-{index:05}.npy")
}

pub fn docs_file_name(index: u64) -> String {
    format!("docs-{index:05}.npy")
}

/// Encode shard `index` of the mnemophrase corpus `cfg` into `dir`.
pub fn encode_shard(
    dir: &Path,
    fuser: &Fuser,
    cfg: &CorpusConfig,
    table: &TokenTable,
    index: u64,
    control: &Control,
) -> Result<TokenShard> {
    let (tokens_path, docs_path) = (tokens_file_name(index), docs_file_name(index));
    let mut tokens_out = NpyWriter::create(&dir.join(&tokens_path), table.dtype)?;
    let mut docs_out = NpyWriter::create(&dir.join(&docs_path), Dtype::I64)?;
    let mut rng = shard_rng(cfg.seed, index);
    let (mut ids, mut tokens, mut ends) = (Vec::new(), Vec::with_capacity(CHUNK_TOKENS + 4096), Vec::new());
    let (target, mut words, mut written) = (cfg.shard_target(index), 0u64, 0u64);
    while words < target {
        fuser.next_phrase(&mut rng, &mut ids);
        for (i, &id) in ids.iter().enumerate() {
            if i == 0 {
                tokens.extend_from_slice(table.first.get(id));
            } else {
                tokens.extend_from_slice(&table.joiner);
                tokens.extend_from_slice(table.inner.get(id));
            }
        }
        tokens.push(table.eos);
        ends.push(written + tokens.len() as u64);
        words += ids.len() as u64;
        if tokens.len() >= CHUNK_TOKENS || words >= target {
            if control.is_cancelled() {
                return Err(Error::Interrupted);
            }
            tokens_out.write_u32(&tokens)?;
            docs_out.write(&ends)?;
            control.add_words(tokens.len() as u64);
            written += tokens.len() as u64;
            tokens.clear();
            ends.clear();
        }
    }
    let documents = docs_out.len();
    let t = tokens_out.finish()?;
    let d = docs_out.finish()?;
    Ok(TokenShard {
        index,
        tokens_path,
        docs_path,
        documents,
        tokens: t.len,
        words,
        tokens_bytes: t.bytes,
        docs_bytes: d.bytes,
        tokens_sha256: t.sha256,
        docs_sha256: d.sha256,
    })
}

/// Encode the shards `indices` of the mnemophrase corpus `cfg` into `dir`, in parallel across
/// shards. Progress (`Control::words`) counts tokens written.
pub fn encode_shards(
    dir: &Path,
    lexicon: &Lexicon,
    cfg: &CorpusConfig,
    table: &TokenTable,
    indices: &[u64],
    threads: Option<usize>,
    control: &Control,
) -> Result<Vec<TokenShard>> {
    cfg.validate()?;
    if cfg.kind() != "mnemo" {
        return Err(Error::config(format!(
            "aligned encoding needs a mnemophrase corpus; this one is a {} corpus (use mode exact)",
            cfg.kind()
        )));
    }
    crate::shard::check_indices(cfg, indices)?;
    let fuser = Fuser::new(lexicon, &cfg.fusion)?;
    table.check(fuser.entries())?;
    let threads = effective_threads(threads).min(indices.len().max(1));
    run_indexed(threads, indices, control, |index| {
        encode_shard(dir, &fuser, cfg, table, index, control)
    })
}
