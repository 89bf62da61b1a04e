"""The results of the lexicon tools: ``Problem`` and the report dataclasses, as JSON and as text tables."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from hyperword.lexicon.tables import _capped, _format_table, _kv_table

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
]


@dataclasses.dataclass(frozen=True)
class Problem:
    """A problem found at a line of a file (line 0: the file as a whole)."""

    line: int
    message: str


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
            _kv_table(
                [
                    ("rows read", self.rows_read),
                    ("rows written", self.rows_written),
                    ("columns", " ".join(self.columns)),
                    ("mapping", ", ".join(f"{k}={v}" for k, v in self.mapping.items()) or "-"),
                    ("NFC-normalised words", self.normalized),
                    ("language codes normalised", self.lang_codes_normalized),
                    ("duplicates dropped", self.duplicates),
                    ("invalid rows dropped", self.invalid),
                    ("sha256", self.sha256),
                ]
            ),
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
        return "\n".join(
            [
                f"built {self.out} from wordfreq ({self.wordlist!r} list for {self.wordfreq_lang!r})",
                _kv_table(
                    [
                        ("lang", self.lang),
                        ("words", self.words),
                        ("top", self.top),
                        ("min zipf", "-" if self.min_zipf is None else f"{self.min_zipf:g}"),
                        ("weights", f"{self.max_weight:.3g} .. {self.min_weight:.3g}"),
                        ("skipped: invalid", self.invalid),
                        ("skipped: numbers/punctuation", self.non_words),
                        ("skipped: duplicates after NFC", self.duplicates),
                        ("sha256", self.sha256),
                    ]
                ),
            ]
        )


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
            rows.append(
                (
                    lang,
                    w.wordfreq_lang or "-",
                    w.words,
                    w.found,
                    w.floored,
                    "-" if w.floor is None else f"{w.floor:.3g}",
                    "-" if w.max_weight is None else f"{w.max_weight:.3g}",
                    "-" if w.min_weight is None else f"{w.min_weight:.3g}",
                )
            )
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
            _kv_table(
                [
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
                ]
            ),
        ]
        if self.languages:
            rows = [
                (
                    lang,
                    n,
                    ", ".join(f"{s} {c}" for s, c in sorted(self.scripts.get(lang, {}).items(), key=lambda x: -x[1])),
                )
                for lang, n in self.languages.items()
            ]
            lines += ["", _format_table(["lang", "words", "scripts"], rows)]
        if self.fields:
            lines += ["", _format_table(["field", "words"], _capped(list(self.fields.items()), max_lines))]
        if self.problems:
            rows2 = [(p.line, p.message) for p in self.problems]
            lines += ["", "problems:", _format_table(["line", "problem"], _capped(rows2, max_lines))]
        if self.duplicate_entries:
            rows3 = [
                (d.lang, d.word, "" if d.concept is None else d.concept, " ".join(map(str, d.lines)))
                for d in self.duplicate_entries
            ]
            lines += [
                "",
                "duplicate entries (same lang, word, concept):",
                _format_table(["lang", "word", "concept", "lines"], _capped(rows3, max_lines)),
            ]
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
        return "\n".join(
            [
                f"{self.path}",
                _kv_table(
                    [
                        ("rows", self.rows),
                        ("languages", len(self.languages)),
                        ("fields", self.fields),
                        ("concepts", self.concepts),
                        ("weights", "yes" if self.has_weights else "no (all 1)"),
                        ("NFC-normalised on load", self.normalized),
                        ("sha256", self.sha256),
                    ]
                ),
                "",
                _format_table(["lang", "words"], list(self.languages.items())),
            ]
        )
