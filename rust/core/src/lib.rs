//! hyperword-core: fuse lexicon words into mnemophrases and write them as Arrow shards.
//!
//! The pipeline, one module each: [`lexicon`] (load and validate words) → [`fusion`] (draw
//! phrases) → [`batch`] (Arrow record batches) → [`shard`] (one file, atomically) →
//! [`corpus`] (many shards in parallel, resumable, with a [`manifest`]); [`aligned`] turns a
//! mnemophrase corpus into word-aligned token shards ([`npy`] arrays) without building text.
//! Besides mnemophrases, [`generator`] draws the rows of the other generated kinds: [`dyck`]
//! (k-shuffle Dyck sequences) and [`ngram`] (n-gram samples of a natural corpus).
//! Nothing here depends on Python; `hyperword-py` is a thin binding over this crate.

pub mod alias;
pub mod aligned;
pub mod batch;
pub mod bridge;
pub mod config;
pub mod control;
pub mod corpus;
pub mod dyck;
pub mod error;
pub mod fusion;
pub mod generator;
pub mod lexicon;
pub mod manifest;
pub mod ngram;
pub mod npy;
pub mod shard;
pub mod word;

pub use config::{Column, CorpusConfig, FusionConfig};
pub use control::Control;
pub use error::{Error, Result};
pub use fusion::Fuser;
pub use generator::Generator;
pub use lexicon::{Lexicon, LoadOptions};
pub use manifest::Manifest;

/// This crate's version, recorded in every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The arrow-rs version shards are written with.
pub const ARROW_VERSION: &str = env!("HYPERWORD_ARROW_VERSION");
