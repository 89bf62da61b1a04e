"""``import_lexicon``: convert a word source into a lexicon TSV, each row validated and normalised."""

from __future__ import annotations

import errno
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import unicodedata2

from hyperword._hyperword import parse_concept, parse_weight, validate_word
from hyperword.errors import ConfigError, LexiconError
from hyperword.lexicon._io import (
    _MAX_EXAMPLES,
    COLUMNS,
    PathArg,
    _decode,
    _format_number,
    _fspath,
    _normalize_lang_code,
    _q,
    _read_bytes,
    _trim,
    _write_lexicon,
    is_language_code,
)
from hyperword.lexicon.import_readers import (
    _delimited_source,
    _detect_format,
    _resolve_columns,
    _Source,
    _table_source,
    _word_list_source,
)
from hyperword.lexicon.reports import ImportReport

__all__ = ["import_lexicon"]

_T = TypeVar("_T")

#: How many invalid rows a failed import lists (every one, short of a file of garbage).
_MAX_LISTED = 1000
#: The largest concept id (the loader's u32), named in the message for a number out of range.
_MAX_CONCEPT = 2**32 - 1


def _loader_reads(parse: Callable[[str], _T], text: str) -> _T:
    """``text`` read by one of the loader's cell parsers; ValueError with its reason when it refuses."""
    try:
        return parse(text)
    except LexiconError as e:
        raise ValueError(str(e)) from None


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
                try:
                    concept = str(parse_concept(str(value)))
                except LexiconError:
                    raise ValueError(
                        f"concept {_q(value)} is not a non-negative integer id (at most {_MAX_CONCEPT})"
                    ) from None
            else:
                text = _trim(_cell_text(value, "concept"))
                text = re.sub(r"\.0*$", "", text) if re.fullmatch(r"\+?[0-9]+\.0*", text) else text
                if text:
                    concept = str(_loader_reads(parse_concept, text))
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
                try:
                    weight = parse_weight(repr(float(value)))
                except LexiconError:
                    raise ValueError(f"weight {_q(value)} is not a non-negative number") from None
                out.append(_format_number(weight))
            else:
                text = _trim(_cell_text(value, "weight"))
                out.append(_format_number(_loader_reads(parse_weight, text)) if text else text)
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
    ``(lang, word, concept)`` rows are dropped, the first kept, and counted. Invalid rows
    fail the import with one ``FILE:LINE: reason`` line per row (``FILE:row N`` for tables;
    every one, up to 1000), or with ``skip_invalid=True`` are dropped and counted; undecodable input (invalid UTF-8, binary
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
            invalid += 1
            if len(examples) < (_MAX_EXAMPLES if skip_invalid else _MAX_LISTED):
                examples.append(f"{where}: {e}")
            continue
        if row is not None:
            written.append(row)
    if invalid and not skip_invalid:
        more = f"\n  ... and {invalid - len(examples)} more" if invalid > len(examples) else ""
        raise LexiconError(
            f"{src_s}: {invalid} invalid row{'s' if invalid > 1 else ''}, nothing written "
            f"(--skip-invalid, skip_invalid=True, drops and counts them):\n"
            + "\n".join(f"  {x}" for x in examples)
            + more
        )
    if not written:
        if rows_read == 0:
            raise LexiconError(f"{src_s}: no words to import (the source holds no rows)")
        raise LexiconError(f"{src_s}: no words to import: all {rows_read} rows were invalid or duplicates")
    header = [c for c in COLUMNS if c in has]
    lex = _write_lexicon(out_s, header, written)
    return ImportReport(
        src=src_s,
        out=out_s,
        format=fmt,
        mapping=mapping,
        columns=header,
        rows_read=rows_read,
        rows_written=len(written),
        languages=dict(conv.languages),
        normalized=conv.normalized,
        lang_codes_normalized=conv.lang_codes_normalized,
        duplicates=conv.duplicates,
        invalid=invalid,
        invalid_examples=examples,
        sha256=lex.sha256,
    )
