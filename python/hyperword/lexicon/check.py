"""Looking inside lexicon files: ``check_lexicon`` and ``lexicon_info``.

``check_lexicon`` reports every problem the engine's loader would find, with counts;
``lexicon_info`` summarises a valid lexicon.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from hyperword._hyperword import Lexicon, validate_word
from hyperword.errors import LexiconError
from hyperword.lexicon._io import (
    COLUMNS,
    PathArg,
    _ascii_lower,
    _decode,
    _fspath,
    _lines,
    _parse_concept,
    _parse_weight,
    _q,
    _read_bytes,
    _trim,
    is_language_code,
)
from hyperword.lexicon.reports import CheckReport, Duplicate, InfoReport, Normalized, Problem
from hyperword.lexicon.scripts import word_scripts

__all__ = ["check_lexicon", "lexicon_info"]

#: The engine stores language and field ids as u16.
_MAX_IDS = 2**16


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
        path=path_s,
        lang=lang,
        ok=False,
        columns=[],
        ignored_columns=[],
        rows=0,
        valid_rows=0,
        languages={},
        fields={},
        concepts=0,
        scripts={},
        problems=problems,
        duplicate_words=[],
        duplicate_entries=[],
        normalized=[],
    )
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
            problems.append(
                Problem(n, f"invalid language code {_q(code)} (expected an ISO 639 code such as en, ru, yue)")
            )
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
                        problems.append(
                            Problem(n, f"concept {_q(cells[col['concept']])} is not a non-negative integer id")
                        )
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
        path=path_s,
        rows=len(lex),
        languages=lex.counts(),
        fields=len(lex.fields),
        concepts=len(concepts),
        has_weights=has_weights,
        normalized=lex.normalized,
        sha256=lex.sha256,
    )
