//! `manifest.json`: what a corpus directory holds, written last, read by every tool.
//!
//! It is deterministic (no timestamps, no thread count), so two runs of the same
//! configuration produce identical manifests as well as identical shards.

use crate::config::CorpusConfig;
use crate::error::{Error, IoContext, Result};
use crate::lexicon::{hex, Lexicon};
use crate::ngram::SourceInfo;
use crate::shard::ShardInfo;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const FORMAT: &str = "hyperword-corpus";
/// Bumped whenever the manifest layout or the meaning of a field changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// `mnemo`, `bridge`, `dyck` or `ngram` (the generator), `natural` (ingested text).
    pub kind: String,
    /// Versions of what wrote it: `hyperword`, and `arrow_rs` or `pyarrow`.
    pub versions: BTreeMap<String, String>,
    /// sha256 of everything that determines the shards' bytes (see [`fingerprint`]).
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The configuration of the kind that wrote the corpus (for generated corpora, a
    /// [`CorpusConfig`]).
    pub config: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<LexiconInfo>,
    /// n-gram corpora: the corpus the model was estimated on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
    pub totals: Totals,
    pub shards: Vec<ShardInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexiconInfo {
    /// Where it was loaded from (informational: only the content counts).
    pub source: String,
    pub sha256: String,
    pub entries: u64,
    pub langs: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub shards: u64,
    pub rows: u64,
    pub words: u64,
    pub text_bytes: u64,
    pub bytes: u64,
}

impl LexiconInfo {
    pub fn of(lexicon: &Lexicon) -> Self {
        LexiconInfo {
            source: lexicon.source.display().to_string(),
            sha256: lexicon.content_hash().to_string(),
            entries: lexicon.entries.len() as u64,
            langs: lexicon.langs.clone(),
        }
    }
}

/// What a generated corpus is a function of besides its configuration and seed.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Mnemophrase and bridge corpora: the lexicon.
    Lexicon(LexiconInfo),
    /// n-gram corpora: the corpus the model is estimated on.
    Source(SourceInfo),
    /// Dyck corpora: nothing.
    None,
}

/// The identity of a corpus: format version, hyperword version, configuration and content
/// (the lexicon's or the n-gram source's sha256). Shards from a run with another fingerprint
/// are never reused.
pub fn fingerprint(cfg: &CorpusConfig, content: &Content) -> String {
    // Where an n-gram source lies is informational, like a lexicon's path: its content counts.
    let mut cfg = cfg.clone();
    if let Some(n) = &mut cfg.ngram {
        n.source.clear();
    }
    let mut identity = serde_json::json!({
        "format_version": FORMAT_VERSION,
        "hyperword": crate::VERSION,
        "config": cfg,
    });
    let (key, sha) = match content {
        Content::Lexicon(l) => ("lexicon_sha256", &l.sha256),
        Content::Source(s) => ("source_sha256", &s.sha256),
        Content::None => return hex(&Sha256::digest(identity.to_string().as_bytes())),
    };
    identity[key] = serde_json::Value::from(sha.as_str());
    hex(&Sha256::digest(identity.to_string().as_bytes()))
}

impl Manifest {
    pub fn new(cfg: &CorpusConfig, content: Content, shards: Vec<ShardInfo>) -> Manifest {
        let mut totals = Totals {
            shards: shards.len() as u64,
            ..Default::default()
        };
        for s in &shards {
            totals.rows += s.rows;
            totals.words += s.words;
            totals.text_bytes += s.text_bytes;
            totals.bytes += s.bytes;
        }
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            kind: cfg.kind().into(),
            versions: BTreeMap::from([
                ("hyperword".into(), crate::VERSION.into()),
                ("arrow_rs".into(), crate::ARROW_VERSION.into()),
            ]),
            fingerprint: fingerprint(cfg, &content),
            seed: Some(cfg.seed),
            config: serde_json::to_value(cfg).expect("a configuration always serialises"),
            lexicon: match &content {
                Content::Lexicon(l) => Some(l.clone()),
                _ => None,
            },
            source: match content {
                Content::Source(s) => Some(s),
                _ => None,
            },
            totals,
            shards,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serialises") + "\n"
    }

    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).at(&path)?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::Corrupt(format!("{}: not a valid manifest: {e}", path.display())))?;
        if m.format != FORMAT || m.format_version > FORMAT_VERSION {
            return Err(Error::Corrupt(format!(
                "{}: format {:?} version {} is not one this hyperword ({}) reads",
                path.display(),
                m.format,
                m.format_version,
                crate::VERSION
            )));
        }
        for s in &m.shards {
            check_entry_path(&path, &format!("shard {}", s.index), &s.path)?;
        }
        Ok(m)
    }

    /// Write atomically: to a temporary file, synced, then renamed.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_atomic(&dir.join(MANIFEST_FILE), self.to_json().as_bytes())
    }
}

/// Whether `name` may be a file a manifest lists: a plain file name inside the directory (no
/// separator, not `.` or `..`, not absolute, no NUL).
pub fn is_entry_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Reject a file `name` listed by the manifest `manifest` (as `entry`: "shard 3") that is not a
/// plain file name inside its directory (`../victim.arrow`, `/etc/passwd`): one line naming
/// the entry. Every manifest reader (corpus, token shards; Rust and Python) calls this.
pub fn check_entry_path(manifest: &Path, entry: &str, name: &str) -> Result<()> {
    if is_entry_name(name) {
        return Ok(());
    }
    Err(Error::Corrupt(format!(
        "{}: {entry}: path {name:?} is not a file inside the directory; refusing to read it",
        manifest.display()
    )))
}

/// Write `bytes` to `path` through a synced temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp).at(&tmp)?;
    f.write_all(bytes).at(&tmp)?;
    f.sync_all().at(&tmp)?;
    std::fs::rename(&tmp, path).at(path)
}
