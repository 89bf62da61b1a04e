"""hyperword.encode: token shards (``exact`` mode) from a corpus and a sentencepiece tokenizer."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import hyperword
from hyperword import ConfigError, CorruptCorpusError, HyperwordError, OutputExistsError
from hyperword.cli import encode as cli_encode
from hyperword.encode import encode, read_token_manifest
from hyperword.formats.tokens import NpyWriter, dtype_for_vocab
from hyperword.tokenizer import META_FILE, TrainOptions, train_tokenizer

spm = pytest.importorskip("sentencepiece")

LANGS = "en,ru,ar,es"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(directory: Path) -> dict[str, bytes]:
    """Every file of a directory (hidden ones too), by name."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def _wired() -> bool:
    from hyperword.cli import build_parser

    subs = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return any("encode" in a.choices for a in subs)


def cli(*argv: str) -> int:
    """``hyperword encode ...`` through ``cli.main`` once it is wired, else through a parser
    holding only ``register``, with the same error contract (one line, exit 1)."""
    if _wired():
        from hyperword.cli import main

        return main(["encode", *argv])
    parser = argparse.ArgumentParser(prog="hyperword")
    cli_encode.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["encode", *argv])
    try:
        args.func(args)
    except (HyperwordError, OSError) as e:
        print(f"hyperword: error: {e}")
        return 1
    return 0


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("encode")


@pytest.fixture(scope="module")
def corpus(base: Path) -> Path:
    hyperword.generate(base / "corpus", 20_000, langs=LANGS, shard_words=5_000, seed=1)
    return base / "corpus"


@pytest.fixture(scope="module")
def tokenizer(base: Path, corpus: Path) -> Path:
    train_tokenizer([str(corpus)], base / "tok", options=TrainOptions(vocab_size=700, max_sentences=2500, seed=5))
    return base / "tok"


@pytest.fixture(scope="module")
def encoded(base: Path, tokenizer: Path, corpus: Path) -> Path:
    encode(tokenizer, corpus, base / "tokens", threads=1)
    return base / "tokens"


def test_every_document_round_trips_with_an_eos_after_it(encoded: Path, tokenizer: Path, corpus: Path) -> None:
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer / "tokenizer.model"))
    eos = sp.eos_id()
    m = read_token_manifest(encoded)
    source = hyperword.open_corpus(corpus).manifest
    assert len(m.shards) == len(source.shards) > 1
    assert m.documents == source.rows
    for shard, src in zip(m.shards, source.shards):
        tokens = np.load(encoded / shard.tokens_path, mmap_mode="r")
        ends = np.load(encoded / shard.docs_path, mmap_mode="r")
        assert isinstance(tokens, np.memmap) and isinstance(ends, np.memmap)
        assert tokens.dtype == np.uint16 and ends.dtype == np.int64
        assert tokens.ndim == ends.ndim == 1
        assert len(ends) == shard.documents == src.rows and len(tokens) == shard.tokens == ends[-1]
        assert np.all(np.diff(ends) >= 1) and ends[0] >= 1
        assert np.all(tokens[ends - 1] == eos)
        assert int(np.count_nonzero(tokens == eos)) == len(ends)  # eos only between documents
        with pa.memory_map(str(corpus / src.path)) as f:
            rows = ipc.open_file(f).read_all().column("text").to_pylist()
        starts = np.concatenate([[0], ends[:-1]])
        for k, (s, e) in enumerate(zip(starts, ends)):
            assert sp.decode(tokens[s : e - 1].tolist()) == rows[k], (shard.index, k)


def test_manifest_records_everything_and_matches_the_files(encoded: Path, tokenizer: Path, corpus: Path) -> None:
    data = json.loads((encoded / "manifest.json").read_text(encoding="utf-8"))
    assert (data["format"], data["format_version"], data["kind"], data["mode"]) == (
        "hyperword-tokens",
        1,
        "tokens",
        "exact",
    )
    assert data["dtype"] == "uint16" and "vocabulary size" in data["dtype_rule"]
    tok = data["tokenizer"]
    assert (
        tok["sha256"] == sha(tokenizer / "tokenizer.model")
        and tok["vocab_size"] == 700
        and tok["model_type"] == "unigram"
    )
    assert tok["eos_id"] == spm.SentencePieceProcessor(model_file=str(tokenizer / "tokenizer.model")).eos_id()
    src = data["source"]
    assert src["manifest_sha256"] == sha(corpus / "manifest.json") and src["kind"] == "mnemo"
    assert src["fingerprint"] == hyperword.read_manifest(corpus).fingerprint
    assert (
        data["totals"]["documents"]
        == sum(s["documents"] for s in data["shards"])
        == hyperword.read_manifest(corpus).rows
    )
    assert data["totals"]["tokens"] == sum(s["tokens"] for s in data["shards"])
    for i, s in enumerate(data["shards"]):
        assert s["index"] == i and s["tokens_path"] == f"tokens-{i:05d}.npy" and s["docs_path"] == f"docs-{i:05d}.npy"
        assert s["tokens_sha256"] == sha(encoded / s["tokens_path"]) and s["docs_sha256"] == sha(
            encoded / s["docs_path"]
        )
        assert s["tokens_bytes"] == (encoded / s["tokens_path"]).stat().st_size
    assert sorted(p.name for p in encoded.iterdir()) == sorted(
        ["manifest.json", *(s["tokens_path"] for s in data["shards"]), *(s["docs_path"] for s in data["shards"])]
    )


def test_two_threads_are_byte_identical_to_one(encoded: Path, tokenizer: Path, corpus: Path, tmp_path: Path) -> None:
    m = encode(tokenizer, corpus, tmp_path / "t2", threads=2)
    assert m.run is not None and m.run.generated_shards == len(m.shards)
    assert files(tmp_path / "t2") == files(encoded)


def test_parquet_corpus_with_two_threads_round_trips(tokenizer: Path, tmp_path: Path) -> None:
    src = tmp_path / "pq"
    hyperword.generate(src, 6_000, langs=LANGS, shard_words=3_000, format="parquet", seed=3)
    one = encode(tokenizer, src, tmp_path / "t1", threads=1)
    encode(tokenizer, src, tmp_path / "t2", threads=2)
    assert files(tmp_path / "t1") == files(tmp_path / "t2")
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer / "tokenizer.model"))
    rows = hyperword.open_corpus(src).to_table().column("text").to_pylist()
    tokens = np.concatenate([np.load(p, mmap_mode="r") for p in one.tokens_paths()])
    ends = np.concatenate(
        [
            np.load(d, mmap_mode="r") + off
            for d, off in zip(one.docs_paths(), np.cumsum([0, *(s.tokens for s in one.shards[:-1])]))
        ]
    )
    starts = np.concatenate([[0], ends[:-1]])
    assert [sp.decode(tokens[s : e - 1].tolist()) for s, e in zip(starts, ends)] == rows


def test_resume_regenerates_only_damaged_shards_byte_identically(
    encoded: Path, tokenizer: Path, corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "t"
    shutil.copytree(encoded, out)
    want = files(out)
    m = encode(tokenizer, corpus, out, threads=1)
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (0, len(m.shards))
    (out / "tokens-00001.npy").unlink()
    with open(out / "docs-00002.npy", "r+b") as f:
        f.truncate(100)
    m = encode(tokenizer, corpus, out, threads=1)
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (2, len(m.shards) - 2)
    assert files(out) == want
    # an interrupted run: state directory and a stray temporary, no manifest
    (out / "manifest.json").unlink()
    (out / "tokens-00000.npy").unlink()
    (out / ".tokens-00000.npy.tmp").write_bytes(b"partial")
    (out / ".hyperword").mkdir()
    (out / ".hyperword" / "run.json").write_text(json.dumps({"fingerprint": m.fingerprint}, separators=(",", ":")))
    for s in m.shards[1:]:
        (out / ".hyperword" / f"{s.tokens_path}.json").write_text(json.dumps(s.to_dict()))
    m = encode(tokenizer, corpus, out, threads=1)
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (1, len(m.shards) - 1)
    assert files(out) == want


def test_an_interrupt_before_the_caller_holds_the_new_writer_leaves_no_temporary(
    tokenizer: Path, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C just after ``docs-00001.npy``'s writer created its ``.tmp`` file, before the
    caller holds it: the run still removes every temporary (the tokens' one is aborted)."""
    import hyperword.encode.run as encode_run

    def interrupted(path: Path, dtype: np.dtype[np.generic]) -> NpyWriter:
        w = NpyWriter(path, dtype)
        if path.name == "docs-00001.npy":
            raise KeyboardInterrupt
        return w

    monkeypatch.setattr(encode_run, "NpyWriter", interrupted)
    out = tmp_path / "t"
    with pytest.raises(KeyboardInterrupt):
        encode(tokenizer, corpus, out, threads=1)
    assert sorted(os.listdir(out)) == [".hyperword", "docs-00000.npy", "tokens-00000.npy"]


def test_other_inputs_are_refused_without_force(
    encoded: Path, tokenizer: Path, corpus: Path, base: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    hyperword.generate(other, 3_000, langs="ru", seed=2)
    out = tmp_path / "t"
    shutil.copytree(encoded, out)
    before = files(out)
    with pytest.raises(OutputExistsError, match="force"):
        encode(tokenizer, other, out)
    tok2 = tmp_path / "tok2"
    train_tokenizer([str(corpus)], tok2, options=TrainOptions(vocab_size=500, max_sentences=1000, seed=1))
    with pytest.raises(OutputExistsError, match="force"):
        encode(tok2, corpus, out)
    assert files(out) == before
    assert cli("--tokenizer", str(tokenizer), "--corpus", str(other), "--out", str(out)) == 1
    m = encode(tokenizer, other, out, force=True)
    assert m.documents == hyperword.read_manifest(other).rows
    assert sorted(p.name for p in out.iterdir()) == ["docs-00000.npy", "manifest.json", "tokens-00000.npy"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="not empty"):
        encode(tokenizer, other, foreign)


def test_bad_inputs_are_one_clear_error_and_write_nothing(
    tokenizer: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="no such directory"):
        encode(tmp_path / "missing", corpus, out)
    not_tok = tmp_path / "not_tok"
    not_tok.mkdir()
    (not_tok / "tokenizer.model").write_bytes(b"garbage")
    with pytest.raises(ConfigError, match="not a tokenizer directory"):
        encode(not_tok, corpus, out)
    (not_tok / META_FILE).write_bytes((tokenizer / META_FILE).read_bytes())
    with pytest.raises(ConfigError, match="not a sentencepiece model"):
        encode(not_tok, corpus, out)
    with pytest.raises(ConfigError, match="unknown dtype"):
        encode(tokenizer, corpus, out, dtype="uint8")
    with pytest.raises(ConfigError, match="unknown mode"):
        encode(tokenizer, corpus, out, mode="packed")
    with pytest.raises(ConfigError, match="threads"):
        encode(tokenizer, corpus, out, threads=0)
    bad = tmp_path / "bad_corpus"
    shutil.copytree(corpus, bad)
    shard = bad / hyperword.read_manifest(bad).shards[1].path
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(CorruptCorpusError, match="checksum differs"):
        encode(tokenizer, bad, out)
    with pytest.raises(ConfigError, match="no such directory"):
        encode(tokenizer, tmp_path / "nope", out)
    assert not out.exists()
    capsys.readouterr()
    for argv, code in (
        (["--tokenizer", str(tmp_path / "missing"), "--corpus", str(corpus), "--out", str(out)], 2),  # refused input
        (["--tokenizer", str(tokenizer), "--corpus", str(bad), "--out", str(out)], 1),  # a corrupt corpus
        (
            [
                "--tokenizer",
                str(tokenizer),
                "--corpus",
                str(corpus),
                "--out",
                str(out),
                "--mode",
                "aligned",
                "--lexicon",
                str(tmp_path / "no.tsv"),
            ],
            1,
        ),
    ):
        assert cli(*argv) == code, argv
        err = capsys.readouterr()
        lines = [ln for ln in (err.out + err.err).splitlines() if ln.strip()]
        assert len(lines) == 1 and "error" in lines[0], lines
    assert not out.exists()


def test_a_model_without_eos_is_refused(tokenizer: Path, corpus: Path, tmp_path: Path) -> None:
    rows = hyperword.open_corpus(corpus).head(500).column("text").to_pylist()
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(rows), model_writer=model, vocab_size=200, eos_id=-1, minloglevel=2
    )
    tok = tmp_path / "no_eos"
    tok.mkdir()
    (tok / "tokenizer.model").write_bytes(model.getvalue())
    (tok / META_FILE).write_bytes((tokenizer / META_FILE).read_bytes())
    with pytest.raises(ConfigError, match="eos"):
        encode(tok, corpus, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_prints_a_summary(
    tokenizer: Path, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli("--tokenizer", str(tokenizer), "--corpus", str(corpus), "--out", str(tmp_path / "t"), "--threads", "1") == 0
    )
    out = capsys.readouterr().out
    assert "documents" in out and "tokens/s" in out
    assert f"{hyperword.read_manifest(corpus).rows} documents" in out


def test_dtype_rule_and_streamed_npy_equal_numpy_save(tmp_path: Path) -> None:
    assert dtype_for_vocab(65_536) == np.uint16 and dtype_for_vocab(65_537) == np.uint32
    values = np.arange(70_000, dtype=np.uint32) * 7
    w = NpyWriter(tmp_path / "a.npy", np.dtype("<u4"))
    w.write(values[:123])
    w.write(values[123:])
    size, digest = w.finish()
    np.save(tmp_path / "b.npy", values)
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    assert (size, digest) == ((tmp_path / "a.npy").stat().st_size, sha(tmp_path / "a.npy"))
    assert not (tmp_path / ".a.npy.tmp").exists()
