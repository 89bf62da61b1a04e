"""One token directory as a flat token array: checked on open, memory-mapped, cut into windows.

A token directory (``hyperword encode``) is a list of shards; read in order, their tokens are
one flat array with an eos after every document. :class:`TokenCorpus` presents that array:
window ``k`` of length ``seq_len`` is ``tokens[k*seq_len : k*seq_len + seq_len + 1]``, so
consecutive windows overlap by one token and every token but the first is a target exactly
once. A window that crosses a shard boundary is stitched from both shards.

Shards are opened with ``numpy.load(mmap_mode="r")`` on first use, in whichever process uses
them: a pickled corpus (a DataLoader worker started with ``spawn``) carries its path and
manifest, never its data.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hyperword.errors import ConfigError, CorruptCorpusError
from hyperword.formats.tokens import TokenManifest, dtype_for_vocab, read_token_manifest, shard_intact

__all__ = ["TokenCorpus"]

Tokens = npt.NDArray[np.unsignedinteger[Any]]


def check_seq_len(seq_len: int) -> int:
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ConfigError(f"seq_len must be a positive integer, got {seq_len!r}")
    return int(seq_len)


class TokenCorpus:
    """A token directory, checked against its manifest; see the module doc."""

    def __init__(self, manifest: TokenManifest, name: str) -> None:
        self.manifest = manifest
        self.name = name
        self.path = manifest.directory
        self.tokenizer_sha256 = str(manifest.tokenizer["sha256"])
        self.vocab_size = int(manifest.tokenizer["vocab_size"])
        self.eos_id = int(manifest.tokenizer["eos_id"])
        self.dtype = np.dtype(manifest.dtype)
        self.fingerprint = manifest.fingerprint
        shards = [s for s in manifest.shards if s.tokens > 0]
        self._paths = [self.path / s.tokens_path for s in shards]
        self._lengths = [s.tokens for s in shards]
        #: global offset of each (non-empty) shard's first token, and the total at the end
        self.offsets = np.concatenate([[0], np.cumsum(self._lengths, dtype=np.int64)]).astype(np.int64)
        self.tokens = int(self.offsets[-1])
        self.documents = manifest.documents
        self._arrays: list[Tokens] | None = None
        self._layouts: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[Tokens]]] = {}

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: bool = False, name: str | None = None) -> TokenCorpus:
        """Open the token directory ``path``. Always checked: the manifest, that every shard file
        exists with its recorded size, that each tokens file holds the recorded number of tokens
        of the manifest's dtype, and that this dtype is the one the vocabulary size calls for;
        ``verify=True`` also checks every file's sha256 (reads everything). Any mismatch is a
        ``CorruptCorpusError`` naming the file; a missing directory is ``FileNotFoundError``. ``name``
        defaults to the directory's name."""
        directory = Path(path)
        if not directory.is_dir():  # missing, not corrupt
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(directory))
        if not (directory / "manifest.json").is_file():
            raise CorruptCorpusError(f"{directory}: no manifest.json (not a token directory; see `hyperword encode`)")
        manifest = read_token_manifest(directory)
        where = directory / "manifest.json"
        try:
            vocab, eos = int(manifest.tokenizer["vocab_size"]), int(manifest.tokenizer["eos_id"])
            str(manifest.tokenizer["sha256"])
        except (KeyError, TypeError, ValueError) as e:
            raise CorruptCorpusError(f"{where}: tokenizer record lacks {e}") from None
        try:
            expected = dtype_for_vocab(vocab)
        except ConfigError as e:
            raise CorruptCorpusError(f"{where}: {e}") from None
        if manifest.dtype != expected.name:
            raise CorruptCorpusError(
                f"{where}: dtype {manifest.dtype} does not match a vocabulary of {vocab} ids (expected {expected.name})"
            )
        if not 0 <= eos < vocab:
            raise CorruptCorpusError(f"{where}: eos id {eos} is outside the vocabulary of {vocab}")
        for s in manifest.shards:
            for file, size in ((s.tokens_path, s.tokens_bytes), (s.docs_path, s.docs_bytes)):
                try:
                    actual = (directory / file).stat().st_size
                except OSError:
                    raise CorruptCorpusError(f"{directory / file}: missing (listed in {where})") from None
                if actual != size:
                    raise CorruptCorpusError(f"{directory / file}: {actual} bytes, the manifest records {size}")
            if verify and not shard_intact(directory, s):
                raise CorruptCorpusError(
                    f"{directory / s.tokens_path} or {s.docs_path}: sha256 differs from the manifest"
                )
            array = _load(directory / s.tokens_path)
            if array.dtype != expected or array.shape != (s.tokens,):
                raise CorruptCorpusError(
                    f"{directory / s.tokens_path}: holds {array.dtype}{list(array.shape)}, the manifest records {expected.name}[{s.tokens}]"
                )
        return cls(manifest, name if name is not None else directory.resolve().name)

    def __repr__(self) -> str:
        return f"TokenCorpus({self.name!r}, {str(self.path)!r}, tokens={self.tokens}, dtype={self.dtype.name})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_arrays"] = None
        state["_layouts"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def arrays(self) -> list[Tokens]:
        """The (non-empty) shards' tokens, memory-mapped on first use in this process."""
        if self._arrays is None:
            self._arrays = [_load(p) for p in self._paths]
        return self._arrays

    def windows(self, seq_len: int) -> int:
        """How many windows of ``seq_len`` targets the corpus holds: ``(tokens - 1) // seq_len``;
        the last ``(tokens - 1) % seq_len`` tokens are never a target."""
        return max(0, (self.tokens - 1) // check_seq_len(seq_len))

    def window(self, k: int, seq_len: int) -> npt.NDArray[np.unsignedinteger[Any]]:
        """Window ``k``: ``seq_len + 1`` tokens starting at ``k * seq_len`` (a copy)."""
        n = self.windows(seq_len)
        if not 0 <= k < n:
            raise IndexError(f"window {k} out of range: {self.name} has {n} windows of {seq_len}")
        return self.span(k * seq_len, k * seq_len + seq_len + 1)

    def span(self, start: int, stop: int) -> Tokens:
        """``tokens[start:stop]`` of the flat array, across shard boundaries (a copy)."""
        if not 0 <= start <= stop <= self.tokens:
            raise IndexError(f"span [{start}, {stop}) out of range: {self.name} has {self.tokens} tokens")
        first = int(np.searchsorted(self.offsets, start, side="right")) - 1
        parts = []
        s = max(first, 0)
        while start < stop:
            base, end = int(self.offsets[s]), int(self.offsets[s + 1])
            take = min(stop, end)
            parts.append(self.arrays[s][start - base : take - base])
            start = take
            s += 1
        return np.concatenate(parts) if parts else np.empty(0, dtype=self.dtype)

    def gather(
        self, windows: npt.NDArray[np.int64], seq_len: int, out: npt.NDArray[Any] | None = None
    ) -> npt.NDArray[Any]:
        """Windows ``windows`` (indices) as rows of ``out`` (shape ``[len(windows), seq_len + 1]``,
        any integer dtype; allocated in the corpus dtype when None). Vectorised: the windows
        that lie inside one shard are one fancy index of a strided view of that shard; only
        the few that cross a shard boundary are stitched one by one."""
        seq_len = check_seq_len(seq_len)
        idx = np.asarray(windows, dtype=np.int64)
        if out is None:
            out = np.empty((idx.shape[0], seq_len + 1), dtype=self.dtype)
        if idx.shape[0] == 0:
            return out
        n = self.windows(seq_len)
        if int(idx.min()) < 0 or int(idx.max()) >= n:
            raise IndexError(f"window indices out of range [0, {n}) for {self.name}")
        first, count, views = self._layout(seq_len)
        shard = np.searchsorted(first, idx, side="right") - 1
        local = idx - first[np.maximum(shard, 0)]
        whole = (shard >= 0) & (local < count[np.maximum(shard, 0)])
        for s in np.unique(shard[whole]).tolist():
            rows = np.flatnonzero(whole & (shard == s))
            out[rows] = views[s][local[rows]]
        for row in np.flatnonzero(~whole).tolist():
            k = int(idx[row])
            out[row] = self.span(k * seq_len, k * seq_len + seq_len + 1)
        return out

    def _layout(self, seq_len: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[Tokens]]:
        """Per shard: the first window that starts in it, how many windows lie wholly in it, and
        those windows as a read-only ``[count, seq_len + 1]`` strided view of the memory map."""
        if seq_len not in self._layouts:
            firsts, counts, views = [], [], []
            for s, array in enumerate(self.arrays):
                base, end = int(self.offsets[s]), int(self.offsets[s + 1])
                first = -(-base // seq_len)
                count = max(0, (end - seq_len - 1) // seq_len - first + 1) if end >= seq_len + 1 else 0
                start = first * seq_len - base
                view = np.lib.stride_tricks.as_strided(
                    array[start:] if count else array[:0],
                    shape=(count, seq_len + 1),
                    strides=(seq_len * array.itemsize, array.itemsize),
                    writeable=False,
                )
                firsts.append(first)
                counts.append(count)
                views.append(view)
            self._layouts[seq_len] = (np.array(firsts, dtype=np.int64), np.array(counts, dtype=np.int64), views)
        return self._layouts[seq_len]


def _load(path: Path) -> Tokens:
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError) as e:
        raise CorruptCorpusError(f"{path}: not a readable .npy file ({e})") from None
    if not isinstance(array, np.ndarray) or array.ndim != 1:
        raise CorruptCorpusError(f"{path}: not a flat token array")
    return array
