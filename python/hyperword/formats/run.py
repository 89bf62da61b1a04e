"""One directory run: the refusal, resume and state rules every writer of an output directory
follows (a corpus written from Python, token shards, and the generator's corpora, whose shards
the Rust core writes and this run records: ``hyperword.generation.local`` and ``.ray``). The
rules are kept here only.

A directory of a run holds:

- its shard files, complete only, each written under a hidden ``.NAME.tmp`` and renamed;
- ``manifest.json``, written last: present means complete;
- ``.hyperword/`` while the run is unfinished: ``run.json`` (``{"fingerprint":"..."}``, compact
  JSON) and one record per finished shard (``shard-00000.arrow.json``, ``tokens-00000.npy.json``).

The API, the same for every format::

    run = CorpusRun.check(directory, fingerprint, force=force)   # looks, refuses, changes nothing
    if run.complete is not None:
        return run.finish()                                      # nothing to write
    run.begin()                                                  # lock, state, leftovers removed
    try:
        for index in ...:
            if run.kept(index) is None:                          # intact from an earlier run?
                run.record(write_the_shard(index))               # durable, kept by a rerun
    except BaseException:
        run.remove_temporaries()                                 # the one failure path
        raise
    return run.finish(manifest_data)                             # manifest last, state removed

A format is a subclass of :class:`DirectoryRun` that says how its manifest and records read,
which files a shard has, and which files are its own (removed by ``force``). The directory is a
:class:`Folder`: a local one (:class:`LocalFolder`: fsynced writes, the output lock) or one on
a pyarrow filesystem (:class:`ArrowFolder`, the Ray engine's shared or object-store output).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from hyperword._hyperword import (
    LOCK_FILE,
    MANIFEST_FILE,
    RUN_FILE,
    STATE_DIR,
    OutputLock,
    check_entry_path,
    check_unlocked,
    lock_output,
)
from hyperword.errors import CorruptCorpusError, OutputExistsError
from hyperword.formats.atomic import file_digest, sync_dir, write_atomic
from hyperword.formats.identity import canonical_json, manifest_json

__all__ = [
    "LOCK_FILE",
    "MANIFEST_FILE",
    "RUN_FILE",
    "STATE_DIR",
    "ArrowFolder",
    "DirectoryRun",
    "ManifestFile",
    "Folder",
    "LocalFolder",
    "RunStats",
    "load_manifest",
    "own_file_pattern",
    "remove_run_files",
    "run_json",
]

# The names of the layout are the Rust core's (``rust/core/src/{manifest,corpus}.rs``), which
# writes the same directories: MANIFEST_FILE, written last by every run (present means
# complete); STATE_DIR, the run state of an unfinished run (removed when its manifest is
# written); RUN_FILE, in it, the fingerprint of that run; LOCK_FILE, the lock a writer holds in
# its output directory for the length of a run (the rule, flock on this file, is
# ``lock_output``/``check_unlocked`` there too).


_T = TypeVar("_T")


def run_json(fingerprint: str) -> str:
    """The text of ``STATE_DIR/RUN_FILE``."""
    return canonical_json({"fingerprint": fingerprint})


def own_file_pattern(*shard_names: str) -> re.Pattern[str]:
    """The names of shard files (regular expressions ``shard_names``, e.g. ``shard-\\d+\\.arrow``)
    and of their temporaries (``.NAME.tmp``, ``.NAME.ray.tmp``): the files of a run."""
    return re.compile(rf"^\.?({'|'.join(shard_names)})(\..*\.tmp|\.tmp)?$")


class ManifestFile:
    """What every manifest (a frozen dataclass with ``raw`` and ``run`` fields) shares: its
    JSON as read, the file names it lists, and a copy with one run's stats."""

    raw: dict[str, Any]
    shards: list[Any]
    directory: Path

    def total(self, name: str) -> int:
        """The sum of one count (``rows``, ``tokens``...) over every shard."""
        return sum(int(getattr(s, name)) for s in self.shards)

    def paths(self, name: str) -> list[Path]:
        """One file of every shard (``path``, ``tokens_path``...), in the directory."""
        return [self.directory / getattr(s, name) for s in self.shards]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)

    def with_run(self: _T, run: RunStats) -> _T:
        """This manifest with what one run did."""
        return cast(_T, dataclasses.replace(cast(Any, self), run=run))

    def entries(self) -> Iterable[tuple[int, str]]:
        """(shard index, file name) of every file the manifest lists."""
        raise NotImplementedError


_F = TypeVar("_F", bound=ManifestFile)


def load_manifest(
    text: bytes, path: Path | str, format: str, refusal: str, build: Callable[[dict[str, Any]], _F]
) -> _F:
    """The manifest ``text`` read from ``path``: ``CorruptCorpusError`` (``path: refusal``)
    unless it is JSON of ``format``, naming a missing field, or listing a file that is not a
    plain name inside its directory (``../x.arrow``)."""
    try:
        data = json.loads(text.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != format:
            raise ValueError(refusal)
        m = build(data)
    except (ValueError, KeyError, TypeError) as e:
        reason = f"missing field {e}" if isinstance(e, KeyError) else str(e)
        raise CorruptCorpusError(f"{path}: {reason}") from None
    for index, name in m.entries():
        check_entry_path(path, f"shard {index}", name)
    return m


class Folder(ABC):
    """An output directory, as a run reads and writes it; names are relative to it (``a/b``)."""

    #: The directory, as messages name it.
    path: Path | str

    def __str__(self) -> str:
        return str(self.path)

    @abstractmethod
    def kind(self, name: str = "") -> str | None:
        """``"dir"``, ``"file"``, or ``None`` when absent (``""``: the directory itself)."""

    @abstractmethod
    def names(self, name: str = "") -> list[str]:
        """The entries of a directory, sorted."""

    @abstractmethod
    def read(self, name: str) -> bytes | None:
        """A file's bytes; ``None`` when it cannot be read."""

    @abstractmethod
    def write(self, name: str, data: bytes) -> None:
        """Write a file atomically (a temporary ``.NAME.tmp`` beside it, then a rename)."""

    @abstractmethod
    def remove(self, name: str) -> None:
        """Remove a file (absent: nothing)."""

    @abstractmethod
    def remove_tree(self, name: str) -> None:
        """Remove a directory and everything under it."""

    @abstractmethod
    def make_dir(self, name: str) -> None:
        """Create a directory (and the folder itself) if absent."""

    @abstractmethod
    def matches(self, name: str, size: int, sha256: str) -> bool:
        """The file exists with this size and sha256."""

    def sync(self) -> None:
        """Make the directory's entries durable (renames and new files)."""
        return None

    def check_unlocked(self) -> None:
        """``OutputLockedError`` while another live run holds the directory's lock."""
        return None

    def lock(self) -> OutputLock | None:
        """Take the directory's lock for a run (creating the directory)."""
        self.make_dir("")
        return None


class LocalFolder(Folder):
    """A local directory: writes are fsynced, a run holds the lock (``LOCK_FILE``)."""

    path: Path

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _at(self, name: str) -> Path:
        return self.path / name if name else self.path

    def kind(self, name: str = "") -> str | None:
        p = self._at(name)
        return "dir" if p.is_dir() else "file" if p.exists() else None

    def names(self, name: str = "") -> list[str]:
        return sorted(p.name for p in self._at(name).iterdir())

    def read(self, name: str) -> bytes | None:
        try:
            return self._at(name).read_bytes()
        except OSError:
            return None

    def write(self, name: str, data: bytes) -> None:
        write_atomic(self._at(name), data)

    def remove(self, name: str) -> None:
        self._at(name).unlink(missing_ok=True)

    def remove_tree(self, name: str) -> None:
        shutil.rmtree(self._at(name))

    def make_dir(self, name: str) -> None:
        self._at(name).mkdir(parents=True, exist_ok=True)

    def matches(self, name: str, size: int, sha256: str) -> bool:
        path = self._at(name)
        try:
            if path.stat().st_size != size:
                return False
            return file_digest(path) == (size, sha256)
        except OSError:
            return False

    def sync(self) -> None:
        sync_dir(self.path)

    def check_unlocked(self) -> None:
        check_unlocked(self.path)

    def lock(self) -> OutputLock | None:
        return lock_output(self.path)  # creates the directory


_CHUNK = 1 << 22


class ArrowFolder(Folder):
    """A directory on a pyarrow filesystem (``pyarrow.fs``: local, shared, or an object store
    such as S3): no lock and no fsync, which such filesystems do not offer."""

    path: str

    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.path = root

    def _at(self, name: str) -> str:
        return f"{self.path}/{name}" if name else self.path

    def kind(self, name: str = "") -> str | None:
        import pyarrow.fs as pafs

        t = self.fs.get_file_info(self._at(name)).type
        return "dir" if t == pafs.FileType.Directory else None if t == pafs.FileType.NotFound else "file"

    def names(self, name: str = "") -> list[str]:
        import pyarrow.fs as pafs

        infos = self.fs.get_file_info(pafs.FileSelector(self._at(name), allow_not_found=True))
        return sorted(i.base_name for i in infos if i.type != pafs.FileType.NotFound)

    def read(self, name: str) -> bytes | None:
        import pyarrow as pa

        try:
            with self.fs.open_input_stream(self._at(name)) as f:
                return bytes(f.read())
        except (FileNotFoundError, pa.ArrowIOError):
            return None

    def write(self, name: str, data: bytes) -> None:
        path = self._at(name)
        tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.tmp"
        with self.fs.open_output_stream(tmp) as f:
            f.write(data)
        self.fs.move(tmp, path)

    def remove(self, name: str) -> None:
        if self.kind(name) is not None:
            self.fs.delete_file(self._at(name))

    def remove_tree(self, name: str) -> None:
        self.fs.delete_dir(self._at(name))

    def make_dir(self, name: str) -> None:
        self.fs.create_dir(self._at(name), recursive=True)

    def matches(self, name: str, size: int, sha256: str) -> bool:
        import pyarrow as pa

        digest, n = hashlib.sha256(), 0
        try:
            with self.fs.open_input_stream(self._at(name)) as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    n += len(chunk)
        except (FileNotFoundError, pa.ArrowIOError):
            return False
        return n == size and digest.hexdigest() == sha256


@dataclass(frozen=True)
class RunStats:
    """What one run did (not part of ``manifest.json``)."""

    generated_shards: int
    reused_shards: int


class _Record(Protocol):
    @property
    def index(self) -> int: ...


R = TypeVar("R", bound=_Record)
_R_co = TypeVar("_R_co", bound=_Record, covariant=True)


class _Manifest(Protocol[_R_co]):
    @property
    def fingerprint(self) -> str: ...

    @property
    def shards(self) -> Sequence[_R_co]: ...

    def with_run(self: _T, run: RunStats) -> _T: ...


M = TypeVar("M", bound=_Manifest[Any])
Run = TypeVar("Run", bound="DirectoryRun[Any, Any]")


class DirectoryRun(ABC, Generic[M, R]):
    """Writing (resuming, or confirming) one output directory; see the module docstring."""

    #: How a directory of this kind is named in messages: "corpus", "token shards"; what a
    #: complete and an unfinished one are called.
    what: ClassVar[str]
    complete_name: ClassVar[str]
    unfinished_name: ClassVar[str]
    #: Why another run's output is refused: "with a different configuration or input".
    differs: ClassVar[str]
    #: What its shards are called in messages: "shards", "token shards".
    shards_name: ClassVar[str]
    #: How the names of its shard records in ``STATE_DIR`` begin (``shard-``, ``tokens-``).
    record_prefix: ClassVar[str]
    #: How the names of its temporary files begin (``.shard-``).
    temp_prefixes: ClassVar[tuple[str, ...]]

    # --- what a format says -------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def read_manifest(cls, folder: Folder) -> M:
        """The directory's manifest (an error when it is not one of this format)."""

    @classmethod
    @abstractmethod
    def parse_manifest(cls, data: dict[str, Any], directory: Path) -> M:
        """The manifest of ``data``, just written."""

    @classmethod
    @abstractmethod
    def parse_record(cls, data: dict[str, Any]) -> R:
        """A shard record read back from ``STATE_DIR``."""

    @classmethod
    @abstractmethod
    def record_name(cls, record: R) -> str:
        """The ``STATE_DIR`` file name of a record."""

    @classmethod
    @abstractmethod
    def record_bytes(cls, record: R) -> bytes:
        """A record as written to ``STATE_DIR``."""

    @classmethod
    @abstractmethod
    def intact(cls, folder: Folder, record: R) -> bool:
        """Every file of the record exists with its recorded size and sha256."""

    @classmethod
    @abstractmethod
    def is_own_file(cls, name: str) -> bool:
        """A shard file of this format (removed by ``force``), besides manifest and temporaries."""

    @abstractmethod
    def expected(self, index: int, record: R) -> bool:
        """The record names the files shard ``index`` of this run has."""

    # --- the run ------------------------------------------------------------------------------

    def __init__(self, folder: Folder, fp: str, force: bool, complete: M | None, known: dict[int, R]) -> None:
        self.folder = folder
        #: The directory (local runs write their shards into it).
        self.directory = Path(folder.path)
        self.fingerprint = fp
        self.force = force
        #: The existing complete output of this fingerprint, every shard verified: nothing to do.
        self.complete = complete
        self._known = known
        self._shards: dict[int, R] = {}
        self.generated = 0
        self.reused = 0
        self._lock: OutputLock | None = None

    @classmethod
    def check(cls: type[Run], directory: str | os.PathLike[str] | Folder, fp: str, *, force: bool = False) -> Run:
        """Look at what ``directory`` holds of this fingerprint (a complete output, or shard
        records to try to keep) and refuse what must not be touched; change nothing.

        Raises ``OutputExistsError`` when it holds output of another fingerprint (complete or
        not) or files that are none of this kind, unless ``force``; ``OutputLockedError`` while
        another live run writes there.
        """
        folder = directory if isinstance(directory, Folder) else LocalFolder(directory)
        complete, known = cls._inspect(folder, fp, force)
        return cls(folder, fp, force, complete, known)

    @classmethod
    def _inspect(cls, d: Folder, fp: str, force: bool) -> tuple[M | None, dict[int, R]]:
        kind = d.kind()
        if kind == "file":
            raise OutputExistsError(f"{d} exists and is not a directory")
        if kind == "dir":
            d.check_unlocked()  # another live run writes here: say so before anything else
        if kind is None or force:
            return None, {}

        def other(what: str) -> OutputExistsError:
            return OutputExistsError(
                f"{d} already holds {what} {cls.differs}; pass --force (force=True) to overwrite it"
            )

        if d.kind(MANIFEST_FILE) is not None:
            m = cls.read_manifest(d)
            if m.fingerprint != fp:
                raise other(cls.complete_name)
            shards = m.shards
            if all(cls.intact(d, s) for s in shards):
                return m, {}
            return None, {s.index: s for s in shards}
        run_bytes = d.read(f"{STATE_DIR}/{RUN_FILE}")
        try:
            run = None if run_bytes is None else run_bytes.decode("utf-8")
        except UnicodeDecodeError:
            run = None
        if run is not None:
            if run.strip() != run_json(fp):
                raise other(cls.unfinished_name)
            known: dict[int, R] = {}
            for name in d.names(STATE_DIR):
                if name.startswith(cls.record_prefix) and name.endswith(".json"):
                    try:  # a record that does not parse (or names a file outside) is treated as absent
                        r = cls.parse_record(json.loads(d.read(f"{STATE_DIR}/{name}") or b""))
                    except (ValueError, TypeError, CorruptCorpusError):
                        continue
                    known[r.index] = r
            return None, known
        if any(name != LOCK_FILE for name in d.names()):
            raise OutputExistsError(
                f"{d} is not empty and holds no hyperword {cls.what}; choose another directory or pass --force (force=True)"
            )
        return None, {}

    def begin(self) -> None:
        """Prepare the directory: with ``force``, remove earlier output of this kind; record the
        fingerprint and the shards that may be kept; drop the manifest and stale temporaries.
        Takes the directory's lock (``OutputLockedError`` while another live run holds it),
        released by :meth:`finish` or :meth:`remove_temporaries`."""
        d = self.folder
        if self._lock is None:
            self._lock = d.lock()  # creates the directory
        if self.force:
            remove_run_files(d, self.is_own_file)
        d.make_dir(STATE_DIR)
        d.write(f"{STATE_DIR}/{RUN_FILE}", run_json(self.fingerprint).encode("utf-8"))
        for r in self._known.values():
            d.write(f"{STATE_DIR}/{self.record_name(r)}", self.record_bytes(r))
        d.remove(MANIFEST_FILE)
        self._drop_temporaries()  # left by an interrupted run
        d.sync()

    def kept(self, index: int, *, intact: bool | None = None) -> R | None:
        """The record of shard ``index`` when an earlier run left it intact (it is then kept);
        ``intact``: what :meth:`check_intact` already found of it."""
        r = self._known.get(index)
        if r is None or not self.expected(index, r):
            return None
        if not (self.intact(self.folder, r) if intact is None else intact):
            return None
        self._shards[index] = r
        self.reused += 1
        return r

    def check_intact(self, indices: Iterable[int], threads: int | None = None) -> dict[int, bool]:
        """Whether the files of each shard of ``indices`` that an earlier run recorded are
        intact, checked on ``threads`` threads (default: one a core), for :meth:`kept`."""
        known = {i: r for i in indices if (r := self._known.get(i)) is not None}
        if not known:
            return {}
        with ThreadPoolExecutor(min(len(known), threads or os.cpu_count() or 1)) as pool:
            return dict(zip(known, pool.map(lambda r: self.intact(self.folder, r), known.values())))

    def record(self, record: R) -> None:
        """Record a shard just written (renamed into place): durable, and kept by a rerun."""
        self.folder.sync()
        self.folder.write(f"{STATE_DIR}/{self.record_name(record)}", self.record_bytes(record))
        self._shards[record.index] = record
        self.generated += 1

    @property
    def shards(self) -> list[R]:
        """The shards written or kept so far, in order."""
        return [self._shards[i] for i in sorted(self._shards)]

    def finish(self, data: Mapping[str, Any] | str | None = None) -> M:
        """End the run: write ``data`` as ``manifest.json`` (shards consecutive from 0; a ``str``
        is the manifest's text, as the generator prints it), remove the run state, release the
        lock; return the manifest with this run's stats. For the complete
        output :meth:`check` found (``data`` not needed): remove a run state that a run killed
        between writing its manifest and removing its state left, and say nothing was written."""
        if self.complete is not None:
            if self.folder.kind(STATE_DIR) == "dir":
                self._remove_state()
            return self.complete.with_run(RunStats(generated_shards=0, reused_shards=len(self.complete.shards)))
        if data is None:
            raise TypeError("finish() of a run that wrote shards needs its manifest")
        indices = [s.index for s in self.shards]
        if indices != list(range(len(indices))):
            raise CorruptCorpusError(f"{self.directory}: {self.shards_name} {indices} are not consecutive")
        text = data if isinstance(data, str) else manifest_json(data)
        self.folder.write(MANIFEST_FILE, text.encode("utf-8"))
        self._remove_state()
        m = self.parse_manifest(json.loads(text) if isinstance(data, str) else dict(data), self.directory)
        return m.with_run(RunStats(generated_shards=self.generated, reused_shards=self.reused))

    def remove_temporaries(self) -> None:
        """The failure path: remove this kind's temporary files and release the lock. Called when
        a run stops on an exception (Ctrl-C included) after its writers aborted: a signal can
        land between a writer creating its file and the caller holding the writer, which then
        cannot abort it."""
        self._drop_temporaries()
        self._release()

    def _drop_temporaries(self) -> None:
        for name in self.folder.names():
            if name.startswith(self.temp_prefixes) and name.endswith(".tmp"):
                self.folder.remove(name)

    def _remove_state(self) -> None:
        self.folder.remove_tree(STATE_DIR)
        self.folder.sync()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def remove_run_files(folder: Folder, is_own_file: Callable[[str], bool]) -> None:
    """Remove the state directory, the manifest, temporaries and the files ``is_own_file``
    names (and nothing else)."""
    for name in folder.names():
        is_temp = name.startswith(".") and name.endswith(".tmp")
        kind = folder.kind(name)
        if name == STATE_DIR and kind == "dir":
            folder.remove_tree(name)
        elif (is_own_file(name) or is_temp or name == MANIFEST_FILE) and kind != "dir":
            folder.remove(name)
