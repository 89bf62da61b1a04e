"""The corpus an encode run reads: opened, every shard's size and sha256 checked against its
manifest before anything is encoded, and its ``text`` column streamed in bounded chunks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from hyperword.errors import ConfigError, CorruptCorpusError
from hyperword.formats.atomic import file_digest
from hyperword.formats.corpus import MANIFEST_FILE, ShardInfo, verify_shards
from hyperword.formats.reader import Corpus, refuse_split

__all__ = ["Source", "Task", "TaskReader", "open_source", "shard_tasks"]

TEXT = "text"


@dataclass(frozen=True)
class Source:
    path: Path
    corpus: Corpus
    manifest_sha256: str

    @property
    def shards(self) -> list[ShardInfo]:
        return self.corpus.manifest.shards

    def to_dict(self) -> dict[str, str]:
        m = self.corpus.manifest
        return {
            "path": str(self.path),
            "kind": m.kind,
            "manifest_sha256": self.manifest_sha256,
            "fingerprint": m.fingerprint,
        }


def open_source(directory: str | os.PathLike[str]) -> Source:
    """Open a complete corpus and verify its shards; one clear error when it is unusable."""
    path = Path(directory)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such directory")
    refuse_split(path)
    if not (path / MANIFEST_FILE).is_file():
        raise ConfigError(f"corpus {str(path)!r}: no {MANIFEST_FILE} (not a complete hyperword corpus)")
    corpus = Corpus(path)
    _, manifest_sha = file_digest(path / MANIFEST_FILE)
    verify_shards(path, corpus.manifest.shards)
    if corpus.manifest.shards:
        names = corpus.schema().names
        if TEXT not in names:
            raise ConfigError(f"corpus {str(path)!r} has no {TEXT!r} column (columns: {', '.join(names)})")
    return Source(path.resolve(), corpus, manifest_sha)


@dataclass(frozen=True)
class Task:
    """Rows ``start:start+length`` of record batch (Arrow) or row group (Parquet) ``batch`` of
    one shard file: what a worker reads and encodes itself (no texts cross processes)."""

    path: str
    parquet: bool
    batch: int
    start: int
    length: int


def shard_tasks(source: Source, info: ShardInfo, task_rows: int) -> Iterator[Task]:
    """The shard's rows in order, as tasks of at most ``task_rows`` rows (a Parquet row group
    is one task: it is decoded whole anyway). Checks the row count against the manifest."""
    path = str(source.path / info.path)
    rows = 0
    if source.corpus.format == "parquet":
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            rows += n
            yield Task(path, True, g, 0, n)
    else:
        with pa.memory_map(path) as f:
            reader = ipc.open_file(f)
            lengths = [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
        for b, n in enumerate(lengths):
            rows += n
            for start in range(0, n, task_rows):
                yield Task(path, False, b, start, min(task_rows, n - start))
    if rows != info.rows:
        raise CorruptCorpusError(f"{path}: {rows} rows, the manifest says {info.rows}")


class TaskReader:
    """Reads tasks' texts. Keeps the last Arrow shard memory-mapped and its last decoded
    ``text`` column (a compressed batch is decompressed once, not once per task)."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._reader: ipc.RecordBatchFileReader | None = None
        self._key: tuple[str, int] | None = None
        self._column: pa.Array | None = None

    def _arrow_column(self, task: Task) -> pa.Array:
        if self._key != (task.path, task.batch) or self._column is None:
            if self._path != task.path or self._reader is None:
                self._reader = ipc.open_file(pa.memory_map(task.path))
                self._path = task.path
            self._column = self._reader.get_batch(task.batch).column(TEXT)
            self._key = (task.path, task.batch)
        return self._column

    def texts(self, task: Task) -> list[str]:
        if task.parquet:
            col = pq.ParquetFile(task.path).read_row_group(task.batch, columns=[TEXT]).column(0)
        else:
            col = self._arrow_column(task)
        col = col.slice(task.start, task.length)
        if col.null_count:
            raise CorruptCorpusError(f"{task.path}: the {TEXT!r} column holds nulls")
        texts: list[str] = col.to_pylist()
        return texts
