//! Fuzz the lexicon parser: `Lexicon::parse` on arbitrary bytes must return a lexicon or an
//! error, never panic or hang; its collecting mode `Lexicon::check` must agree with it (its
//! first problem is the error); a lexicon it accepts must hold what the loader promises, and
//! must be usable by the fusion engine (or rejected by it with an error).
//!
//! Input: one option byte, then the file's bytes. Option byte: bit 0 = strict NFC; bits 1-3
//! choose the format: 0-3 a TSV, 4-7 a plain word list in "ru", "zh-Hant", "yue" or the invalid
//! language code "Ru".
#![no_main]

use hyperword_core::bridge::{BridgeConfig, BridgeMode};
use hyperword_core::config::{FusionConfig, LangWeight, Mix, PhraseLength};
use hyperword_core::word::{self, Case, Normalization};
use hyperword_core::{corpus, lexicon, Lexicon, LoadOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let normalization = if flags & 1 == 1 {
        Normalization::Strict
    } else {
        Normalization::Nfc
    };
    let word_list_lang = match (flags >> 1) & 7 {
        4 => Some("ru"),
        5 => Some("zh-Hant"),
        6 => Some("yue"),
        7 => Some("Ru"),
        _ => None,
    };
    let opts = LoadOptions {
        word_list_lang: word_list_lang.map(str::to_string),
        normalization,
    };
    let parsed = Lexicon::parse(bytes, Path::new("fuzz.tsv"), &opts);

    // The collecting mode is the same reading: it never panics, and without a NUL byte (which
    // it reports alone, as binary data) its first problem is the loader's error, and it finds
    // none exactly when the loader succeeds, accepting the same rows.
    let check = Lexicon::check(bytes, &opts);
    assert!(check.problems.windows(2).all(|w| w[0].line <= w[1].line));
    if !bytes.contains(&0) {
        match &parsed {
            Ok(lex) => {
                assert!(check.ok(), "{:?}", check.problems);
                assert_eq!(check.valid.len(), lex.entries.len());
                assert_eq!(check.normalized.len(), lex.normalized);
            }
            Err(e) => {
                let first = &check.problems[0];
                assert_eq!(e.to_string(), format!("fuzz.tsv:{}: {}", first.line, first.message));
            }
        }
    }

    let Ok(lex) = parsed else {
        return;
    };

    // What a loaded lexicon promises.
    assert!(!lex.entries.is_empty());
    assert_eq!(lex.content_hash().len(), 64);
    for e in &lex.entries {
        assert!((e.lang as usize) < lex.langs.len());
        assert!(e.field.is_none_or(|f| (f as usize) < lex.fields.len()));
        assert!(e.word.len() <= lexicon::MAX_WORD_BYTES);
        assert!(e.weight.is_finite() && e.weight >= 0.0, "weight {}", e.weight);
        // Stored words are valid and already in NFC: validating again changes nothing.
        assert_eq!(
            word::validate(&e.word, Normalization::Strict).as_deref(),
            Ok(e.word.as_str())
        );
    }
    assert_eq!(lex.counts_per_lang().iter().sum::<usize>(), lex.entries.len());
    let again = Lexicon::parse(bytes, Path::new("again.tsv"), &opts).expect("parsing is deterministic");
    assert_eq!(again.content_hash(), lex.content_hash());

    // The engine takes any loaded lexicon: phrases, or a configuration error.
    let first = lex.langs[0].clone();
    let configs = [
        FusionConfig::default(),
        FusionConfig {
            words_per_phrase: PhraseLength {
                min: 1,
                max: 3,
                dist: Default::default(),
            },
            mix: Mix::Word,
            alpha: 1.5,
            coherence: 0.5,
            joiner: "-".into(),
            case: Case::Title,
            ..Default::default()
        },
        FusionConfig {
            alpha: 40.0,
            case: Case::Upper,
            langs: vec![LangWeight {
                lang: first.clone(),
                weight: 1.0,
            }],
            ..Default::default()
        },
        FusionConfig {
            case: Case::Lower,
            bridge: Some(BridgeConfig {
                mode: BridgeMode::Translate,
                pivot: Some(first),
                template: "{source} = {target}".into(),
            }),
            ..Default::default()
        },
    ];
    for cfg in &configs {
        if let Ok(phrases) = corpus::sample(&lex, cfg, 7, 3) {
            assert_eq!(phrases.len(), 3);
        }
    }
});
