//! The fusion engine: a lexicon and a [`FusionConfig`] compiled into alias tables, drawing
//! phrases (lists of word ids) from a seeded random stream.
//!
//! One phrase: draw its length; draw its language (once, or per word with `mix = word`);
//! for each word, with probability `coherence` draw from the current word's semantic field
//! in that language, otherwise from the whole language, weighted by `weight^alpha`.

use crate::alias::Alias;
use crate::bridge::{BridgeMode, Template};
use crate::config::{FusionConfig, LengthDist, Mix};
use crate::error::{Error, Result};
use crate::lexicon::Lexicon;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Words up to this many bytes are copied as one fixed-size block.
const SHORT_WORD: usize = 16;

/// The random generator of every shard: ChaCha8 seeded from `seed`, on stream `shard`.
pub fn shard_rng(seed: u64, shard: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(shard);
    rng
}

/// Words to draw from: entry ids and their alias table.
#[derive(Debug)]
struct Pool {
    ids: Vec<u32>,
    table: Alias,
}

impl Pool {
    #[inline(always)]
    fn draw(&self, r: u64) -> u32 {
        self.ids[self.table.sample(r)]
    }
}

/// One selected language: its whole pool and, when coherence is on, one pool per field.
#[derive(Debug)]
struct LangPools {
    all: Pool,
    by_field: Vec<Option<Pool>>,
}

/// A compiled, immutable fusion engine; share it between threads.
#[derive(Debug)]
pub struct Fuser {
    /// Cased word bytes of every lexicon entry, back to back; entry `i` is `spans[i]`.
    arena: Vec<u8>,
    spans: Vec<(u32, u32)>,
    entry_lang: Vec<u16>,
    entry_field: Vec<Option<u16>>,
    entry_concept: Vec<Option<u32>>,
    lang_codes: Vec<String>,
    field_names: Vec<String>,
    joiner: Vec<u8>,
    mix: Mix,
    /// Selected languages (lexicon ids), their table, and pools parallel to them.
    langs: Vec<u16>,
    lang_table: Alias,
    pools: Vec<LangPools>,
    min_len: u32,
    len_table: Option<Alias>,
    /// `next_u64() <= coherence_threshold` keeps the field; `None` when coherence is 0.
    coherence_threshold: Option<u64>,
    max_word_bytes: usize,
    /// Bridge corpora: the template, and for `translate` each entry's pivot-language entry.
    bridge: Option<(Template, Option<Vec<Option<u32>>>)>,
}

impl Fuser {
    pub fn new(lexicon: &Lexicon, cfg: &FusionConfig) -> Result<Fuser> {
        cfg.validate()?;
        let (langs, lang_weights) = select_langs(lexicon, cfg)?;
        let mut arena = Vec::new();
        let mut spans = Vec::with_capacity(lexicon.entries.len());
        for e in &lexicon.entries {
            let cased = cfg.case.apply(&e.word);
            spans.push((arena.len() as u32, cased.len() as u32));
            arena.extend_from_slice(cased.as_bytes());
        }
        arena.extend_from_slice(&[0; SHORT_WORD]); // padding for `write_text`'s block copies
        if arena.len() > u32::MAX as usize {
            return Err(Error::config("the lexicon holds more than 4 GiB of text"));
        }
        let translations = match &cfg.bridge {
            Some(b) if b.mode == BridgeMode::Translate => {
                Some(translations(lexicon, b.pivot.as_deref().unwrap_or_default())?)
            }
            _ => None,
        };
        // A translate bridge only draws words that have a translation.
        let drawable = |i: usize| {
            translations
                .as_ref()
                .map_or(true, |t: &Vec<Option<u32>>| t[i].is_some())
        };
        let weight = |i: usize| {
            let w = lexicon.entries[i].weight;
            match (drawable(i), cfg.alpha == 0.0) {
                (false, _) => 0.0,
                (true, true) => 1.0,
                (true, false) => w.powf(cfg.alpha),
            }
        };
        let coherent = cfg.coherence > 0.0;
        let mut pools = Vec::with_capacity(langs.len());
        for &lang in &langs {
            let ids: Vec<u32> = (0..lexicon.entries.len() as u32)
                .filter(|&i| lexicon.entries[i as usize].lang == lang)
                .collect();
            let pool = |ids: Vec<u32>| -> Result<Option<Pool>> {
                let w: Vec<f64> = ids.iter().map(|&i| weight(i as usize)).collect();
                let total: f64 = w.iter().sum();
                // The alias table scales each weight by len / total: both must stay finite.
                if !(total * w.len() as f64).is_finite() {
                    let msg = format!("word weights to the power alpha = {} overflow: lower alpha or scale the lexicon's weights down", cfg.alpha);
                    return Err(Error::config(msg));
                }
                Ok((total > 0.0).then(|| Pool {
                    table: Alias::new(&w),
                    ids,
                }))
            };
            let mut by_field = Vec::new();
            if coherent {
                by_field = (0..lexicon.fields.len() as u16)
                    .map(|f| {
                        pool(
                            ids.iter()
                                .copied()
                                .filter(|&i| lexicon.entries[i as usize].field == Some(f))
                                .collect(),
                        )
                    })
                    .collect::<Result<_>>()?;
            }
            let code = &lexicon.langs[lang as usize];
            let all = pool(ids)?.ok_or_else(|| match &translations {
                Some(_) => Error::config(format!(
                    "no word of language {code:?} has a translation: its concepts have no word in the pivot language"
                )),
                None => Error::config(format!("language {code:?} has no word with a positive weight")),
            })?;
            pools.push(LangPools { all, by_field });
        }
        let PhraseLengthParts { min_len, len_table } = phrase_lengths(cfg);
        let coherence_threshold =
            coherent.then(|| (cfg.coherence * 18_446_744_073_709_551_616.0).min(u64::MAX as f64) as u64);
        let max_word_bytes = spans.iter().map(|s| s.1 as usize).max().unwrap_or(0);
        let bridge = match &cfg.bridge {
            Some(b) => Some((Template::parse(&b.template)?, translations)),
            None => None,
        };
        Ok(Fuser {
            arena,
            spans,
            entry_lang: lexicon.entries.iter().map(|e| e.lang).collect(),
            entry_field: lexicon.entries.iter().map(|e| e.field).collect(),
            entry_concept: lexicon.entries.iter().map(|e| e.concept).collect(),
            lang_codes: lexicon.langs.clone(),
            field_names: lexicon.fields.clone(),
            joiner: cfg.joiner.as_bytes().to_vec(),
            mix: cfg.mix,
            lang_table: Alias::new(&lang_weights),
            langs,
            pools,
            min_len,
            len_table,
            coherence_threshold,
            max_word_bytes,
            bridge,
        })
    }

    /// Draw one phrase into `out` (cleared first) as entry ids.
    #[inline]
    pub fn next_phrase<R: rand::Rng>(&self, rng: &mut R, out: &mut Vec<u32>) {
        out.clear();
        let len = match &self.len_table {
            Some(t) => self.min_len + t.sample(rng.next_u64()) as u32,
            None => self.min_len,
        };
        let mut lang = self.lang_table.sample(rng.next_u64());
        let mut field: Option<u16> = None;
        for i in 0..len {
            if i > 0 && self.mix == Mix::Word {
                lang = self.lang_table.sample(rng.next_u64());
            }
            let pools = &self.pools[lang];
            let mut pool = &pools.all;
            if let (Some(threshold), Some(f)) = (self.coherence_threshold, field) {
                if rng.next_u64() <= threshold {
                    if let Some(p) = &pools.by_field[f as usize] {
                        pool = p;
                    }
                }
            }
            let id = pool.draw(rng.next_u64());
            field = self.entry_field[id as usize];
            out.push(id);
        }
    }

    /// How many lexicon entries the engine knows (entry ids are `0..entries()`).
    pub fn entries(&self) -> usize {
        self.spans.len()
    }

    /// The joiner between the words of a phrase.
    pub fn joiner(&self) -> &[u8] {
        &self.joiner
    }

    /// The cased bytes of entry `id`.
    #[inline(always)]
    pub fn word(&self, id: u32) -> &[u8] {
        let (start, len) = self.spans[id as usize];
        &self.arena[start as usize..(start + len) as usize]
    }

    /// Append the fused text of `ids` to `out`.
    #[inline]
    pub fn write_text(&self, ids: &[u32], out: &mut Vec<u8>) {
        // Most words are short: copy them as one fixed 16-byte block (the arena is padded, and
        // the reserve below leaves room), which is several times cheaper than a memcpy call.
        out.reserve(ids.len() * (self.max_word_bytes.max(SHORT_WORD) + self.joiner.len()));
        for (i, &id) in ids.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(&self.joiner);
            }
            let (start, len) = self.spans[id as usize];
            let (start, len) = (start as usize, len as usize);
            if len <= SHORT_WORD {
                let at = out.len();
                // SAFETY: `start + SHORT_WORD <= arena.len()` (the arena ends with SHORT_WORD
                // bytes of padding); `out` has SHORT_WORD spare bytes at `at` (reserved above:
                // every earlier word of this phrase advanced `at` by at most what it reserved);
                // only the `len` bytes that belong to the word become part of `out`.
                unsafe {
                    std::ptr::copy_nonoverlapping(self.arena.as_ptr().add(start), out.as_mut_ptr().add(at), SHORT_WORD);
                    out.set_len(at + len);
                }
            } else {
                out.extend_from_slice(&self.arena[start..start + len]);
            }
        }
    }

    /// The text of a row: the fused phrase, or for a bridge corpus the rendered template.
    pub fn text(&self, ids: &[u32]) -> String {
        let mut out = Vec::new();
        match self.template() {
            Some(template) => {
                let (mut source, mut target) = (Vec::new(), Vec::new());
                self.write_text(ids, &mut source);
                self.write_target(ids, &mut target);
                template.render(&source, &target, &mut out);
            }
            None => self.write_text(ids, &mut out),
        }
        String::from_utf8(out).expect("words, joiner and template are valid UTF-8")
    }

    pub fn template(&self) -> Option<&Template> {
        self.bridge.as_ref().map(|b| &b.0)
    }

    /// The ordinary-language side of a bridge row: the words (or their pivot-language
    /// translations) separated by spaces.
    pub fn write_target(&self, ids: &[u32], out: &mut Vec<u8>) {
        let translations = self.bridge.as_ref().and_then(|b| b.1.as_ref());
        for (i, &id) in ids.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            let shown = translations.map_or(id, |t| t[id as usize].expect("only words with a translation are drawn"));
            out.extend_from_slice(self.word(shown));
        }
    }

    pub fn lang_code(&self, id: u32) -> &str {
        &self.lang_codes[self.entry_lang[id as usize] as usize]
    }

    pub fn field_name(&self, id: u32) -> Option<&str> {
        self.entry_field[id as usize].map(|f| self.field_names[f as usize].as_str())
    }

    pub fn concept(&self, id: u32) -> Option<u32> {
        self.entry_concept[id as usize]
    }

    /// The selected language codes, in selection order.
    pub fn languages(&self) -> Vec<&str> {
        self.langs
            .iter()
            .map(|&l| self.lang_codes[l as usize].as_str())
            .collect()
    }

    /// An upper bound on the UTF-8 bytes of one phrase.
    pub fn max_phrase_bytes(&self) -> usize {
        let max_len = self.min_len as usize + self.len_table.as_ref().map_or(0, |t| t.len() - 1);
        max_len * (self.max_word_bytes + self.joiner.len())
    }
}

/// For each entry, the first entry of the pivot language with the same concept.
fn translations(lexicon: &Lexicon, pivot: &str) -> Result<Vec<Option<u32>>> {
    let pivot_id = lexicon.lang_index(pivot).ok_or_else(|| {
        Error::config(format!(
            "unknown pivot language {pivot:?}: the lexicon has {}",
            lexicon.langs.join(", ")
        ))
    })?;
    let mut by_concept = std::collections::HashMap::new();
    for (i, e) in lexicon.entries.iter().enumerate() {
        if let (true, Some(c)) = (e.lang == pivot_id, e.concept) {
            by_concept.entry(c).or_insert(i as u32);
        }
    }
    if by_concept.is_empty() {
        return Err(Error::config(format!(
            "no {pivot:?} word has a concept: translation needs a concept column"
        )));
    }
    Ok(lexicon
        .entries
        .iter()
        .map(|e| e.concept.and_then(|c| by_concept.get(&c).copied()))
        .collect())
}

fn select_langs(lexicon: &Lexicon, cfg: &FusionConfig) -> Result<(Vec<u16>, Vec<f64>)> {
    if cfg.langs.is_empty() {
        return Ok((
            (0..lexicon.langs.len() as u16).collect(),
            vec![1.0; lexicon.langs.len()],
        ));
    }
    let mut ids = Vec::new();
    let mut weights = Vec::new();
    for lw in &cfg.langs {
        let id = lexicon.lang_index(&lw.lang).ok_or_else(|| {
            Error::config(format!(
                "unknown language {:?}: the lexicon has {}",
                lw.lang,
                lexicon.langs.join(", ")
            ))
        })?;
        ids.push(id);
        weights.push(lw.weight);
    }
    Ok((ids, weights))
}

struct PhraseLengthParts {
    min_len: u32,
    len_table: Option<Alias>,
}

fn phrase_lengths(cfg: &FusionConfig) -> PhraseLengthParts {
    let pl = &cfg.words_per_phrase;
    let n = (pl.max - pl.min + 1) as usize;
    let len_table = (n > 1).then(|| match &pl.dist {
        LengthDist::Uniform => Alias::uniform(n),
        LengthDist::Geometric(p) => Alias::new(&(0..n).map(|k| (1.0 - p).powi(k as i32)).collect::<Vec<_>>()),
        LengthDist::Weights(w) => Alias::new(w),
    });
    PhraseLengthParts {
        min_len: pl.min,
        len_table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::LoadOptions;
    use std::path::Path;

    #[test]
    fn overflowing_weights_are_a_config_error_not_a_panic() {
        // Found by the fuzzer (rust/fuzz, target lexicon/config): weight^alpha summing to infinity.
        let text = "lang\tword\tweight\nen\ta\t1e308\nen\tb\t1e308\nen\tc\t1000\n";
        let lex = Lexicon::parse(text.as_bytes(), Path::new("t.tsv"), &LoadOptions::default()).unwrap();
        for alpha in [1.0, 1.5, 4.3e10] {
            let cfg = FusionConfig {
                alpha,
                ..Default::default()
            };
            let err = Fuser::new(&lex, &cfg).unwrap_err().to_string();
            assert!(err.contains("overflow"), "{alpha}: {err}");
        }
        let cfg = FusionConfig {
            alpha: 1.0,
            coherence: 0.5,
            ..Default::default()
        };
        assert!(Fuser::new(&lex, &cfg).is_err());
        assert!(
            Fuser::new(&lex, &FusionConfig::default()).is_ok(),
            "alpha 0 ignores the weights"
        );
    }
}
