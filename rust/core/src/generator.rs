//! What draws a corpus' rows, one engine per kind: the [`Fuser`] (mnemophrases and bridges),
//! [`Dyck`] (k-shuffle Dyck sequences) and [`Ngram`] (n-gram samples of a natural corpus).
//! Everything downstream — batches, shards, the corpus, its manifest — takes a [`Generator`]
//! and treats the kinds alike.

use crate::batch::BatchBuilder;
use crate::config::CorpusConfig;
use crate::dyck::{Dyck, DyckState};
use crate::error::Result;
use crate::fusion::Fuser;
use crate::lexicon::Lexicon;
use crate::manifest::{Content, LexiconInfo};
use crate::ngram::Ngram;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// A compiled, immutable row generator; cloning shares it.
#[derive(Debug, Clone)]
pub enum Generator {
    Fusion(Arc<Fuser>),
    Dyck(Arc<Dyck>),
    Ngram(Arc<Ngram>),
}

impl From<Arc<Fuser>> for Generator {
    fn from(f: Arc<Fuser>) -> Self {
        Generator::Fusion(f)
    }
}

impl From<&Arc<Fuser>> for Generator {
    fn from(f: &Arc<Fuser>) -> Self {
        Generator::Fusion(f.clone())
    }
}

impl From<&Generator> for Generator {
    fn from(g: &Generator) -> Self {
        g.clone()
    }
}

impl Generator {
    /// The generator of the corpus `cfg` (validated first); `lexicon` serves the fusing kinds.
    /// An n-gram model is estimated here, from its source corpus.
    pub fn new(lexicon: &Lexicon, cfg: &CorpusConfig) -> Result<Generator> {
        cfg.validate()?;
        Ok(match (&cfg.dyck, &cfg.ngram) {
            (Some(d), _) => Generator::Dyck(Arc::new(Dyck::new(d)?)),
            (_, Some(n)) => Generator::Ngram(Arc::new(Ngram::new(n)?)),
            (None, None) => Generator::Fusion(Arc::new(Fuser::new(lexicon, &cfg.fusion)?)),
        })
    }

    /// What the corpus is a function of besides its configuration (for the manifest).
    pub fn content(&self, lexicon: &Lexicon) -> Content {
        match self {
            Generator::Fusion(_) => Content::Lexicon(LexiconInfo::of(lexicon)),
            Generator::Dyck(_) => Content::None,
            Generator::Ngram(m) => Content::Source(m.source.clone()),
        }
    }

    /// Draw one row into `builder`.
    #[inline]
    pub(crate) fn push_row(&self, rng: &mut ChaCha8Rng, scratch: &mut Scratch, builder: &mut BatchBuilder) {
        match self {
            Generator::Fusion(f) => {
                f.next_phrase(rng, &mut scratch.ids);
                builder.push(f, &scratch.ids);
            }
            Generator::Dyck(d) => {
                d.write_sequence(rng, &mut scratch.dyck, builder.text_mut());
                builder.end_row(d.seq_len() as u64);
            }
            Generator::Ngram(m) => m.write_document(rng, builder),
        }
    }
}

/// Per-shard working memory of a generator.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    ids: Vec<u32>,
    dyck: DyckState,
}
