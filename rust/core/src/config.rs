//! Configuration: how phrases are fused and how a corpus is laid out on disk.
//!
//! Both structs are plain serde data (they are stored verbatim in every manifest) and are
//! checked by `validate` before any work starts, so a bad value is one clear error up front.

use crate::bridge::BridgeConfig;
use crate::dyck::DyckConfig;
use crate::error::{Error, Result};
use crate::ngram::NgramConfig;
use crate::word::{is_forbidden_char, Case};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The most words one phrase may hold.
pub const MAX_PHRASE_WORDS: u32 = 1024;
/// The longest joiner, in bytes.
pub const MAX_JOINER_BYTES: usize = 64;
/// zstd level used unless one is given. Level 1 writes about 40% faster than zstd's own
/// default (3) for files about 40% larger (figures in the README): a corpus can always be
/// regenerated from its seed, so generation speed is favoured.
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

/// The most shards one corpus may have.
pub const MAX_SHARDS: u64 = 1_000_000;
/// Words per record batch: with words of at most `MAX_WORD_BYTES`, every string column of a
/// batch (text, source, target, words, langs) stays far below Arrow's 2 GiB of 32-bit offsets.
pub const MAX_BATCH_WORDS: u64 = 1 << 20;
/// The longest sequence (one row) of the Dyck and n-gram kinds, in words: one record batch.
pub const MAX_SEQ_LEN: u32 = MAX_BATCH_WORDS as u32;

/// How phrases are fused from lexicon words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FusionConfig {
    pub words_per_phrase: PhraseLength,
    /// Languages and their weights; empty means every language of the lexicon, weight 1.
    pub langs: Vec<LangWeight>,
    pub mix: Mix,
    /// Word weighting: each word is drawn with probability proportional to `weight^alpha`
    /// (0 = uniform).
    pub alpha: f64,
    /// Probability that the next word is drawn from the current word's semantic field
    /// (otherwise it is drawn from the whole language).
    pub coherence: f64,
    pub joiner: String,
    pub case: Case,
    /// Pair each phrase with ordinary language (a bridge corpus); `None` for plain mnemophrases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge: Option<BridgeConfig>,
}

impl Default for FusionConfig {
    fn default() -> Self {
        FusionConfig {
            words_per_phrase: PhraseLength {
                min: 2,
                max: 6,
                dist: LengthDist::Uniform,
            },
            langs: vec![],
            mix: Mix::Phrase,
            alpha: 0.0,
            coherence: 0.0,
            joiner: String::new(),
            case: Case::AsIs,
            bridge: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangWeight {
    pub lang: String,
    pub weight: f64,
}

/// Words per phrase: `min..=max` (equal for a fixed length), drawn from `dist`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseLength {
    pub min: u32,
    pub max: u32,
    #[serde(default)]
    pub dist: LengthDist,
}

/// The distribution of phrase lengths over `min..=max`, written as `uniform`,
/// `geometric:P` (length `min + k` with probability ∝ `(1-P)^k`) or `weights:W1,W2,...`
/// (one weight per length).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LengthDist {
    #[default]
    Uniform,
    Geometric(f64),
    Weights(Vec<f64>),
}

/// One language per phrase, or a language drawn for every word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mix {
    #[default]
    Phrase,
    Word,
}

/// Shard file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Arrow IPC file format (`.arrow`).
    #[default]
    Arrow,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Zstd,
    Lz4,
    None,
}

/// Output columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Column {
    /// The fused phrase (string).
    Text,
    /// The words of the phrase as they appear in `text` (list<string>).
    Words,
    /// The language of each word (list<string>).
    Langs,
    /// The concept id of each word (list<uint32>, null where the lexicon has none).
    Concepts,
    /// The semantic field of the phrase's first word (string, nullable).
    Field,
    /// Bridge corpora: the fused phrase (string).
    Source,
    /// Bridge corpora: the ordinary-language side (string).
    Target,
}

/// Everything that determines a corpus' bytes, together with the lexicon content (the
/// source corpus' content for n-gram corpora).
///
/// The kind is `dyck` when `dyck` is set, `ngram` when `ngram` is set, else `bridge` or
/// `mnemo` by `fusion.bridge`. For `dyck` and `ngram` a "word" is a bracket or a word of
/// the model, a row one sequence, and `fusion` stays at its defaults (and is not written).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorpusConfig {
    /// Words to generate in total (each shard ends on a row boundary at or just past its target).
    pub words: u64,
    pub shard_words: u64,
    /// Words per Arrow record batch (Parquet row group).
    pub batch_words: u64,
    pub seed: u64,
    pub format: Format,
    pub compression: Compression,
    /// zstd level: 1 to 22, or -1 to -7 for zstd's fast levels; `None` is
    /// [`DEFAULT_ZSTD_LEVEL`].
    pub compression_level: Option<i32>,
    pub columns: Vec<Column>,
    pub fusion: FusionConfig,
    /// A k-shuffle Dyck corpus (`--kind dyck`).
    pub dyck: Option<DyckConfig>,
    /// An n-gram corpus (`--kind ngram`).
    pub ngram: Option<NgramConfig>,
}

// Field for field what `derive(Serialize)` writes, leaving out `fusion` for the kinds that do
// not fuse words and the kind options that are unset: mnemophrase and bridge configurations
// (and so their fingerprints) are written exactly as before these kinds existed.
impl Serialize for CorpusConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("CorpusConfig", 11)?;
        st.serialize_field("words", &self.words)?;
        st.serialize_field("shard_words", &self.shard_words)?;
        st.serialize_field("batch_words", &self.batch_words)?;
        st.serialize_field("seed", &self.seed)?;
        st.serialize_field("format", &self.format)?;
        st.serialize_field("compression", &self.compression)?;
        st.serialize_field("compression_level", &self.compression_level)?;
        st.serialize_field("columns", &self.columns)?;
        if self.fuses() {
            st.serialize_field("fusion", &self.fusion)?;
        }
        if let Some(d) = &self.dyck {
            st.serialize_field("dyck", d)?;
        }
        if let Some(n) = &self.ngram {
            st.serialize_field("ngram", n)?;
        }
        st.end()
    }
}

impl Default for CorpusConfig {
    fn default() -> Self {
        CorpusConfig {
            words: 1_000_000,
            shard_words: 10_000_000,
            batch_words: 1 << 20,
            seed: 0,
            format: Format::Arrow,
            compression: Compression::Zstd,
            compression_level: None,
            columns: vec![Column::Text],
            fusion: FusionConfig::default(),
            dyck: None,
            ngram: None,
        }
    }
}

impl FusionConfig {
    pub fn validate(&self) -> Result<()> {
        let PhraseLength { min, max, dist } = &self.words_per_phrase;
        if *min == 0 {
            return Err(Error::config("words per phrase must be at least 1"));
        }
        if min > max {
            return Err(Error::config(format!(
                "words per phrase: the range {min}-{max} is empty (min > max)"
            )));
        }
        if *max > MAX_PHRASE_WORDS {
            return Err(Error::config(format!(
                "words per phrase: {max} exceeds the limit of {MAX_PHRASE_WORDS}"
            )));
        }
        match dist {
            LengthDist::Uniform => {}
            LengthDist::Geometric(p) if *p > 0.0 && *p <= 1.0 => {}
            LengthDist::Geometric(p) => return Err(Error::config(format!("geometric:{p}: P must be in (0, 1]"))),
            LengthDist::Weights(w) => {
                let n = (max - min + 1) as usize;
                if w.len() != n {
                    return Err(Error::config(format!(
                        "phrase-length weights: {n} lengths ({min}-{max}) need {n} weights, got {}",
                        w.len()
                    )));
                }
                check_weights("phrase-length weights", w.iter().copied())?;
            }
        }
        check_weights("language weights", self.langs.iter().map(|l| l.weight)).or_else(|e| {
            if self.langs.is_empty() {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        for (i, l) in self.langs.iter().enumerate() {
            if self.langs[..i].iter().any(|m| m.lang == l.lang) {
                return Err(Error::config(format!("language {:?} is listed twice", l.lang)));
            }
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::config(format!(
                "alpha must be a non-negative number, got {}",
                self.alpha
            )));
        }
        if !(0.0..=1.0).contains(&self.coherence) {
            return Err(Error::config(format!(
                "coherence must be in [0, 1], got {}",
                self.coherence
            )));
        }
        if self.joiner.len() > MAX_JOINER_BYTES {
            return Err(Error::config(format!(
                "the joiner is longer than {MAX_JOINER_BYTES} bytes"
            )));
        }
        if let Some(c) = self.joiner.chars().find(|&c| is_forbidden_char(c)) {
            return Err(Error::config(format!(
                "the joiner contains the control or format character U+{:04X}",
                c as u32
            )));
        }
        match &self.bridge {
            Some(b) => b.validate(),
            None => Ok(()),
        }
    }
}

impl CorpusConfig {
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("words", self.words),
            ("shard words", self.shard_words),
            ("batch words", self.batch_words),
        ] {
            if v == 0 {
                return Err(Error::config(format!("{name} must be a positive number")));
            }
        }
        if self.batch_words > MAX_BATCH_WORDS {
            return Err(Error::config(format!(
                "batch words: {} exceeds the limit of {MAX_BATCH_WORDS} (Arrow's 32-bit offsets per batch)",
                self.batch_words
            )));
        }
        let shards = self.words.div_ceil(self.shard_words);
        if shards > MAX_SHARDS {
            return Err(Error::config(format!(
                "{shards} shards exceed the limit of {MAX_SHARDS}: raise --shard-words"
            )));
        }
        if self.columns.is_empty() {
            return Err(Error::config("at least one column is needed"));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].contains(c) {
                return Err(Error::config(format!("column {c} is listed twice")));
            }
        }
        if self.fusion.bridge.is_none() {
            if let Some(c) = self
                .columns
                .iter()
                .find(|c| matches!(c, Column::Source | Column::Target))
            {
                return Err(Error::config(format!(
                    "column {c} belongs to bridge corpora (--kind bridge)"
                )));
            }
        }
        check_compression_level(self.compression, self.compression_level.map(i64::from))?;
        if self.fuses() {
            return self.fusion.validate();
        }
        self.validate_unfused()
    }

    /// The checks of the kinds that do not fuse words: `dyck` and `ngram`.
    fn validate_unfused(&self) -> Result<()> {
        let kind = self.kind();
        if self.dyck.is_some() && self.ngram.is_some() {
            return Err(Error::config("a corpus is either dyck or ngram, not both"));
        }
        if self.fusion != FusionConfig::default() {
            return Err(Error::config(format!(
                "fusion options (languages, words per phrase, mix, alpha, coherence, joiner, case, bridge) do not apply to --kind {kind}"
            )));
        }
        if self.columns != [Column::Text] {
            return Err(Error::config(format!("a {kind} corpus has one column, text")));
        }
        match (&self.dyck, &self.ngram) {
            (Some(d), _) => d.validate(),
            (_, Some(n)) => n.validate(),
            (None, None) => Ok(()),
        }
    }

    pub fn from_json(json: &str) -> Result<CorpusConfig> {
        let cfg: CorpusConfig =
            serde_json::from_str(json).map_err(|e| Error::config(format!("invalid configuration: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Whether rows are fused lexicon words (the `mnemo` and `bridge` kinds).
    pub fn fuses(&self) -> bool {
        self.dyck.is_none() && self.ngram.is_none()
    }

    /// The corpus kind recorded in the manifest.
    pub fn kind(&self) -> &'static str {
        if self.dyck.is_some() {
            "dyck"
        } else if self.ngram.is_some() {
            "ngram"
        } else if self.fusion.bridge.is_some() {
            "bridge"
        } else {
            "mnemo"
        }
    }

    pub fn zstd_level(&self) -> i32 {
        self.compression_level.unwrap_or(DEFAULT_ZSTD_LEVEL)
    }

    pub fn shard_count(&self) -> u64 {
        self.words.div_ceil(self.shard_words)
    }

    /// Target words of shard `index`: `shard_words`, and the remainder for the last one.
    pub fn shard_target(&self, index: u64) -> u64 {
        let start = index * self.shard_words;
        self.shard_words.min(self.words - start)
    }
}

/// The compression level rule: only zstd takes a level, 1 to 22 or -1 to -7 (its fast levels);
/// `None` is [`DEFAULT_ZSTD_LEVEL`]. Python's shard writer asks this rule too.
pub fn check_compression_level(compression: Compression, level: Option<i64>) -> Result<()> {
    match level {
        Some(level) if compression != Compression::Zstd || !(-7..=22).contains(&level) || level == 0 => {
            Err(compression_level_error(level))
        }
        _ => Ok(()),
    }
}

/// The error of a compression level the rule refuses (`level` as the caller wrote it).
pub fn compression_level_error(level: impl std::fmt::Display) -> Error {
    Error::config(format!(
        "compression level {level}: only zstd takes a level: 1 to 22, or -1 to -7 for its fast levels"
    ))
}

fn check_weights(what: &str, weights: impl Iterator<Item = f64>) -> Result<()> {
    let (mut sum, mut count) = (0.0, 0usize);
    for w in weights {
        if !(w.is_finite() && w >= 0.0) {
            return Err(Error::config(format!("{what} must be non-negative numbers, got {w}")));
        }
        sum += w;
        count += 1;
    }
    // The alias table scales each weight by count / sum: both must stay finite.
    if !(sum * count as f64).is_finite() {
        return Err(Error::config(format!("{what} are too large: their sum overflows")));
    }
    if sum > 0.0 {
        Ok(())
    } else {
        Err(Error::config(format!("{what}: at least one must be positive")))
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        f.write_str(s.as_str().unwrap_or("?"))
    }
}

impl FromStr for LengthDist {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::config(format!(
                "phrase-length distribution {s:?}: expected uniform, geometric:P or weights:W1,W2,..."
            ))
        };
        let num = |x: &str| x.trim().parse::<f64>().map_err(|_| bad());
        match s.split_once(':') {
            None if s == "uniform" => Ok(LengthDist::Uniform),
            Some(("geometric", p)) => Ok(LengthDist::Geometric(num(p)?)),
            Some(("weights", ws)) => Ok(LengthDist::Weights(ws.split(',').map(num).collect::<Result<_>>()?)),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for LengthDist {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<LengthDist> for String {
    fn from(d: LengthDist) -> String {
        match d {
            LengthDist::Uniform => "uniform".into(),
            LengthDist::Geometric(p) => format!("geometric:{p}"),
            LengthDist::Weights(w) => format!("weights:{}", w.iter().map(f64::to_string).collect::<Vec<_>>().join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_defaults() {
        let cfg =
            CorpusConfig::from_json(r#"{"words": 10, "fusion": {"words_per_phrase": {"min": 3, "max": 3}}}"#).unwrap();
        assert_eq!(cfg.fusion.words_per_phrase.dist, LengthDist::Uniform);
        assert_eq!(cfg.columns, [Column::Text]);
        let again = CorpusConfig::from_json(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(cfg, again);
    }

    #[test]
    fn rejects_bad_values_with_a_reason() {
        let cases = [
            (r#"{"words": 0}"#, "words must be a positive"),
            (
                r#"{"fusion": {"words_per_phrase": {"min": 5, "max": 2}}}"#,
                "5-2 is empty",
            ),
            (
                r#"{"fusion": {"words_per_phrase": {"min": 0, "max": 2}}}"#,
                "at least 1",
            ),
            (r#"{"fusion": {"coherence": 1.5}}"#, "coherence"),
            (
                r#"{"fusion": {"langs": [{"lang": "en", "weight": -1}]}}"#,
                "non-negative",
            ),
            (
                r#"{"fusion": {"words_per_phrase": {"min": 2, "max": 3, "dist": "weights:1"}}}"#,
                "need 2 weights",
            ),
            (
                r#"{"fusion": {"words_per_phrase": {"min": 2, "max": 3, "dist": "poisson"}}}"#,
                "expected uniform",
            ),
            (r#"{"columns": []}"#, "at least one column"),
            (r#"{"columns": ["text", "text"]}"#, "listed twice"),
            (r#"{"colums": ["text"]}"#, "unknown field"),
            (r#"{"words": 100000000000, "shard_words": 1}"#, "shards exceed"),
            // Found by fuzzing: finite weights whose sum overflows used to panic in the alias table.
            (
                r#"{"fusion": {"langs": [{"lang": "en", "weight": 1e308}, {"lang": "ru", "weight": 1e308}]}}"#,
                "too large",
            ),
            (
                r#"{"fusion": {"words_per_phrase": {"min": 1, "max": 2, "dist": "weights:1e308,1e308"}}}"#,
                "too large",
            ),
        ];
        for (json, needle) in cases {
            let err = CorpusConfig::from_json(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn shard_targets_cover_the_words() {
        let cfg = CorpusConfig {
            words: 25,
            shard_words: 10,
            ..Default::default()
        };
        assert_eq!(cfg.shard_count(), 3);
        assert_eq!((0..3).map(|i| cfg.shard_target(i)).collect::<Vec<_>>(), [10, 10, 5]);
    }
}
