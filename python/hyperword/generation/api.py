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

The keyword arguments are declared once, as typed dicts, in
:mod:`hyperword.generation.config` (``SampleOptions``, ``StreamOptions``,
``GenerateOptions``), and build the engine's configuration, a ``CorpusConfig`` typed dict.
Instead of them, ``config=`` takes a ``CorpusConfig`` as it is (a manifest's ``config``, for
instance); ``lexicon``, ``lexicon_lang``, ``exclude_pivot`` and the run options go with it.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa

from hyperword import _hyperword
from hyperword.formats.corpus import Manifest, RunStats
from hyperword.generation.config import (
    DEFAULT_BATCH_WORDS,
    DEFAULT_SHARD_WORDS,
    DEFAULTS,
    NOT_IN_CONFIG,
    CorpusConfig,
    FusionConfig,
    GenerateOptions,
    KindConfig,
    SampleOptions,
    StreamOptions,
    default_columns,
    fusion_config,
    kind_config,
    option_names,
    parse_columns,
    parse_count,
    resolve_lexicon,
)
from hyperword.generation.local import generate_local

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["DEFAULT_BATCH_WORDS", "DEFAULT_SHARD_WORDS", "MAX_SAMPLE", "MAX_THREADS", "generate", "sample", "stream"]


class _Words(enum.Enum):
    """``words`` not given: taken from ``config=`` (``None`` given is refused as a bad count)."""

    FROM_CONFIG = "from config"

    def __repr__(self) -> str:
        return "<from config>"


FROM_CONFIG = _Words.FROM_CONFIG

# ``sample`` builds a Python list: more than this is a job for ``stream``.
MAX_SAMPLE = 1_000_000
# Worker threads of one ``generate`` (each gets its own shards; more cannot help).
MAX_THREADS = 1024


def _check_whole(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value >= 2**64:
        kind = "positive" if minimum > 0 else "non-negative"
        raise _hyperword.ConfigError(f"{name} must be a {kind} whole number below 2**64, got {value!r}")


def _options(func: str, options_type: type, given: Mapping[str, Any], config: object) -> GenerateOptions:
    """The keyword arguments ``given`` to ``func`` with every default filled in; a name
    ``options_type`` does not declare is a ``TypeError``, as for any Python function."""
    allowed = option_names(options_type)
    for name in given:
        if name not in allowed:
            raise TypeError(f"{func}() got an unexpected keyword argument {name!r}")
    if config is not None:
        if not isinstance(config, Mapping):
            raise TypeError(f"{func}(): config must be a CorpusConfig (a dict), got {config!r}")
        in_config = sorted(set(given) - NOT_IN_CONFIG)
        if in_config:
            raise TypeError(f"{func}(): {', '.join(in_config)} belong to the configuration: give config or them")
    return cast(GenerateOptions, {**DEFAULTS, **given})


def _keywords(func: Callable[..., Any], options_type: type) -> None:
    """Show ``func``'s keyword arguments, with their defaults, in ``help()`` and ``inspect``."""
    signature = inspect.signature(func)
    names = option_names(options_type)
    params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, default in DEFAULTS.items()
        if name in names
    ]
    setattr(func, "__signature__", signature.replace(parameters=params))  # noqa: B010


def _no_lexicon(kind: str, options: SampleOptions) -> None:
    """The dyck and ngram kinds take no lexicon."""
    if kind in ("dyck", "ngram") and (options["lexicon"], options["lexicon_lang"]) != (None, None):
        raise _hyperword.ConfigError(f"a {kind} corpus draws no lexicon words: drop lexicon (--lexicon)")


def _fusion(options: SampleOptions) -> tuple[_hyperword.Lexicon, FusionConfig, KindConfig]:
    """The lexicon, the fusion configuration and the kind's options, checked in this order."""
    _no_lexicon(options["kind"], options)
    kind_options = kind_config(options)
    lex = resolve_lexicon(options["lexicon"], options["lexicon_lang"])
    fusion = fusion_config(options)
    if options["exclude_pivot"]:
        fusion = without_pivot(fusion, lex)
    return lex, fusion, kind_options


def _kind_of(config: KindConfig) -> str:
    """``dyck`` or ``ngram`` when the configuration sets those options (even to ``{}``, all
    defaults), else ``mnemo`` (bridges included): as the engine reads it."""
    if config.get("dyck") is not None:
        return "dyck"
    return "ngram" if config.get("ngram") is not None else "mnemo"


def _given_config(config: CorpusConfig, options: SampleOptions) -> tuple[_hyperword.Lexicon, CorpusConfig]:
    """A ``config=`` with its lexicon (and the pivot left out, with ``exclude_pivot``)."""
    _no_lexicon(_kind_of(config), options)
    lex = resolve_lexicon(options["lexicon"], options["lexicon_lang"])
    if options["exclude_pivot"]:
        config = {**config, "fusion": without_pivot(config.get("fusion", {}), lex)}
    return lex, config


def _corpus_config(
    words: int | str, options: GenerateOptions, fusion: FusionConfig, kind_options: KindConfig
) -> CorpusConfig:
    # Counts may be written as the CLI takes them ("10M", "2.5k", "1e9"), parsed exactly.
    counts = [
        parse_count(v) if isinstance(v, str) else v for v in (words, options["shard_words"], options["batch_words"])
    ]
    for name, value in zip(("words", "shard_words", "batch_words"), counts):
        _check_whole(name, value, minimum=1)
    _check_whole("seed", options["seed"], minimum=0)
    columns = options["columns"]
    return {
        "words": counts[0],
        "shard_words": counts[1],
        "batch_words": counts[2],
        "seed": options["seed"],
        "format": options["format"],
        "compression": options["compression"],
        "compression_level": options["compression_level"],
        "columns": parse_columns(columns)
        if columns is not None
        else default_columns("bridge" if "bridge" in fusion else "mnemo"),
        "fusion": fusion,
        **kind_options,
    }


def _config(
    func: str, words: int | str | _Words, config: CorpusConfig | None, options: GenerateOptions
) -> tuple[_hyperword.Lexicon, CorpusConfig]:
    """The lexicon and the configuration of ``generate`` or ``stream``: ``config=`` as given
    (``words``, when given, replacing its word count), or built from the keyword arguments."""
    if config is None:
        if words is FROM_CONFIG:
            raise TypeError(f"{func}() missing 1 required positional argument: 'words'")
        lex, fusion, kind_options = _fusion(options)
        return lex, _corpus_config(words, options, fusion, kind_options)
    lex, config = _given_config(config, options)
    if words is not FROM_CONFIG:
        count = parse_count(words) if isinstance(words, str) else words
        _check_whole("words", count, minimum=1)
        config = {**config, "words": count}
    return lex, config


def without_pivot(fusion: FusionConfig, lex: _hyperword.Lexicon) -> FusionConfig:
    """A translate bridge's fusion configuration with the pivot language left out of the
    languages drawn (``exclude_pivot``), so no row translates a word into itself: the
    languages given less the pivot, or every lexicon language but the pivot. The result is
    the configuration the remaining languages name, recorded as such in the manifest."""
    bridge = fusion.get("bridge")
    if not bridge or bridge.get("mode") != "translate":
        raise _hyperword.ConfigError(
            "exclude_pivot (--exclude-pivot) applies to translate bridges (kind='bridge', bridge='translate')"
        )
    pivot = bridge.get("pivot")
    langs = fusion.get("langs") or [{"lang": lang, "weight": 1.0} for lang in lex.langs]
    kept = [entry for entry in langs if entry["lang"] != pivot]
    if not kept:
        raise _hyperword.ConfigError(
            f"exclude_pivot leaves no language to translate into {pivot}: name others with langs (--langs)"
        )
    return {**fusion, "langs": kept}


def generate(
    out: str | os.PathLike[str],
    words: int | str | _Words = FROM_CONFIG,
    *,
    config: CorpusConfig | None = None,
    **options: Unpack[GenerateOptions],
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
    ``s3://bucket/corpus``); see :mod:`hyperword.generation.ray`. The bytes are the same.
    """
    o = _options("generate", GenerateOptions, options, config)
    threads, progress = o["threads"], o["progress"]
    if threads is not None:
        _check_whole("threads", threads, minimum=1)
        if threads > MAX_THREADS:
            raise _hyperword.ConfigError(f"threads must be at most {MAX_THREADS}, got {threads}")
    if os.fspath(out) == "":
        raise _hyperword.ConfigError("out must name the output directory, got an empty path")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable (it is called with the words written so far), got {progress!r}")
    lex, engine_config = _config("generate", words, config, o)
    text = json.dumps(engine_config)
    if o["engine"] == "ray":
        from hyperword.generation.ray import generate_ray

        written, generated, reused = generate_ray(
            out, lex, text, lexicon_lang=o["lexicon_lang"], force=o["force"], address=o["address"], progress=progress
        )
    elif o["engine"] == "local":
        written, generated, reused = generate_local(
            out, lex, text, threads=threads, force=o["force"], progress=progress
        )
    else:
        raise _hyperword.ConfigError(f"unknown engine {o['engine']!r}: expected local or ray")
    manifest = Manifest.from_dict(json.loads(written), os.fspath(out))
    return dataclasses.replace(manifest, run=RunStats(generated_shards=generated, reused_shards=reused))


def stream(
    words: int | str | _Words = FROM_CONFIG, *, config: CorpusConfig | None = None, **options: Unpack[StreamOptions]
) -> pa.RecordBatchReader:
    """The corpus ``generate`` would write, as a reader yielding ``pyarrow.RecordBatch``es.

    Nothing touches disk and batches are made as they are read. They cross from Rust
    through the Arrow C stream interface (a PyCapsule): no Python strings are built. The
    reader is iterable and also feeds ``pyarrow.dataset.write_dataset``, polars and others.
    Options are validated before this returns.
    """
    o = _options("stream", StreamOptions, options, config)
    lex, engine_config = _config("stream", words, config, o)
    return pa.RecordBatchReader.from_stream(_hyperword.stream(lex, json.dumps(engine_config)))


def sample(n: int, *, config: CorpusConfig | None = None, **options: Unpack[SampleOptions]) -> list[str]:
    """Return ``n`` phrases (sequences, documents): the first ``n`` rows of shard 0 of the
    corpus with these options."""
    o = _options("sample", SampleOptions, options, config)
    _check_whole("n", n, minimum=0)
    if n > MAX_SAMPLE:
        raise _hyperword.ConfigError(
            f"sample returns at most {MAX_SAMPLE} phrases, got n={n}: stream() yields any number"
        )
    if config is None:
        _check_whole("seed", o["seed"], minimum=0)
        lex, fusion, kind_options = _fusion(o)
        seed = o["seed"]
    else:
        lex, config = _given_config(config, o)
        fusion, seed = config.get("fusion", {}), config.get("seed", 0)
        kind_options = config
    if _kind_of(kind_options) != "mnemo":  # Dyck sequences, n-gram documents: the first rows of the stream
        if n == 0:
            return []
        words = n * _hyperword.KIND_LIMITS["max_seq_len"]  # room for n rows of any length, in one shard
        one_shard: GenerateOptions = {**o, "shard_words": words, "batch_words": DEFAULT_BATCH_WORDS, "columns": None}
        if config is None:
            rows_config = _corpus_config(words, one_shard, fusion, kind_options)
        else:
            rows_config = {**config, "words": words, "shard_words": words, "batch_words": DEFAULT_BATCH_WORDS}
            rows_config["columns"] = ["text"]
        rows: list[str] = []
        for batch in pa.RecordBatchReader.from_stream(_hyperword.stream(lex, json.dumps(rows_config))):
            rows.extend(batch.column("text").to_pylist()[: n - len(rows)])
            if len(rows) == n:
                break
        return rows
    return _hyperword.sample(lex, json.dumps(fusion), seed, n)


for _func, _options_type in ((generate, GenerateOptions), (stream, StreamOptions), (sample, SampleOptions)):
    _keywords(_func, _options_type)
