"""Baseline mnemophrase generators for ``benches/bench_generate.py``.

Both write what ``hyperword.generate`` writes for the same lexicon and phrase lengths:
zstd-compressed Arrow IPC *file* shards ``shard-00000.arrow``, ... with one non-null
``text`` string column. Each row is a phrase: a language drawn uniformly, a length k drawn
uniformly from ``words_per_phrase`` (inclusive), then k words drawn uniformly from that
language, fused without a separator. A shard holds ``shard_words`` words (it ends at the
first phrase that reaches the target, so it may pass it by a few words); the last shard
takes the remainder. Record batches hold about ``BATCH_WORDS`` words.

- ``generate_pure_python``: idiomatic Python (``random.Random``, loops, ``"".join``).
- ``generate_numpy``: vectorised per record batch: numpy draws every length, language and
  word index of the batch at once, pyarrow gathers the words (``take``) and the phrases are
  the gathered bytes re-cut at phrase boundaries (no copy per phrase).
- ``generate_dyck_pure_python``: k-shuffle Dyck sequences (``--kind dyck``), drawn in the
  style of the anchor's own generator (Hu et al. 2025), one sequence per row.

``check_shard`` reads a shard back and verifies that every row is a concatenation of
lexicon words of one language, with a word count in range.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypedDict

import numpy as np
import pyarrow as pa

Lexicon = Mapping[str, Sequence[str]]
"""Words grouped by language code."""

PathLike = str | os.PathLike[str]
WordsPerPhrase = tuple[int, int]

BATCH_WORDS = 1 << 20
"""Words per record batch (the last phrase of a batch may pass it); hyperword's default."""

TEXT_SCHEMA = pa.schema([pa.field("text", pa.string(), nullable=False)])
IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")

# Draws the phrases of one record batch: given a word target, returns the phrases (the first
# phrase that reaches the target is the last one) and how many words they hold.
BatchFn = Callable[[int], tuple[pa.StringArray, int]]


class Counts(TypedDict):
    words: int
    bytes: int
    """UTF-8 bytes of the text column, all shards."""
    shards: int


class ShardCheck(TypedDict):
    rows: int
    bytes: int
    """UTF-8 bytes of the text column."""


# ---------------------------------------------------------------------------------------
# Shared plumbing: lexicon, shard plan, Arrow output


def load_lexicon(path: PathLike) -> dict[str, list[str]]:
    """Read a lexicon TSV (header row with ``lang`` and ``word``; other columns ignored).

    Cells are trimmed and rows with an empty language or word skipped, as hyperword does;
    duplicate words are kept (each row is one entry)."""
    lexicon: dict[str, list[str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = {(name or "").strip().lower(): name for name in reader.fieldnames or ()}
        if "lang" not in header or "word" not in header:
            raise ValueError(f"{path}: the header needs columns 'lang' and 'word', got {reader.fieldnames}")
        lang_key, word_key = header["lang"], header["word"]
        for row in reader:
            lang, word = (row.get(lang_key) or "").strip(), (row.get(word_key) or "").strip()
            if lang and word:
                lexicon.setdefault(lang, []).append(word)
    if not lexicon:
        raise ValueError(f"{path}: no words")
    return {lang: lexicon[lang] for lang in sorted(lexicon)}


def shard_targets(words: int, shard_words: int) -> list[int]:
    """Target words of every shard: ``shard_words`` each, the remainder for the last one."""
    if words < 1 or shard_words < 1:
        raise ValueError(f"words and shard_words must be positive, got {words} and {shard_words}")
    full, rest = divmod(words, shard_words)
    return [shard_words] * full + ([rest] if rest else [])


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.arrow"


def shard_paths(out_dir: PathLike) -> list[Path]:
    """The shards in a corpus directory, in order (hyperword's naming too)."""
    return sorted(Path(out_dir).glob("shard-*.arrow"))


def _text_bytes(text: pa.StringArray) -> int:
    """UTF-8 bytes of a string array, read off its offsets."""
    if len(text) == 0:
        return 0
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=len(text) + 1, offset=4 * text.offset)
    return int(offsets[-1] - offsets[0])


def shard_text_bytes(path: PathLike) -> int:
    """UTF-8 bytes of the ``text`` column of a shard."""
    with pa.memory_map(os.fspath(path)) as source:
        reader = pa.ipc.open_file(source)
        column = reader.schema.get_field_index("text")
        return sum(_text_bytes(reader.get_batch(b).column(column)) for b in range(reader.num_record_batches))


def _check_phrase_length(words_per_phrase: WordsPerPhrase) -> WordsPerPhrase:
    low, high = words_per_phrase
    if not 1 <= low <= high:
        raise ValueError(f"words_per_phrase must be (min, max) with 1 <= min <= max, got {words_per_phrase}")
    return low, high


def _write_shards(out_dir: PathLike, words: int, shard_words: int, next_batch: BatchFn) -> Counts:
    """Write the corpus shard by shard, batch by batch, drawing phrases with ``next_batch``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    targets = shard_targets(words, shard_words)
    total_words = total_bytes = 0
    for index, target in enumerate(targets):
        with pa.ipc.new_file(out / shard_name(index), TEXT_SCHEMA, options=IPC_OPTIONS) as writer:
            remaining = target
            while remaining > 0:
                text, batch_words = next_batch(min(BATCH_WORDS, remaining))
                writer.write_batch(pa.record_batch([text], schema=TEXT_SCHEMA))
                remaining -= batch_words
                total_words += batch_words
                total_bytes += _text_bytes(text)
    return Counts(words=total_words, bytes=total_bytes, shards=len(targets))


# ---------------------------------------------------------------------------------------
# (a) Pure Python


def generate_pure_python(
    lexicon_path: PathLike,
    out_dir: PathLike,
    words: int,
    *,
    seed: int,
    words_per_phrase: WordsPerPhrase = (2, 6),
    shard_words: int,
) -> Counts:
    """The idiomatic pure-Python generator: one ``random.Random``, a loop per phrase."""
    low, high = _check_phrase_length(words_per_phrase)
    pools = list(load_lexicon(lexicon_path).values())
    rng = random.Random(seed)

    def next_batch(target: int) -> tuple[pa.StringArray, int]:
        phrases: list[str] = []
        n = 0
        while n < target:
            k = rng.randint(low, high)
            pool = rng.choice(pools)
            phrases.append("".join(rng.choices(pool, k=k)))
            n += k
        return pa.array(phrases, type=pa.string()), n

    return _write_shards(out_dir, words, shard_words, next_batch)


# ---------------------------------------------------------------------------------------
# (b) numpy (+ pyarrow kernels), vectorised per record batch


class _NumpyPhrases:
    """Draws whole record batches of phrases with array operations only.

    All words live in one Arrow string array, grouped by language, so language ``l`` owns
    the ids ``[start[l], start[l] + count[l])``. Per batch: draw every phrase length and
    language, then one word id per word; ``take`` gathers the words into one contiguous
    buffer, already in phrase order, and the phrases are that buffer with the word offsets
    sampled at phrase boundaries.
    """

    def __init__(self, lexicon: Lexicon, seed: int, words_per_phrase: WordsPerPhrase) -> None:
        self.low, self.high = _check_phrase_length(words_per_phrase)
        pools = list(lexicon.values())
        self.words = pa.array([w for pool in pools for w in pool], type=pa.string())
        self.count = np.array([len(pool) for pool in pools], dtype=np.int64)
        self.start = np.concatenate(([0], np.cumsum(self.count)[:-1])).astype(np.int64)
        self.rng = np.random.default_rng(seed)

    def _lengths(self, target: int) -> np.ndarray:
        """Phrase lengths up to the first phrase whose running total reaches ``target``."""
        mean = (self.low + self.high) / 2
        chunks: list[np.ndarray] = []
        total = 0
        while True:
            size = int((target - total) / mean * 1.01) + 16
            k = self.rng.integers(self.low, self.high + 1, size=size)
            running = np.cumsum(k) + total
            if running[-1] >= target:
                chunks.append(k[: int(np.searchsorted(running, target)) + 1])
                return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
            chunks.append(k)
            total = int(running[-1])

    def __call__(self, target: int) -> tuple[pa.StringArray, int]:
        k = self._lengths(target)
        lang = self.rng.integers(0, len(self.count), size=k.size)
        ids = np.repeat(self.start[lang], k) + self.rng.integers(0, np.repeat(self.count[lang], k))
        taken = self.words.take(pa.array(ids))
        word_offsets = np.frombuffer(taken.buffers()[1], dtype=np.int32, count=len(taken) + 1, offset=4 * taken.offset)
        phrase_ends = np.cumsum(k)
        offsets = word_offsets[np.concatenate(([0], phrase_ends))]
        text = pa.StringArray.from_buffers(k.size, pa.py_buffer(offsets), taken.buffers()[2])
        return text, int(phrase_ends[-1])


def generate_numpy(
    lexicon_path: PathLike,
    out_dir: PathLike,
    words: int,
    *,
    seed: int,
    words_per_phrase: WordsPerPhrase = (2, 6),
    shard_words: int,
) -> Counts:
    """The vectorised generator: numpy draws, pyarrow gathers, no Python loop per phrase."""
    phrases = _NumpyPhrases(load_lexicon(lexicon_path), seed, words_per_phrase)
    return _write_shards(out_dir, words, shard_words, phrases)


# ---------------------------------------------------------------------------------------
# (c) k-shuffle Dyck, pure Python, in the anchor's style


def shuffle_dyck(rng: random.Random, k: int, length: int, p_open: float, max_depth: int) -> list[int]:
    """One k-shuffle Dyck sequence of ``length`` brackets, drawn the way the generator of
    Hu et al. 2025 (michahu/pre-pretraining, ``generate_shuff_dyck``) draws it: ``i`` is
    opening bracket ``i``, ``i + k`` its closing bracket; the depth is ``sum(counts)`` and
    the open types a list comprehension, at every step. One change, to draw hyperword's
    language: when the brackets left equal the depth, the rest close the open ones (the
    anchor truncates instead), so every sequence is balanced.
    """
    sequence: list[int] = []
    counts = [0] * k
    while len(sequence) < length:
        depth = sum(counts)
        if depth == 0:
            bracket = rng.randint(0, k - 1)
            sequence.append(bracket)
            counts[bracket] += 1
            continue
        if depth >= max_depth or depth >= length - len(sequence):
            open_brackets = [i for i, count in enumerate(counts) if count > 0]
            bracket = rng.choice(open_brackets)
            sequence.append(bracket + k)
            counts[bracket] -= 1
            continue
        if rng.random() < p_open:
            bracket = rng.randint(0, k - 1)
            sequence.append(bracket)
            counts[bracket] += 1
        else:
            open_brackets = [i for i, count in enumerate(counts) if count > 0]
            bracket = rng.choice(open_brackets)
            sequence.append(bracket + k)
            counts[bracket] -= 1
    return sequence


def generate_dyck_pure_python(
    out_dir: PathLike,
    words: int,
    *,
    seed: int,
    dyck_k: int,
    p_open: float,
    max_depth: int,
    seq_len: int,
    shard_words: int,
) -> Counts:
    """Dyck sequences of ``seq_len`` brackets (``shuffle_dyck``), one row each, as text in
    hyperword's symbols (``hyperword.dyck_symbols``: one Private Use Area character per
    bracket, ids ``0..2k`` in order), written as the same zstd Arrow shards."""
    from hyperword._hyperword import dyck_symbols

    k = dyck_k
    symbols = dyck_symbols(k)
    rng = random.Random(seed)

    def next_batch(target: int) -> tuple[pa.StringArray, int]:
        rows: list[str] = []
        n = 0
        while n < target:
            rows.append("".join([symbols[b] for b in shuffle_dyck(rng, k, seq_len, p_open, max_depth)]))
            n += seq_len
        return pa.array(rows, type=pa.string()), n

    return _write_shards(out_dir, words, shard_words, next_batch)


# ---------------------------------------------------------------------------------------
# Self-check


class _Segmenter:
    """Tells whether a string is a concatenation of k words of one language, low <= k <= high."""

    def __init__(self, lexicon: Lexicon, words_per_phrase: WordsPerPhrase) -> None:
        self.low, self.high = _check_phrase_length(words_per_phrase)
        self.langs: list[tuple[frozenset[str], tuple[int, ...], frozenset[str]]] = []
        for pool in lexicon.values():
            words = frozenset(pool)
            lengths = tuple(sorted({len(w) for w in words}))
            self.langs.append((words, lengths, frozenset(w[0] for w in words)))

    def fits(self, text: str) -> bool:
        if not text:
            return False
        return any(text[0] in first and self._segments(text, words, lengths) for words, lengths, first in self.langs)

    def _segments(self, text: str, words: frozenset[str], lengths: tuple[int, ...]) -> bool:
        # reach[i] has bit c set when text[:i] splits into exactly c words (c <= high).
        n = len(text)
        cap = (1 << (self.high + 1)) - 1
        reach = [0] * (n + 1)
        reach[0] = 1
        for i in range(n):
            counts = (reach[i] << 1) & cap
            if not counts:
                continue
            for length in lengths:
                j = i + length
                if j > n:
                    break
                if text[i:j] in words:
                    reach[j] |= counts
        return reach[n] >> self.low != 0


def check_shard(
    path: PathLike,
    lexicon: Lexicon | PathLike,
    *,
    words_per_phrase: WordsPerPhrase = (2, 6),
    max_rows: int | None = None,
) -> ShardCheck:
    """Read a shard back and verify it: an Arrow IPC file with the single column ``text``
    (string, no nulls), each row a concatenation of ``words_per_phrase`` words of one
    language of ``lexicon`` (words grouped by language, or a lexicon TSV). Segments the
    first ``max_rows`` rows (all by default); raises ``ValueError`` on the first bad row.
    Returns the rows and text bytes of the whole shard."""
    if not isinstance(lexicon, Mapping):
        lexicon = load_lexicon(lexicon)
    segmenter = _Segmenter(lexicon, words_per_phrase)
    rows = text_bytes = 0
    with pa.memory_map(os.fspath(path)) as source:
        reader = pa.ipc.open_file(source)
        if reader.schema.names != ["text"] or not pa.types.is_string(reader.schema.field("text").type):
            raise ValueError(f"{path}: expected one string column 'text', got schema {reader.schema}")
        for b in range(reader.num_record_batches):
            column = reader.get_batch(b).column(0)
            if column.null_count:
                raise ValueError(f"{path}: batch {b} holds {column.null_count} nulls")
            to_check = len(column) if max_rows is None else max(0, min(len(column), max_rows - rows))
            for i, text in enumerate(column.slice(0, to_check).to_pylist()):
                if not segmenter.fits(text):
                    raise ValueError(
                        f"{path}: row {rows + i} {text!r} is not {words_per_phrase[0]}-{words_per_phrase[1]} "
                        "lexicon words of one language"
                    )
            rows += len(column)
            text_bytes += _text_bytes(column)
    return ShardCheck(rows=rows, bytes=text_bytes)


def check_dyck_shard(
    path: PathLike, *, k: int, max_depth: int, seq_len: int, max_rows: int | None = None
) -> ShardCheck:
    """Read a Dyck shard back and verify its first ``max_rows`` rows (all by default): each
    ``seq_len`` brackets of ``k`` types (``hyperword.dyck_symbols``), every type balanced,
    never more than ``max_depth`` open. Raises ``ValueError`` on the first bad row."""
    from hyperword._hyperword import dyck_symbols

    bracket = {s: (i % k, 1 if i < k else -1) for i, s in enumerate(dyck_symbols(k))}
    rows = text_bytes = 0
    with pa.memory_map(os.fspath(path)) as source:
        reader = pa.ipc.open_file(source)
        for b in range(reader.num_record_batches):
            column = reader.get_batch(b).column(0)
            to_check = len(column) if max_rows is None else max(0, min(len(column), max_rows - rows))
            for i, text in enumerate(column.slice(0, to_check).to_pylist()):
                counts, depth = [0] * k, 0
                for c in text:
                    t, step = bracket[c]
                    counts[t] += step
                    depth += step
                    if counts[t] < 0 or depth > max_depth:
                        raise ValueError(
                            f"{path}: row {rows + i}: type {t} closes unopened, or depth {depth} > {max_depth}"
                        )
                if len(text) != seq_len or depth != 0:
                    raise ValueError(f"{path}: row {rows + i}: {len(text)} brackets, {depth} left open")
            rows += len(column)
            text_bytes += _text_bytes(column)
    return ShardCheck(rows=rows, bytes=text_bytes)
