"""Looking inside lexicon files: ``check_lexicon`` and ``lexicon_info``.

``check_lexicon`` reports every problem the engine's loader finds (its collecting mode,
``_hyperword.check_lexicon``), with counts; ``lexicon_info`` summarises a valid lexicon.
Neither parses the file in Python: the loader reads it, these only build the reports.
"""

from __future__ import annotations

from collections import Counter

from hyperword._hyperword import Lexicon
from hyperword._hyperword import check_lexicon as _check
from hyperword.lexicon._io import COLUMNS, PathArg, _fspath, _loaded_rows, _read_bytes
from hyperword.lexicon.reports import CheckReport, Duplicate, InfoReport, Normalized, Problem
from hyperword.lexicon.scripts import word_scripts

__all__ = ["check_lexicon", "lexicon_info"]


def check_lexicon(path: PathArg, *, lang: str | None = None) -> CheckReport:
    """Check the lexicon file ``path`` as the engine's loader would, reporting every problem.

    With ``lang``, the file is read as a plain word list in that language (as
    ``Lexicon.load(path, lang=...)``). The loader stops at the first bad line; its collecting
    mode, used here, goes on and reports them all (line numbers as the loader counts them, 0
    for the file as a whole): undecodable lines, header problems, rows of the wrong width,
    invalid language codes, words ``validate_word`` rejects (with its reason), bad ``concept``
    and ``weight`` cells; a NUL byte is reported alone, as binary data. ``ok`` is True exactly
    when none was found, i.e. (short of a NUL byte) when ``Lexicon.load`` succeeds, whose
    error is then the first problem. It also counts rows per language and field, concepts
    and the Unicode scripts used per language, and lists duplicates and the words the loader
    NFC-normalises (neither stops a load). A missing file or a directory raises ``OSError``.
    """
    path_s = _fspath(path)
    found = _check(_read_bytes(path_s), lang)
    languages: dict[str, int] = {}
    fields: dict[str, int] = {}
    concepts: set[int] = set()
    scripts: dict[str, Counter[str]] = {}
    by_word: dict[tuple[str, str], list[tuple[int, int | None]]] = {}
    for line, code, word, concept, field, _ in found.valid:
        languages[code] = languages.get(code, 0) + 1
        if field is not None:
            fields[field] = fields.get(field, 0) + 1
        if concept is not None:
            concepts.add(concept)
        scripts.setdefault(code, Counter()).update(word_scripts(word))
        by_word.setdefault((code, word), []).append((line, concept))
    duplicate_words: list[Duplicate] = []
    duplicate_entries: list[Duplicate] = []
    for (code, word), seen in by_word.items():
        if len(seen) > 1:
            duplicate_words.append(Duplicate(code, word, None, [n for n, _ in seen]))
            per_concept: dict[int | None, list[int]] = {}
            for n, c in seen:
                per_concept.setdefault(c, []).append(n)
            duplicate_entries += [Duplicate(code, word, c, ns) for c, ns in per_concept.items() if len(ns) > 1]
    return CheckReport(
        path=path_s,
        lang=lang,
        ok=found.ok,
        columns=found.columns,
        ignored_columns=[c for c in found.columns if c not in COLUMNS],
        rows=found.rows,
        valid_rows=len(found.valid),
        languages=languages,
        fields=fields,
        concepts=len(concepts),
        scripts={k: dict(v) for k, v in scripts.items()},
        problems=[Problem(n, message) for n, message in found.problems],
        duplicate_words=duplicate_words,
        duplicate_entries=duplicate_entries,
        normalized=[Normalized(*n) for n in found.normalized],
    )


def lexicon_info(path: PathArg, *, lang: str | None = None) -> InfoReport:
    """A short summary of the lexicon at ``path`` (a word list in ``lang`` when given).

    The lexicon is loaded with ``Lexicon.load``, so a bad one raises its ``LexiconError``
    (``check_lexicon`` lists every problem instead); ``sha256`` is the content hash corpus
    manifests record.
    """
    path_s = _fspath(path)
    lex = Lexicon.load(path_s, lang=lang)
    rows = _loaded_rows(path_s, lang)
    return InfoReport(
        path=path_s,
        rows=len(lex),
        languages=lex.counts(),
        fields=len(lex.fields),
        concepts=len({concept for _, _, _, concept, _, _ in rows.valid if concept is not None}),
        has_weights=any(weight is not None for *_, weight in rows.valid),
        normalized=lex.normalized,
        sha256=lex.sha256,
    )
