"""Reading a corpus directory back: batches, the first rows, a ``pyarrow.dataset``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from hyperword.manifest import Manifest, read_manifest


class Corpus:
    """A complete corpus directory, read through its manifest."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
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

    def dataset(self) -> ds.Dataset:
        """A ``pyarrow.dataset`` over exactly the manifest's shards."""
        fmt = "parquet" if self.format == "parquet" else "ipc"
        return ds.dataset([str(p) for p in self.manifest.shard_paths()], format=fmt)


def open_corpus(directory: str | os.PathLike[str]) -> Corpus:
    return Corpus(directory)
