"""The Python API: ``generate`` a corpus on disk, ``stream`` it as Arrow batches, ``sample`` a few phrases.

All three share the fusion options below and produce the same phrases for the same
(lexicon, options, seed): ``stream`` yields exactly the rows ``generate`` writes, and
``sample(n)`` returns the first ``n`` phrases of shard 0.

Fusion options (keyword-only):
    lexicon: a ``Lexicon``, a path to a lexicon TSV, or a word list (with ``lexicon_lang``);
        ``None`` is the shipped 12-language lexicon.
    words_per_phrase: ``4``, ``(2, 6)`` or ``"2-6"`` (inclusive).
    phrase_dist: ``"uniform"``, ``"geometric:P"`` or ``"weights:W1,W2,..."`` over the range.
    langs: ``"en:2,ru"``, ``["en", "ru"]`` or ``{"en": 2, "ru": 1}``; ``None`` = all, equally.
    mix: ``"phrase"`` (one language per phrase) or ``"word"`` (a language per word).
    alpha: draw words with probability proportional to ``weight ** alpha`` (0 = uniform).
    coherence: probability that the next word comes from the current word's semantic field.
    joiner: string between words (none by default).
    case: ``"as-is"``, ``"lower"``, ``"title"`` (each word) or ``"upper"``.
    kind: ``"mnemo"`` (fused phrases) or ``"bridge"``: each phrase paired with ordinary
        language, ``bridge="segment"`` (its words with spaces) or ``"translate"`` (each word's
        concept in the ``pivot`` language, default ``en``), rendered into ``text`` by
        ``template`` (default ``"{source} = {target}"``); columns ``source`` and ``target``
        keep the sides apart. The pivot language is drawn from too (its rows translate each
        word into itself) unless ``exclude_pivot=True``. Two kinds draw no lexicon words
        (the fusion options above stay at their defaults; ``words`` counts their symbols,
        one row per sequence):
        ``"dyck"``, k-shuffle Dyck sequences (``dyck_k`` bracket types, default 64;
        ``p_open``, default 0.51; ``max_depth``, default 16; ``seq_len`` brackets per
        sequence, even, default 2048; every sequence balanced), and ``"ngram"``, documents
        sampled from an ``ngram_n``-gram model (1, 2 or 3) of the words of the corpus
        directory ``source`` (at most ``seq_len`` words each, default 2048).
    columns: any of text, words, langs, concepts, field (and source, target for bridges);
        default ``text`` (bridges: ``text,source,target``).
    seed: the corpus is a pure function of (lexicon content, options, seed).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from hyperword import _hyperword
from hyperword.config import (
    Langs,
    LexiconArg,
    PhraseLength,
    default_columns,
    fusion_config,
    kind_config,
    parse_columns,
    parse_count,
    resolve_lexicon,
)
from hyperword.manifest import Manifest, RunStats

DEFAULT_SHARD_WORDS = 10_000_000
DEFAULT_BATCH_WORDS = 1 << 20
# ``sample`` builds a Python list: more than this is a job for ``stream``.
MAX_SAMPLE = 1_000_000
# Worker threads of one ``generate`` (each gets its own shards; more cannot help).
MAX_THREADS = 1024


def _check_whole(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value >= 2**64:
        kind = "positive" if minimum > 0 else "non-negative"
        raise _hyperword.ConfigError(f"{name} must be a {kind} whole number below 2**64, got {value!r}")


def _corpus_config(
    words: int | str,
    seed: int,
    shard_words: int | str,
    batch_words: int | str,
    columns: str | Sequence[str] | None,
    fusion: dict[str, Any],
    compression: str = "zstd",
    compression_level: int | None = None,
    format: str = "arrow",
    kind_options: dict[str, Any] | None = None,
) -> str:
    # Counts may be written as the CLI takes them ("10M", "2.5k", "1e9"), parsed exactly.
    words, shard_words, batch_words = (
        parse_count(v) if isinstance(v, str) else v for v in (words, shard_words, batch_words)
    )
    for name, value in (("words", words), ("shard_words", shard_words), ("batch_words", batch_words)):
        _check_whole(name, value, minimum=1)
    _check_whole("seed", seed, minimum=0)
    config = {
        "words": words,
        "shard_words": shard_words,
        "batch_words": batch_words,
        "seed": seed,
        "format": format,
        "compression": compression,
        "compression_level": compression_level,
        "columns": parse_columns(columns)
        if columns is not None
        else default_columns("bridge" if "bridge" in fusion else "mnemo"),
        "fusion": fusion,
        **(kind_options or {}),
    }
    return json.dumps(config)


def _kind_options(kind: str, lexicon: LexiconArg, lexicon_lang: str | None, **options: Any) -> dict[str, Any]:
    """The ``dyck``/``ngram`` part of the configuration; those kinds take no lexicon."""
    if kind in ("dyck", "ngram") and (lexicon, lexicon_lang) != (None, None):
        raise _hyperword.ConfigError(f"a {kind} corpus draws no lexicon words: drop lexicon (--lexicon)")
    return kind_config(kind, **options)


def without_pivot(fusion: dict[str, Any], lex: _hyperword.Lexicon) -> dict[str, Any]:
    """A translate bridge's fusion configuration with the pivot language left out of the
    languages drawn (``exclude_pivot``), so no row translates a word into itself: the
    languages given less the pivot, or every lexicon language but the pivot. The result is
    the configuration the remaining languages name, recorded as such in the manifest."""
    bridge = fusion.get("bridge")
    if not bridge or bridge.get("mode") != "translate":
        raise _hyperword.ConfigError(
            "exclude_pivot (--exclude-pivot) applies to translate bridges (kind='bridge', bridge='translate')"
        )
    pivot = bridge["pivot"]
    langs = fusion["langs"] or [{"lang": lang, "weight": 1.0} for lang in lex.langs]
    kept = [entry for entry in langs if entry["lang"] != pivot]
    if not kept:
        raise _hyperword.ConfigError(
            f"exclude_pivot leaves no language to translate into {pivot}: name others with langs (--langs)"
        )
    return {**fusion, "langs": kept}


def generate(
    out: str | os.PathLike[str],
    words: int | str,
    *,
    lexicon: LexiconArg = None,
    lexicon_lang: str | None = None,
    words_per_phrase: PhraseLength = (2, 6),
    phrase_dist: str = "uniform",
    langs: Langs = None,
    mix: str = "phrase",
    alpha: float = 0.0,
    coherence: float = 0.0,
    joiner: str = "",
    case: str = "as-is",
    kind: str = "mnemo",
    bridge: str | None = None,
    pivot: str | None = None,
    template: str | None = None,
    exclude_pivot: bool = False,
    dyck_k: int | None = None,
    p_open: float | None = None,
    max_depth: int | None = None,
    seq_len: int | None = None,
    ngram_n: int | None = None,
    source: str | os.PathLike[str] | None = None,
    seed: int = 0,
    columns: str | Sequence[str] | None = None,
    shard_words: int | str = DEFAULT_SHARD_WORDS,
    batch_words: int | str = DEFAULT_BATCH_WORDS,
    compression: str = "zstd",
    compression_level: int | None = None,
    format: str = "arrow",
    threads: int | None = None,
    force: bool = False,
    progress: Callable[[int], object] | None = None,
    engine: str = "local",
    address: str | None = None,
) -> Manifest:
    """Write a corpus of ``words`` words to the directory ``out`` and return its manifest.
    Counts take the CLI's forms too (``"10M"``, ``"2.5k"``, ``"1e9"``).

    Shards hold ``shard_words`` words each (ending on a phrase boundary), are written
    atomically and can each be regenerated alone; ``threads`` (default: all cores) never
    changes the bytes. Rerunning over an unfinished output resumes it, keeping every shard
    whose checksum verifies; a finished corpus of the same configuration is returned as is;
    any other existing corpus is only replaced with ``force=True``. ``progress`` is called
    with the number of words written so far, about ten times a second. The returned
    manifest's ``run`` says how many shards this call wrote and how many it kept. Ctrl-C stops the
    run within a record batch, raising ``KeyboardInterrupt``. ``engine="ray"`` runs each shard
    as a Ray task (``address``: an existing cluster; ``out`` may be a URI such as
    ``s3://bucket/corpus``); see :mod:`hyperword.ray_engine`. The bytes are the same.
    """
    if threads is not None:
        _check_whole("threads", threads, minimum=1)
        if threads > MAX_THREADS:
            raise _hyperword.ConfigError(f"threads must be at most {MAX_THREADS}, got {threads}")
    if os.fspath(out) == "":
        raise _hyperword.ConfigError("out must name the output directory, got an empty path")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable (it is called with the words written so far), got {progress!r}")
    kind_options = _kind_options(
        kind,
        lexicon,
        lexicon_lang,
        dyck_k=dyck_k,
        p_open=p_open,
        max_depth=max_depth,
        seq_len=seq_len,
        ngram_n=ngram_n,
        source=source,
    )
    lex = resolve_lexicon(lexicon, lexicon_lang)
    fusion = fusion_config(
        words_per_phrase=words_per_phrase,
        phrase_dist=phrase_dist,
        langs=langs,
        mix=mix,
        alpha=alpha,
        coherence=coherence,
        joiner=joiner,
        case=case,
        kind=kind,
        bridge=bridge,
        pivot=pivot,
        template=template,
    )
    if exclude_pivot:
        fusion = without_pivot(fusion, lex)
    config = _corpus_config(
        words, seed, shard_words, batch_words, columns, fusion, compression, compression_level, format, kind_options
    )
    if engine == "ray":
        from hyperword.ray_engine import generate_ray

        text, generated, reused = generate_ray(
            out, lex, config, lexicon_lang=lexicon_lang, force=force, address=address, progress=progress
        )
    elif engine == "local":
        text, generated, reused = _hyperword.generate(
            os.fspath(out), lex, config, threads=threads, force=force, progress=progress
        )
    else:
        raise _hyperword.ConfigError(f"unknown engine {engine!r}: expected local or ray")
    manifest = Manifest.from_dict(json.loads(text), os.fspath(out))
    return dataclasses.replace(manifest, run=RunStats(generated_shards=generated, reused_shards=reused))


def stream(
    words: int | str,
    *,
    lexicon: LexiconArg = None,
    lexicon_lang: str | None = None,
    words_per_phrase: PhraseLength = (2, 6),
    phrase_dist: str = "uniform",
    langs: Langs = None,
    mix: str = "phrase",
    alpha: float = 0.0,
    coherence: float = 0.0,
    joiner: str = "",
    case: str = "as-is",
    kind: str = "mnemo",
    bridge: str | None = None,
    pivot: str | None = None,
    template: str | None = None,
    exclude_pivot: bool = False,
    dyck_k: int | None = None,
    p_open: float | None = None,
    max_depth: int | None = None,
    seq_len: int | None = None,
    ngram_n: int | None = None,
    source: str | os.PathLike[str] | None = None,
    seed: int = 0,
    columns: str | Sequence[str] | None = None,
    shard_words: int | str = DEFAULT_SHARD_WORDS,
    batch_words: int | str = DEFAULT_BATCH_WORDS,
) -> pa.RecordBatchReader:
    """The corpus ``generate`` would write, as a reader yielding ``pyarrow.RecordBatch``es.

    Nothing touches disk and batches are made as they are read. They cross from Rust
    through the Arrow C stream interface (a PyCapsule): no Python strings are built. The
    reader is iterable and also feeds ``pyarrow.dataset.write_dataset``, polars and others.
    Options are validated before this returns.
    """
    kind_options = _kind_options(
        kind,
        lexicon,
        lexicon_lang,
        dyck_k=dyck_k,
        p_open=p_open,
        max_depth=max_depth,
        seq_len=seq_len,
        ngram_n=ngram_n,
        source=source,
    )
    lex = resolve_lexicon(lexicon, lexicon_lang)
    fusion = fusion_config(
        words_per_phrase=words_per_phrase,
        phrase_dist=phrase_dist,
        langs=langs,
        mix=mix,
        alpha=alpha,
        coherence=coherence,
        joiner=joiner,
        case=case,
        kind=kind,
        bridge=bridge,
        pivot=pivot,
        template=template,
    )
    if exclude_pivot:
        fusion = without_pivot(fusion, lex)
    config = _corpus_config(words, seed, shard_words, batch_words, columns, fusion, kind_options=kind_options)
    return pa.RecordBatchReader.from_stream(_hyperword.stream(lex, config))


def sample(
    n: int,
    *,
    lexicon: LexiconArg = None,
    lexicon_lang: str | None = None,
    words_per_phrase: PhraseLength = (2, 6),
    phrase_dist: str = "uniform",
    langs: Langs = None,
    mix: str = "phrase",
    alpha: float = 0.0,
    coherence: float = 0.0,
    joiner: str = "",
    case: str = "as-is",
    kind: str = "mnemo",
    bridge: str | None = None,
    pivot: str | None = None,
    template: str | None = None,
    exclude_pivot: bool = False,
    dyck_k: int | None = None,
    p_open: float | None = None,
    max_depth: int | None = None,
    seq_len: int | None = None,
    ngram_n: int | None = None,
    source: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> list[str]:
    """Return ``n`` phrases (sequences, documents): the first ``n`` rows of shard 0 of the
    corpus with these options."""
    _check_whole("n", n, minimum=0)
    if n > MAX_SAMPLE:
        raise _hyperword.ConfigError(
            f"sample returns at most {MAX_SAMPLE} phrases, got n={n}: stream() yields any number"
        )
    _check_whole("seed", seed, minimum=0)
    kind_options = _kind_options(
        kind,
        lexicon,
        lexicon_lang,
        dyck_k=dyck_k,
        p_open=p_open,
        max_depth=max_depth,
        seq_len=seq_len,
        ngram_n=ngram_n,
        source=source,
    )
    lex = resolve_lexicon(lexicon, lexicon_lang)
    fusion = fusion_config(
        words_per_phrase=words_per_phrase,
        phrase_dist=phrase_dist,
        langs=langs,
        mix=mix,
        alpha=alpha,
        coherence=coherence,
        joiner=joiner,
        case=case,
        kind=kind,
        bridge=bridge,
        pivot=pivot,
        template=template,
    )
    if exclude_pivot:
        fusion = without_pivot(fusion, lex)
    if kind_options:  # Dyck sequences, n-gram documents: the first rows of the stream
        if n == 0:
            return []
        words = n * _hyperword.KIND_LIMITS["max_seq_len"]  # room for n rows of any length, in one shard
        config = _corpus_config(words, seed, words, DEFAULT_BATCH_WORDS, None, fusion, kind_options=kind_options)
        rows: list[str] = []
        for batch in pa.RecordBatchReader.from_stream(_hyperword.stream(lex, config)):
            rows.extend(batch.column("text").to_pylist()[: n - len(rows)])
            if len(rows) == n:
                break
        return rows
    return _hyperword.sample(lex, json.dumps(fusion), seed, n)
