"""The corpus format (``hyperword-corpus``): its manifest, shard names, the Arrow/Parquet shard
writer, and the run that writes a corpus directory from Python.

A corpus directory holds ``shard-00000.arrow`` ... (or ``.parquet``), complete shards only,
each written as ``.shard-00000.arrow.tmp``, fsynced, then renamed into place; ``manifest.json``
written last; ``.hyperword/`` while a run is unfinished (see :mod:`hyperword.formats.run`).
The generator (``rust/core/src/{shard,corpus,manifest}.rs``) writes the shards and manifest
of the kinds it draws, in a :class:`GeneratedCorpusRun`; :class:`CorpusRun` writes corpus kinds
whose rows come from Python (``ingest``), indistinguishably.

A run is two steps, so that a caller writing several corpora (a train and a validation side)
can refuse before touching any of them: :meth:`CorpusRun.check` looks at the directory and
changes nothing; :meth:`CorpusRun.begin` prepares it. Then, for each shard in order,
:meth:`CorpusRun.kept` says whether an earlier run already left it (size and sha256
verified), else :meth:`CorpusRun.write_shard` writes it; :meth:`CorpusRun.finish` writes the
manifest (:func:`build_manifest`) and removes the state directory.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from hyperword._hyperword import DEFAULT_ZSTD_LEVEL, __version__, check_entry_path, check_shard_compression
from hyperword.errors import ConfigError, CorruptCorpusError
from hyperword.formats.atomic import file_digest, naming
from hyperword.formats.identity import sorted_json
from hyperword.formats.run import (
    MANIFEST_FILE,
    STATE_DIR,
    DirectoryRun,
    Folder,
    LocalFolder,
    ManifestFile,
    RunStats,
    load_manifest,
    remove_run_files,
)

__all__ = [
    "COMPRESSIONS",
    "FORMAT",
    "FORMATS",
    "FORMAT_VERSION",
    "GeneratedCorpusRun",
    "MANIFEST_FILE",
    "SHARD_NAME",
    "CorpusRun",
    "Manifest",
    "RunStats",
    "ShardInfo",
    "ShardOptions",
    "ShardWriter",
    "build_manifest",
    "is_shard_file",
    "read_manifest",
    "remove_corpus_files",
    "shard_file_name",
    "verify_shards",
]

FORMAT = "hyperword-corpus"
# Bumped whenever the manifest layout or the meaning of a field changes (as in manifest.rs).
FORMAT_VERSION = 1
FORMATS = ("arrow", "parquet")
COMPRESSIONS = ("zstd", "lz4", "none")
#: A shard file's name, as a regular expression (``verify`` and the run's own files).
SHARD_NAME = r"shard-\d+\.(arrow|parquet)"


# --- the manifest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardInfo:
    """One shard's manifest record. ``text_bytes``: UTF-8 bytes of its ``text`` column;
    ``bytes`` (also :attr:`file_bytes`): the size of its file on disk (compressed)."""

    index: int
    path: str
    rows: int
    words: int
    text_bytes: int
    bytes: int
    sha256: str

    @property
    def file_bytes(self) -> int:
        """The shard file's size on disk (the manifest's ``bytes``)."""
        return self.bytes


@dataclass(frozen=True)
class Manifest(ManifestFile):
    """A corpus manifest: configuration, seed, lexicon hash, versions and every shard."""

    directory: Path
    format: str
    format_version: int
    kind: str
    versions: dict[str, str]
    fingerprint: str
    seed: int | None
    config: dict[str, Any]
    lexicon: dict[str, Any] | None
    shards: list[ShardInfo] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    run: RunStats | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], directory: str | os.PathLike[str]) -> Manifest:
        return cls(
            directory=Path(directory),
            format=data["format"],
            format_version=data["format_version"],
            kind=data["kind"],
            versions=data["versions"],
            fingerprint=data["fingerprint"],
            seed=data.get("seed"),
            config=data["config"],
            lexicon=data.get("lexicon"),
            shards=[ShardInfo(**s) for s in data["shards"]],
            raw=data,
        )

    @property
    def rows(self) -> int:
        return self.total("rows")

    @property
    def words(self) -> int:
        return self.total("words")

    @property
    def file_bytes(self) -> int:
        """Bytes the shard files occupy on disk, all shards (compressed; the manifest's
        ``totals.bytes``). The manifest and run state are not counted."""
        return self.total("bytes")

    @property
    def bytes(self) -> int:
        """The same as :attr:`file_bytes` (the name of the manifest's field), kept as an alias."""
        return self.file_bytes

    @property
    def text_bytes(self) -> int:
        """UTF-8 bytes of the ``text`` column, all rows (uncompressed; ``totals.text_bytes``)."""
        return self.total("text_bytes")

    def shard_paths(self) -> list[Path]:
        return self.paths("path")

    def entries(self) -> Iterator[tuple[int, str]]:
        for s in self.shards:
            yield s.index, s.path


def read_manifest(directory: str | os.PathLike[str]) -> Manifest:
    """Read ``DIR/manifest.json`` (present only once a corpus is complete).

    Raises ``FileNotFoundError`` when there is none and ``CorruptCorpusError`` when it is
    not a hyperword manifest or names a shard outside the directory (``../x.arrow``).
    """
    path = Path(directory) / MANIFEST_FILE
    return manifest_from_bytes(path.read_bytes(), path, directory)


def manifest_from_bytes(text: bytes, path: Path | str, directory: str | os.PathLike[str]) -> Manifest:
    """The manifest ``text`` read from ``path`` (:func:`read_manifest`'s checks and errors)."""
    return load_manifest(
        text, path, FORMAT, "not a hyperword corpus manifest", lambda data: Manifest.from_dict(data, directory)
    )


# --- names and small atomic helpers --------------------------------------------------------------


def shard_file_name(index: int, format: str) -> str:
    """``shard-00007.arrow`` (or ``.parquet``), relative to the corpus directory."""
    return f"shard-{index:05d}.{'parquet' if format == 'parquet' else 'arrow'}"


def temp_file_name(index: int, format: str) -> str:
    """The hidden name a shard is written under until it is complete."""
    return f".{shard_file_name(index, format)}.tmp"


def shard_ok(directory: Path, info: ShardInfo) -> bool:
    """Whether the shard file exists with the recorded size and sha256."""
    return LocalFolder(directory).matches(info.path, info.bytes, info.sha256)


def verify_shards(directory: Path, shards: Iterable[ShardInfo]) -> None:
    """Raise ``CorruptCorpusError`` for the first shard whose size or sha256 differs."""
    for s in shards:
        if not shard_ok(directory, s):
            raise CorruptCorpusError(f"{directory / s.path}: size or checksum differs from the manifest")


def checked_shard(info: ShardInfo, where: Path = Path(STATE_DIR)) -> ShardInfo:
    """``info``, when its path is a file name inside the corpus (``CorruptCorpusError`` else)."""
    check_entry_path(where, f"shard {info.index}", info.path)
    return info


def shard_record(info: ShardInfo) -> bytes:
    """A shard's manifest record as compact JSON (the ``.hyperword/*.json`` files)."""
    # vars(): the fields in order (flat, so no deep copy as asdict() makes: one per shard)
    return json.dumps(vars(info), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- writing one shard --------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardOptions:
    """How shards are stored: ``arrow`` (IPC file) or ``parquet``; compression and level."""

    format: str = "arrow"
    compression: str = "zstd"
    compression_level: int | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"unknown format {self.format!r}: expected one of {', '.join(FORMATS)}")
        if self.compression not in COMPRESSIONS:
            raise ConfigError(f"unknown compression {self.compression!r}: expected one of {', '.join(COMPRESSIONS)}")
        check_shard_compression(self.compression, self.compression_level)  # the rule of config.rs

    @property
    def zstd_level(self) -> int:
        return DEFAULT_ZSTD_LEVEL if self.compression_level is None else self.compression_level

    def config(self) -> dict[str, Any]:
        """The keys the generator's configuration uses for the same choices."""
        return {"format": self.format, "compression": self.compression, "compression_level": self.compression_level}


class ShardWriter:
    """One shard being written under its temporary name; :meth:`finish` renames it into place.

    ``write`` takes record batches (with the schema given) plus their word and text-byte
    counts, which the manifest records. On any error call :meth:`abort` (or use it as a
    context manager), which removes the temporary file.
    """

    def __init__(self, directory: Path, index: int, schema: pa.Schema, options: ShardOptions) -> None:
        self.directory = directory
        self.index = index
        self.options = options
        self.name = shard_file_name(index, options.format)
        self.tmp = directory / temp_file_name(index, options.format)
        self.rows = self.words = self.text_bytes = 0
        self._sink = pa.OSFile(str(self.tmp), "wb")
        self._writer: Any = None
        try:
            if options.format == "parquet":
                codec = {"zstd": "zstd", "lz4": "lz4", "none": "none"}[options.compression]
                level = options.zstd_level if options.compression == "zstd" else None
                self._writer = pq.ParquetWriter(self._sink, schema, compression=codec, compression_level=level)
            else:
                compression = None
                if options.compression == "zstd":
                    compression = pa.Codec("zstd", compression_level=options.zstd_level)
                elif options.compression == "lz4":
                    compression = "lz4"
                self._writer = ipc.new_file(self._sink, schema, options=ipc.IpcWriteOptions(compression=compression))
        except BaseException as e:
            self.abort()
            if isinstance(e, OSError):
                raise naming(self.directory / self.name, e) from e
            raise

    def write(self, batch: pa.RecordBatch, words: int, text_bytes: int) -> None:
        try:
            self._writer.write_batch(batch)  # Parquet: one row group per batch, like the generator
        except OSError as e:  # a full disk: say which file (the caller aborts the shard)
            raise naming(self.directory / self.name, e) from e
        self.rows += batch.num_rows
        self.words += words
        self.text_bytes += text_bytes

    def finish(self) -> ShardInfo:
        """Close, fsync, hash and rename the shard; return its record."""
        try:
            self._writer.close()
            self._sink.close()
            fd = os.open(self.tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            size, sha = file_digest(self.tmp)
        except BaseException as e:
            self.abort()
            if isinstance(e, OSError):
                raise naming(self.directory / self.name, e) from e
            raise
        os.replace(self.tmp, self.directory / self.name)
        return ShardInfo(self.index, self.name, self.rows, self.words, self.text_bytes, size, sha)

    def abort(self) -> None:
        for close in (getattr(self, "_writer", None), self._sink):
            try:
                if close is not None:
                    close.close()
            except Exception:
                pass
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if kind is not None:
            self.abort()


# --- a whole run ----------------------------------------------------------------------------------


def is_shard_file(name: str) -> bool:
    """A corpus shard file's name (``shard-*.arrow``, ``shard-*.parquet``)."""
    return name.startswith("shard-") and (name.endswith(".arrow") or name.endswith(".parquet"))


class CorpusRun(DirectoryRun[Manifest, ShardInfo]):
    """Writing (resuming, or confirming) one corpus directory; see the module docstring."""

    what: ClassVar[str] = "corpus"
    complete_name: ClassVar[str] = "a complete corpus"
    unfinished_name: ClassVar[str] = "an unfinished corpus"
    differs: ClassVar[str] = "with a different configuration or input"
    shards_name: ClassVar[str] = "shards"
    record_prefix: ClassVar[str] = "shard-"
    temp_prefixes: ClassVar[tuple[str, ...]] = (".shard-",)

    @classmethod
    def read_manifest(cls, folder: Folder) -> Manifest:
        if isinstance(folder, LocalFolder):
            return read_manifest(folder.path)
        where = f"{folder}/{MANIFEST_FILE}"
        text = folder.read(MANIFEST_FILE)
        if text is None:
            raise FileNotFoundError(where)
        return manifest_from_bytes(text, where, folder.path)

    @classmethod
    def parse_manifest(cls, data: dict[str, Any], directory: Path) -> Manifest:
        return Manifest.from_dict(data, directory)

    @classmethod
    def parse_record(cls, data: dict[str, Any]) -> ShardInfo:
        return checked_shard(ShardInfo(**data))

    @classmethod
    def record_name(cls, record: ShardInfo) -> str:
        return f"{record.path}.json"

    @classmethod
    def record_bytes(cls, record: ShardInfo) -> bytes:
        return shard_record(record)

    @classmethod
    def intact(cls, folder: Folder, record: ShardInfo) -> bool:
        return folder.matches(record.path, record.bytes, record.sha256)

    @classmethod
    def is_own_file(cls, name: str) -> bool:
        return is_shard_file(name)

    def expected(self, index: int, record: ShardInfo) -> bool:
        # The format is part of the fingerprint: a record of this run names this run's format.
        return record.path in (shard_file_name(index, f) for f in FORMATS)

    def open_shard(self, index: int, schema: pa.Schema, options: ShardOptions) -> ShardWriter:
        return ShardWriter(self.directory, index, schema, options)

    def write_shard(
        self, index: int, schema: pa.Schema, options: ShardOptions, batches: Iterable[tuple[pa.RecordBatch, int, int]]
    ) -> ShardInfo:
        """Write shard ``index`` from ``(batch, words, text_bytes)`` triples and record it."""
        with self.open_shard(index, schema, options) as w:
            for batch, words, text_bytes in batches:
                w.write(batch, words, text_bytes)
            info = w.finish()
        self.record(info)
        return info

    def manifest(
        self, *, kind: str, config: Mapping[str, Any], extra: Mapping[str, Any] | None = None, seed: int | None = None
    ) -> dict[str, Any]:
        """This run's manifest (for :meth:`finish`): :func:`build_manifest` of its shards."""
        return build_manifest(
            kind=kind, fingerprint=self.fingerprint, config=config, shards=self.shards, extra=extra, seed=seed
        )


def build_manifest(
    *,
    kind: str,
    fingerprint: str,
    config: Mapping[str, Any],
    shards: Sequence[ShardInfo],
    extra: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The manifest as a dict, keys in the generator's order (``config`` keys sorted)."""
    totals = {"shards": len(shards), "rows": 0, "words": 0, "text_bytes": 0, "bytes": 0}
    for s in shards:
        totals["rows"] += s.rows
        totals["words"] += s.words
        totals["text_bytes"] += s.text_bytes
        totals["bytes"] += s.bytes
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "versions": {"hyperword": __version__, "pyarrow": pa.__version__},
        "fingerprint": fingerprint,
    }
    if seed is not None:
        data["seed"] = seed
    data["config"] = sorted_json(config)
    data.update(extra or {})
    data["totals"] = totals
    data["shards"] = [dataclasses.asdict(s) for s in shards]
    return data


class GeneratedCorpusRun(CorpusRun):
    """A corpus the generator draws, its shards written by the Rust core and recorded here as
    each lands (both engines: the local one's threads, the Ray engine's tasks)."""

    differs: ClassVar[str] = "with a different configuration or lexicon"

    def generate(
        self,
        shard_count: int,
        write: Callable[[list[int], Callable[[str], None], int], None],
        manifest: Callable[[str], str],
        threads: int | None = None,
    ) -> tuple[str, int, int]:
        """The whole run, for an engine: nothing to write when :meth:`check` found the corpus
        complete; else :meth:`begin`, keep every shard left intact (checked on ``threads``
        threads), and have
        ``write(missing, record, kept_words)`` write the missing shards, calling
        ``record(shard_json)`` as each lands; then the manifest (``manifest(shards_json)``: its
        text, from the generator) last. Returns (manifest text, shards written, shards kept)."""
        if self.complete is not None:
            text = (self.folder.read(MANIFEST_FILE) or b"").decode("utf-8")
            return text, 0, len(self.finish().shards)
        self.begin()
        try:
            intact = self.check_intact(range(shard_count), threads)
            kept = [r for i in range(shard_count) if (r := self.kept(i, intact=intact.get(i))) is not None]
            done = {r.index for r in kept}
            missing = [i for i in range(shard_count) if i not in done]
            write(missing, lambda record: self.record(ShardInfo(**json.loads(record))), sum(r.words for r in kept))
        except BaseException:
            self.remove_temporaries()
            raise
        text = manifest(json.dumps([vars(s) for s in self.shards]))
        self.finish(text)
        return text, self.generated, self.reused


def remove_corpus_files(directory: Path) -> None:
    """Remove every file a hyperword corpus consists of (and nothing else)."""
    remove_run_files(LocalFolder(directory), is_shard_file)
