"""Writing and reading corpora (rust/core/src/corpus.rs, shard.rs, manifest.rs, batch.rs):
`generate`, `stream`, the manifest, resumption, and interruption."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from _helpers import ALL_COLUMNS, LEXICON_ROWS, REPO, dir_bytes, sha256_file, snapshot, write_tsv

import hyperword
from hyperword import ConfigError, Lexicon, OutputExistsError, RunStats, _hyperword
from hyperword.formats.reader import open_corpus

# A small corpus: 4 shards of 5,000 words, 5 record batches each.
SMALL: dict[str, Any] = dict(words=20_000, shard_words=5_000, batch_words=1_000, seed=3, columns=ALL_COLUMNS)
SHARDS = [f"shard-{i:05d}.arrow" for i in range(4)]


def gen(out: Path, lexicon: Lexicon | Path, **kw: Any) -> hyperword.Manifest:
    cfg = {**SMALL, **kw}
    words = cfg.pop("words")
    return hyperword.generate(out, words, lexicon=lexicon, **cfg)


def shard_table(path: Path) -> pa.Table:
    if path.suffix == ".parquet":
        return pq.read_table(path)
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).read_all()


def corpus_table(m: hyperword.Manifest) -> pa.Table:
    return pa.concat_tables([shard_table(p) for p in m.shard_paths()])


def stream_of(lexicon: Lexicon, **kw: Any) -> pa.RecordBatchReader:
    """`stream` with the options `gen` would use."""
    cfg = {**SMALL, **kw}
    words = cfg.pop("words")
    return hyperword.stream(words, lexicon=lexicon, **cfg)


# --- layout and readability --------------------------------------------------------------------


def test_generate_writes_shards_and_a_manifest(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "corpus"
    m = gen(out, lexicon)
    assert sorted(os.listdir(out)) == sorted([*SHARDS, "manifest.json"])  # no state dir, no temporary files
    assert [s.path for s in m.shards] == SHARDS
    assert [s.index for s in m.shards] == [0, 1, 2, 3]
    assert m.run == RunStats(generated_shards=4, reused_shards=0)
    assert m.directory == out


def test_shards_are_readable_by_pyarrow_and_polars(tmp_path: Path, lexicon: Lexicon) -> None:
    m = gen(tmp_path / "corpus", lexicon)
    for info, path in zip(m.shards, m.shard_paths()):
        with pa.memory_map(str(path)) as source:
            reader = ipc.open_file(source)
            assert reader.num_record_batches == 5
            table = reader.read_all()
        assert table.num_rows == info.rows
        assert table.column_names == ["text", "words", "langs", "concepts", "field"]
        assert feather.read_table(path).equals(table)
        df = pl.read_ipc(path)
        assert df.height == info.rows
        assert df["text"].to_list() == table.column("text").to_pylist()
        assert df["words"].to_list() == table.column("words").to_pylist()


def test_manifest_describes_config_lexicon_and_versions(tmp_path: Path, lexicon: Lexicon, lexicon_path: Path) -> None:
    out = tmp_path / "corpus"
    m = gen(out, lexicon, joiner="-", coherence=0.25, langs="en:2,ru", words_per_phrase=(2, 5))
    raw = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert raw["format"] == "hyperword-corpus"
    assert raw["format_version"] == _hyperword.FORMAT_VERSION == 1
    assert raw["kind"] == "mnemo"
    assert raw["versions"] == {"hyperword": hyperword.__version__, "arrow_rs": _hyperword.ARROW_RS_VERSION}
    assert raw["seed"] == 3
    assert len(raw["fingerprint"]) == 64
    cfg = raw["config"]
    assert {k: cfg[k] for k in ("words", "shard_words", "batch_words", "seed", "format", "compression")} == {
        "words": 20_000,
        "shard_words": 5_000,
        "batch_words": 1_000,
        "seed": 3,
        "format": "arrow",
        "compression": "zstd",
    }
    assert cfg["columns"] == ["text", "words", "langs", "concepts", "field"]
    assert cfg["fusion"] == {
        "words_per_phrase": {"min": 2, "max": 5, "dist": "uniform"},
        "langs": [{"lang": "en", "weight": 2.0}, {"lang": "ru", "weight": 1.0}],
        "mix": "phrase",
        "alpha": 0.0,
        "coherence": 0.25,
        "joiner": "-",
        "case": "as-is",
    }
    assert raw["lexicon"] == {
        "source": str(lexicon_path),
        "sha256": lexicon.sha256,
        "entries": 63,
        "langs": lexicon.langs,
    }
    # the Python view agrees with the file
    assert m.to_dict() == raw
    assert hyperword.read_manifest(out).to_dict() == raw
    assert m.seed == 3 and m.config == cfg and m.lexicon["sha256"] == lexicon.sha256


def test_manifest_shards_match_the_files(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "corpus"
    m = gen(out, lexicon, words=20_500)  # 5 shards, the last one short
    raw = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(raw["shards"]) == 5
    targets = [5000, 5000, 5000, 5000, 500]
    for s, target in zip(raw["shards"], targets):
        path = out / s["path"]
        assert s["bytes"] == path.stat().st_size
        assert s["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        table = shard_table(path)
        assert s["rows"] == table.num_rows
        assert s["words"] == sum(len(w) for w in table.column("words").to_pylist())
        assert s["text_bytes"] == sum(len(t.encode("utf-8")) for t in table.column("text").to_pylist())
        assert target <= s["words"] < target + 6  # ends on the phrase boundary at or just past the target
    totals = raw["totals"]
    for key in ("rows", "words", "text_bytes", "bytes"):
        assert totals[key] == sum(s[key] for s in raw["shards"])
    assert totals["shards"] == 5
    assert (m.rows, m.words, m.bytes, m.text_bytes) == (
        totals["rows"],
        totals["words"],
        totals["bytes"],
        totals["text_bytes"],
    )


def test_columns_have_the_documented_arrow_types(tmp_path: Path, lexicon: Lexicon) -> None:
    m = gen(tmp_path / "corpus", lexicon)
    schema = shard_table(m.shard_paths()[0]).schema
    assert schema.field("text").type == pa.string() and not schema.field("text").nullable
    for name, item in (("words", pa.string()), ("langs", pa.string()), ("concepts", pa.uint32())):
        t = schema.field(name).type
        assert pa.types.is_list(t) and t.value_type == item, (name, t)
    assert schema.field("field").type == pa.string() and schema.field("field").nullable


def test_columns_are_consistent(tmp_path: Path, lexicon: Lexicon) -> None:
    m = gen(tmp_path / "corpus", lexicon, joiner="·")
    for r in corpus_table(m).to_pylist():
        assert r["text"] == "·".join(r["words"])
        assert len(r["words"]) == len(r["langs"]) == len(r["concepts"])
        assert r["concepts"] == [LEXICON_ROWS[(lang, w)][0] for lang, w in zip(r["langs"], r["words"])]
        assert r["field"] == LEXICON_ROWS[(r["langs"][0], r["words"][0])][1]


def test_columns_follow_the_requested_order(tmp_path: Path, lexicon: Lexicon) -> None:
    m = gen(tmp_path / "corpus", lexicon, columns="field,text")
    assert shard_table(m.shard_paths()[0]).column_names == ["field", "text"]
    m2 = gen(tmp_path / "only-text", lexicon, columns=("text",))
    assert shard_table(m2.shard_paths()[0]).column_names == ["text"]
    # text_bytes and words are recorded even when only `text` is stored
    assert m2.words == m.words and m2.text_bytes == m.text_bytes


def test_missing_concepts_and_fields_are_null(tmp_path: Path) -> None:
    lex = Lexicon.load(
        write_tsv(tmp_path / "lex.tsv", [("en", "a", 1, "x"), ("en", "b", "", "")], "lang\tword\tconcept\tfield")
    )
    rows = corpus_table(gen(tmp_path / "corpus", lex)).to_pylist()
    for r in rows:
        assert r["concepts"] == [1 if w == "a" else None for w in r["words"]]
        assert r["field"] == ("x" if r["words"][0] == "a" else None)
    assert any(r["field"] is None for r in rows) and any(r["field"] == "x" for r in rows)


# --- determinism -------------------------------------------------------------------------------


def test_byte_identical_across_threads_and_reruns(tmp_path: Path, lexicon: Lexicon) -> None:
    gen(tmp_path / "t1", lexicon, threads=1)
    gen(tmp_path / "t2", lexicon, threads=2)
    gen(tmp_path / "t2-again", lexicon, threads=2)
    gen(tmp_path / "default", lexicon)
    reference = dir_bytes(tmp_path / "t1")
    assert sorted(reference) == sorted([*SHARDS, "manifest.json"])
    for other in ("t2", "t2-again", "default"):
        assert dir_bytes(tmp_path / other) == reference, other


def test_seed_changes_the_bytes(tmp_path: Path, lexicon: Lexicon) -> None:
    a = gen(tmp_path / "a", lexicon, seed=1)
    b = gen(tmp_path / "b", lexicon, seed=2)
    assert [s.sha256 for s in a.shards] != [s.sha256 for s in b.shards]
    # and shards of one corpus differ from each other (each has its own random stream)
    assert len({s.sha256 for s in a.shards}) == 4


def test_sample_is_the_start_of_shard_zero(tmp_path: Path, lexicon: Lexicon) -> None:
    m = gen(tmp_path / "corpus", lexicon, joiner="-", words_per_phrase=(1, 3), case="upper")
    texts = shard_table(m.shard_paths()[0]).column("text").to_pylist()
    assert (
        hyperword.sample(100, lexicon=lexicon, seed=3, joiner="-", words_per_phrase=(1, 3), case="upper") == texts[:100]
    )


# --- rerun, resume, force ----------------------------------------------------------------------


def test_rerun_of_a_complete_corpus_is_a_no_op(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "corpus"
    first = gen(out, lexicon)
    before = snapshot(out)
    time.sleep(0.01)
    again = gen(out, lexicon, threads=1)  # threads are not part of the configuration
    assert again.run == RunStats(generated_shards=0, reused_shards=4)
    assert snapshot(out) == before  # nothing rewritten, not even the manifest
    assert again.to_dict() == first.to_dict()


@pytest.mark.parametrize("damage", ["delete", "truncate", "flip-a-byte"])
def test_a_single_shard_is_regenerated_alone(tmp_path: Path, lexicon: Lexicon, damage: str) -> None:
    out = tmp_path / "corpus"
    gen(out, lexicon)
    original = dir_bytes(out)
    victim = out / SHARDS[2]
    if damage == "delete":
        victim.unlink()
    elif damage == "truncate":
        victim.write_bytes(original[SHARDS[2]][:100])
    else:
        data = bytearray(original[SHARDS[2]])
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    others = {name: (out / name).stat() for name in SHARDS if name != SHARDS[2]}
    time.sleep(0.01)
    m = gen(out, lexicon)
    assert m.run == RunStats(generated_shards=1, reused_shards=3)
    assert dir_bytes(out) == original  # the shard and the manifest, byte for byte
    for name, st in others.items():
        now = (out / name).stat()
        assert (now.st_mtime_ns, now.st_ino) == (st.st_mtime_ns, st.st_ino), name
    assert sorted(os.listdir(out)) == sorted([*SHARDS, "manifest.json"])


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 4},
        {"words": 25_000},
        {"shard_words": 4_000},
        {"columns": "text"},
        {"joiner": "-"},
        {"compression": "lz4"},
        {"format": "parquet"},
        {"coherence": 0.5},
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_different_config_is_refused_and_changes_nothing(
    tmp_path: Path, lexicon: Lexicon, change: dict[str, Any]
) -> None:
    out = tmp_path / "corpus"
    gen(out, lexicon)
    before = snapshot(out)
    with pytest.raises(OutputExistsError, match="force"):
        gen(out, lexicon, **change)
    assert snapshot(out) == before


def test_a_different_lexicon_is_refused(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "corpus"
    gen(out, lexicon)
    before = snapshot(out)
    other = Lexicon.load(write_tsv(tmp_path / "other.tsv", [("en", "cat"), ("en", "dog")]))
    with pytest.raises(OutputExistsError):
        gen(out, other)
    assert snapshot(out) == before


def test_the_same_lexicon_content_elsewhere_is_the_same_corpus(
    tmp_path: Path, lexicon: Lexicon, lexicon_path: Path
) -> None:
    out = tmp_path / "corpus"
    gen(out, lexicon)
    copy = tmp_path / "elsewhere" / "copy.tsv"
    copy.parent.mkdir()
    copy.write_bytes(lexicon_path.read_bytes().replace(b"\n", b"\r\n"))
    m = gen(out, Lexicon.load(copy))
    assert m.run == RunStats(generated_shards=0, reused_shards=4)


def test_force_overwrites(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "corpus"
    gen(out, lexicon)
    (out / "notes.txt").write_text("mine")
    m = gen(out, lexicon, seed=4, words=8_000, force=True)  # 2 shards instead of 4
    assert m.seed == 4 and m.run == RunStats(generated_shards=2, reused_shards=0)
    assert sorted(os.listdir(out)) == [
        "manifest.json",
        "notes.txt",
        *SHARDS[:2],
    ]  # stale shards gone, foreign file kept
    assert (out / "notes.txt").read_text() == "mine"
    gen(tmp_path / "fresh", lexicon, seed=4, words=8_000)
    fresh = dir_bytes(tmp_path / "fresh")
    assert {k: v for k, v in dir_bytes(out).items() if k != "notes.txt"} == fresh


def test_force_regenerates_an_identical_corpus(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "corpus"
    gen(out, lexicon)
    before = dir_bytes(out)
    m = gen(out, lexicon, force=True)
    assert m.run == RunStats(generated_shards=4, reused_shards=0)
    assert dir_bytes(out) == before


def test_a_foreign_non_empty_directory_is_refused(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    before = snapshot(out)
    with pytest.raises(OutputExistsError, match="not empty"):
        gen(out, lexicon)
    assert snapshot(out) == before
    assert sorted(os.listdir(out)) == ["thesis.tex"]


def test_an_empty_existing_directory_is_used(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert gen(out, lexicon).run == RunStats(generated_shards=4, reused_shards=0)


def test_an_existing_file_is_refused(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "file"
    out.write_text("x")
    with pytest.raises(OutputExistsError):
        gen(out, lexicon)
    with pytest.raises(OutputExistsError):
        gen(out, lexicon, force=True)
    assert out.read_text() == "x"


@pytest.mark.parametrize(
    "kw",
    [
        {"coherence": 1.5},
        {"langs": "xx"},
        {"words_per_phrase": (5, 2)},
        {"words_per_phrase": 0},
        {"columns": "text,bogus"},
        {"columns": "text,text"},
        {"columns": ""},
        {"compression": "brotli"},
        {"compression": "lz4", "compression_level": 3},
        {"compression_level": 23},
        {"format": "csv"},
        {"words": 0},
        {"words": -5},
        {"shard_words": 0},
        {"batch_words": 0},
        {"seed": -1},
        {"joiner": "\n"},
        {"alpha": -1.0},
        {"phrase_dist": "weights:1"},
        {"mix": "both"},
        {"case": "shout"},
        {"words": 10**12, "shard_words": 1},
    ],
    ids=str,
)
def test_a_bad_config_writes_nothing(tmp_path: Path, lexicon: Lexicon, kw: dict[str, Any]) -> None:
    out = tmp_path / "a" / "b"
    with pytest.raises(ConfigError):
        gen(out, lexicon, **kw)
    assert not (tmp_path / "a").exists()


def test_negative_threads_is_a_config_error(tmp_path: Path, lexicon: Lexicon) -> None:
    """Like every other bad option: a ConfigError (not an OverflowError from the binding), nothing written."""
    with pytest.raises(ConfigError, match="threads"):
        gen(tmp_path / "out", lexicon, threads=-1)
    assert not (tmp_path / "out").exists()


def test_a_missing_lexicon_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        gen(tmp_path / "out", tmp_path / "missing.tsv")
    assert not (tmp_path / "out").exists()


def test_a_corrupt_manifest_is_reported(tmp_path: Path, lexicon: Lexicon) -> None:
    out = tmp_path / "corpus"
    gen(out, lexicon)
    (out / "manifest.json").write_text("{not json")
    before = snapshot(out)
    with pytest.raises(hyperword.CorruptCorpusError):
        gen(out, lexicon)
    assert snapshot(out) == before
    assert gen(out, lexicon, force=True).run == RunStats(generated_shards=4, reused_shards=0)


# --- compression and formats -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["arrow", "parquet"])
@pytest.mark.parametrize("compression", ["zstd", "lz4", "none"])
def test_compressions_and_formats_hold_the_same_rows(
    tmp_path: Path, lexicon: Lexicon, fmt: str, compression: str
) -> None:
    m = gen(tmp_path / "corpus", lexicon, format=fmt, compression=compression)
    ext = "arrow" if fmt == "arrow" else "parquet"
    assert [s.path for s in m.shards] == [f"shard-{i:05d}.{ext}" for i in range(4)]
    expected = stream_of(lexicon).read_all()
    got = corpus_table(m)
    assert got.column("text").to_pylist() == expected.column("text").to_pylist()
    assert got.column("concepts").to_pylist() == expected.column("concepts").to_pylist()
    if fmt == "parquet":
        meta = pq.ParquetFile(m.shard_paths()[0]).metadata
        assert meta.num_row_groups == 5  # one row group per batch
        codec = meta.row_group(0).column(0).compression
        assert codec in {"zstd": {"ZSTD"}, "lz4": {"LZ4_RAW", "LZ4"}, "none": {"UNCOMPRESSED"}}[compression], codec
        assert (
            pl.read_parquet(m.shard_paths()[0])["text"].to_list()
            == shard_table(m.shard_paths()[0]).column("text").to_pylist()
        )
    else:
        assert pl.read_ipc(m.shard_paths()[0]).height == m.shards[0].rows
    assert open_corpus(tmp_path / "corpus").to_table().column("text").to_pylist() == expected.column("text").to_pylist()


def test_compression_shrinks_arrow_shards(tmp_path: Path, lexicon: Lexicon) -> None:
    sizes = {c: gen(tmp_path / c, lexicon, compression=c, columns="text").bytes for c in ("zstd", "lz4", "none")}
    assert sizes["zstd"] < sizes["none"] and sizes["lz4"] < sizes["none"], sizes
    assert dir_bytes(tmp_path / "zstd")[SHARDS[0]] != dir_bytes(tmp_path / "lz4")[SHARDS[0]]


def test_zstd_level(tmp_path: Path, lexicon: Lexicon) -> None:
    m = gen(tmp_path / "corpus", lexicon, compression_level=19)
    assert m.config["compression_level"] == 19
    assert corpus_table(m).column("text").to_pylist() == stream_of(lexicon).read_all().column("text").to_pylist()


@pytest.mark.parametrize("fmt", ["arrow", "parquet"])
def test_every_allowed_zstd_level_writes_readable_shards(tmp_path: Path, lexicon: Lexicon, fmt: str) -> None:
    expected = stream_of(lexicon, columns="text").read_all().column("text").to_pylist()
    for level in (-7, -1, 1, 3, 22):
        m = gen(tmp_path / f"{fmt}{level}", lexicon, compression_level=level, format=fmt, columns="text")
        assert corpus_table(m).column("text").to_pylist() == expected, level
    for level in (0, -8, 23):
        with pytest.raises(ConfigError, match="level"):
            gen(tmp_path / f"bad{level}", lexicon, compression_level=level, format=fmt)
        assert not (tmp_path / f"bad{level}").exists()


# --- stream ------------------------------------------------------------------------------------


def test_stream_yields_exactly_the_rows_generate_writes(tmp_path: Path, lexicon: Lexicon) -> None:
    kw: dict[str, Any] = dict(words=20_500, mix="word", coherence=0.3, joiner="_")
    m = gen(tmp_path / "corpus", lexicon, **kw)
    reader = stream_of(lexicon, **kw)
    assert isinstance(reader, pa.RecordBatchReader)
    batches = list(reader)
    written = [b for p in m.shard_paths() for b in shard_table(p).to_batches()]
    assert [b.num_rows for b in batches] == [b.num_rows for b in written]
    assert pa.Table.from_batches(batches).equals(pa.Table.from_batches(written))
    assert reader.schema == shard_table(m.shard_paths()[0]).schema


def test_stream_crosses_the_arrow_c_stream_interface(lexicon: Lexicon) -> None:
    config = json.dumps({"words": 1000, "columns": ["text"]})
    raw = _hyperword.stream(lexicon, config)
    assert hasattr(raw, "__arrow_c_stream__")
    table = pa.RecordBatchReader.from_stream(raw).read_all()
    assert table.num_rows > 0 and table.column_names == ["text"]
    with pytest.raises(hyperword.HyperwordError, match="consumed"):
        pa.RecordBatchReader.from_stream(raw)


def test_stream_feeds_polars(lexicon: Lexicon) -> None:
    df = pl.from_arrow(stream_of(lexicon, columns="text,words"))
    assert isinstance(df, pl.DataFrame)
    assert df.columns == ["text", "words"]
    assert df["text"].to_list() == stream_of(lexicon, columns="text,words").read_all().column("text").to_pylist()


def test_stream_is_lazy(lexicon: Lexicon) -> None:
    start = time.perf_counter()
    reader = hyperword.stream(10**12, lexicon=lexicon, shard_words=10**7, batch_words=1000)
    batch = reader.read_next_batch()
    assert time.perf_counter() - start < 2.0
    assert 150 < batch.num_rows <= 1000


def test_stream_validates_before_returning(lexicon: Lexicon) -> None:
    with pytest.raises(ConfigError):
        hyperword.stream(100, lexicon=lexicon, coherence=2.0)
    with pytest.raises(ConfigError):
        hyperword.stream(100, lexicon=lexicon, langs="xx")
    with pytest.raises(ConfigError):
        hyperword.stream(0, lexicon=lexicon)


def test_reader_head_and_dataset(tmp_path: Path, lexicon: Lexicon) -> None:
    m = gen(tmp_path / "corpus", lexicon)
    corpus = open_corpus(tmp_path / "corpus")
    full = corpus_table(m)
    assert corpus.head(7).to_pylist() == full.slice(0, 7).to_pylist()
    assert corpus.head(m.shards[0].rows + 3).num_rows == m.shards[0].rows + 3  # crosses a shard boundary
    assert corpus.dataset().count_rows() == m.rows


# --- progress ----------------------------------------------------------------------------------


def test_progress_reports_increasing_word_counts(tmp_path: Path, lexicon: Lexicon) -> None:
    calls: list[int] = []
    m = hyperword.generate(
        tmp_path / "corpus",
        20_000_000,
        lexicon=lexicon,
        shard_words=2_000_000,
        batch_words=100_000,
        threads=1,
        progress=calls.append,
    )
    assert len(calls) >= 2, calls
    assert calls == sorted(calls), calls
    assert len(set(calls)) >= 2 and max(calls) > 0
    assert all(0 <= c <= m.words for c in calls)


def test_progress_that_raises_stops_the_run_and_a_rerun_resumes(tmp_path: Path, lexicon: Lexicon) -> None:
    class Stop(Exception):
        pass

    def progress(words: int) -> None:
        raise Stop(words)

    kw: dict[str, Any] = dict(words=12_000_000, shard_words=1_000_000, batch_words=100_000, columns="text", threads=1)
    out = tmp_path / "corpus"
    with pytest.raises(Stop):
        gen(out, lexicon, progress=progress, **kw)
    assert not (out / "manifest.json").exists()
    assert (out / ".hyperword" / "run.json").exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    partial = {p.name: sha256_file(p) for p in out.glob("shard-*.arrow")}
    assert len(partial) < 12, "the run was not stopped"
    # a different configuration over the unfinished corpus is refused
    before = snapshot(out)
    with pytest.raises(OutputExistsError, match="unfinished"):
        gen(out, lexicon, **{**kw, "seed": 99})
    assert snapshot(out) == before
    # the rerun keeps every finished shard and equals an uninterrupted run
    m = gen(out, lexicon, **kw)
    assert m.run is not None and m.run.generated_shards + m.run.reused_shards == 12
    assert m.run.reused_shards <= len(partial)
    gen(tmp_path / "reference", lexicon, **kw)
    reference = dir_bytes(tmp_path / "reference")
    assert dir_bytes(out) == reference
    assert all(sha == hashlib.sha256(reference[name]).hexdigest() for name, sha in partial.items())
    assert not (out / ".hyperword").exists()


# --- Ctrl-C ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_cleanly_and_the_rerun_completes(
    tmp_path: Path, lexicon_path: Path, run_cli: Any, threads: int
) -> None:
    args = [
        "generate",
        "--words",
        "24M",
        "--shard-words",
        "2M",
        "--batch-words",
        "200k",
        "--threads",
        str(threads),
        "--columns",
        ALL_COLUMNS,
        "--lexicon",
        str(lexicon_path),
        "--seed",
        "1",
        "--no-progress",
    ]
    out = tmp_path / "interrupted"
    env = dict(os.environ, PYTHONUTF8="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hyperword", *args, "--out", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("shard-*.arrow")):
            assert proc.poll() is None, f"generate ended before the first shard appeared: {proc.communicate()}"
            assert time.monotonic() < deadline, "no shard after 60 s"
            time.sleep(0.005)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert elapsed < 2.5, f"took {elapsed:.2f} s to stop"
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == ["hyperword: interrupted"]
    assert not (out / "manifest.json").exists()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    partial = {p.name: sha256_file(p) for p in out.glob("shard-*.arrow")}
    assert 1 <= len(partial) < 12, sorted(partial)

    rc, _, err = run_cli(*args, "--out", tmp_path / "reference")
    assert rc == 0, err
    reference = json.loads((tmp_path / "reference" / "manifest.json").read_text(encoding="utf-8"))
    expected_sha = {s["path"]: s["sha256"] for s in reference["shards"]}
    for name, sha in partial.items():
        assert sha == expected_sha[name], f"{name} left behind does not match its checksum"

    rc, stdout, err = run_cli(*args, "--out", out)
    assert rc == 0, err
    assert "resumed: kept" in stdout, stdout
    assert dir_bytes(out) == dir_bytes(tmp_path / "reference")
    assert not (out / ".hyperword").exists()


# --- fork ----------------------------------------------------------------------------------------

_FORK_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, traceback
    import hyperword
    from hyperword import _hyperword

    lexicon_path, base = sys.argv[1], sys.argv[2]
    lex = hyperword.Lexicon.load(lexicon_path)

    def threads_seen(log):
        return lambda words: log.append(len(os.listdir("/proc/self/task")))

    kw = dict(lexicon=lex, shard_words=1_000_000, batch_words=100_000, threads=2, columns="text")
    parent_log = []
    parent = hyperword.generate(os.path.join(base, "parent"), 12_000_000, progress=threads_seen(parent_log), **kw)
    assert not _hyperword._is_forked()

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            log = []
            forked = _hyperword._is_forked()
            child = hyperword.generate(os.path.join(base, "child"), 12_000_000, progress=threads_seen(log), **kw)
            same = [s.sha256 for s in child.shards] == [s.sha256 for s in parent.shards]
            report = {"forked": forked, "same": same, "threads": log, "sample": hyperword.sample(3, lexicon=lex, seed=1)}
            os.write(w, json.dumps(report).encode())
            os._exit(0)
        except BaseException:
            traceback.print_exc()
            os._exit(3)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    _, status = os.waitpid(pid, 0)
    print(json.dumps({
        "child_exit": os.waitstatus_to_exitcode(status),
        "child": json.loads(data) if data else None,
        "parent_threads": parent_log,
        "parent_forked_after": _hyperword._is_forked(),
        "parent_sample": hyperword.sample(3, lexicon=lex, seed=1),
    }))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/task").exists(), reason="needs fork and /proc")
def test_a_forked_child_generates_single_threaded(tmp_path: Path, lexicon_path: Path) -> None:
    script = tmp_path / "fork_check.py"
    script.write_text(_FORK_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(lexicon_path), str(tmp_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=REPO,
    )
    try:
        stdout, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and the forked child
        proc.communicate()
        pytest.fail("generate in a forked child deadlocked (no exit within 60 s)")
    assert proc.returncode == 0, stderr
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["child_exit"] == 0, stderr
    child = result["child"]
    assert child["forked"] is True
    assert child["same"] is True  # the same bytes as the parent's multi-threaded run
    assert child["sample"] == result["parent_sample"]
    assert result["parent_forked_after"] is False
    # threads=2 really uses a pool in the parent, and is ignored in the child
    assert result["parent_threads"] and max(result["parent_threads"]) >= 4, result["parent_threads"]
    assert child["threads"] and max(child["threads"]) <= 2, child["threads"]
