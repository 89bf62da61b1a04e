//! Criterion benchmarks of the fusion core (run by hand: `cargo bench -p hyperword-core`).
//!
//! - `phrases`: drawing phrases and copying their bytes (the hot loop, no Arrow);
//! - `batch`: building one Arrow record batch of 1M words;
//! - `shard/zstd`: a whole shard written as a zstd Arrow IPC file (to a temp dir).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hyperword_core::batch::ShardBatches;
use hyperword_core::config::{Column, CorpusConfig, FusionConfig};
use hyperword_core::fusion::{shard_rng, Fuser};
use hyperword_core::{Control, Lexicon};
use std::hint::black_box;
use std::sync::Arc;

const WORDS: u64 = 1 << 20;

fn config(columns: Vec<Column>, coherence: f64) -> CorpusConfig {
    let fusion = FusionConfig {
        coherence,
        ..Default::default()
    };
    CorpusConfig {
        words: WORDS,
        shard_words: WORDS,
        columns,
        fusion,
        ..Default::default()
    }
}

fn phrases(c: &mut Criterion) {
    let lexicon = Lexicon::default_lexicon();
    let mut group = c.benchmark_group("phrases");
    group.throughput(Throughput::Elements(WORDS));
    for coherence in [0.0, 0.8] {
        let fuser = Fuser::new(
            &lexicon,
            &FusionConfig {
                coherence,
                ..Default::default()
            },
        )
        .unwrap();
        group.bench_with_input(BenchmarkId::new("coherence", coherence), &fuser, |b, fuser| {
            let (mut ids, mut text) = (Vec::new(), Vec::with_capacity(16 << 20));
            b.iter(|| {
                let mut rng = shard_rng(1, 0);
                let mut words = 0u64;
                text.clear();
                while words < WORDS {
                    fuser.next_phrase(&mut rng, &mut ids);
                    fuser.write_text(&ids, &mut text);
                    words += ids.len() as u64;
                }
                black_box(text.len())
            })
        });
    }
    group.finish();
}

fn batches(c: &mut Criterion) {
    let lexicon = Lexicon::default_lexicon();
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(WORDS));
    for (name, columns) in [
        ("text", vec![Column::Text]),
        (
            "all",
            vec![
                Column::Text,
                Column::Words,
                Column::Langs,
                Column::Concepts,
                Column::Field,
            ],
        ),
    ] {
        let cfg = config(columns, 0.0);
        let fuser = Arc::new(Fuser::new(&lexicon, &cfg.fusion).unwrap());
        group.bench_function(name, |b| {
            b.iter(|| {
                ShardBatches::new(fuser.clone(), &cfg, 0)
                    .map(|r| r.unwrap().words)
                    .sum::<u64>()
            })
        });
    }
    group.finish();
}

fn shard(c: &mut Criterion) {
    let lexicon = Lexicon::default_lexicon();
    let cfg = config(vec![Column::Text], 0.0);
    let fuser = Arc::new(Fuser::new(&lexicon, &cfg.fusion).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("shard");
    group.throughput(Throughput::Elements(WORDS));
    group.sample_size(20);
    group.bench_function("zstd", |b| {
        b.iter(|| {
            hyperword_core::shard::write_shard(dir.path(), &fuser, &cfg, 0, &Control::new())
                .unwrap()
                .words
        })
    });
    group.finish();
}

criterion_group!(benches, phrases, batches, shard);
criterion_main!(benches);
