"""The engine's configuration as typed dicts, and the friendly values that build it.

``FusionConfig`` and ``CorpusConfig`` mirror, field for field, the serde structs of
``rust/core/src/config.rs`` (with ``BridgeConfig``, ``DyckConfig`` and ``NgramConfig`` from
``bridge.rs``, ``dyck.rs`` and ``ngram.rs``): what crosses into Rust is one of these, as JSON.
The engine validates every value; this module only types and converts: ``"2-6"`` or
``(2, 6)`` to a phrase-length range, ``"en:2,ru"`` or ``{"en": 2, "ru": 1}`` to language
weights, ``"10M"`` or ``"1e9"`` to a word count.

The keyword arguments of ``generate``, ``stream`` and ``sample`` are declared once, in the
``*Options`` typed dicts below, with their defaults in ``DEFAULTS``; the command line's
generation flags carry the same names. A fusion field the engine takes as it is (``mix``,
``alpha``, ...) is declared in ``FusionFields``: adding one there (with its default) is all
the Python side needs for it to be a keyword argument of all three and part of the config.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, localcontext
from typing import Any, Literal, TypedDict, cast, get_args

from hyperword._hyperword import Lexicon
from hyperword.errors import ConfigError

# --- the engine's configuration (rust/core/src/config.rs) ---------------------------------

Mix = Literal["phrase", "word"]
Case = Literal["as-is", "lower", "title", "upper"]
BridgeMode = Literal["segment", "translate"]
Format = Literal["arrow", "parquet"]
Compression = Literal["zstd", "lz4", "none"]
Column = Literal["text", "words", "langs", "concepts", "field", "source", "target"]
# Corpus kinds the generator writes (``natural`` corpora come from ``hyperword ingest``).
Kind = Literal["mnemo", "bridge", "dyck", "ngram"]
Engine = Literal["local", "ray"]

KINDS: tuple[Kind, ...] = get_args(Kind)
DEFAULT_TEMPLATE = "{source} = {target}"
DEFAULT_SHARD_WORDS = 10_000_000
DEFAULT_BATCH_WORDS = 1 << 20


class _PhraseLengthRange(TypedDict):
    min: int
    max: int


class PhraseLength(_PhraseLengthRange, total=False):
    """Words per phrase, ``min..=max``, drawn from ``dist`` (``uniform``, ``geometric:P``,
    ``weights:W1,W2,...``; default uniform)."""

    dist: str


class LangWeight(TypedDict):
    lang: str
    weight: float


class _BridgeMode(TypedDict):
    mode: BridgeMode


class BridgeConfig(_BridgeMode, total=False):
    """A bridge corpus: each phrase paired with ordinary language (``bridge.rs``)."""

    pivot: str | None
    template: str


class FusionFields(TypedDict, total=False):
    """The fusion fields a keyword argument (and a command-line flag of the same name) gives
    exactly as the engine takes them."""

    mix: Mix
    alpha: float
    coherence: float
    joiner: str
    case: Case


class FusionConfig(FusionFields, total=False):
    """How phrases are fused from lexicon words (``FusionConfig`` in ``config.rs``); a field
    left out takes the engine's default."""

    words_per_phrase: PhraseLength
    langs: list[LangWeight]
    bridge: BridgeConfig


class DyckConfig(TypedDict, total=False):
    """A k-shuffle Dyck corpus (``dyck.rs``): ``k`` bracket types, ``seq_len`` brackets a row."""

    k: int
    p_open: float
    max_depth: int
    seq_len: int


class _NgramModel(TypedDict):
    n: int
    source: str


class NgramConfig(_NgramModel, total=False):
    """An n-gram corpus (``ngram.rs``): documents sampled from an ``n``-gram model of ``source``."""

    seq_len: int


class KindConfig(TypedDict, total=False):
    """The part of a ``CorpusConfig`` that makes it a dyck or ngram corpus."""

    dyck: DyckConfig | None
    ngram: NgramConfig | None


class CorpusConfig(KindConfig, total=False):
    """Everything that determines a corpus' bytes, with the lexicon content (``CorpusConfig``
    in ``config.rs``; a manifest's ``config`` is one). A field left out takes the engine's
    default."""

    words: int
    shard_words: int
    batch_words: int
    seed: int
    format: Format
    compression: Compression
    compression_level: int | None
    columns: list[Column]
    fusion: FusionConfig


# --- the keyword arguments of generate, stream and sample ----------------------------------

PhraseLengthArg = int | tuple[int, int] | str
Langs = str | Sequence[str] | Mapping[str, float] | None
LexiconArg = str | os.PathLike[str] | Lexicon | None


class LexiconOptions(TypedDict, total=False):
    """Where the words come from: not part of a ``CorpusConfig`` (a manifest records the
    lexicon's content hash instead), so these go with a ``config=`` too."""

    lexicon: LexiconArg
    lexicon_lang: str | None
    exclude_pivot: bool


class FusionOptions(FusionFields, total=False):
    """The fusion and kind options in their friendly forms (see ``hyperword.generation``)."""

    words_per_phrase: PhraseLengthArg
    phrase_dist: str
    langs: Langs
    kind: Kind
    bridge: BridgeMode | None
    pivot: str | None
    template: str | None
    dyck_k: int | None
    p_open: float | None
    max_depth: int | None
    seq_len: int | None
    ngram_n: int | None
    source: str | os.PathLike[str] | None
    seed: int


class SampleOptions(LexiconOptions, FusionOptions, total=False):
    """The keyword arguments of ``sample``."""


class LayoutOptions(TypedDict, total=False):
    columns: str | Sequence[str] | None
    shard_words: int | str
    batch_words: int | str


class StreamOptions(SampleOptions, LayoutOptions, total=False):
    """The keyword arguments of ``stream``."""


class FileOptions(TypedDict, total=False):
    compression: Compression
    compression_level: int | None
    format: Format


class RunOptions(TypedDict, total=False):
    """How ``generate`` runs: none of these changes the bytes written."""

    threads: int | None
    force: bool
    progress: Callable[[int], object] | None
    engine: Engine
    address: str | None


class GenerateOptions(StreamOptions, FileOptions, RunOptions, total=False):
    """The keyword arguments of ``generate``."""


# Every keyword argument's default; those of ``FusionFields`` are the engine's own.
DEFAULTS: GenerateOptions = {
    "lexicon": None,
    "lexicon_lang": None,
    "exclude_pivot": False,
    "words_per_phrase": (2, 6),
    "phrase_dist": "uniform",
    "langs": None,
    "mix": "phrase",
    "alpha": 0.0,
    "coherence": 0.0,
    "joiner": "",
    "case": "as-is",
    "kind": "mnemo",
    "bridge": None,
    "pivot": None,
    "template": None,
    "dyck_k": None,
    "p_open": None,
    "max_depth": None,
    "seq_len": None,
    "ngram_n": None,
    "source": None,
    "seed": 0,
    "columns": None,
    "shard_words": DEFAULT_SHARD_WORDS,
    "batch_words": DEFAULT_BATCH_WORDS,
    "compression": "zstd",
    "compression_level": None,
    "format": "arrow",
    "threads": None,
    "force": False,
    "progress": None,
    "engine": "local",
    "address": None,
}

_DEFAULTS = cast("Mapping[str, Any]", DEFAULTS)

# The options a ``config=`` leaves to be given: they are not part of a ``CorpusConfig``.
NOT_IN_CONFIG = frozenset(LexiconOptions.__annotations__) | frozenset(RunOptions.__annotations__)


def option_names(options: type) -> frozenset[str]:
    """The keyword arguments an ``*Options`` typed dict declares (its bases' included)."""
    return frozenset(options.__annotations__)


# --- friendly values ------------------------------------------------------------------------

_SUFFIXES = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
_COUNT = re.compile(r"^\s*(\d+(?:\.\d*)?(?:e\d+)?)\s*([kmbgt]?)\s*$", re.IGNORECASE)


def parse_count(text: str | int) -> int:
    """Parse a positive word count exactly: ``1000``, ``10M``, ``2.5k``, ``1e9``, ``1B``."""
    if isinstance(text, bool):
        raise ConfigError(f"invalid count {text!r}: expected a positive whole number")
    if isinstance(text, int):
        value = Decimal(text)
    else:
        match = _COUNT.match(text)
        if not match:
            raise ConfigError(f"invalid count {text!r}: expected a positive number such as 1000, 10M, 1e9")
        value = Decimal(match.group(1))
        if value.adjusted() > 40:  # far past 2**64; multiplying would overflow Decimal's context
            raise ConfigError(f"invalid count {text!r}: larger than 2**64 - 1")
        with localcontext() as ctx:
            ctx.prec = len(match.group(1)) + 20  # exact: no rounding of the digits given
            value *= _SUFFIXES[match.group(2).lower()]
    if value != value.to_integral_value() or value < 1:
        raise ConfigError(f"invalid count {text!r}: expected a positive whole number")
    if value >= 2**64:
        raise ConfigError(f"invalid count {text!r}: larger than 2**64 - 1")
    return int(value)


def parse_phrase_length(value: PhraseLengthArg) -> tuple[int, int]:
    """``4`` / ``"4"`` → (4, 4); ``(2, 6)`` / ``"2-6"`` → (2, 6). Range checks are the engine's."""
    if isinstance(value, bool):
        raise ConfigError(f"invalid words per phrase {value!r}")
    if isinstance(value, int):
        return value, value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?", value)
        if not match:
            raise ConfigError(f"invalid words per phrase {value!r}: expected N or MIN-MAX, e.g. 2-6")
        low = int(match.group(1))
        return low, int(match.group(2) or low)
    low, high = value
    try:
        return int(low), int(high)
    except OverflowError:  # int(inf)
        raise ConfigError(f"invalid words per phrase {value!r}") from None


def _number(what: str, value: Any) -> float:
    """``float(value)``, with an int too large for a float as a ``ConfigError``."""
    try:
        return float(value)
    except OverflowError:
        raise ConfigError(f"{what} is too large for a number: {str(value)[:20]}...") from None


def _check_phrase_length(low: int, high: int) -> tuple[int, int]:
    if low < 1 or high < 1:
        raise ConfigError(f"words per phrase must be at least 1, got {low}-{high}")
    return low, high


def parse_langs(value: Langs) -> list[LangWeight]:
    """``"en:2,ru"`` / ``["en", "ru"]`` / ``{"en": 2.0}`` → ``[{"lang": "en", "weight": 2.0}, ...]``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [{"lang": str(k), "weight": _number(f"weight of {k!r}", v)} for k, v in value.items()]
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[LangWeight] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"invalid language list {value!r}: expected language codes (str), got {item!r}")
        lang, _, weight = item.strip().partition(":")
        if not lang:
            raise ConfigError(f"invalid language list {value!r}: empty language code")
        try:
            out.append({"lang": lang, "weight": float(weight) if weight else 1.0})
        except ValueError:
            raise ConfigError(f"invalid weight {weight!r} for language {lang!r}") from None
    return out


def parse_columns(value: str | Sequence[str]) -> list[Column]:
    """``"text,words"`` / ``["text", "words"]`` → the column names (the engine checks them)."""
    names = [c.strip() for c in value.split(",")] if isinstance(value, str) else list(value)
    return cast("list[Column]", names)


@functools.lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The shipped lexicon, loaded once per process."""
    return Lexicon.default()


def resolve_lexicon(lexicon: LexiconArg, lexicon_lang: str | None = None) -> Lexicon:
    """A ``Lexicon`` from a path (a TSV, or a word list when ``lexicon_lang`` is given)."""
    if isinstance(lexicon, Lexicon):
        return lexicon
    if lexicon is None:
        if lexicon_lang is not None:
            raise ConfigError("lexicon_lang names the language of a word-list lexicon: give the lexicon too")
        return default_lexicon()
    return Lexicon.load(os.fspath(lexicon), lang=lexicon_lang)


# --- building the configuration from the keyword arguments ----------------------------------


def fusion_config(options: FusionOptions) -> FusionConfig:
    """The engine's ``FusionConfig`` from complete fusion options (``DEFAULTS`` filled in)."""
    low, high = _check_phrase_length(*parse_phrase_length(options["words_per_phrase"]))
    config: dict[str, Any] = {
        "words_per_phrase": {"min": low, "max": high, "dist": options["phrase_dist"]},
        "langs": parse_langs(options["langs"]),
    }
    given = cast("Mapping[str, Any]", options)
    for name in FusionFields.__annotations__:  # as given; a number's default says it is a float
        value = given[name]
        config[name] = _number(name, value) if isinstance(_DEFAULTS[name], float) else value
    kind, bridge, pivot, template = options["kind"], options["bridge"], options["pivot"], options["template"]
    if kind == "bridge":
        mode = bridge or "segment"
        if mode == "translate" and pivot is None:
            pivot = "en"
        config["bridge"] = {
            "mode": mode,
            "pivot": pivot,
            "template": DEFAULT_TEMPLATE if template is None else template,
        }
    elif kind not in KINDS:
        raise ConfigError(f"unknown corpus kind {kind!r}: expected {', '.join(KINDS)}")
    elif (bridge, pivot, template) != (None, None, None):
        raise ConfigError("bridge, pivot and template describe bridge corpora: add kind='bridge' (--kind bridge)")
    return cast(FusionConfig, config)


def _given(options: Mapping[str, Any]) -> list[str]:
    return [name for name, value in options.items() if value is not None]


def kind_config(options: FusionOptions) -> KindConfig:
    """The engine's ``dyck`` or ``ngram`` options as ``{"dyck": {...}}`` / ``{"ngram": {...}}``
    (empty for mnemo and bridge). Options left at ``None`` take the engine's defaults
    (``rust/core/src/dyck.rs``, ``ngram.rs``), which also checks every range."""
    kind, seq_len, source = options["kind"], options["seq_len"], options["source"]
    dyck = {"k": options["dyck_k"], "p_open": options["p_open"], "max_depth": options["max_depth"]}
    ngram = {"n": options["ngram_n"], "source": None if source is None else os.fspath(source)}
    if kind == "dyck":
        if _given(ngram):
            raise ConfigError("ngram_n and source describe n-gram corpora (kind='ngram', --kind ngram)")
        return {"dyck": cast(DyckConfig, _set({**dyck, "seq_len": seq_len}))}
    if kind == "ngram":
        if _given(dyck):
            raise ConfigError("dyck_k, p_open and max_depth describe Dyck corpora (kind='dyck', --kind dyck)")
        if ngram["n"] is None or source is None:
            raise ConfigError(
                "an n-gram corpus needs its order and its source corpus: ngram_n=1|2|3 and source=DIR (--ngram-n, --source)"
            )
        return {"ngram": cast(NgramConfig, _set({**ngram, "seq_len": seq_len}))}
    if _given({**dyck, **ngram, "seq_len": seq_len}):
        raise ConfigError(
            f"dyck_k, p_open, max_depth, seq_len, ngram_n and source describe the dyck and ngram kinds, not {kind}"
        )
    return {}


def _set(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def default_columns(kind: str) -> list[Column]:
    """``text`` for mnemophrases; ``text``, ``source`` and ``target`` for bridge corpora."""
    return ["text", "source", "target"] if kind == "bridge" else ["text"]
