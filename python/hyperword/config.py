"""Turning friendly Python (and command-line) values into the engine's configuration.

The engine validates everything (``rust/core/src/config.rs``); this module only converts:
``"2-6"`` or ``(2, 6)`` to a phrase-length range, ``"en:2,ru"`` or ``{"en": 2, "ru": 1}`` to
language weights, ``"10M"`` or ``"1e9"`` to a word count.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from typing import Any

from hyperword._hyperword import Lexicon
from hyperword.errors import ConfigError

PhraseLength = int | tuple[int, int] | str
Langs = str | Sequence[str] | Mapping[str, float] | None
LexiconArg = str | os.PathLike[str] | Lexicon | None

DEFAULT_TEMPLATE = "{source} = {target}"
# Corpus kinds the generator writes (``natural`` corpora come from ``hyperword ingest``).
KINDS = ("mnemo", "bridge", "dyck", "ngram")

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


def parse_phrase_length(value: PhraseLength) -> tuple[int, int]:
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


def parse_langs(value: Langs) -> list[dict[str, Any]]:
    """``"en:2,ru"`` / ``["en", "ru"]`` / ``{"en": 2.0}`` → ``[{"lang": "en", "weight": 2.0}, ...]``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [{"lang": str(k), "weight": _number(f"weight of {k!r}", v)} for k, v in value.items()]
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
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


def parse_columns(value: str | Sequence[str]) -> list[str]:
    return [c.strip() for c in value.split(",")] if isinstance(value, str) else list(value)


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


def fusion_config(
    *,
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
) -> dict[str, Any]:
    """The engine's ``FusionConfig`` as a dict (see ``rust/core/src/config.rs``)."""
    low, high = _check_phrase_length(*parse_phrase_length(words_per_phrase))
    config = {
        "words_per_phrase": {"min": low, "max": high, "dist": phrase_dist},
        "langs": parse_langs(langs),
        "mix": mix,
        "alpha": _number("alpha", alpha),
        "coherence": _number("coherence", coherence),
        "joiner": joiner,
        "case": case,
    }
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
    return config


def _given(options: Mapping[str, Any]) -> list[str]:
    return [name for name, value in options.items() if value is not None]


def kind_config(
    kind: str,
    *,
    dyck_k: int | None = None,
    p_open: float | None = None,
    max_depth: int | None = None,
    seq_len: int | None = None,
    ngram_n: int | None = None,
    source: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The engine's ``dyck`` or ``ngram`` options as ``{"dyck": {...}}`` / ``{"ngram": {...}}``
    (empty for mnemo and bridge). Options left at ``None`` take the engine's defaults
    (``rust/core/src/dyck.rs``, ``ngram.rs``), which also checks every range."""
    dyck = {"k": dyck_k, "p_open": p_open, "max_depth": max_depth}
    ngram = {"n": ngram_n, "source": None if source is None else os.fspath(source)}
    if kind == "dyck":
        if _given(ngram):
            raise ConfigError("ngram_n and source describe n-gram corpora (kind='ngram', --kind ngram)")
        return {"dyck": {name: value for name, value in {**dyck, "seq_len": seq_len}.items() if value is not None}}
    if kind == "ngram":
        if _given(dyck):
            raise ConfigError("dyck_k, p_open and max_depth describe Dyck corpora (kind='dyck', --kind dyck)")
        if ngram_n is None or source is None:
            raise ConfigError(
                "an n-gram corpus needs its order and its source corpus: ngram_n=1|2|3 and source=DIR (--ngram-n, --source)"
            )
        return {"ngram": {name: value for name, value in {**ngram, "seq_len": seq_len}.items() if value is not None}}
    if _given({**dyck, **ngram, "seq_len": seq_len}):
        raise ConfigError(
            f"dyck_k, p_open, max_depth, seq_len, ngram_n and source describe the dyck and ngram kinds, not {kind}"
        )
    return {}


def default_columns(kind: str) -> list[str]:
    """``text`` for mnemophrases; ``text``, ``source`` and ``target`` for bridge corpora."""
    return ["text", "source", "target"] if kind == "bridge" else ["text"]
