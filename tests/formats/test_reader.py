"""One corpus interface: every kind reads the same way, and common tools open the directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.dataset as ds
import pytest

import hyperword
from hyperword.ingest import ingest

datasets = pytest.importorskip("datasets")

KINDS: dict[str, dict[str, Any]] = {
    "mnemo-arrow": {"columns": "text,words,langs,concepts,field"},
    "bridge-arrow": {"kind": "bridge", "bridge": "translate"},
    "mnemo-parquet": {"format": "parquet", "columns": "text,langs"},
}


@pytest.fixture(params=[*KINDS, "natural-arrow"])
def corpus(
    request: pytest.FixtureRequest, tmp_path: Path, lexicon: hyperword.Lexicon
) -> tuple[Path, hyperword.Manifest, str]:
    out = tmp_path / request.param
    if request.param == "natural-arrow":
        text = tmp_path / "natural.txt"
        text.write_text("".join(f"Sentence number {i} of a small corpus.\n" for i in range(3000)), encoding="utf-8")
        m = ingest(text, out, lang="en", shard_docs=1000)
    else:
        m = hyperword.generate(out, 12_000, lexicon=lexicon, shard_words=5_000, seed=5, **KINDS[request.param])
    return out, m, m.config.get("format", "arrow")


def test_reader_and_streams_agree(corpus: tuple[Path, hyperword.Manifest, str]) -> None:
    out, m, _ = corpus
    c = hyperword.open_corpus(out)
    table = c.to_table()
    assert table.num_rows == m.rows == sum(b.num_rows for b in c.iter_batches())
    assert c.head(3).to_pylist() == table.slice(0, 3).to_pylist()
    assert c.schema().names == table.schema.names
    assert c.data_files() == [str(out / s.path) for s in m.shards]


def test_common_tools_open_the_directory(corpus: tuple[Path, hyperword.Manifest, str], tmp_path: Path) -> None:
    out, m, fmt = corpus
    expected = hyperword.open_corpus(out).to_table().column("text").to_pylist()
    ext, pa_format = ("parquet", "parquet") if fmt == "parquet" else ("arrow", "ipc")

    by_dataset = ds.dataset(out, format=pa_format, exclude_invalid_files=True)
    assert sorted(by_dataset.to_table().column("text").to_pylist()) == sorted(expected)

    builder = "parquet" if fmt == "parquet" else "arrow"
    hf = datasets.load_dataset(
        builder, data_files=f"{out}/shard-*.{ext}", split="train", cache_dir=str(tmp_path / "hf")
    )
    assert hf.num_rows == m.rows and hf["text"] == expected

    scan = pl.scan_parquet if fmt == "parquet" else pl.scan_ipc
    assert scan(f"{out}/shard-*.{ext}").select("text").collect()["text"].to_list() == expected


def test_inspect_works_on_every_kind(corpus: tuple[Path, hyperword.Manifest, str], run_cli: Any) -> None:
    out, m, _ = corpus
    rc, stdout, stderr = run_cli("inspect", out, "--rows", "2")
    assert rc == 0, stderr
    assert f"{m.kind} corpus" in stdout and f"{m.words:,} words" in stdout
    assert len([line for line in stdout.splitlines() if line.startswith('  {"text"')]) == 2
