"""Shared test data and helpers (imported by the test modules; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

import hyperword

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: the data shared beside the repository (`../shared/data`: lexicon, natural text), when present
SHARED_DATA = REPO.parent / "shared" / "data"
ALL_COLUMNS = "text,words,langs,concepts,field"

# The tiny multilingual fixture lexicon: (lang, word, concept, field, pos, weight, gloss).
# Cyrillic, Latin with diacritics, Arabic, Hebrew, Chinese; three semantic fields of unequal
# sizes (nature 4, emotion 3, body 2) in every language; a `gloss` column the loader ignores.
_CONCEPTS = [
    # concept, field, pos, gloss
    (1, "nature", "noun", "water"),
    (2, "nature", "noun", "fire"),
    (3, "nature", "noun", "sun"),
    (4, "nature", "noun", "tree"),
    (5, "emotion", "noun", "sadness"),
    (6, "emotion", "noun", "joy"),
    (7, "emotion", "noun", "fear"),
    (8, "body", "noun", "hand"),
    (9, "body", "noun", "heart"),
]
_WORDS = {
    "en": ["water", "fire", "sun", "tree", "sadness", "joy", "fear", "hand", "heart"],
    "ru": ["вода", "огонь", "солнце", "дерево", "грусть", "радость", "страх", "рука", "сердце"],
    "fr": ["eau", "feu", "lumière", "arbre", "tristesse", "joie", "peur", "main", "cœur"],
    "cy": ["dŵr", "tân", "haul", "coeden", "tristwch", "llawenydd", "ofn", "llaw", "calon"],
    "ar": ["ماء", "نار", "شمس", "شجرة", "حزن", "فرح", "خوف", "يد", "قلب"],
    "he": ["מים", "אש", "שמש", "עץ", "עצב", "שמחה", "פחד", "יד", "לב"],
    "zh": ["水", "火", "太阳", "树", "悲伤", "快乐", "恐惧", "手", "心"],
}
LEXICON_LANGS = list(_WORDS)
FIELDS = ["nature", "emotion", "body"]

# (lang, word) -> (concept, field)
LEXICON_ROWS: dict[tuple[str, str], tuple[int, str]] = {}
for _lang, _words in _WORDS.items():
    for (_concept, _field, _pos, _gloss), _word in zip(_CONCEPTS, _words):
        LEXICON_ROWS[(_lang, _word)] = (_concept, _field)


def words_of(lang: str) -> list[str]:
    return list(_WORDS[lang])


def lexicon_tsv_text() -> str:
    lines = ["lang\tword\tconcept\tfield\tpos\tweight\tgloss"]
    for lang, words in _WORDS.items():
        for i, ((concept, field, pos, gloss), word) in enumerate(zip(_CONCEPTS, words)):
            weight = "" if i % 2 else "1"  # empty weight means 1
            lines.append(f"{lang}\t{word}\t{concept}\t{field}\t{pos}\t{weight}\t{gloss} (en)")
    return "\n".join(lines) + "\n"


def write_tsv(path: Path, rows: Iterable[Iterable[Any]], header: str = "lang\tword") -> Path:
    text = header + "\n" + "".join("\t".join(str(c) for c in row) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")
    return path


def sha256_file(path: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def table_of(words: int, **kw: Any) -> pa.Table:
    """The corpus `stream` yields for these options, as one table."""
    kw.setdefault("columns", ALL_COLUMNS)
    return hyperword.stream(words, **kw).read_all()


def rows_of(words: int, **kw: Any) -> list[dict[str, Any]]:
    return table_of(words, **kw).to_pylist()


def snapshot(directory: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every file under `directory` (recursively): size, mtime_ns, inode, sha256."""
    out = {}
    for p in sorted(directory.rglob("*")):
        if p.is_file():
            st = p.stat()
            out[str(p.relative_to(directory))] = (st.st_size, st.st_mtime_ns, st.st_ino, sha256_file(p))
    return out


def dir_bytes(directory: Path) -> dict[str, bytes]:
    """Every file directly in `directory`, name -> content."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def shares(counter: Mapping[Any, int]) -> dict[Any, float]:
    total = sum(counter.values())
    return {k: v / total for k, v in counter.items()}


def field_pair_rate(rows: list[dict[str, Any]]) -> float:
    """Share of consecutive word pairs (within a phrase) whose words share a semantic field."""
    same = pairs = 0
    for r in rows:
        fields = [LEXICON_ROWS[(lang, w)][1] for lang, w in zip(r["langs"], r["words"])]
        for a, b in zip(fields, fields[1:]):
            pairs += 1
            same += a == b
    assert pairs > 0
    return same / pairs


def word_counts(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(w for r in rows for w in r["words"])
