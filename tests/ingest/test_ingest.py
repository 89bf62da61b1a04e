"""Natural text ingestion (python/hyperword/ingest/, shards.py, cli_ingest.py).

Every input kind into the generator's corpus layout; split; reproducibility; resume; refusal;
one-line errors that leave nothing behind; the `ingest` subcommand.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from _helpers import FIXTURES, SHARED_DATA, dir_bytes, snapshot

import hyperword
from hyperword import cli
from hyperword import ingest as ingest_mod
from hyperword.cli import ingest as cli_ingest
from hyperword.formats import corpus as shards
from hyperword.formats.reader import open_corpus
from hyperword.ingest import ingest, ingest_all, split_side

NATURAL = SHARED_DATA / "natural"
INGEST_FIXTURES = FIXTURES / "ingest"

DOCS = [
    "Вода течёт, а камень лежит.",
    "The sun rises in the east.",
    "الماء مصدر الحياة",
    "  leading and trailing spaces are kept  ",
    "两行 文本 🌊",
    "Le cœur a ses raisons",
    "שמש ומים",
    "tab\tseparated\twords",
]
LANGS = ["ru", "en", "ar", None, "zh", "fr", "he", "en"]


def texts(directory: Path) -> list[str]:
    return [str(t) for t in open_corpus(directory).to_table().column("text").to_pylist()]


def shard_bytes(directory: Path) -> dict[str, bytes]:
    return {k: v for k, v in dir_bytes(directory).items() if k.startswith("shard-")}


def lines_of(path: Path) -> list[str]:
    """The non-blank lines of a text file, as ingest defines them."""
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return [line for line in lines if line.strip()]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def cli_run(*argv: object) -> None:
    """Run `ingest ARGV` through a parser with only cli_ingest registered (as cli.py will)."""
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    cli_ingest.register(sub)
    args = p.parse_args(["ingest", *(str(a) for a in argv)])
    args.func(args)


# --- the real sentences ---------------------------------------------------------------------------


@pytest.mark.skipif(not NATURAL.is_dir(), reason="shared/data/natural is absent")
def test_natural_sentences_round_trip_with_their_language(tmp_path: Path) -> None:
    files = sorted(NATURAL.glob("*.txt"))
    assert files
    for path in files:
        lang = path.stem
        out = tmp_path / lang
        m = ingest([path], out, lang=lang, shard_docs=1000)
        expected = lines_of(path)
        assert m.rows == len(expected) == m.raw["sources"][0]["documents"]
        assert m.kind == "natural" and m.seed is None and m.lexicon is None
        assert [s.rows for s in m.shards] == [min(1000, len(expected) - i) for i in range(0, len(expected), 1000)]
        table = open_corpus(out).to_table()
        assert table.column("text").to_pylist() == expected
        assert set(table.column("lang").to_pylist()) == {lang}
        assert m.words == sum(len(t.split()) for t in expected)
        assert m.text_bytes == sum(len(t.encode()) for t in expected)
        # The same rows through pyarrow.dataset and polars.
        dataset = pads.dataset([str(p) for p in m.shard_paths()], format="ipc").to_table()
        assert dataset.equals(table)
        frame = pl.concat([pl.read_ipc(p) for p in m.shard_paths()])
        assert frame["text"].to_list() == expected
        assert frame.columns == ["text", "lang"]


# --- every input kind -----------------------------------------------------------------------------


def test_text_lines_bom_crlf_blank_and_whitespace(tmp_path: Path) -> None:
    m = ingest(INGEST_FIXTURES / "crlf_bom.txt", tmp_path / "o")
    assert texts(tmp_path / "o") == [
        "first line after a BOM",
        "second line\twith a tab  ",
        "третья строка",
        "last line without a newline",
    ]
    assert open_corpus(tmp_path / "o").schema().names == ["text"]  # no language known: no column
    assert m.config["columns"] == ["text"] and m.config["doc_per"] == "line"


def test_jsonl_fields_languages_nulls_and_fallback(tmp_path: Path) -> None:
    src = INGEST_FIXTURES / "docs.jsonl"
    ingest(src, tmp_path / "a", lang_field="lang", lang="und")
    rows = open_corpus(tmp_path / "a").to_table().to_pylist()
    assert rows == [
        {"text": "Вода течёт, а камень лежит.", "lang": "ru"},
        {"text": "The sun rises in the east.", "lang": "en"},
        {"text": "الماء مصدر الحياة", "lang": "ar"},
        {"text": "  leading and trailing spaces are kept  ", "lang": "und"},  # null lang: --lang fills in
        {"text": "两行\n文本 with an escaped newline 🌊", "lang": "zh"},
        {"text": "Le cœur a ses raisons", "lang": "fr"},
    ]  # a blank line, a null text and a whitespace-only text are skipped
    # Another field as the text.
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"body": t, "n": i}) + "\n" for i, t in enumerate(DOCS)), encoding="utf-8")
    ingest([other], tmp_path / "b", field="body")
    assert texts(tmp_path / "b") == DOCS


def _docs_table(langs: bool = True) -> pa.Table:
    cols: dict[str, Any] = {"id": list(range(len(DOCS))), "text": DOCS}
    if langs:
        cols["language"] = LANGS
    return pa.table(cols)


@pytest.mark.filterwarnings("ignore:Feather V1 files are deprecated:DeprecationWarning")
def test_every_input_kind_gives_the_same_shards(tmp_path: Path) -> None:
    """The same documents as text, JSONL, Parquet, Arrow file/stream, Feather v1/v2 and a saved
    dataset: byte-identical shards (only the manifest's sources differ)."""
    srcs = tmp_path / "src"
    srcs.mkdir()
    table = _docs_table(langs=False)
    write_lines(srcs / "d.txt", DOCS)
    (srcs / "d.jsonl").write_text(
        "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in DOCS), encoding="utf-8"
    )
    pq.write_table(table, srcs / "d.parquet")
    with ipc.new_file(srcs / "file.arrow", table.schema) as w:
        w.write_table(table, max_chunksize=3)
    with ipc.new_stream(srcs / "stream.arrows", table.schema) as w:
        w.write_table(table, max_chunksize=3)
    feather.write_feather(table, srcs / "v2.feather")
    feather.write_feather(table, srcs / "v1.feather", version=1)
    with gzip.open(srcs / "d.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps({"text": t}) + "\n" for t in DOCS))
    paths = sorted(srcs.iterdir())
    reference = None
    for path in paths:
        out = tmp_path / f"out-{path.name}"
        m = ingest([path], out, shard_docs=3)
        assert len(m.shards) == 3, path
        assert texts(out) == DOCS, path
        got = shard_bytes(out)
        reference = reference or got
        assert got == reference, path
    # A directory stands for its files in sorted order (auto-detected, each its own source).
    m = ingest([srcs], tmp_path / "dir", shard_docs=100)
    assert [Path(s["path"]).name for s in m.raw["sources"]] == [p.name for p in paths]
    assert texts(tmp_path / "dir") == DOCS * len(paths)


def test_arrow_and_parquet_columns_types_and_nulls(tmp_path: Path) -> None:
    table = pa.table(
        {
            "body": pa.array(DOCS + [None, " "], pa.large_string()).dictionary_encode(),
            "language": pa.array(LANGS + ["en", "en"], pa.string()),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    with ipc.new_stream(tmp_path / "t.arrow", table.schema) as w:
        w.write_table(table)
    for name in ("t.parquet", "t.arrow"):
        out = tmp_path / f"out-{name}"
        ingest([tmp_path / name], out, column="body", lang_column="language")
        rows = open_corpus(out).to_table().to_pylist()
        assert rows == [{"text": t, "lang": lang} for t, lang in zip(DOCS, LANGS)]


def test_text_documents_per_file(tmp_path: Path) -> None:
    src = tmp_path / "docs"
    (src / "b").mkdir(parents=True)
    (src / "a.txt").write_text("first document\n\nwith two paragraphs\n", encoding="utf-8")
    (src / "b" / "c.txt").write_text("второй документ", encoding="utf-8")
    (src / "b" / "empty.txt").write_text("\n  \n", encoding="utf-8")
    (src / ".hidden.txt").write_text("skipped", encoding="utf-8")
    (src / "notes").write_text("no extension: skipped unless --input-format", encoding="utf-8")
    m = ingest([src], tmp_path / "o", doc_per="file")
    assert texts(tmp_path / "o") == ["first document\n\nwith two paragraphs\n", "второй документ"]
    assert [(Path(s["path"]).name, s["documents"]) for s in m.raw["sources"]] == [
        ("a.txt", 1),
        ("c.txt", 1),
        ("empty.txt", 0),
    ]
    m2 = ingest([src], tmp_path / "o2", doc_per="file", input_format="text")
    assert m2.rows == 3


def test_hugging_face_dataset_and_dataset_dict(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    train = datasets.Dataset.from_dict({"text": DOCS, "lang": LANGS})
    test = datasets.Dataset.from_dict({"text": ["held out one", "held out two"], "lang": ["en", None]})
    train.save_to_disk(str(tmp_path / "ds"))
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(tmp_path / "dd"))

    m = ingest([tmp_path / "ds"], tmp_path / "o1", lang_column="lang")
    assert open_corpus(tmp_path / "o1").to_table().to_pylist() == [
        {"text": t, "lang": lang} for t, lang in zip(DOCS, LANGS)
    ]
    assert m.raw["sources"][0]["path"].endswith(".arrow")
    ingest([tmp_path / "dd"], tmp_path / "o2", lang_column="lang")
    assert shard_bytes(tmp_path / "o2") == shard_bytes(tmp_path / "o1")  # the default split is train
    ingest([tmp_path / "dd"], tmp_path / "o3", hf_split="test", input_format="hf")
    assert texts(tmp_path / "o3") == ["held out one", "held out two"]
    loaded = datasets.load_from_disk(str(tmp_path / "dd"))["test"]["text"]
    assert texts(tmp_path / "o3") == list(loaded)
    with pytest.raises(
        hyperword.ConfigError, match=r"no split 'validation' in this DatasetDict \(splits: train, test\)"
    ):
        ingest([tmp_path / "dd"], tmp_path / "o4", hf_split="validation")
    assert not (tmp_path / "o4").exists()


# --- the output -----------------------------------------------------------------------------------


def test_manifest_schema_fingerprint_and_shard_records(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "d.txt", DOCS * 3)
    m = ingest([src], tmp_path / "o", shard_docs=10, lang="xx")
    raw = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert list(raw) == [
        "format",
        "format_version",
        "kind",
        "versions",
        "fingerprint",
        "config",
        "sources",
        "totals",
        "shards",
    ]
    assert raw["format"] == "hyperword-corpus" and raw["format_version"] == 1 and raw["kind"] == "natural"
    assert raw["versions"] == {"hyperword": hyperword.__version__, "pyarrow": pa.__version__}
    assert list(raw["config"]) == sorted(raw["config"])
    assert (
        raw["config"]["shard_docs"] == 10 and raw["config"]["lang"] == "xx" and raw["config"]["compression"] == "zstd"
    )
    data = src.read_bytes()
    assert raw["sources"] == [
        {"path": str(src), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "documents": 24}
    ]
    identity = {
        "format_version": 1,
        "hyperword": hyperword.__version__,
        "config": raw["config"],
        "sources": [{"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}],
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert raw["fingerprint"] == hashlib.sha256(canonical.encode()).hexdigest() == m.fingerprint
    assert raw["totals"] == {"shards": 3, "rows": 24, "words": m.words, "text_bytes": m.text_bytes, "bytes": m.bytes}
    for i, s in enumerate(raw["shards"]):
        path = tmp_path / "o" / s["path"]
        assert s["index"] == i and s["path"] == f"shard-{i:05d}.arrow"
        assert s["bytes"] == path.stat().st_size and s["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        rows = ipc.open_file(path).read_all()
        assert rows.schema == pa.schema([pa.field("text", pa.string(), nullable=False), pa.field("lang", pa.string())])
        assert s["words"] == sum(len(t.split()) for t in rows.column("text").to_pylist())
        assert s["text_bytes"] == sum(len(t.encode()) for t in rows.column("text").to_pylist())
    assert sorted(os.listdir(tmp_path / "o")) == [
        "manifest.json",
        "shard-00000.arrow",
        "shard-00001.arrow",
        "shard-00002.arrow",
    ]
    # zstd: every buffer of the IPC file is compressed with it.
    assert b"ARROW1" == (tmp_path / "o" / "shard-00000.arrow").read_bytes()[:6]


def test_output_formats_and_compressions(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "d.txt", DOCS)
    sizes = {}
    for fmt, comp in (("arrow", "lz4"), ("arrow", "none"), ("parquet", "zstd"), ("parquet", "none")):
        out = tmp_path / f"{fmt}-{comp}"
        m = ingest([src], out, format=fmt, compression=comp, shard_docs=5)
        assert texts(out) == DOCS
        assert [s.path for s in m.shards] == [f"shard-00000.{fmt}", f"shard-00001.{fmt}"]
        sizes[fmt, comp] = m.bytes
    assert pq.read_table(tmp_path / "parquet-zstd" / "shard-00000.parquet").num_rows == 5
    m = ingest([src], tmp_path / "level", compression_level=9)
    assert m.config["compression_level"] == 9
    with pytest.raises(hyperword.ConfigError, match="only zstd takes a level"):
        ingest([src], tmp_path / "bad-level", compression="lz4", compression_level=3)


def test_record_batches_are_cut_by_text_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_mod, "BATCH_TEXT_BYTES", 100)
    docs = [f"document {i} " + "x" * (i % 50) for i in range(200)] + ["y" * 300]
    ingest([write_lines(tmp_path / "d.txt", docs)], tmp_path / "o", shard_docs=1000)
    reader = ipc.open_file(tmp_path / "o" / "shard-00000.arrow")
    sizes = [
        sum(len(t.encode()) for t in reader.get_batch(i).column(0).to_pylist())
        for i in range(reader.num_record_batches)
    ]
    assert reader.num_record_batches > 10
    assert all(size <= 100 for size in sizes[:-1]) and sizes[-1] == 300  # one document alone may exceed it
    assert texts(tmp_path / "o") == docs


def test_small_read_blocks_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs are read in blocks cut at line breaks: tiny blocks give the same documents, the
    same batches and the same line numbers in errors as one block."""
    docs = ["z" * 250 if i % 37 == 5 else f"документ {i} " + "x" * (i % 50) for i in range(300)]
    src = tmp_path / "d.txt"
    src.write_bytes(
        b"\xef\xbb\xbf"
        + "".join(d + ("\r\n" if i % 3 else "\n") + ("\n" if i % 7 == 0 else "") for i, d in enumerate(docs)).encode()
    )
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), encoding="utf-8")
    monkeypatch.setattr(ingest_mod, "BATCH_TEXT_BYTES", 100)
    ingest([src], tmp_path / "one", shard_docs=64)
    ingest([jsonl], tmp_path / "one-jsonl", shard_docs=64)
    monkeypatch.setattr(ingest_mod, "READ_BLOCK", 7)
    ingest([src], tmp_path / "many", shard_docs=64)
    ingest([jsonl], tmp_path / "many-jsonl", shard_docs=64)
    assert texts(tmp_path / "many") == docs
    expected = shard_bytes(tmp_path / "one")
    assert (
        shard_bytes(tmp_path / "many")
        == shard_bytes(tmp_path / "one-jsonl")
        == shard_bytes(tmp_path / "many-jsonl")
        == expected
    )
    reader = ipc.open_file(tmp_path / "many" / "shard-00000.arrow")
    for i in range(reader.num_record_batches):
        column = reader.get_batch(i).column(0).to_pylist()
        assert len(column) == 1 or sum(len(t.encode()) for t in column) <= 100
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"one\ntwo\r\n\nfour \xe2\x82 broken\nfive\n")
    with pytest.raises(hyperword.ConfigError, match=r"bad\.txt:4: invalid UTF-8 \(byte 0xe2 at byte 6 of the line\)"):
        ingest([bad], tmp_path / "bad")
    bad.write_bytes(b"one\ntwo\r\n\nfour\nfive \x00\n")
    with pytest.raises(hyperword.ConfigError, match=r"bad\.txt:5: binary file"):
        ingest([bad], tmp_path / "bad")


# --- split ----------------------------------------------------------------------------------------


def test_split_fraction_and_determinism(tmp_path: Path) -> None:
    docs = [f"document number {i} {'αβγ' * (i % 3)}" for i in range(10_000)]
    write_lines(tmp_path / "all.txt", docs)
    ms = ingest_all([tmp_path / "all.txt"], tmp_path / "a", split=0.1, shard_docs=3000)
    assert set(ms) == {"train", "validation"}
    assert sorted(os.listdir(tmp_path / "a")) == ["train", "validation"]
    train, validation = texts(tmp_path / "a" / "train"), texts(tmp_path / "a" / "validation")
    assert len(train) + len(validation) == 10_000
    assert 0.085 < len(validation) / 10_000 < 0.115
    assert all(split_side(t, 0.1) == "validation" for t in validation) and all(
        split_side(t, 0.1) == "train" for t in train
    )
    validation_set = set(validation)
    assert train == [t for t in docs if t not in validation_set]  # input order kept within a side
    for side, m in ms.items():
        assert m.config["split"]["fraction"] == 0.1 and m.config["split"]["side"] == side
        assert m.raw["sources"][0]["documents"] == m.rows
        assert hyperword.read_manifest(tmp_path / "a" / side).fingerprint == m.fingerprint
    assert ms["train"].fingerprint != ms["validation"].fingerprint
    # Shuffled, in two files: every document lands on the same side.
    shuffled = docs[:]
    random.Random(7).shuffle(shuffled)
    write_lines(tmp_path / "p1.txt", shuffled[:4000])
    write_lines(tmp_path / "p2.txt", shuffled[4000:])
    m = ingest([tmp_path / "p1.txt", tmp_path / "p2.txt"], tmp_path / "b", split=0.1)
    assert m is not None and m.config["split"]["side"] == "train"
    assert sorted(texts(tmp_path / "b" / "validation")) == sorted(validation)
    assert sorted(texts(tmp_path / "b" / "train")) == sorted(train)
    # Rerun: verified, nothing written; the same in another directory: identical bytes.
    before = snapshot(tmp_path / "a")
    again = ingest_all([tmp_path / "all.txt"], tmp_path / "a", split=0.1, shard_docs=3000)
    assert all(m.run is not None and m.run.generated_shards == 0 for m in again.values())
    assert snapshot(tmp_path / "a") == before
    ingest_all([tmp_path / "all.txt"], tmp_path / "c", split=0.1, shard_docs=3000)
    for side in ("train", "validation"):
        assert dir_bytes(tmp_path / "c" / side) == dir_bytes(tmp_path / "a" / side)


def test_split_that_leaves_a_side_empty_is_refused(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "d.txt", DOCS[:2])
    with pytest.raises(hyperword.ConfigError, match="leaves the validation side empty"):
        ingest([src], tmp_path / "o", split=1e-9)
    assert not (tmp_path / "o").exists()
    with pytest.raises(hyperword.ConfigError, match="strictly between 0 and 1"):
        ingest([src], tmp_path / "o", split=1.0)


# --- reproducibility, resume, refusal ---------------------------------------------------------------


@pytest.fixture
def corpus_src(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "src.txt", [f"line {i} of the corpus, {DOCS[i % len(DOCS)]}" for i in range(1000)])


def test_reruns_are_byte_identical_and_idle(tmp_path: Path, corpus_src: Path) -> None:
    m1 = ingest([corpus_src], tmp_path / "a", shard_docs=300, lang="en")
    m2 = ingest([corpus_src], tmp_path / "b", shard_docs=300, lang="en")
    assert dir_bytes(tmp_path / "a") == dir_bytes(tmp_path / "b")
    assert m1.run is not None and m1.run.generated_shards == 4 and m1.run.reused_shards == 0
    before = snapshot(tmp_path / "a")
    m3 = ingest([corpus_src], tmp_path / "a", shard_docs=300, lang="en")
    assert snapshot(tmp_path / "a") == before  # not even rewritten
    assert m3.run is not None and m3.run.generated_shards == 0 and m3.run.reused_shards == 4
    assert m3.shards == m2.shards


def test_resume_after_deleting_or_truncating_shards(tmp_path: Path, corpus_src: Path) -> None:
    out = tmp_path / "o"
    ingest([corpus_src], out, shard_docs=300)
    original = dir_bytes(out)
    (out / "shard-00001.arrow").unlink()
    with open(out / "shard-00002.arrow", "r+b") as f:
        f.truncate(100)
    before = snapshot(out)
    m = ingest([corpus_src], out, shard_docs=300)
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (2, 2)
    assert dir_bytes(out) == original
    after = snapshot(out)
    for kept in ("shard-00000.arrow", "shard-00003.arrow"):
        assert after[kept] == before[kept]  # untouched: same inode, mtime and bytes


def test_resume_an_interrupted_run(tmp_path: Path, corpus_src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest([corpus_src], tmp_path / "ref", shard_docs=300)
    out = tmp_path / "o"
    finish = shards.ShardWriter.finish
    calls = []

    def interrupted(self: shards.ShardWriter) -> hyperword.ShardInfo:
        calls.append(self.index)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return finish(self)

    monkeypatch.setattr(shards.ShardWriter, "finish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus_src], out, shard_docs=300)
    monkeypatch.undo()
    names = sorted(os.listdir(out))
    assert names == [".hyperword", "shard-00000.arrow", "shard-00001.arrow"]  # no manifest, no temporary file
    state = out / ".hyperword"
    assert sorted(os.listdir(state)) == ["run.json", "shard-00000.arrow.json", "shard-00001.arrow.json"]
    fp = json.loads((state / "run.json").read_text())["fingerprint"]
    assert (state / "run.json").read_text() == json.dumps({"fingerprint": fp}, separators=(",", ":"))
    record = json.loads((state / "shard-00001.arrow.json").read_text())
    assert list(record) == ["index", "path", "rows", "words", "text_bytes", "bytes", "sha256"]
    # A different input is refused over the unfinished run; the same one resumes it.
    other = write_lines(tmp_path / "other.txt", DOCS)
    with pytest.raises(hyperword.OutputExistsError, match="unfinished corpus"):
        ingest([other], out, shard_docs=300)
    m = ingest([corpus_src], out, shard_docs=300)
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (2, 2)
    assert m.fingerprint == fp
    assert dir_bytes(out) == dir_bytes(tmp_path / "ref")
    assert not state.exists()


def test_an_interrupt_before_the_caller_holds_the_new_writer_leaves_no_temporary(
    tmp_path: Path, corpus_src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between a shard writer creating its ``.tmp`` file and the caller holding the
    writer (so it cannot abort it): the run still removes the file (seen once in CI)."""
    open_shard = shards.CorpusRun.open_shard

    def interrupted(self: shards.CorpusRun, *args: Any) -> shards.ShardWriter:
        w = open_shard(self, *args)
        if w.index == 2:
            raise KeyboardInterrupt
        return w

    monkeypatch.setattr(shards.CorpusRun, "open_shard", interrupted)
    out = tmp_path / "o"
    with pytest.raises(KeyboardInterrupt):
        ingest([corpus_src], out, shard_docs=300)
    assert sorted(os.listdir(out)) == [".hyperword", "shard-00000.arrow", "shard-00001.arrow"]


def test_refuses_to_overwrite_without_force(tmp_path: Path, corpus_src: Path) -> None:
    out = tmp_path / "o"
    ingest([corpus_src], out, shard_docs=300)
    before = snapshot(out)
    for kwargs in ({"shard_docs": 200}, {"shard_docs": 300, "lang": "en"}):
        with pytest.raises(hyperword.OutputExistsError, match="already holds a complete corpus.*--force"):
            ingest([corpus_src], out, **kwargs)
    changed = write_lines(tmp_path / "changed.txt", lines_of(corpus_src)[:-1])
    with pytest.raises(hyperword.OutputExistsError):
        ingest([changed], out, shard_docs=300)
    assert snapshot(out) == before
    m = ingest([changed], out, shard_docs=200, force=True)
    assert sorted(os.listdir(out)) == ["manifest.json", *(f"shard-{i:05d}.arrow" for i in range(5))]
    assert m.rows == 999
    # A directory of unrelated files.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(hyperword.OutputExistsError, match="not empty and holds no hyperword corpus"):
        ingest([corpus_src], other)
    assert os.listdir(other) == ["notes.txt"]
    ingest([corpus_src], other, force=True)
    assert (other / "notes.txt").read_text(encoding="utf-8") == "mine"  # force removes only corpus files
    # A file in place of the directory.
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(hyperword.OutputExistsError, match="not a directory"):
        ingest([corpus_src], tmp_path / "file", force=True)


def test_same_layout_as_the_generator(tmp_path: Path, corpus_src: Path) -> None:
    """A generated corpus is refused like any other, and replaced with force (and back)."""
    out = tmp_path / "o"
    generated = hyperword.generate(out, 2000, shard_words=500, threads=1)
    names = sorted(os.listdir(out))
    with pytest.raises(hyperword.OutputExistsError, match="already holds a complete corpus"):
        ingest([corpus_src], out)
    assert sorted(os.listdir(out)) == names
    m = ingest([corpus_src], out, shard_docs=600, force=True)
    assert sorted(os.listdir(out)) == ["manifest.json", "shard-00000.arrow", "shard-00001.arrow"]
    assert hyperword.read_manifest(out).kind == "natural" and m.rows == 1000
    # The generator reads this manifest too (it refuses it without force) and replaces it with force.
    with pytest.raises(hyperword.HyperwordError):
        hyperword.generate(out, 2000, shard_words=500, threads=1)
    again = hyperword.generate(out, 2000, shard_words=500, threads=1, force=True)
    assert again.shards == generated.shards


def test_output_inside_an_input_directory_is_not_read_back(tmp_path: Path) -> None:
    write_lines(tmp_path / "a.txt", DOCS)
    m1 = ingest([tmp_path], tmp_path / "corpus")
    m2 = ingest([tmp_path], tmp_path / "corpus")
    assert m2.run is not None and m2.run.generated_shards == 0 and m1.rows == m2.rows == len(DOCS)


# --- bad input: one line, nothing written -------------------------------------------------------------

BadCase = Callable[[Path], "tuple[list[Path], dict[str, Any]]"]


def _file(name: str, data: bytes, **kwargs: Any) -> BadCase:
    def make(d: Path) -> tuple[list[Path], dict[str, Any]]:
        (d / name).write_bytes(data)
        return [d / name], kwargs

    return make


def _parquet(d: Path) -> tuple[list[Path], dict[str, Any]]:
    pq.write_table(pa.table({"body": ["a"], "id": [1]}), d / "t.parquet")
    return [d / "t.parquet"], {}


def _parquet_int(d: Path) -> tuple[list[Path], dict[str, Any]]:
    pq.write_table(pa.table({"text": [1, 2]}), d / "t.parquet")
    return [d / "t.parquet"], {}


def _dangling_link(d: Path) -> tuple[list[Path], dict[str, Any]]:
    os.symlink(d / "gone", d / "link.txt")
    return [d / "link.txt"], {}


def _good_then_bad(d: Path) -> tuple[list[Path], dict[str, Any]]:
    write_lines(d / "good.txt", DOCS)
    (d / "bad.txt").write_bytes(b"fine\nfine\n\xc3\x28 broken\n")
    return [d / "good.txt", d / "bad.txt"], {}


BAD_INPUTS: dict[str, tuple[BadCase, type[Exception], str]] = {
    "nul bytes": (
        _file("b.txt", b"text\nmore\n\x00\x01\x02\n"),
        hyperword.ConfigError,
        r"b\.txt:3: binary file \(NUL byte\)",
    ),
    "nul bytes, per file": (
        _file("b.txt", b"text\nmore\n\x00\x01\x02\n", doc_per="file"),
        hyperword.ConfigError,
        r"b\.txt:3: binary file",
    ),
    "invalid utf-8": (
        lambda d: ([INGEST_FIXTURES / "bad_utf8.txt"], {}),
        hyperword.ConfigError,
        r"bad_utf8\.txt:2: invalid UTF-8 \(byte 0xff at byte 5 of the line\)",
    ),
    "invalid utf-8, second file": (_good_then_bad, hyperword.ConfigError, r"bad\.txt:3: invalid UTF-8 \(byte 0xc3"),
    "invalid utf-8 in jsonl": (
        _file("b.jsonl", b'{"text": "a"}\n{"text": "\xff"}\n'),
        hyperword.ConfigError,
        r"b\.jsonl:2: invalid UTF-8",
    ),
    "malformed json": (
        lambda d: ([INGEST_FIXTURES / "malformed.jsonl"], {}),
        hyperword.ConfigError,
        r"malformed\.jsonl:3: malformed JSON \(.* at column \d+\)",
    ),
    "json not an object": (
        _file("b.jsonl", b'{"text": "a"}\n["text"]\n'),
        hyperword.ConfigError,
        r"b\.jsonl:2: expected a JSON object, got an array",
    ),
    "missing json field": (
        _file("b.jsonl", b'{"text": "a"}\n{"body": "b", "id": 2}\n'),
        hyperword.ConfigError,
        r"b\.jsonl:2: no field 'text' \(fields: 'body', 'id'\)",
    ),
    "missing lang field": (
        _file("b.jsonl", b'{"text": "a", "lang": "en"}\n{"text": "b"}\n', lang_field="lang"),
        hyperword.ConfigError,
        r"b\.jsonl:2: no field 'lang' \(fields: 'text'\)",
    ),
    "json field not a string": (
        _file("b.jsonl", b'{"text": 12}\n'),
        hyperword.ConfigError,
        r"b\.jsonl:1: field 'text' is a number, not a string",
    ),
    "unpaired surrogate": (
        _file("b.jsonl", b'{"text": "a \\ud800 b"}\n'),
        hyperword.ConfigError,
        r"b\.jsonl:1: .*unpaired surrogate",
    ),
    "missing column": (_parquet, hyperword.ConfigError, r"t\.parquet: no column 'text' \(columns: 'body', 'id'\)"),
    "column not strings": (
        _parquet_int,
        hyperword.ConfigError,
        r"t\.parquet: column 'text' has type int64, not a string type",
    ),
    "not parquet": (_file("t.parquet", b"just text\n"), hyperword.ConfigError, r"t\.parquet: not a Parquet file"),
    "not arrow": (
        _file("t.arrow", b"just text, long enough to be read\n"),
        hyperword.ConfigError,
        r"t\.arrow: not .*Arrow IPC",
    ),
    "empty file": (_file("e.txt", b""), hyperword.ConfigError, r"e\.txt: no documents"),
    "blank file": (_file("e.txt", b"\n  \n\t\r\n"), hyperword.ConfigError, r"e\.txt: no documents"),
    "empty directory": (lambda d: ([d], {}), hyperword.ConfigError, r"no input files in this directory"),
    "nonexistent path": (lambda d: ([d / "missing.txt"], {}), FileNotFoundError, r"missing\.txt"),
    "dangling link": (_dangling_link, FileNotFoundError, r"link\.txt"),
    "bad gzip": (_file("b.txt.gz", b"not gzip at all"), hyperword.ConfigError, r"b\.txt\.gz: cannot be read"),
    "option for another kind": (
        _file("b.txt", b"a\n", field="body"),
        hyperword.ConfigError,
        r"--field applies to JSONL input",
    ),
    "hf flag on a file": (
        _file("b.txt", b"a\n", input_format="hf"),
        hyperword.ConfigError,
        r"b\.txt: a Hugging Face dataset is a directory",
    ),
    "unknown input format": (
        _file("b.txt", b"a\n", input_format="csv"),
        hyperword.ConfigError,
        r"unknown input format 'csv'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    make, error, pattern = BAD_INPUTS[case]
    srcdir = tmp_path / "in"
    srcdir.mkdir()
    sources, kwargs = make(srcdir)
    out = tmp_path / "out"
    with pytest.raises(error) as info:
        ingest(sources, out, **kwargs)
    message = str(info.value)
    assert "\n" not in message and re.search(pattern, message), message
    assert not out.exists()
    # The CLI handler raises the same error (main prints it as `hyperword: error: ...`).
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in kwargs.items()]
    with pytest.raises((error, SystemExit)):
        cli_run(*sources, "--out", out, *flags)
    assert not out.exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "d.txt", DOCS)
    src.chmod(0)
    with pytest.raises(PermissionError, match=r"d\.txt"):
        ingest([src], tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_bad_input_refused_before_an_existing_corpus_is_touched(tmp_path: Path, corpus_src: Path) -> None:
    out = tmp_path / "o"
    ingest([corpus_src], out)
    before = snapshot(out)
    with pytest.raises(hyperword.ConfigError):
        ingest([corpus_src, INGEST_FIXTURES / "bad_utf8.txt"], out, force=True)
    assert snapshot(out) == before


# --- the command line -------------------------------------------------------------------------------


def test_cli_matches_the_api_and_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = INGEST_FIXTURES / "docs.jsonl"
    cli_run(
        src,
        "--out",
        tmp_path / "cli",
        "--lang-field",
        "lang",
        "--lang",
        "und",
        "--shard-docs",
        "4",
        "--compression",
        "lz4",
    )
    printed = capsys.readouterr().out
    assert re.search(r"^6 documents, \d+ words in 2 shard\(s\), [\d.]+ MB on disk: .*cli$", printed, re.M), printed
    assert "documents/s" in printed
    ingest([src], tmp_path / "api", lang_field="lang", lang="und", shard_docs=4, compression="lz4")
    assert dir_bytes(tmp_path / "cli") == dir_bytes(tmp_path / "api")
    cli_run(
        src,
        "--out",
        tmp_path / "cli",
        "--lang-field",
        "lang",
        "--lang",
        "und",
        "--shard-docs",
        "4",
        "--compression",
        "lz4",
    )
    assert "complete and verified: nothing to do" in capsys.readouterr().out
    cli_run(src, "--out", tmp_path / "split", "--split", "0.5", "--input-format", "jsonl", "--shard-docs", "1k")
    printed = capsys.readouterr().out
    assert re.search(r"documents, .*/split/train$", printed, re.M) and re.search(r"split/validation$", printed, re.M)
    with pytest.raises(SystemExit):
        cli_run(src, "--out", tmp_path / "x", "--split", "2")
    with pytest.raises(hyperword.OutputExistsError):
        cli_run(src, "--out", tmp_path / "cli")
    assert not (tmp_path / "x").exists()


def _wired() -> bool:
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return "ingest" in sub.choices


@pytest.mark.skipif(not _wired(), reason="`hyperword ingest` is not wired into cli.py yet")
def test_hyperword_ingest_command(tmp_path: Path, run_cli: Any) -> None:
    rc, stdout, stderr = run_cli(
        "ingest", INGEST_FIXTURES / "docs.jsonl", "--out", tmp_path / "o", "--lang-field", "lang"
    )
    assert rc == 0 and stderr == "", stderr
    assert "6 documents" in stdout
    rc, stdout, stderr = run_cli("ingest", INGEST_FIXTURES / "malformed.jsonl", "--out", tmp_path / "bad")
    assert rc == 2 and stdout == ""
    assert re.fullmatch(r"hyperword: error: .*malformed\.jsonl:3: malformed JSON .*\n", stderr), stderr
    assert not (tmp_path / "bad").exists()
