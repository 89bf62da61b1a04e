//! End-to-end properties of the engine: determinism, a shard rewritten alone, and the shape
//! of every phrase (property-based, with proptest). Resume and refusal are the directory
//! run's, tested from Python (tests/test_corpus.py, test_formats_run.py, test_faults.py).

mod common;

use arrow_array::cast::AsArray;
use arrow_array::Array;
use common::files;
use hyperword_core::batch::ShardBatches;
use hyperword_core::bridge::{BridgeConfig, BridgeMode};
use hyperword_core::config::{Column, CorpusConfig, FusionConfig, LangWeight, Mix, PhraseLength};
use hyperword_core::corpus::{write_corpus, write_shards};
use hyperword_core::{Control, Error, Fuser, Generator, Lexicon, LoadOptions};
use proptest::prelude::*;
use std::path::Path;
use std::sync::Arc;

const LEXICON: &str = "lang\tword\tconcept\tfield\n\
    ru\tвода\t1\tnature\nru\tгрусть\t2\tfeeling\nru\tплавность\t3\tmotion\nru\tсвет\t4\tnature\n\
    en\twater\t1\tnature\nen\tsadness\t2\tfeeling\nen\tsmoothness\t3\tmotion\nen\tlight\t4\tnature\n\
    es\tagua\t1\tnature\nes\ttristeza\t2\tfeeling\nes\tsuavidad\t3\tmotion\nes\tluz\t4\tnature\n";

fn lexicon() -> Lexicon {
    Lexicon::parse(LEXICON.as_bytes(), Path::new("test.tsv"), &LoadOptions::default()).unwrap()
}

fn config(words: u64) -> CorpusConfig {
    CorpusConfig {
        words,
        shard_words: 5_000,
        batch_words: 1_000,
        seed: 42,
        ..Default::default()
    }
}

fn run(dir: &Path, cfg: &CorpusConfig, threads: usize) -> hyperword_core::Result<hyperword_core::Manifest> {
    write_corpus(dir, &lexicon(), cfg, Some(threads), &Control::new())
}

#[test]
fn identical_bytes_whatever_the_thread_count() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let cfg = config(23_000);
    let m1 = run(a.path(), &cfg, 1).unwrap();
    let m2 = run(b.path(), &cfg, 2).unwrap();
    assert_eq!(m1.shards.len(), 5);
    assert_eq!(m1, m2);
    assert_eq!(files(a.path()), files(b.path()));
    assert!(m1.totals.words >= 23_000 && m1.totals.words < 23_000 + 5 * 6);
}

#[test]
fn shards_written_alone_are_byte_identical_and_reported_as_they_land() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(20_000);
    let m = run(dir.path(), &cfg, 2).unwrap();
    let before = files(dir.path());
    std::fs::remove_file(dir.path().join("shard-00001.arrow")).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("shard-00002.arrow"))
        .unwrap();
    f.set_len(100).unwrap();
    let generator = Generator::new(&lexicon(), &cfg).unwrap();
    let landed = std::sync::Mutex::new(Vec::new());
    let written = write_shards(
        dir.path(),
        &generator,
        &cfg,
        &[2, 1],
        Some(2),
        &Control::new(),
        |info| {
            assert!(dir.path().join(&info.path).is_file(), "reported before it is in place");
            landed.lock().unwrap().push(info.clone());
        },
    )
    .unwrap();
    assert_eq!(written, vec![m.shards[2].clone(), m.shards[1].clone()]);
    let mut landed = landed.into_inner().unwrap();
    landed.sort_by_key(|s| s.index);
    assert_eq!(landed, m.shards[1..3]);
    assert_eq!(files(dir.path()), before);
    let err = write_shards(dir.path(), &generator, &cfg, &[4], None, &Control::new(), |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "shard 4 does not exist: the corpus has 4 shards");
}

#[test]
fn bad_configuration_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let mut cfg = config(100);
    cfg.fusion.langs = vec![LangWeight {
        lang: "xx".into(),
        weight: 1.0,
    }];
    let err = run(&out, &cfg, 1).unwrap_err().to_string();
    assert!(err.contains("unknown language \"xx\""), "{err}");
    assert!(!out.exists());
}

#[test]
fn cancelled_run_leaves_no_partial_shard() {
    let dir = tempfile::tempdir().unwrap();
    let control = Control::new();
    control.cancel();
    let r = write_corpus(dir.path(), &lexicon(), &config(20_000), None, &control);
    assert!(matches!(r, Err(Error::Interrupted)));
    let names: Vec<String> = files(dir.path()).into_iter().map(|(n, _)| n).collect();
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(".tmp") && !n.starts_with("shard-") && n != "manifest.json"),
        "{names:?}"
    );
}

fn phrase_config() -> impl Strategy<Value = (CorpusConfig, u32, u32)> {
    (
        1u32..5,
        0u32..4,
        any::<u64>(),
        prop::bool::ANY,
        0.0f64..=1.0,
        prop::sample::select(vec!["", "-", "·"]),
    )
        .prop_map(|(min, extra, seed, per_word, coherence, joiner)| {
            let fusion = FusionConfig {
                words_per_phrase: PhraseLength {
                    min,
                    max: min + extra,
                    dist: Default::default(),
                },
                mix: if per_word { Mix::Word } else { Mix::Phrase },
                coherence,
                joiner: joiner.into(),
                ..Default::default()
            };
            let columns = vec![
                Column::Text,
                Column::Words,
                Column::Langs,
                Column::Concepts,
                Column::Field,
            ];
            (
                CorpusConfig {
                    words: 300,
                    shard_words: 300,
                    batch_words: 64,
                    seed,
                    columns,
                    fusion,
                    ..Default::default()
                },
                min,
                min + extra,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_phrase_is_its_words_joined((cfg, min, max) in phrase_config()) {
        let lex = lexicon();
        let fuser = Arc::new(Fuser::new(&lex, &cfg.fusion).unwrap());
        let mut total = 0u64;
        for batch in ShardBatches::new(fuser, &cfg, 0) {
            let batch = batch.unwrap();
            let b = &batch.batch;
            let text = b.column(0).as_string::<i32>();
            let words = b.column(1).as_list::<i32>();
            let langs = b.column(2).as_list::<i32>();
            for row in 0..b.num_rows() {
                let ws = words.value(row);
                let ws = ws.as_string::<i32>();
                let ls = langs.value(row);
                let ls = ls.as_string::<i32>();
                let parts: Vec<&str> = (0..ws.len()).map(|i| ws.value(i)).collect();
                prop_assert_eq!(text.value(row), parts.join(&cfg.fusion.joiner));
                prop_assert!((min as usize..=max as usize).contains(&parts.len()));
                for (i, w) in parts.iter().enumerate() {
                    let lang = lex.lang_index(ls.value(i)).unwrap();
                    prop_assert!(lex.entries.iter().any(|e| e.lang == lang && e.word == *w), "{} not a {} word", w, ls.value(i));
                }
                if cfg.fusion.mix == Mix::Phrase {
                    prop_assert!((0..ls.len()).all(|i| ls.value(i) == ls.value(0)));
                }
            }
            total += batch.words;
        }
        prop_assert!(total >= cfg.words);
    }
}

fn bridge_rows(mode: BridgeMode, pivot: Option<&str>) -> Vec<(String, String, String, Vec<String>)> {
    let fusion = FusionConfig {
        bridge: Some(BridgeConfig {
            mode,
            pivot: pivot.map(String::from),
            template: "{source} = {target}".into(),
        }),
        ..Default::default()
    };
    let columns = vec![Column::Text, Column::Source, Column::Target, Column::Words];
    let cfg = CorpusConfig {
        words: 500,
        shard_words: 500,
        columns,
        fusion,
        ..Default::default()
    };
    cfg.validate().unwrap();
    let fuser = Arc::new(Fuser::new(&lexicon(), &cfg.fusion).unwrap());
    let mut rows = Vec::new();
    for batch in ShardBatches::new(fuser, &cfg, 0) {
        let b = batch.unwrap().batch;
        let (text, source, target) = (
            b.column(0).as_string::<i32>(),
            b.column(1).as_string::<i32>(),
            b.column(2).as_string::<i32>(),
        );
        let words = b.column(3).as_list::<i32>();
        for r in 0..b.num_rows() {
            let ws = words.value(r);
            let ws: Vec<String> = (0..ws.len())
                .map(|i| ws.as_string::<i32>().value(i).to_string())
                .collect();
            rows.push((
                text.value(r).to_string(),
                source.value(r).to_string(),
                target.value(r).to_string(),
                ws,
            ));
        }
    }
    rows
}

#[test]
fn segment_bridge_spaces_the_words() {
    for (text, source, target, words) in bridge_rows(BridgeMode::Segment, None) {
        assert_eq!(source, words.concat());
        assert_eq!(target, words.join(" "));
        assert_eq!(text, format!("{source} = {target}"));
    }
}

#[test]
fn translate_bridge_gives_each_words_pivot_concept() {
    let lex = lexicon();
    let en = |word: &str| {
        let concept = lex.entries.iter().find(|e| e.word == word).unwrap().concept;
        lex.entries
            .iter()
            .find(|e| e.concept == concept && lex.langs[e.lang as usize] == "en")
            .unwrap()
            .word
            .clone()
    };
    let rows = bridge_rows(BridgeMode::Translate, Some("en"));
    assert!(rows.len() > 50);
    for (_, _, target, words) in rows {
        assert_eq!(target, words.iter().map(|w| en(w)).collect::<Vec<_>>().join(" "));
    }
    let bad = FusionConfig {
        bridge: Some(BridgeConfig {
            mode: BridgeMode::Translate,
            pivot: Some("xx".into()),
            template: "{target}".into(),
        }),
        ..Default::default()
    };
    assert!(Fuser::new(&lex, &bad)
        .unwrap_err()
        .to_string()
        .contains("unknown pivot language"));
}
