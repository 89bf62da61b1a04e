"""The corpus directory layout, written from Python: shards, resume state, the manifest.

This is the Python twin of ``rust/core/src/{shard,corpus,manifest}.rs`` for corpus kinds
whose rows come from Python (``ingest`` first). A directory it writes is indistinguishable in
layout from one the generator writes:

- ``shard-00000.arrow`` ... (or ``.parquet``): complete shards only, each written as
  ``.shard-00000.arrow.tmp``, fsynced, then renamed into place;
- ``manifest.json``: written last (through ``.manifest.json.tmp`` and a rename): present
  means complete;
- ``.hyperword/``: only while a run is unfinished: ``run.json`` (``{"fingerprint":"..."}``,
  compact JSON) and ``shard-00000.arrow.json`` per finished shard (its manifest record).

A run is two steps, so that a caller writing several corpora (a train and a validation side)
can refuse before touching any of them: :meth:`CorpusRun.check` looks at the directory and
changes nothing; :meth:`CorpusRun.begin` prepares it. Then, for each shard in order,
:meth:`CorpusRun.kept` says whether an earlier run already left it (size and sha256
verified), else :meth:`CorpusRun.write_shard` writes it; :meth:`CorpusRun.finish` writes the
manifest and removes the state directory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from hyperword._hyperword import OutputLock, __version__, check_entry_path, check_unlocked, lock_output
from hyperword.errors import ConfigError, CorruptCorpusError, OutputExistsError
from hyperword.formats.atomic import file_digest, naming, sync_dir, write_atomic
from hyperword.formats.identity import canonical_json, manifest_json, sorted_json
from hyperword.manifest import MANIFEST_FILE, Manifest, RunStats, ShardInfo, read_manifest

STATE_DIR = ".hyperword"
#: The lock a writer holds in its output directory for the length of a run (the rule, flock on
#: this file, lives in ``rust/core/src/corpus.rs``: ``lock_output``, ``check_unlocked``).
LOCK_FILE = ".hyperword.lock"
FORMAT = "hyperword-corpus"
# Bumped whenever the manifest layout or the meaning of a field changes (as in manifest.rs).
FORMAT_VERSION = 1
FORMATS = ("arrow", "parquet")
COMPRESSIONS = ("zstd", "lz4", "none")
DEFAULT_ZSTD_LEVEL = 1


# --- names and small atomic helpers --------------------------------------------------------------


def shard_file_name(index: int, format: str) -> str:
    """``shard-00007.arrow`` (or ``.parquet``), relative to the corpus directory."""
    return f"shard-{index:05d}.{'parquet' if format == 'parquet' else 'arrow'}"


def temp_file_name(index: int, format: str) -> str:
    """The hidden name a shard is written under until it is complete."""
    return f".{shard_file_name(index, format)}.tmp"


def shard_ok(directory: Path, info: ShardInfo) -> bool:
    """Whether the shard file exists with the recorded size and sha256."""
    path = directory / info.path
    try:
        if path.stat().st_size != info.bytes:
            return False
        return file_digest(path) == (info.bytes, info.sha256)
    except OSError:
        return False


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
    return json.dumps(dataclasses.asdict(info), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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
        level = self.compression_level
        if level is not None and (
            isinstance(level, bool)
            or not isinstance(level, int)
            or self.compression != "zstd"
            or not -7 <= level <= 22
            or level == 0
        ):
            raise ConfigError(
                f"compression level {level}: only zstd takes a level: 1 to 22, or -1 to -7 for its fast levels"
            )

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


M = TypeVar("M")
R = TypeVar("R")


@dataclass(frozen=True)
class Layout(Generic[M, R]):
    """What tells one kind of output directory (a corpus, token shards) from another: how its
    manifest and shard records read, where records live, which files are its own."""

    #: How a directory of this kind is named in messages: "corpus", "token shards"; what a
    #: complete and an unfinished one are called: "a complete corpus", "an unfinished corpus".
    what: str
    complete: str
    unfinished: str
    #: Why another run's output is refused: "with a different configuration or input".
    differs: str
    read_manifest: Callable[[Path], M]
    manifest_shards: Callable[[M], Sequence[R]]
    manifest_fingerprint: Callable[[M], str]
    parse_record: Callable[[dict[str, Any]], R]
    record_index: Callable[[R], int]
    #: The ``.hyperword/`` file name of a record.
    record_name: Callable[[R], str]
    record_prefix: str
    record_bytes: Callable[[R], bytes]
    #: Every file of the record exists with its recorded size and sha256.
    intact: Callable[[Path, R], bool]
    #: Files of this kind (removed by ``force``), besides the manifest and temporaries.
    is_own_file: Callable[[str], bool]
    temp_prefixes: tuple[str, ...]


class DirectoryRun(Generic[M, R]):
    """Writing (resuming, or confirming) one output directory of a :class:`Layout`: the
    refusal, resume and state rules of ``rust/core/src/corpus.rs``, for Python writers."""

    def __init__(
        self, layout: Layout[M, R], directory: Path, fp: str, force: bool, complete: M | None, known: dict[int, R]
    ) -> None:
        self.layout = layout
        self.directory = directory
        self.fingerprint = fp
        self.force = force
        #: The existing complete output of this fingerprint, every shard verified: nothing to do.
        self.complete = complete
        self._known = known
        self._shards: dict[int, R] = {}
        self.generated = 0
        self.reused = 0
        self._lock: OutputLock | None = None

    @staticmethod
    def inspect(layout: Layout[M, R], directory: Path, fp: str, force: bool) -> tuple[M | None, dict[int, R]]:
        """What ``directory`` holds of this fingerprint (a complete output, or shard records
        to try to keep), refusing what must not be touched unless ``force``; changes nothing."""
        d = directory
        if d.exists() and not d.is_dir():
            raise OutputExistsError(f"{d} exists and is not a directory")
        if d.is_dir():
            check_unlocked(d)  # another live run writes here: say so before anything else
        if not d.exists() or force:
            return None, {}
        L = layout

        def other(what: str) -> OutputExistsError:
            return OutputExistsError(f"{d} already holds {what} {L.differs}; pass --force (force=True) to overwrite it")

        if (d / MANIFEST_FILE).exists():
            m = L.read_manifest(d)
            if L.manifest_fingerprint(m) != fp:
                raise other(L.complete)
            shards = L.manifest_shards(m)
            if all(L.intact(d, s) for s in shards):
                return m, {}
            return None, {L.record_index(s): s for s in shards}
        state = d / STATE_DIR
        try:
            run = (state / "run.json").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            run = None
        if run is not None:
            if run.strip() != canonical_json({"fingerprint": fp}):
                raise other(L.unfinished)
            known: dict[int, R] = {}
            for p in sorted(state.iterdir()):
                if p.name.startswith(L.record_prefix) and p.name.endswith(".json"):
                    try:  # a record that does not parse (or names a file outside) is treated as absent
                        r = L.parse_record(json.loads(p.read_bytes()))
                    except (ValueError, TypeError, CorruptCorpusError):
                        continue
                    known[L.record_index(r)] = r
            return None, known
        if any(p.name != LOCK_FILE for p in d.iterdir()):
            raise OutputExistsError(
                f"{d} is not empty and holds no hyperword {L.what}; choose another directory or pass --force (force=True)"
            )
        return None, {}

    def begin(self) -> None:
        """Prepare the directory: with ``force``, remove earlier output of this kind; record the
        fingerprint and the shards that may be kept; drop the manifest and stale temporaries.
        Takes the directory's lock (``OutputLockedError`` while another live run holds it),
        released by :meth:`end` or :meth:`remove_temporaries`."""
        d, L = self.directory, self.layout
        if self._lock is None:
            self._lock = lock_output(d)  # creates the directory
        state = d / STATE_DIR
        if self.force:
            remove_files(d, L.is_own_file)
        state.mkdir(exist_ok=True)
        write_atomic(state / "run.json", canonical_json({"fingerprint": self.fingerprint}).encode("utf-8"))
        for r in self._known.values():
            write_atomic(state / L.record_name(r), L.record_bytes(r))
        manifest = d / MANIFEST_FILE
        if manifest.exists():
            manifest.unlink()
        self._drop_temporaries()  # left by an interrupted run
        sync_dir(d)

    def remove_temporaries(self) -> None:
        """Remove this kind's temporary files from the directory. Called when a run stops on an
        exception (Ctrl-C included) after its writers aborted: a signal can land between a
        writer creating its file and the caller holding the writer, which then cannot abort it."""
        self._drop_temporaries()
        self.release()

    def _drop_temporaries(self) -> None:
        for p in self.directory.iterdir():
            if p.name.startswith(self.layout.temp_prefixes) and p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)

    def release(self) -> None:
        """Release the directory's lock (taken by :meth:`begin`), if held."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def keep_if_intact(self, index: int, expected: Callable[[R], bool]) -> R | None:
        """The record of shard ``index`` when an earlier run left it intact (it is then kept);
        ``expected`` checks its file names."""
        r = self._known.get(index)
        if r is None or not expected(r) or not self.layout.intact(self.directory, r):
            return None
        self._shards[index] = r
        self.reused += 1
        return r

    def settle(self) -> None:
        """For the complete output :meth:`inspect` found: remove the run state that a run killed
        between writing its manifest and removing the state left behind."""
        if (self.directory / STATE_DIR).is_dir():
            self.end()

    def add(self, record: R) -> None:
        """Record a shard just written (renamed into place): durable, and kept by a rerun."""
        sync_dir(self.directory)
        write_atomic(self.directory / STATE_DIR / self.layout.record_name(record), self.layout.record_bytes(record))
        self._shards[self.layout.record_index(record)] = record
        self.generated += 1

    @property
    def shards(self) -> list[R]:
        return [self._shards[i] for i in sorted(self._shards)]

    def end(self) -> None:
        """After the manifest is written: remove the run state."""
        shutil.rmtree(self.directory / STATE_DIR)
        sync_dir(self.directory)
        self.release()


def remove_files(directory: Path, is_own_file: Callable[[str], bool]) -> None:
    """Remove the state directory, the manifest, temporaries and the files ``is_own_file``
    names (and nothing else)."""
    for p in directory.iterdir():
        name = p.name
        is_temp = name.startswith(".") and name.endswith(".tmp")
        if name == STATE_DIR and p.is_dir():
            shutil.rmtree(p)
        elif (is_own_file(name) or is_temp or name == MANIFEST_FILE) and not p.is_dir():
            p.unlink()


def _is_shard_file(name: str) -> bool:
    return name.startswith("shard-") and (name.endswith(".arrow") or name.endswith(".parquet"))


CORPUS_LAYOUT: Layout[Manifest, ShardInfo] = Layout(
    what="corpus",
    complete="a complete corpus",
    unfinished="an unfinished corpus",
    differs="with a different configuration or input",
    read_manifest=read_manifest,
    manifest_shards=lambda m: m.shards,
    manifest_fingerprint=lambda m: m.fingerprint,
    parse_record=lambda d: checked_shard(ShardInfo(**d)),
    record_index=lambda r: r.index,
    record_name=lambda r: f"{r.path}.json",
    record_prefix="shard-",
    record_bytes=lambda r: shard_record(r),
    intact=lambda d, r: shard_ok(d, r),
    is_own_file=_is_shard_file,
    temp_prefixes=(".shard-",),
)


class CorpusRun(DirectoryRun[Manifest, ShardInfo]):
    """Writing (resuming, or confirming) one corpus directory; see the module docstring."""

    @classmethod
    def check(cls, directory: str | os.PathLike[str], fp: str, *, force: bool = False) -> CorpusRun:
        """Look at what ``directory`` holds and refuse what must not be touched; change nothing.

        Raises ``OutputExistsError`` when it holds a corpus of another fingerprint (complete
        or not) or files that are no corpus, unless ``force``; ``CorruptCorpusError`` when its
        manifest is unreadable.
        """
        d = Path(directory)
        complete, known = cls.inspect(CORPUS_LAYOUT, d, fp, force)
        return cls(CORPUS_LAYOUT, d, fp, force, complete, known)

    def kept(self, index: int, format: str) -> ShardInfo | None:
        """The record of shard ``index`` when an earlier run left it intact (it is then kept)."""
        return self.keep_if_intact(index, lambda info: info.path == shard_file_name(index, format))

    def open_shard(self, index: int, schema: pa.Schema, options: ShardOptions) -> ShardWriter:
        return ShardWriter(self.directory, index, schema, options)

    def add_shard(self, info: ShardInfo) -> None:
        """Record a shard just written (renamed into place): durable, and kept by a rerun."""
        self.add(info)

    def write_shard(
        self, index: int, schema: pa.Schema, options: ShardOptions, batches: Iterable[tuple[pa.RecordBatch, int, int]]
    ) -> ShardInfo:
        """Write shard ``index`` from ``(batch, words, text_bytes)`` triples and record it."""
        with self.open_shard(index, schema, options) as w:
            for batch, words, text_bytes in batches:
                w.write(batch, words, text_bytes)
            info = w.finish()
        self.add_shard(info)
        return info

    def finish(
        self, *, kind: str, config: Mapping[str, Any], extra: Mapping[str, Any] | None = None, seed: int | None = None
    ) -> Manifest:
        """Write ``manifest.json`` (the layout of manifest.rs; ``extra`` keys after ``config``),
        remove the state directory and return the manifest with this run's stats."""
        shards = self.shards
        if [s.index for s in shards] != list(range(len(shards))):
            raise CorruptCorpusError(f"{self.directory}: shards {[s.index for s in shards]} are not consecutive")
        data = build_manifest(
            kind=kind, fingerprint=self.fingerprint, config=config, shards=shards, extra=extra, seed=seed
        )
        write_atomic(self.directory / MANIFEST_FILE, manifest_json(data).encode("utf-8"))
        self.end()
        m = Manifest.from_dict(data, self.directory)
        return dataclasses.replace(m, run=RunStats(generated_shards=self.generated, reused_shards=self.reused))

    def confirmed(self) -> Manifest:
        """The complete corpus found by :meth:`check`, with stats saying nothing was written
        (a run state left beside it by a run killed while finishing is removed)."""
        assert self.complete is not None
        self.settle()
        return dataclasses.replace(
            self.complete, run=RunStats(generated_shards=0, reused_shards=len(self.complete.shards))
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


def remove_corpus_files(directory: Path) -> None:
    """Remove every file a hyperword corpus consists of (and nothing else)."""
    remove_files(directory, _is_shard_file)
