//! n-gram controls: documents sampled from a unigram, bigram or trigram model of the words of
//! a natural corpus (the controls of Hu et al. 2025), keeping the text's word statistics
//! without its structure.
//!
//! Estimation: the source corpus (a directory `hyperword ingest` wrote, or any corpus with a
//! `text` column) is read shard by shard in manifest order, each shard checked against its
//! sha256 first. A document's words are its text split on Unicode whitespace; documents with
//! no word are skipped. Each word is counted with the `n - 1` words before it, the start of
//! the document standing in before the first word, and the end of the document is counted
//! as one more symbol after the last word. Words get ids in order of first appearance, so
//! the model is a pure function of the source's content.
//!
//! Sampling: from the start context, the next symbol is drawn in proportion to its count
//! after the current context (one `u64` per draw: `count_total * u / 2^64` located in the
//! cumulative counts). A document ends when the end symbol is drawn or at `seq_len` words;
//! an end drawn before the first word is drawn again (documents are never empty, as in the
//! source). Words are joined by one space.

use crate::batch::BatchBuilder;
use crate::config::MAX_SEQ_LEN;
use crate::error::{Error, IoContext, Result};
use crate::lexicon::hex;
use crate::manifest::Manifest;
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// The options of an n-gram corpus (`--kind ngram`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NgramConfig {
    /// 1 (unigram), 2 (bigram) or 3 (trigram).
    pub n: u32,
    /// The corpus directory the model is estimated on.
    pub source: String,
    /// The most words of one document.
    #[serde(default = "default_seq_len")]
    pub seq_len: u32,
}

fn default_seq_len() -> u32 {
    2048
}

impl NgramConfig {
    pub fn validate(&self) -> Result<()> {
        if !(1..=3).contains(&self.n) {
            return Err(Error::config(format!("n-gram order must be 1, 2 or 3, got {}", self.n)));
        }
        if self.source.is_empty() {
            return Err(Error::config(
                "an n-gram corpus needs a source corpus directory (--source DIR)",
            ));
        }
        if self.seq_len < 2 || self.seq_len > MAX_SEQ_LEN {
            return Err(Error::config(format!(
                "n-gram sequence length must be 2 to {MAX_SEQ_LEN} words, got {}",
                self.seq_len
            )));
        }
        Ok(())
    }
}

/// What the manifest records of the source an n-gram model was estimated on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Where it was read from (informational: only the content counts).
    pub path: String,
    pub kind: String,
    /// sha256 over the source's shard checksums, in order: its content identity.
    pub sha256: String,
    /// Documents and words the model was estimated on (documents with a word).
    pub docs: u64,
    pub words: u64,
    /// Distinct words, and distinct contexts of `n - 1` symbols.
    pub vocabulary: u64,
    pub contexts: u64,
}

/// The end of a document (and, as context, its start).
const BOUNDARY: u32 = 0;

/// A compiled n-gram model; share it between threads.
#[derive(Debug)]
pub struct Ngram {
    n: u32,
    seq_len: u32,
    /// Bytes of word `id` are `arena[spans[id].0..][..spans[id].1]` (id 0 is the boundary).
    arena: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// Each context's next symbols: `next[start..start + len]`, with inclusive cumulative
    /// counts `cum[start..start + len]`.
    contexts: HashMap<u64, (usize, usize)>,
    next: Vec<u32>,
    cum: Vec<u64>,
    pub source: SourceInfo,
}

fn context(n: u32, prev2: u32, prev1: u32) -> u64 {
    match n {
        1 => 0,
        2 => prev1 as u64,
        _ => ((prev2 as u64) << 32) | prev1 as u64,
    }
}

impl Ngram {
    /// Estimate the model of `cfg` on its source corpus.
    pub fn new(cfg: &NgramConfig) -> Result<Ngram> {
        cfg.validate()?;
        let dir = Path::new(&cfg.source);
        if !dir.join(crate::manifest::MANIFEST_FILE).is_file() {
            return Err(Error::config(format!(
                "n-gram source {}: not a hyperword corpus directory (no manifest.json)",
                dir.display()
            )));
        }
        let manifest = Manifest::read(dir)?;
        if manifest.totals.words == 0 || manifest.shards.is_empty() {
            return Err(Error::config(format!(
                "n-gram source {} is empty: it holds no words",
                dir.display()
            )));
        }
        crate::corpus::verify_shards(dir, &manifest.shards)?;
        let mut hasher = Sha256::new();
        for s in &manifest.shards {
            hasher.update(format!("{}\t{}\n", s.path, s.sha256).as_bytes());
        }
        let sha256 = hex(&hasher.finalize());

        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut arena = Vec::new();
        let mut spans = vec![(0usize, 0usize)];
        let mut counts: HashMap<(u64, u32), u64> = HashMap::new();
        let (mut docs, mut words) = (0u64, 0u64);
        let parquet = manifest.config.get("format").and_then(|f| f.as_str()) == Some("parquet");
        for shard in &manifest.shards {
            let path = dir.join(&shard.path);
            for batch in read_batches(&path, parquet)? {
                let texts = text_column(&batch)
                    .map_err(|why| Error::config(format!("n-gram source {}: {why}", path.display())))?;
                for text in texts.into_iter().flatten() {
                    let (mut prev2, mut prev1) = (BOUNDARY, BOUNDARY);
                    let mut any = false;
                    for word in text.split_whitespace() {
                        let id = match ids.get(word) {
                            Some(&id) => id,
                            None => {
                                let id = u32::try_from(spans.len()).map_err(|_| {
                                    Error::config("the n-gram source has more than 2^32 distinct words")
                                })?;
                                spans.push((arena.len(), word.len()));
                                arena.extend_from_slice(word.as_bytes());
                                ids.insert(word.to_owned(), id);
                                id
                            }
                        };
                        *counts.entry((context(cfg.n, prev2, prev1), id)).or_insert(0) += 1;
                        (prev2, prev1) = (prev1, id);
                        words += 1;
                        any = true;
                    }
                    if any {
                        *counts.entry((context(cfg.n, prev2, prev1), BOUNDARY)).or_insert(0) += 1;
                        docs += 1;
                    }
                }
            }
        }
        if words == 0 {
            return Err(Error::config(format!(
                "n-gram source {} is empty: its text holds no words",
                dir.display()
            )));
        }
        let longest = spans.iter().map(|s| s.1).max().unwrap_or(0);
        // One document is at most `seq_len` words and spaces: it must fit in a record batch.
        if (longest + 1) * cfg.seq_len as usize > crate::batch::MAX_BATCH_TEXT_BYTES {
            return Err(Error::config(format!(
                "n-gram documents of {} words of up to {longest} bytes could exceed a record batch: lower --seq-len",
                cfg.seq_len
            )));
        }
        let mut pairs: Vec<((u64, u32), u64)> = counts.into_iter().collect();
        pairs.sort_unstable_by_key(|&(key, _)| key);
        let mut contexts = HashMap::new();
        let (mut next, mut cum) = (Vec::with_capacity(pairs.len()), Vec::with_capacity(pairs.len()));
        let mut i = 0;
        while i < pairs.len() {
            let ctx = pairs[i].0 .0;
            let start = i;
            let mut total = 0u64;
            while i < pairs.len() && pairs[i].0 .0 == ctx {
                total += pairs[i].1;
                next.push(pairs[i].0 .1);
                cum.push(total);
                i += 1;
            }
            contexts.insert(ctx, (start, i - start));
        }
        let source = SourceInfo {
            path: dir.display().to_string(),
            kind: manifest.kind.clone(),
            sha256,
            docs,
            words,
            vocabulary: spans.len() as u64 - 1,
            contexts: contexts.len() as u64,
        };
        Ok(Ngram {
            n: cfg.n,
            seq_len: cfg.seq_len,
            arena,
            spans,
            contexts,
            next,
            cum,
            source,
        })
    }

    #[inline]
    fn draw<R: Rng + ?Sized>(&self, rng: &mut R, ctx: u64) -> u32 {
        let Some(&(start, len)) = self.contexts.get(&ctx) else {
            return BOUNDARY; // unreachable: every context sampling reaches was counted
        };
        let cum = &self.cum[start..start + len];
        let total = cum[len - 1];
        let x = ((rng.next_u64() as u128 * total as u128) >> 64) as u64;
        self.next[start + cum.partition_point(|&c| c <= x)]
    }

    /// Draw one document into `rows`.
    pub(crate) fn write_document<R: Rng + ?Sized>(&self, rng: &mut R, rows: &mut BatchBuilder) {
        let (mut prev2, mut prev1) = (BOUNDARY, BOUNDARY);
        let mut words = 0u32;
        let text = rows.text_mut();
        while words < self.seq_len {
            let id = self.draw(rng, context(self.n, prev2, prev1));
            if id == BOUNDARY {
                if words == 0 {
                    continue;
                }
                break;
            }
            if words > 0 {
                text.push(b' ');
            }
            let (at, len) = self.spans[id as usize];
            text.extend_from_slice(&self.arena[at..at + len]);
            (prev2, prev1) = (prev1, id);
            words += 1;
        }
        rows.end_row(words as u64);
    }
}

/// Every record batch of one shard file (Arrow IPC file or Parquet).
fn read_batches(path: &Path, parquet: bool) -> Result<Vec<RecordBatch>> {
    let file = std::fs::File::open(path).at(path)?;
    let corrupt = |e: String| Error::Corrupt(format!("{}: {e}", path.display()));
    if parquet {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| corrupt(e.to_string()))?;
        reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(e.to_string()))
    } else {
        let reader = arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
            .map_err(|e| corrupt(e.to_string()))?;
        reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(e.to_string()))
    }
}

/// The `text` column of a batch, as optional strings.
fn text_column(batch: &RecordBatch) -> Result<Vec<Option<&str>>, String> {
    let col = batch.column_by_name("text").ok_or("its shards have no text column")?;
    Ok(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => col.as_string::<i64>().iter().collect(),
        DataType::Utf8View => col.as_string_view().iter().collect(),
        other => return Err(format!("its text column is {other}, not a string")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_options() {
        let ok = NgramConfig {
            n: 2,
            source: "x".into(),
            seq_len: 2048,
        };
        for (cfg, needle) in [
            (NgramConfig { n: 0, ..ok.clone() }, "1, 2 or 3"),
            (NgramConfig { n: 4, ..ok.clone() }, "1, 2 or 3"),
            (
                NgramConfig {
                    source: String::new(),
                    ..ok.clone()
                },
                "--source",
            ),
            (
                NgramConfig {
                    seq_len: 1,
                    ..ok.clone()
                },
                "sequence length",
            ),
        ] {
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{cfg:?}: {err}");
        }
        let missing = NgramConfig {
            source: "/nonexistent/corpus".into(),
            ..ok
        };
        assert!(Ngram::new(&missing)
            .unwrap_err()
            .to_string()
            .contains("not a hyperword corpus"));
    }
}
