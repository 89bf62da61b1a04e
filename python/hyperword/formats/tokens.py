"""The token format (``hyperword-tokens``): two ``.npy`` files per shard, ``tokens-0000i.npy``
(flat ids, an eos after every document) and ``docs-0000i.npy`` (int64 document ends), and a
``manifest.json`` written last. Here: the manifest and its reader, the streaming ``.npy``
writer, the run that writes a token directory (``encode``), and :func:`write_token_dir`, the
one way a token directory is completed (``encode``, the trainer's twin corpora and the
synthetic directories of tests and benchmarks).

The ``.npy`` files are written in a stream: data first, header last, then fsync and rename.
The header of a 1-D array holds its length, unknown until the last token is encoded. numpy
pads every version-1.0 header to a fixed width (room for the longest shape), so the header
length is the same for any length; the data is written after that many reserved bytes and
the header is filled in at the end. The result is byte-identical to ``numpy.save`` of the same
array and opens with ``numpy.load(path, mmap_mode="r")``.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from hyperword._hyperword import __version__
from hyperword.errors import ConfigError, InternalError, OutputExistsError
from hyperword.formats.atomic import file_digest, naming, write_atomic
from hyperword.formats.identity import canonical_json, manifest_json
from hyperword.formats.run import (
    MANIFEST_FILE,
    DirectoryRun,
    Folder,
    LocalFolder,
    ManifestFile,
    RunStats,
    load_manifest,
)

__all__ = [
    "DTYPE_RULE",
    "FORMAT",
    "FORMAT_VERSION",
    "KIND",
    "SHARD_NAMES",
    "NpyWriter",
    "TokenManifest",
    "TokenRun",
    "TokenShard",
    "build_token_manifest",
    "docs_file_name",
    "dtype_for_vocab",
    "read_token_manifest",
    "shard_intact",
    "tokens_file_name",
    "write_token_dir",
    "write_token_shard",
]

FORMAT = "hyperword-tokens"
FORMAT_VERSION = 1
KIND = "tokens"
DTYPE_RULE = "dtype justified by the vocabulary size: uint16 when vocab_size <= 65536, else uint32"
#: A shard's file names, as regular expressions (``verify`` and the run's own files).
SHARD_NAMES = (r"tokens-\d+\.npy", r"docs-\d+\.npy")


def tokens_file_name(index: int) -> str:
    return f"tokens-{index:05d}.npy"


def docs_file_name(index: int) -> str:
    return f"docs-{index:05d}.npy"


@dataclass(frozen=True)
class TokenShard:
    """One source shard encoded: ``tokens`` (flat, an eos after each document) and ``docs``
    (int64 end offsets: document k is ``tokens[ends[k-1]:ends[k]]``, eos included)."""

    index: int
    tokens_path: str
    docs_path: str
    documents: int
    tokens: int
    tokens_bytes: int
    docs_bytes: int
    tokens_sha256: str
    docs_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TokenManifest(ManifestFile):
    directory: Path
    fingerprint: str
    mode: str
    dtype: str
    tokenizer: dict[str, Any]
    source: dict[str, Any]
    shards: list[TokenShard] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    run: RunStats | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], directory: str | Path) -> TokenManifest:
        return cls(
            directory=Path(directory),
            fingerprint=data["fingerprint"],
            mode=data["mode"],
            dtype=data["dtype"],
            tokenizer=data["tokenizer"],
            source=data["source"],
            shards=[TokenShard(**s) for s in data["shards"]],
            raw=data,
        )

    @property
    def documents(self) -> int:
        return self.total("documents")

    @property
    def tokens(self) -> int:
        return self.total("tokens")

    def tokens_paths(self) -> list[Path]:
        return self.paths("tokens_path")

    def docs_paths(self) -> list[Path]:
        return self.paths("docs_path")

    def entries(self) -> Iterator[tuple[int, str]]:
        for s in self.shards:
            yield s.index, s.tokens_path
            yield s.index, s.docs_path


def read_token_manifest(directory: str | Path) -> TokenManifest:
    """Read ``DIR/manifest.json`` of a token directory (``FileNotFoundError`` when absent)."""
    path = Path(directory) / MANIFEST_FILE
    return load_manifest(
        path.read_bytes(),
        path,
        FORMAT,
        f"not a {FORMAT} manifest",
        lambda data: TokenManifest.from_dict(data, directory),
    )


# --- the .npy files -----------------------------------------------------------------------------


UINT16_VOCAB = 1 << 16


def dtype_for_vocab(vocab_size: int) -> np.dtype[np.unsignedinteger]:
    """uint16 when every id fits (vocab_size <= 65536), else uint32."""
    if vocab_size <= UINT16_VOCAB:
        return np.dtype("<u2")
    if vocab_size <= 1 << 32:
        return np.dtype("<u4")
    raise ConfigError(f"vocabulary of {vocab_size} ids does not fit uint32")


def header_bytes(dtype: np.dtype[np.generic], length: int) -> bytes:
    """The ``.npy`` (version 1.0) header of a 1-D little-endian array of ``length`` items."""
    buf = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (length,)}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


class NpyWriter:
    """``path`` written as ``.NAME.tmp`` beside it; :meth:`finish` makes it durable and renames it."""

    def __init__(self, path: Path, dtype: np.dtype[np.generic]) -> None:
        self.path = path
        self.dtype = dtype
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.length = 0
        self._offset = len(header_bytes(dtype, 0))
        if len(header_bytes(dtype, 1 << 62)) != self._offset:
            raise InternalError("numpy's .npy header width depends on the array length; cannot stream")
        self._file = open(self.tmp, "wb")
        self._file.seek(self._offset)

    def write(self, values: npt.NDArray[np.generic]) -> None:
        if values.dtype != self.dtype:
            raise InternalError(f"{self.path.name}: got {values.dtype}, expected {self.dtype}")
        try:
            self._file.write(np.ascontiguousarray(values).tobytes())
        except OSError as e:  # a full disk: say which file (the caller aborts)
            raise naming(self.path, e) from e
        self.length += int(values.shape[0])

    def finish(self) -> tuple[int, str]:
        """Write the header, fsync, rename into place; return the file's size and sha256."""
        try:
            self._file.seek(0)
            self._file.write(header_bytes(self.dtype, self.length))
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            digest = file_digest(self.tmp)
        except BaseException as e:
            self.abort()
            if isinstance(e, OSError):
                raise naming(self.path, e) from e
            raise
        os.replace(self.tmp, self.path)
        return digest

    def abort(self) -> None:
        """Remove the temporary file. Never raises for the close: after a failed write (a full
        disk) closing flushes what is still buffered and fails again."""
        try:
            self._file.close()
        except OSError:
            pass
        finally:
            try:
                self.tmp.unlink()
            except FileNotFoundError:
                pass


def write_token_shard(
    directory: Path, index: int, tokens: npt.NDArray[np.generic], ends: npt.NDArray[np.generic]
) -> TokenShard:
    """Shard ``index`` from whole arrays: ``tokens`` (an eos after every document) and ``ends``
    (``<i8`` document ends), both files written through :class:`NpyWriter`."""
    writers = [
        NpyWriter(directory / tokens_file_name(index), tokens.dtype),
        NpyWriter(directory / docs_file_name(index), ends.dtype),
    ]
    try:
        writers[0].write(tokens)
        writers[1].write(ends)
        (tokens_bytes, tokens_sha), (docs_bytes, docs_sha) = (w.finish() for w in writers)
    except BaseException:
        for w in writers:
            w.abort()
        raise
    return TokenShard(
        index,
        tokens_file_name(index),
        docs_file_name(index),
        int(len(ends)),
        int(len(tokens)),
        tokens_bytes,
        docs_bytes,
        tokens_sha,
        docs_sha,
    )


# --- the manifest of a token directory, and completing one -------------------------------------


def build_token_manifest(
    *,
    fingerprint: str,
    mode: str,
    versions: Mapping[str, str],
    tokenizer: Mapping[str, Any],
    source: Mapping[str, Any],
    dtype: np.dtype[np.generic],
    shards: Sequence[TokenShard],
    dtype_rule: str = DTYPE_RULE,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest as a dict, keys in their written order (``extra`` keys last); ``versions``
    after ``hyperword``'s own."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "mode": mode,
        "versions": {"hyperword": __version__, **versions},
        "fingerprint": fingerprint,
        "tokenizer": dict(tokenizer),
        "source": dict(source),
        "dtype": dtype.name,
        "dtype_rule": dtype_rule,
        "eos_after_every_document": True,
        "totals": {
            "shards": len(shards),
            "documents": sum(s.documents for s in shards),
            "tokens": sum(s.tokens for s in shards),
        },
        "shards": [s.to_dict() for s in shards],
    }
    data.update(extra or {})
    return data


def write_token_dir(
    directory: str | os.PathLike[str],
    shards: Sequence[TokenShard],
    *,
    fingerprint: str,
    mode: str,
    tokenizer: Mapping[str, Any],
    source: Mapping[str, Any],
    dtype: np.dtype[np.generic],
    versions: Mapping[str, str] | None = None,
    dtype_rule: str = DTYPE_RULE,
    extra: Mapping[str, Any] | None = None,
    run: TokenRun | None = None,
) -> TokenManifest:
    """Complete the token directory ``directory`` whose ``shards`` are in place: write its
    manifest (last; :func:`build_token_manifest`) and return it. ``versions`` default to
    numpy's (after hyperword's). With ``run`` (the :class:`TokenRun` that wrote the shards), the
    run ends with it: its state is removed and the manifest says what it wrote and kept."""
    data = build_token_manifest(
        fingerprint=fingerprint,
        mode=mode,
        versions={"numpy": np.__version__} if versions is None else versions,
        tokenizer=tokenizer,
        source=source,
        dtype=dtype,
        shards=shards,
        dtype_rule=dtype_rule,
        extra=extra,
    )
    if run is not None:
        return run.finish(data)
    path = Path(directory)
    write_atomic(path / MANIFEST_FILE, manifest_json(data).encode("utf-8"))
    return TokenManifest.from_dict(data, path)


# --- the run of an encode --------------------------------------------------------------------------


def shard_intact(directory: Path, s: TokenShard) -> bool:
    """Both files exist with the recorded sizes and sha256s."""
    return _intact(LocalFolder(directory), s)


def _intact(folder: Folder, s: TokenShard) -> bool:
    return folder.matches(s.tokens_path, s.tokens_bytes, s.tokens_sha256) and folder.matches(
        s.docs_path, s.docs_bytes, s.docs_sha256
    )


class TokenRun(DirectoryRun[TokenManifest, TokenShard]):
    """Writing (resuming, or confirming) one token directory: the rules of
    :class:`hyperword.formats.run.DirectoryRun`, two files per shard."""

    what: ClassVar[str] = "token shards"
    complete_name: ClassVar[str] = "token shards"
    unfinished_name: ClassVar[str] = "unfinished token shards"
    differs: ClassVar[str] = "from another tokenizer, corpus or mode"
    shards_name: ClassVar[str] = "token shards"
    record_prefix: ClassVar[str] = "tokens-"
    temp_prefixes: ClassVar[tuple[str, ...]] = (".tokens-", ".docs-")

    @classmethod
    def read_manifest(cls, folder: Folder) -> TokenManifest:
        try:
            return read_token_manifest(folder.path)
        except Exception:
            raise OutputExistsError(
                f"{folder} holds a manifest.json that is not a token manifest; choose another directory or pass --force (force=True)"
            ) from None

    @classmethod
    def parse_manifest(cls, data: dict[str, Any], directory: Path) -> TokenManifest:
        return TokenManifest.from_dict(data, directory)

    @classmethod
    def parse_record(cls, data: dict[str, Any]) -> TokenShard:
        return TokenShard(**data)

    @classmethod
    def record_name(cls, record: TokenShard) -> str:
        return f"{tokens_file_name(record.index)}.json"

    @classmethod
    def record_bytes(cls, record: TokenShard) -> bytes:
        return canonical_json(record.to_dict()).encode("utf-8")

    @classmethod
    def intact(cls, folder: Folder, record: TokenShard) -> bool:
        return _intact(folder, record)

    @classmethod
    def is_own_file(cls, name: str) -> bool:
        return name.startswith(("tokens-", "docs-")) and name.endswith(".npy")

    def expected(self, index: int, record: TokenShard) -> bool:
        return (record.tokens_path, record.docs_path) == (tokens_file_name(index), docs_file_name(index))
