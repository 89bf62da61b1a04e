//! The kinds that draw no lexicon words, end to end: Dyck corpora (every sequence balanced,
//! identical bytes for any thread count, a shard rewritten alone) and n-gram corpora (only n-grams of their
//! source, identical bytes, the source's content as identity).

mod common;

use arrow_array::cast::AsArray;
use common::files;
use hyperword_core::bridge::{BridgeConfig, BridgeMode};
use hyperword_core::config::{Column, CorpusConfig, FusionConfig};
use hyperword_core::corpus::{write_corpus, write_shards};
use hyperword_core::dyck::{check_sequence, DyckConfig};
use hyperword_core::ngram::NgramConfig;
use hyperword_core::{Control, Error, Generator, Lexicon, LoadOptions, Manifest};
use std::collections::HashSet;
use std::path::Path;

const LEXICON: &str = "lang\tword\n\
    en\twater\nen\tsadness\nen\tsmoothness\nen\tlight\nen\tstone\nen\triver\n";

fn lexicon() -> Lexicon {
    Lexicon::parse(LEXICON.as_bytes(), Path::new("test.tsv"), &LoadOptions::default()).unwrap()
}

fn run(dir: &Path, cfg: &CorpusConfig, threads: usize) -> Manifest {
    write_corpus(dir, &lexicon(), cfg, Some(threads), &Control::new()).unwrap()
}

fn texts(dir: &Path, m: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for s in &m.shards {
        let file = std::fs::File::open(dir.join(&s.path)).unwrap();
        for batch in arrow_ipc::reader::FileReader::try_new(file, None).unwrap() {
            out.extend(
                batch
                    .unwrap()
                    .column(0)
                    .as_string::<i32>()
                    .iter()
                    .map(|t| t.unwrap().to_owned()),
            );
        }
    }
    out
}

fn dyck(cfg: DyckConfig, words: u64) -> CorpusConfig {
    CorpusConfig {
        words,
        shard_words: 2_000,
        batch_words: 700,
        seed: 9,
        dyck: Some(cfg),
        ..Default::default()
    }
}

#[test]
fn dyck_corpora_are_balanced_identical_for_any_thread_count_and_a_shard_is_rewritten_alone() {
    let lang = DyckConfig {
        k: 5,
        p_open: 0.7,
        max_depth: 7,
        seq_len: 300,
    };
    let cfg = dyck(lang.clone(), 9_000);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let m = run(a.path(), &cfg, 1);
    assert_eq!(m.kind, "dyck");
    assert!(m.lexicon.is_none() && m.source.is_none());
    assert_eq!(m.shards.len(), 5);
    assert_eq!(m.totals.words, m.totals.rows * 300);
    assert_eq!(m.totals.text_bytes, 3 * m.totals.words);
    let rows = texts(a.path(), &m);
    assert_eq!(rows.len() as u64, m.totals.rows);
    for row in &rows {
        check_sequence(row, &lang).unwrap();
    }
    run(b.path(), &cfg, 2);
    assert_eq!(files(a.path()), files(b.path()));
    // A deleted shard is regenerated alone, byte for byte.
    std::fs::remove_file(a.path().join("shard-00003.arrow")).unwrap();
    let generator = Generator::new(&lexicon(), &cfg).unwrap();
    let again = write_shards(a.path(), &generator, &cfg, &[3], Some(2), &Control::new(), |_| {}).unwrap();
    assert_eq!(again, m.shards[3..4]);
    assert_eq!(files(a.path()), files(b.path()));
}

#[test]
fn dyck_configurations_serialise_without_fusion_and_mnemo_ones_as_before() {
    let cfg = dyck(DyckConfig::default(), 10);
    let json = serde_json::to_value(&cfg).unwrap();
    assert!(json.get("fusion").is_none() && json.get("ngram").is_none());
    assert_eq!(
        json["dyck"],
        serde_json::json!({"k": 64, "p_open": 0.51, "max_depth": 16, "seq_len": 2048})
    );
    assert_eq!(CorpusConfig::from_json(&json.to_string()).unwrap(), cfg);
    let mnemo = serde_json::to_value(CorpusConfig::default()).unwrap();
    let keys: Vec<&str> = mnemo.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "batch_words",
            "columns",
            "compression",
            "compression_level",
            "format",
            "fusion",
            "seed",
            "shard_words",
            "words"
        ]
    );
    for (bad, needle) in [
        (
            CorpusConfig {
                fusion: FusionConfig {
                    joiner: "-".into(),
                    ..Default::default()
                },
                ..cfg.clone()
            },
            "do not apply to --kind dyck",
        ),
        (
            CorpusConfig {
                columns: vec![Column::Text, Column::Words],
                ..cfg.clone()
            },
            "one column, text",
        ),
        (
            CorpusConfig {
                ngram: Some(NgramConfig {
                    n: 2,
                    source: "x".into(),
                    seq_len: 10,
                }),
                ..cfg.clone()
            },
            "either dyck or ngram",
        ),
        (
            dyck(
                DyckConfig {
                    seq_len: 9,
                    ..Default::default()
                },
                10,
            ),
            "even",
        ),
    ] {
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

/// A source corpus: bridge rows `water stone light` (the segmented side: words with spaces).
fn source(dir: &Path) -> Manifest {
    let fusion = FusionConfig {
        bridge: Some(BridgeConfig {
            mode: BridgeMode::Segment,
            pivot: None,
            template: "{target}".into(),
        }),
        ..Default::default()
    };
    let cfg = CorpusConfig {
        words: 3_000,
        shard_words: 1_000,
        batch_words: 500,
        seed: 1,
        fusion,
        ..Default::default()
    };
    run(dir, &cfg, 1)
}

fn ngram(n: u32, source: &Path) -> CorpusConfig {
    let ngram = NgramConfig {
        n,
        source: source.display().to_string(),
        seq_len: 12,
    };
    CorpusConfig {
        words: 4_000,
        shard_words: 1_000,
        batch_words: 300,
        seed: 3,
        ngram: Some(ngram),
        ..Default::default()
    }
}

#[test]
fn ngram_corpora_hold_only_source_n_grams_and_are_identical_for_any_thread_count() {
    let src = tempfile::tempdir().unwrap();
    let src_manifest = source(src.path());
    let docs: Vec<Vec<String>> = texts(src.path(), &src_manifest)
        .iter()
        .map(|t| t.split(' ').map(str::to_owned).collect())
        .collect();
    for n in 1..=3u32 {
        let known: HashSet<Vec<Option<String>>> = docs
            .iter()
            .flat_map(|d| {
                let padded: Vec<Option<String>> = (1..n).map(|_| None).chain(d.iter().cloned().map(Some)).collect();
                padded.windows(n as usize).map(<[_]>::to_vec).collect::<Vec<_>>()
            })
            .collect();
        let cfg = ngram(n, src.path());
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let m = run(a.path(), &cfg, 1);
        run(b.path(), &cfg, 2);
        assert_eq!(files(a.path()), files(b.path()));
        assert_eq!(m.kind, "ngram");
        let info = m.source.as_ref().unwrap();
        assert_eq!(
            (info.docs, info.words, info.vocabulary),
            (src_manifest.totals.rows, src_manifest.totals.words, 6)
        );
        let rows = texts(a.path(), &m);
        assert_eq!(
            rows.iter().map(|r| r.split(' ').count() as u64).sum::<u64>(),
            m.totals.words
        );
        for row in rows {
            let words: Vec<Option<String>> = (1..n)
                .map(|_| None)
                .chain(row.split(' ').map(|w| Some(w.to_owned())))
                .collect();
            assert!((1..=12).contains(&(words.len() - (n as usize - 1))), "{row}");
            for gram in words.windows(n as usize) {
                assert!(
                    known.contains(gram),
                    "{n}-gram {gram:?} of {row:?} is not in the source"
                );
            }
        }
    }
}

#[test]
fn an_ngram_source_is_its_content_not_its_path() {
    let (src, copy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    source(src.path());
    for (name, bytes) in files(src.path()) {
        std::fs::write(copy.path().join(name), bytes).unwrap();
    }
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = run(a.path(), &ngram(2, src.path()), 1);
    let again = run(b.path(), &ngram(2, copy.path()), 1);
    assert_eq!(again.fingerprint, first.fingerprint);
    assert_eq!(again.shards, first.shards);
    // A directory that is not a corpus is a configuration error, and nothing is written.
    let (empty, target) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dest = target.path().join("out");
    let err = write_corpus(&dest, &lexicon(), &ngram(2, empty.path()), Some(1), &Control::new()).unwrap_err();
    assert!(
        matches!(err, Error::Config(_)) && err.to_string().contains("not a hyperword corpus"),
        "{err}"
    );
    assert!(!dest.exists());
}
