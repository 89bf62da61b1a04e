//! Fuzz the configuration parser: `CorpusConfig::from_json` and a `FusionConfig` read from
//! JSON, then compiled against a small fixed lexicon by `Fuser::new`. Arbitrary input must give
//! a configuration or an error, never a panic or a hang. A configuration that validates must
//! survive a JSON round trip unchanged, and must generate: a few phrases, and a few record
//! batches of a corpus stream (word counts clamped so that every run is short).
#![no_main]

use hyperword_core::corpus::{self, CorpusStream};
use hyperword_core::fusion::{shard_rng, Fuser};
use hyperword_core::{CorpusConfig, FusionConfig, Lexicon, LoadOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

/// Eight languages (one a BCP 47 tag), concepts, fields, weights from 0 to 1000, words whose
/// case mapping changes their length (Straße, ǆ, ﬃ, İ, final sigma).
const LEXICON: &str = include_str!("lexicon.tsv");

fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| Lexicon::parse(LEXICON.as_bytes(), Path::new("lexicon.tsv"), &LoadOptions::default()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let lex = lexicon();

    if let Ok(cfg) = CorpusConfig::from_json(json) {
        // What the manifest stores must read back as the same configuration.
        let text = serde_json::to_string(&cfg).expect("a configuration serialises");
        let back = CorpusConfig::from_json(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, cfg, "{text}");
        // At most 3 shards of up to 40 words, batches of up to 16 words.
        let mut small = cfg.clone();
        small.shard_words = small.shard_words.min(40);
        small.words = small.words.min(small.shard_words * 3);
        small.batch_words = small.batch_words.min(16);
        if let Ok(stream) = CorpusStream::new(lex, &small) {
            for batch in stream {
                let batch = batch.expect("a batch of a valid configuration encodes");
                assert_eq!(batch.num_columns(), small.columns.len());
            }
        }
    }

    if let Ok(fusion) = serde_json::from_str::<FusionConfig>(json) {
        if let Ok(fuser) = Fuser::new(lex, &fusion) {
            let (min, max) = (
                fusion.words_per_phrase.min as usize,
                fusion.words_per_phrase.max as usize,
            );
            let mut rng = shard_rng(1, 0);
            let mut ids = Vec::new();
            for _ in 0..3 {
                fuser.next_phrase(&mut rng, &mut ids);
                assert!((min..=max).contains(&ids.len()), "{} words, not {min}-{max}", ids.len());
                let mut text = Vec::new();
                fuser.write_text(&ids, &mut text);
                assert!(
                    text.len() <= fuser.max_phrase_bytes(),
                    "{} > {}",
                    text.len(),
                    fuser.max_phrase_bytes()
                );
                let _ = fuser.text(&ids);
            }
            let phrases = corpus::sample(lex, &fusion, 3, 2).expect("sample agrees with Fuser::new");
            assert_eq!(phrases.len(), 2);
        }
    }
});
