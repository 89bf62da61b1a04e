//! Word-aligned token shards: with a byte-level "tokenizer" (each word's tokens are its UTF-8
//! bytes), every aligned document must spell exactly the text of the corpus row it comes from.

use arrow_array::cast::AsArray;
use arrow_ipc::reader::FileReader;
use hyperword_core::aligned::{encode_shards, EntryTokens, TokenTable};
use hyperword_core::bridge::{BridgeConfig, BridgeMode};
use hyperword_core::config::CorpusConfig;
use hyperword_core::corpus::write_corpus;
use hyperword_core::npy::{header, Dtype};
use hyperword_core::{Control, Error, Fuser, Lexicon, LoadOptions};
use std::path::Path;

const LEXICON: &str = "lang\tword\tconcept\tfield\n\
    ru\tвода\t1\tnature\nru\tгрусть\t2\tfeeling\nru\tплавность\t3\tmotion\nru\tсвет\t4\tnature\n\
    en\twater\t1\tnature\nen\tsadness\t2\tfeeling\nes\tsuavidad\t3\tmotion\nes\tluz\t4\tnature\n";
const EOS: u32 = 256;

fn lexicon() -> Lexicon {
    Lexicon::parse(LEXICON.as_bytes(), Path::new("test.tsv"), &LoadOptions::default()).unwrap()
}

fn config() -> CorpusConfig {
    let mut cfg = CorpusConfig {
        words: 12_000,
        shard_words: 5_000,
        batch_words: 1_000,
        seed: 7,
        ..Default::default()
    };
    cfg.fusion.joiner = "·".into();
    cfg
}

/// Each entry's tokens are its bytes: decoding aligned tokens must give back the text.
fn byte_table(cfg: &CorpusConfig) -> TokenTable {
    let fuser = Fuser::new(&lexicon(), &cfg.fusion).unwrap();
    let mut ids = Vec::new();
    let mut offsets = vec![0u64];
    for e in 0..fuser.entries() {
        ids.extend(fuser.word(e as u32).iter().map(|&b| b as u32));
        offsets.push(ids.len() as u64);
    }
    let forms = EntryTokens { ids, offsets };
    let joiner = fuser.joiner().iter().map(|&b| b as u32).collect();
    TokenTable {
        first: forms.clone(),
        inner: forms,
        joiner,
        eos: EOS,
        vocab_size: 257,
        dtype: Dtype::U16,
    }
}

fn read_npy(path: &Path, dtype: Dtype) -> Vec<u64> {
    let bytes = std::fs::read(path).unwrap();
    let data = &bytes[header(dtype, 0).len()..];
    match dtype {
        Dtype::U16 => data
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as u64)
            .collect(),
        Dtype::I64 => data
            .chunks(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as u64)
            .collect(),
        Dtype::U32 => data
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as u64)
            .collect(),
    }
}

fn shard_texts(path: &Path) -> Vec<String> {
    let reader = FileReader::try_new(std::fs::File::open(path).unwrap(), None).unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        out.extend(
            batch
                .column_by_name("text")
                .unwrap()
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_string()),
        );
    }
    out
}

#[test]
fn aligned_documents_spell_the_corpus_rows_shard_by_shard() {
    let (corpus, tokens) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let cfg = config();
    let manifest = write_corpus(corpus.path(), &lexicon(), &cfg, Some(1), &Control::new()).unwrap();
    let table = byte_table(&cfg);
    let shards = encode_shards(
        tokens.path(),
        &lexicon(),
        &cfg,
        &table,
        &[0, 1, 2],
        Some(2),
        &Control::new(),
    )
    .unwrap();
    assert_eq!(shards.len(), 3);
    for (info, source) in shards.iter().zip(&manifest.shards) {
        assert_eq!(
            (info.documents, info.words),
            (source.rows, source.words),
            "shard {}",
            info.index
        );
        let toks = read_npy(&tokens.path().join(&info.tokens_path), Dtype::U16);
        let ends = read_npy(&tokens.path().join(&info.docs_path), Dtype::I64);
        assert_eq!(toks.len() as u64, info.tokens);
        assert_eq!(*ends.last().unwrap(), info.tokens);
        let texts = shard_texts(&corpus.path().join(&source.path));
        let mut start = 0usize;
        for (end, text) in ends.iter().zip(&texts) {
            let doc = &toks[start..*end as usize];
            assert_eq!(*doc.last().unwrap(), EOS as u64);
            let bytes: Vec<u8> = doc[..doc.len() - 1].iter().map(|&t| t as u8).collect();
            assert_eq!(String::from_utf8(bytes).unwrap(), *text);
            start = *end as usize;
        }
    }
    // Deterministic whatever the thread count or the order shards are asked for.
    let again = tempfile::tempdir().unwrap();
    let one = encode_shards(
        again.path(),
        &lexicon(),
        &cfg,
        &table,
        &[2, 0, 1],
        Some(1),
        &Control::new(),
    )
    .unwrap();
    let sha = |v: &[hyperword_core::aligned::TokenShard], i: u64| {
        v.iter().find(|s| s.index == i).unwrap().tokens_sha256.clone()
    };
    for i in 0..3 {
        assert_eq!(sha(&shards, i), sha(&one, i));
    }
}

#[test]
fn bad_tables_and_corpora_are_refused_before_writing() {
    let out = tempfile::tempdir().unwrap();
    let cfg = config();
    let run = |table: &TokenTable, cfg: &CorpusConfig, shards: &[u64]| {
        encode_shards(out.path(), &lexicon(), cfg, table, shards, Some(1), &Control::new())
    };
    let good = byte_table(&cfg);

    let mut t = good.clone();
    t.first.offsets.pop();
    assert!(matches!(run(&t, &cfg, &[0]), Err(Error::Config(m)) if m.contains("offsets")));
    let mut t = good.clone();
    t.inner.ids[0] = 300;
    assert!(matches!(run(&t, &cfg, &[0]), Err(Error::Config(m)) if m.contains("outside the vocabulary")));
    let mut t = good.clone();
    t.vocab_size = 70_000;
    assert!(matches!(run(&t, &cfg, &[0]), Err(Error::Config(m)) if m.contains("does not fit <u2")));
    assert!(matches!(run(&good, &cfg, &[3]), Err(Error::Config(m)) if m.contains("shard 3 does not exist")));
    let mut bridge = cfg.clone();
    bridge.fusion.bridge = Some(BridgeConfig {
        mode: BridgeMode::Segment,
        pivot: None,
        template: "{source} = {target}".into(),
    });
    assert!(matches!(run(&good, &bridge, &[0]), Err(Error::Config(m)) if m.contains("mnemophrase corpus")));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "nothing written");
}

#[test]
fn a_cancelled_run_leaves_no_file() {
    let out = tempfile::tempdir().unwrap();
    let cfg = config();
    let control = Control::new();
    control.cancel();
    let r = encode_shards(
        out.path(),
        &lexicon(),
        &cfg,
        &byte_table(&cfg),
        &[0, 1],
        Some(2),
        &control,
    );
    assert!(matches!(r, Err(Error::Interrupted)));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
