"""Reading a corpus directory back — of any kind (mnemo, bridge, natural): batches, the first
rows, a table, a ``pyarrow.dataset``, and the shard list other tools take.

Other readers open a corpus directory directly; name the shards, since ``manifest.json``
sits beside them::

    pyarrow.dataset.dataset(DIR, format="ipc", exclude_invalid_files=True)   # or "parquet"
    datasets.load_dataset("arrow", data_files=f"{DIR}/shard-*.arrow", split="train")
    polars.scan_ipc(f"{DIR}/shard-*.arrow")                             # scan_parquet
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from hyperword.errors import ConfigError
from hyperword.formats.corpus import MANIFEST_FILE, Manifest, read_manifest

#: The two corpora ``hyperword ingest --split`` writes under its output directory.
SPLIT_SIDES = ("train", "validation")


def split_sides(directory: str | os.PathLike[str]) -> list[Path]:
    """``[DIR/train, DIR/validation]`` when ``directory`` is a split corpus (what ``ingest
    --split`` writes: no manifest of its own, a complete corpus on each side), else ``[]``."""
    d = Path(directory)
    if (d / MANIFEST_FILE).exists():
        return []
    sides = [d / side for side in SPLIT_SIDES]
    return sides if all((side / MANIFEST_FILE).is_file() for side in sides) else []


def refuse_split(directory: str | os.PathLike[str]) -> None:
    """``ConfigError`` naming both sides when ``directory`` is a split corpus, which is two
    corpora, not one (for the tools that read exactly one)."""
    sides = split_sides(directory)
    if sides:
        raise ConfigError(f"{directory} is a split corpus: use {sides[0]} or {sides[1]}")


class Corpus:
    """A complete corpus directory, read through its manifest."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        refuse_split(directory)
        self.manifest: Manifest = read_manifest(directory)

    @property
    def format(self) -> str:
        return str(self.manifest.config.get("format", "arrow"))

    def iter_batches(self) -> Iterator[pa.RecordBatch]:
        """Every record batch of every shard, in order, one shard open at a time."""
        for path in self.manifest.shard_paths():
            if self.format == "parquet":
                yield from pq.ParquetFile(path).iter_batches()
            else:
                with pa.memory_map(str(path)) as source:
                    reader = ipc.open_file(source)
                    for i in range(reader.num_record_batches):
                        yield reader.get_batch(i)

    def schema(self) -> pa.Schema:
        """The shards' Arrow schema (read from the first shard)."""
        first = self.manifest.shard_paths()[0]
        if self.format == "parquet":
            return pq.read_schema(first)
        with pa.memory_map(str(first)) as source:
            return ipc.open_file(source).schema

    def head(self, n: int = 5) -> pa.Table:
        batches, rows = [], 0
        for batch in self.iter_batches():
            batches.append(batch.slice(0, n - rows))
            rows += batches[-1].num_rows
            if rows >= n:
                break
        return pa.Table.from_batches(batches) if batches else pa.table({})

    def to_table(self) -> pa.Table:
        return self.dataset().to_table()

    def data_files(self) -> list[str]:
        """The shard paths, in order (for ``datasets.load_dataset``, polars, DuckDB...)."""
        return [str(p) for p in self.manifest.shard_paths()]

    def dataset(self) -> Any:
        """A ``pyarrow.dataset.Dataset`` over exactly the manifest's shards.

        ``pyarrow.dataset`` is imported here, not with the package: it pulls in pandas when
        pandas is installed (about 60 MB), which every other path does without.
        """
        import pyarrow.dataset as ds

        fmt = "parquet" if self.format == "parquet" else "ipc"
        return ds.dataset(self.data_files(), format=fmt)


def open_corpus(directory: str | os.PathLike[str]) -> Corpus:
    """The complete corpus in ``directory`` (``ConfigError`` for a split corpus: open
    ``DIR/train`` or ``DIR/validation``)."""
    return Corpus(directory)
