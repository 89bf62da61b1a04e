"""``encode``: a corpus's ``text`` column through a sentencepiece tokenizer into token shards.

Everything is checked before the output directory is touched (tokenizer, mode, every source
shard's size and sha256, what the output directory holds); then each source shard ``i``
becomes ``tokens-0000i.npy`` and ``docs-0000i.npy`` (or is kept, verified, from an earlier
run), and ``manifest.json`` is written last.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from hyperword._hyperword import Lexicon, __version__, encode_aligned
from hyperword.encode.aligned import agreement, corpus_lexicon, token_table, words_and_joiner
from hyperword.encode.input_corpus import Source, open_source, shard_tasks
from hyperword.encode.tokenizer import TokenizerInfo, load_tokenizer
from hyperword.encode.workers import WorkerPool
from hyperword.errors import ConfigError, CorruptCorpusError
from hyperword.formats.identity import fingerprint
from hyperword.formats.tokens import (
    DTYPE_RULE,
    FORMAT_VERSION,
    NpyWriter,
    TokenManifest,
    TokenRun,
    TokenShard,
    docs_file_name,
    dtype_for_vocab,
    tokens_file_name,
    write_token_dir,
)

__all__ = ["MODES", "encode"]

MODES = ("exact", "aligned")
DTYPES = ("uint16", "uint32")
#: rows per task; at most 2 * threads tasks in flight (~1 MB of texts and ~0.4 MB of tokens
#: each, numpy); a task of a compressed Arrow batch decompresses it in its worker, so
#: batch-sized tasks would avoid doing so in several workers, at the cost of memory.
TASK_ROWS = 65_536


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}: expected exact or aligned")


def _dtype(vocab_size: int, requested: str | None) -> np.dtype[np.unsignedinteger]:
    """The vocabulary's dtype, or the one asked for when every id fits it."""
    rule = dtype_for_vocab(vocab_size)
    if requested is None:
        return rule
    if requested not in DTYPES:
        raise ConfigError(f"unknown dtype {requested!r}: expected uint16 or uint32")
    chosen: np.dtype[np.unsignedinteger] = np.dtype(requested).newbyteorder("<")
    if vocab_size - 1 > np.iinfo(chosen).max:
        raise ConfigError(
            f"a vocabulary of {vocab_size} ids does not fit {requested} (largest id {np.iinfo(chosen).max}); use uint32"
        )
    return chosen


def _threads(threads: int | None) -> int:
    if threads is None:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads must be a positive integer, got {threads!r}")
    return threads


def _encode_shard(
    run: TokenRun, pool: WorkerPool, source: Source, index: int, dtype: np.dtype[np.generic]
) -> TokenShard:
    info = source.shards[index]
    out = run.directory
    tokens = NpyWriter(out / tokens_file_name(index), dtype)
    try:
        docs = NpyWriter(out / docs_file_name(index), np.dtype("<i8"))
    except BaseException:
        tokens.abort()
        raise
    try:
        end = 0
        for flat, lengths in pool.map(shard_tasks(source, info, TASK_ROWS)):
            tokens.write(flat)
            docs.write(end + np.cumsum(lengths))
            end += int(flat.shape[0])
        documents, count = docs.length, tokens.length
        tokens_bytes, tokens_sha = tokens.finish()
    except BaseException:
        tokens.abort()
        docs.abort()
        raise
    try:
        docs_bytes, docs_sha = docs.finish()
    except BaseException:
        docs.abort()
        raise
    return TokenShard(
        index,
        tokens_file_name(index),
        docs_file_name(index),
        documents,
        count,
        tokens_bytes,
        docs_bytes,
        tokens_sha,
        docs_sha,
    )


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _encode_aligned(
    run: TokenRun,
    tok: TokenizerInfo,
    source: Source,
    lex: Lexicon,
    dtype: np.dtype[np.generic],
    threads: int,
    progress: Callable[[int, int], object] | None = None,
) -> None:
    """The missing shards, ``threads`` at a time (each recorded as soon as its group is done)."""
    config = source.corpus.manifest.config
    words, joiner = words_and_joiner(lex, config)
    table = token_table(tok.model, words, joiner)
    pending = [i for i in range(len(source.shards)) if run.kept(i) is None]
    for group in _chunks(pending, threads):
        written = json.loads(
            encode_aligned(
                str(run.directory),
                lex,
                json.dumps(config),
                table.first_ids,
                table.first_offsets,
                table.inner_ids,
                table.inner_offsets,
                table.joiner,
                tok.eos_id,
                tok.vocab_size,
                dtype.str,
                group,
                threads=threads,
            )
        )
        for w in written:
            info = source.shards[w["index"]]
            if (w["documents"], w["words"]) != (info.rows, info.words):
                raise CorruptCorpusError(
                    f"{source.path / info.path}: the manifest says {info.rows} rows and {info.words} words; its configuration "
                    f"re-draws {w['documents']} and {w['words']}"
                )
            del w["words"]
            run.record(TokenShard(**w))
        if progress is not None:
            progress(run.reused + run.generated, len(source.shards))


def _identity(
    mode: str, tok: TokenizerInfo, source: Source, dtype: np.dtype[np.generic], lex: Lexicon | None
) -> dict[str, object]:
    identity: dict[str, object] = {
        "format_version": FORMAT_VERSION,
        "hyperword": __version__,
        "mode": mode,
        "tokenizer_sha256": tok.sha256,
        "source_manifest_sha256": source.manifest_sha256,
        "dtype": dtype.name,
    }
    if lex is not None:
        identity["lexicon_sha256"] = lex.sha256
    return identity


def encode(
    tokenizer: str | os.PathLike[str],
    corpus: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    mode: str = "exact",
    threads: int | None = None,
    force: bool = False,
    dtype: str | None = None,
    lexicon: str | os.PathLike[str] | Lexicon | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> TokenManifest:
    """Encode ``corpus`` with the tokenizer directory ``tokenizer`` into ``out``; see the module
    doc. ``progress(done, total)`` is called with the shards finished (kept ones included) as
    each is written. ``dtype`` overrides the vocabulary's (``uint16``/``uint32``, when every id fits);
    ``lexicon`` is the lexicon an ``aligned`` corpus was generated from (default: the shipped one)."""
    _check_mode(mode)
    n = _threads(threads)
    tok = load_tokenizer(tokenizer)
    array_dtype = _dtype(tok.vocab_size, dtype)
    if tok.eos_id >= tok.vocab_size:
        raise ConfigError(
            f"tokenizer {str(tokenizer)!r}: eos id {tok.eos_id} is outside the vocabulary of {tok.vocab_size}"
        )
    source = open_source(corpus)
    lex = corpus_lexicon(source, lexicon) if mode == "aligned" else None
    fp = fingerprint(_identity(mode, tok, source, array_dtype, lex))
    run = TokenRun.check(Path(out), fp, force=force)
    if run.complete is not None:
        return run.finish()
    run.begin()
    try:
        if lex is not None:
            _encode_aligned(run, tok, source, lex, array_dtype, n, progress)
        else:
            with WorkerPool(tok.model, tok.eos_id, array_dtype.str, n) as pool:
                for i in range(len(source.shards)):
                    if run.kept(i) is None:
                        run.record(_encode_shard(run, pool, source, i, array_dtype))
                    if progress is not None:
                        progress(i + 1, len(source.shards))
    except BaseException:
        run.remove_temporaries()
        raise
    extra = None
    if lex is not None:
        extra = {
            "lexicon": {"source": lex.source, "sha256": lex.sha256},
            "aligned_agreement": agreement(run.directory, source, tok.model, tok.eos_id),
        }
    return write_token_dir(
        run.directory,
        run.shards,
        fingerprint=fp,
        mode=mode,
        tokenizer=tok.to_dict(),
        source=source.to_dict(),
        dtype=array_dtype,
        versions={"sentencepiece": _sp_version(), "numpy": np.__version__, "pyarrow": pa.__version__},
        dtype_rule=DTYPE_RULE if dtype is None else f"{array_dtype.name} chosen by the caller (every id fits)",
        extra=extra,
        run=run,
    )


def _sp_version() -> str:
    import sentencepiece

    return str(getattr(sentencepiece, "__version__", "unknown"))
