"""hyperword.encode ``aligned`` mode: per-word token ids concatenated by the Rust core, so that
word boundaries are token boundaries; agreement with ``exact`` reported; the same atomic
writes, resume and refusals as ``exact``."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import hyperword
from hyperword import ConfigError, CorruptCorpusError
from hyperword.encode import encode, read_token_manifest
from hyperword.encode.aligned import _without_dummy_prefix
from hyperword.encode.run import _dtype
from hyperword.tokenizer import TrainOptions, train_tokenizer

spm = pytest.importorskip("sentencepiece")

LANGS = "en,ru,es"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aligned")


@pytest.fixture(scope="module")
def corpus(base: Path) -> Path:
    hyperword.generate(
        base / "corpus", 12_000, langs=LANGS, mix="word", shard_words=4_000, seed=3, columns="text,words"
    )
    return base / "corpus"


@pytest.fixture(scope="module")
def tokenizer(base: Path, corpus: Path) -> Path:
    train_tokenizer([str(corpus)], base / "tok", options=TrainOptions(vocab_size=600, max_sentences=3000, seed=2))
    return base / "tok"


@pytest.fixture(scope="module")
def aligned(base: Path, tokenizer: Path, corpus: Path) -> Path:
    encode(tokenizer, corpus, base / "aligned", mode="aligned", threads=2)
    return base / "aligned"


def documents(directory: Path, index: int) -> list[list[int]]:
    tokens = np.load(directory / f"tokens-{index:05d}.npy", mmap_mode="r")
    ends = np.load(directory / f"docs-{index:05d}.npy")
    starts = np.concatenate([[0], ends[:-1]])
    return [tokens[s:e].tolist() for s, e in zip(starts, ends)]


def test_every_document_is_its_words_tokens_and_decodes_to_its_text(
    aligned: Path, tokenizer: Path, corpus: Path
) -> None:
    model = (tokenizer / "tokenizer.model").read_bytes()
    sp = spm.SentencePieceProcessor(model_proto=model)
    inner = _without_dummy_prefix(model)
    m, source = read_token_manifest(aligned), hyperword.open_corpus(corpus)
    assert m.mode == "aligned" and len(m.shards) == len(source.manifest.shards) == 3
    rows = source.to_table().select(["text", "words"]).to_pylist()
    docs = [d for s in m.shards for d in documents(aligned, s.index)]
    assert len(docs) == len(rows) == m.documents
    for doc, row in zip(docs, rows):
        words = row["words"]
        expected = list(sp.encode(words[0])) + [t for w in words[1:] for t in inner.encode(w)] + [sp.eos_id()]
        assert doc == expected  # word boundaries are token boundaries by construction
        assert sp.decode(doc[:-1]) == row["text"]  # and the text comes back exactly


def test_agreement_with_exact_is_recorded_and_recounts(aligned: Path, tokenizer: Path, corpus: Path) -> None:
    m = read_token_manifest(aligned)
    agreement = m.raw["aligned_agreement"]
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer / "tokenizer.model"))
    texts = hyperword.open_corpus(corpus).head(agreement["documents"]).column("text").to_pylist()
    docs = documents(aligned, 0)[: len(texts)]
    identical = sum(d[:-1] == sp.encode(t) for d, t in zip(docs, texts))
    assert agreement["identical"] == identical and 0 < identical <= len(texts)
    assert agreement["share"] == pytest.approx(identical / len(texts))
    assert agreement["tokens_exact"] == sum(len(sp.encode(t)) + 1 for t in texts)
    assert m.raw["lexicon"]["sha256"] == hyperword.Lexicon.default().sha256


def test_manifest_matches_files_and_npy_equals_numpy_save(aligned: Path, tmp_path: Path) -> None:
    m = read_token_manifest(aligned)
    assert m.dtype == "uint16" and m.tokenizer["vocab_size"] == 600
    for s in m.shards:
        for name, size, digest in (
            (s.tokens_path, s.tokens_bytes, s.tokens_sha256),
            (s.docs_path, s.docs_bytes, s.docs_sha256),
        ):
            path = aligned / name
            assert path.stat().st_size == size and sha(path) == digest
            np.save(tmp_path / "copy.npy", np.load(path))
            assert (tmp_path / "copy.npy").read_bytes() == path.read_bytes()  # the Rust writer's header is numpy's
        assert int(np.load(aligned / s.docs_path)[-1]) == s.tokens
    assert not [p for p in aligned.iterdir() if p.name.startswith(".")]


def test_thread_counts_and_resume_give_identical_bytes(
    aligned: Path, tokenizer: Path, corpus: Path, tmp_path: Path
) -> None:
    one = tmp_path / "one"
    encode(tokenizer, corpus, one, mode="aligned", threads=1)
    files = {p.name: p.read_bytes() for p in aligned.iterdir()}
    assert {p.name: p.read_bytes() for p in one.iterdir()} == files
    (one / "tokens-00001.npy").unlink()
    (one / "docs-00002.npy").write_bytes(b"truncated")
    m = encode(tokenizer, corpus, one, mode="aligned", threads=2)
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (2, 1)
    assert {p.name: p.read_bytes() for p in one.iterdir()} == files
    again = encode(tokenizer, corpus, one, mode="aligned")
    assert again.run is not None and again.run.generated_shards == 0


def test_uint32_on_request_and_vocabularies_too_large_for_a_dtype(
    tokenizer: Path, corpus: Path, tmp_path: Path
) -> None:
    m = encode(tokenizer, corpus, tmp_path / "wide", mode="aligned", dtype="uint32")
    assert m.dtype == "uint32" and np.load(tmp_path / "wide" / "tokens-00000.npy").dtype == np.uint32
    assert _dtype(65_536, "uint16") == np.uint16
    with pytest.raises(ConfigError, match="does not fit uint16"):
        _dtype(65_537, "uint16")


def test_corpora_aligned_cannot_reproduce_are_refused_and_nothing_is_written(
    tokenizer: Path, corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    bridge = tmp_path / "bridge"
    hyperword.generate(bridge, 2_000, kind="bridge", bridge="segment", langs=LANGS, seed=1)
    with pytest.raises(ConfigError, match="bridge corpus; mode aligned needs a mnemophrase corpus"):
        encode(tokenizer, bridge, out, mode="aligned")
    lexicon = tmp_path / "lex.tsv"
    lexicon.write_text("lang\tword\nen\twater\nen\tlight\nru\tвода\nes\tluz\n", encoding="utf-8")
    other = tmp_path / "other"
    hyperword.generate(other, 2_000, lexicon=lexicon, seed=1)
    with pytest.raises(ConfigError, match="pass the lexicon it was generated from with --lexicon"):
        encode(tokenizer, other, out, mode="aligned")
    assert (
        encode(tokenizer, other, out, mode="aligned", lexicon=lexicon).documents == hyperword.read_manifest(other).rows
    )
    shutil.rmtree(out)
    # A manifest whose seed was edited: its shards still verify, but they are not what it draws.
    edited = tmp_path / "edited"
    shutil.copytree(corpus, edited)
    data = json.loads((edited / "manifest.json").read_text(encoding="utf-8"))
    data["seed"] += 1
    (edited / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CorruptCorpusError, match="not what its configuration and seed draw"):
        encode(tokenizer, edited, out, mode="aligned")
    assert not out.exists()
