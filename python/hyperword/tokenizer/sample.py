"""Corpus sources for tokenizer training: ``DIR[:WEIGHT]`` specs, per-corpus quotas from
weights and manifest row counts, and a bounded-memory, seeded row sample streamed from shards.

The sample is the largest one, at most ``max_sentences`` rows, whose per-corpus counts are
in proportion to the weights (largest-remainder rounding); a corpus too small for its share
shrinks the whole sample rather than distorting the proportions. Row indices are chosen per
corpus with ``numpy.random.default_rng([seed, i])`` without replacement (row counts are
known from the manifest, so no reservoir is needed), sorted, and the shards are streamed one
record batch at a time, keeping only the chosen rows: memory is O(quota), never O(corpus).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from hyperword.errors import ConfigError, CorruptCorpusError
from hyperword.formats.corpus import MANIFEST_FILE
from hyperword.formats.reader import Corpus, refuse_split

__all__ = ["CorpusSource", "allocate", "open_source", "parse_spec", "sample_rows"]


@dataclass(frozen=True)
class CorpusSource:
    """One opened corpus with its weight (training) or display name (reports)."""

    path: Path
    weight: float
    name: str
    corpus: Corpus

    @property
    def rows(self) -> int:
        return self.corpus.manifest.rows

    @property
    def fingerprint(self) -> str:
        return self.corpus.manifest.fingerprint


def _split_suffix(spec: str) -> tuple[str, str | None]:
    """``DIR:X`` → (DIR, X) unless DIR:X is itself an existing path (or X looks like a path)."""
    head, sep, tail = spec.rpartition(":")
    if not sep or not head or os.path.exists(spec) or "/" in tail or "\\" in tail:
        return spec, None
    return head, tail


def open_corpus_dir(directory: str | os.PathLike[str]) -> Corpus:
    """Open a complete corpus directory, or raise one clear ``ConfigError``."""
    path = Path(directory)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such directory")
    refuse_split(path)
    if not (path / MANIFEST_FILE).is_file():
        raise ConfigError(f"corpus {str(path)!r}: not a hyperword corpus (no {MANIFEST_FILE})")
    try:
        corpus = Corpus(path)
    except CorruptCorpusError as e:
        raise ConfigError(f"corpus {str(path)!r}: {e}") from None
    if "text" not in corpus.schema().names:
        raise ConfigError(f"corpus {str(path)!r}: has no 'text' column")
    return corpus


def parse_spec(spec: str, *, weighted: bool) -> tuple[str, str | None]:
    """Split ``DIR[:WEIGHT]`` (``weighted``) or ``DIR[:NAME]``; validate a weight."""
    path, suffix = _split_suffix(spec)
    if weighted and suffix is not None:
        try:
            weight = float(suffix)
        except ValueError:
            raise ConfigError(f"corpus weight in {spec!r} is not a number: {suffix!r}") from None
        if not math.isfinite(weight) or weight <= 0:
            raise ConfigError(f"corpus weight in {spec!r} must be a positive number, got {suffix!r}")
    return path, suffix


def open_source(spec: str, *, weighted: bool) -> CorpusSource:
    path, suffix = parse_spec(spec, weighted=weighted)
    corpus = open_corpus_dir(path)
    weight = float(suffix) if weighted and suffix is not None else 1.0
    name = suffix if not weighted and suffix else Path(path).name or str(path)
    return CorpusSource(path=Path(path), weight=weight, name=name, corpus=corpus)


def allocate(rows: list[int], weights: list[float], max_sentences: int) -> list[int]:
    """Per-corpus quotas: the largest total ≤ ``max_sentences`` whose split follows
    ``weights`` and fits every corpus's ``rows``; largest-remainder rounding."""
    if max_sentences < 1:
        raise ConfigError(f"max sentences must be at least 1, got {max_sentences}")
    total_weight = sum(weights)
    shares = [w / total_weight for w in weights]
    total = float(max_sentences)
    for n, p in zip(rows, shares):
        total = min(total, n / p)
    exact = [total * p for p in shares]
    quotas = [min(int(math.floor(x)), n) for x, n in zip(exact, rows)]
    target = min(int(math.floor(total + 1e-9)), sum(rows))
    order = sorted(range(len(rows)), key=lambda i: (-(exact[i] - math.floor(exact[i])), i))
    for i in order:
        if sum(quotas) >= target:
            break
        if quotas[i] < rows[i]:
            quotas[i] += 1
    return quotas


def choose_indices(rows: int, quota: int, seed: int, index: int) -> np.ndarray:
    """``quota`` distinct row indices of ``rows``, sorted, from a generator seeded by
    (``seed``, ``index``)."""
    if quota >= rows:
        return np.arange(rows, dtype=np.int64)
    rng = np.random.default_rng([seed, index])
    return np.sort(rng.choice(rows, size=quota, replace=False).astype(np.int64))


def sample_rows(corpus: Corpus, indices: np.ndarray) -> Iterator[str]:
    """The ``text`` of the rows at sorted ``indices``, streamed one batch at a time."""
    offset = 0
    pos = 0
    for batch in corpus.iter_batches():
        if pos >= len(indices):
            return
        n = batch.num_rows
        end = int(np.searchsorted(indices, offset + n, side="left"))
        if end > pos:
            local = pa.array(indices[pos:end] - offset, type=pa.int64())
            texts = batch.column(batch.schema.get_field_index("text")).take(local)
            for text in texts.to_pylist():
                yield "" if text is None else str(text)
            pos = end
        offset += n
