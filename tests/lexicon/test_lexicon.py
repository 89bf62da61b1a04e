"""Lexicon loading and validation (rust/core/src/lexicon.rs, word.rs) through the Python API."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from _helpers import (
    FIELDS,
    FIXTURES,
    LEXICON_LANGS,
    LEXICON_ROWS,
    REPO,
    rows_of,
    words_of,
    write_tsv,
)

import hyperword
from hyperword import Lexicon, LexiconError

SHIPPED_LANGS = ["ar", "cy", "en", "es", "et", "fi", "fr", "he", "pl", "ru", "yue", "zh"]


def _write(tmp_path: Path, content: str | bytes, name: str = "lex.tsv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _load_error(path: Path, **kw: object) -> str:
    with pytest.raises(LexiconError) as info:
        Lexicon.load(path, **kw)  # type: ignore[arg-type]
    return str(info.value)


def _assert_one_line(message: str, path: Path, line: int) -> str:
    """The message is exactly `FILE:LINE: reason` on one line; returns the reason."""
    assert "\n" not in message, message
    prefix = f"{path}:{line}: "
    assert message.startswith(prefix), f"{message!r} does not start with {prefix!r}"
    reason = message[len(prefix) :]
    assert reason.strip(), message
    return reason


# --- loading -------------------------------------------------------------------------------


def test_loads_the_fixture_lexicon(lexicon: Lexicon, lexicon_path: Path) -> None:
    assert lexicon.langs == LEXICON_LANGS  # file order
    assert lexicon.fields == FIELDS
    assert len(lexicon) == len(LEXICON_ROWS) == 63
    assert lexicon.counts() == {lang: 9 for lang in LEXICON_LANGS}
    assert lexicon.source == str(lexicon_path)
    assert lexicon.normalized == 0
    for lang in LEXICON_LANGS:
        assert lexicon.words(lang) == words_of(lang)
    assert lexicon.words("xx") == []
    assert re.fullmatch(r"[0-9a-f]{64}", lexicon.sha256)


def test_concept_and_field_columns_reach_the_output(lexicon: Lexicon) -> None:
    rows = rows_of(3000, lexicon=lexicon, seed=11)
    seen_concepts = set()
    for r in rows:
        assert r["concepts"] == [LEXICON_ROWS[(lang, w)][0] for lang, w in zip(r["langs"], r["words"])]
        assert r["field"] == LEXICON_ROWS[(r["langs"][0], r["words"][0])][1]
        seen_concepts.update(r["concepts"])
    assert seen_concepts == set(range(1, 10))


def test_pos_and_weight_columns_are_part_of_the_content(tmp_path: Path) -> None:
    header = "lang\tword\tpos\tweight"
    base = Lexicon.load(write_tsv(tmp_path / "a.tsv", [("en", "cat", "noun", 1)], header)).sha256
    other_pos = Lexicon.load(write_tsv(tmp_path / "b.tsv", [("en", "cat", "verb", 1)], header)).sha256
    other_weight = Lexicon.load(write_tsv(tmp_path / "c.tsv", [("en", "cat", "noun", 2)], header)).sha256
    empty_weight = Lexicon.load(write_tsv(tmp_path / "d.tsv", [("en", "cat", "noun", "")], header)).sha256
    assert len({base, other_pos, other_weight}) == 3
    assert empty_weight == base  # an empty weight is 1


def test_bom_crlf_blank_lines_and_extra_columns() -> None:
    lex = Lexicon.load(FIXTURES / "bom_crlf.tsv")
    assert lex.langs == ["ru", "fr", "he", "ar", "zh", "cy"]
    assert lex.fields == ["nature", "emotion", "body"]
    assert len(lex) == 6
    assert lex.words("ru") == ["вода"]
    assert lex.words("fr") == ["lumière"]
    assert lex.words("cy") == ["calon"]  # last line, CRLF stripped
    for lang in lex.langs:
        for w in lex.words(lang):
            assert "\r" not in w and "\ufeff" not in w


def test_bom_crlf_file_hashes_like_its_plain_equivalent(tmp_path: Path) -> None:
    plain = write_tsv(
        tmp_path / "plain.tsv",
        [
            ("ru", "вода", 1, "nature", "noun"),
            ("fr", "lumière", 10, "nature", "noun"),
            ("he", "מים", 1, "nature", "noun"),
            ("ar", "حزن", 5, "emotion", "noun"),
            ("zh", "水", 1, "nature", "noun"),
            ("cy", "calon", 9, "body", "noun"),
        ],
        header="lang\tword\tconcept\tfield\tpos",
    )
    assert Lexicon.load(FIXTURES / "bom_crlf.tsv").sha256 == Lexicon.load(plain).sha256


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    with_extra = write_tsv(
        tmp_path / "extra.tsv",
        [("en", "cat", "anything at all here", "1", "x y z"), ("ru", "кот", "", "2", "")],
        header="lang\tword\tgloss\tconcept\tnotes",
    )
    without = write_tsv(tmp_path / "plain.tsv", [("en", "cat", 1), ("ru", "кот", 2)], header="lang\tword\tconcept")
    a, b = Lexicon.load(with_extra), Lexicon.load(without)
    assert a.words("en") == ["cat"] and a.words("ru") == ["кот"]
    assert a.sha256 == b.sha256


def test_header_is_case_insensitive_and_columns_may_come_in_any_order(tmp_path: Path) -> None:
    a = _write(tmp_path, "WORD\tField\tLang\ncat\tanimals\ten\n", "a.tsv")
    b = _write(tmp_path, "lang\tword\tfield\nen\tcat\tanimals\n", "b.tsv")
    la, lb = Lexicon.load(a), Lexicon.load(b)
    assert la.words("en") == ["cat"] and la.fields == ["animals"]
    assert la.sha256 == lb.sha256


def test_cells_are_trimmed(tmp_path: Path) -> None:
    lex = Lexicon.load(_write(tmp_path, "lang\tword\tfield\n en \t cat \t animals \n"))
    assert lex.langs == ["en"] and lex.words("en") == ["cat"] and lex.fields == ["animals"]


def test_word_list_with_a_language() -> None:
    lex = Lexicon.load(FIXTURES / "words_ru.txt", lang="ru")
    assert lex.langs == ["ru"]
    assert lex.words("ru") == ["вода", "грусть", "плавность", "свет"]  # blank lines skipped, trimmed
    assert lex.fields == []
    assert len(lex) == 4
    phrases = hyperword.sample(20, lexicon=lex, words_per_phrase=1, seed=2)
    assert set(phrases) <= set(lex.words("ru"))


def test_word_list_language_through_the_python_api() -> None:
    a = hyperword.sample(10, lexicon=FIXTURES / "words_ru.txt", lexicon_lang="ru", seed=4)
    b = hyperword.sample(10, lexicon=Lexicon.load(FIXTURES / "words_ru.txt", lang="ru"), seed=4)
    assert a == b and len(a) == 10


def test_word_list_with_an_invalid_language_code() -> None:
    message = _load_error(FIXTURES / "words_ru.txt", lang="Russian")
    assert "invalid language code" in _assert_one_line(message, FIXTURES / "words_ru.txt", 1)


def test_word_list_without_a_language_asks_for_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "cat\ndog\n", "words.txt")
    reason = _assert_one_line(_load_error(path), path, 1)
    assert "lang" in reason and "--lexicon-lang" in reason


# --- validation errors: one line, FILE:LINE: reason --------------------------------------

FORBIDDEN = [
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\x80",
    "\x85",
    "\x9f",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2060",
    "\ufeff",
]


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
def test_forbidden_characters_inside_a_word(tmp_path: Path, char: str) -> None:
    path = _write(tmp_path, f"lang\tword\nen\tok\nen\tab{char}cd\n")
    reason = _assert_one_line(_load_error(path), path, 3)
    assert f"U+{ord(char):04X}" in reason
    assert "control or format character" in reason


@pytest.mark.parametrize("char", FORBIDDEN[7:], ids=[f"U+{ord(c):04X}" for c in FORBIDDEN[7:]])
def test_forbidden_format_characters_at_the_edges_of_a_word(tmp_path: Path, char: str) -> None:
    """Zero-width and direction marks are not whitespace: trimming must not hide them."""
    path = _write(tmp_path, f"lang\tword\nen\tword{char}\n")
    assert f"U+{ord(char):04X}" in _assert_one_line(_load_error(path), path, 2)


@pytest.mark.parametrize("char", [" ", "\u00a0", "\u2003", "\u3000"], ids=["space", "nbsp", "em-space", "ideographic"])
def test_whitespace_inside_a_word(tmp_path: Path, char: str) -> None:
    path = _write(tmp_path, f"lang\tword\nen\tok\nen\tbad{char}word\n")
    reason = _assert_one_line(_load_error(path), path, 3)
    assert "whitespace" in reason and f"U+{ord(char):04X}" in reason


def test_whitespace_error_message_is_exact(tmp_path: Path) -> None:
    path = _write(tmp_path, "lang\tword\nen\tok\nen\tbad word\n")
    assert _load_error(path) == f'{path}:3: word "bad word" contains whitespace (U+0020)'


@pytest.mark.parametrize(
    "content, line, needle",
    [
        ("lang\tword\tconcept\nen\tok\t1\nen\t\t2\n", 3, "empty word"),
        ("lang\tword\tconcept\nen\t   \t2\n", 2, "empty word"),
        ("word\tconcept\ncat\t1\n", 1, '"lang"'),
        ("lang\tconcept\nen\t1\n", 1, '"word"'),
        ("lang\tword\tweight\nen\tcat\t-1\n", 2, 'weight "-1"'),
        ("lang\tword\tweight\nen\tcat\theavy\n", 2, 'weight "heavy"'),
        ("lang\tword\tweight\nen\tcat\tnan\n", 2, "weight"),
        ("lang\tword\tweight\nen\tcat\tinf\n", 2, "weight"),
        ("lang\tword\tweight\nen\tcat\t1e999\n", 2, "weight"),
        ("lang\tword\tconcept\nen\tcat\tx\n", 2, 'concept "x"'),
        ("lang\tword\tconcept\nen\tcat\t-1\n", 2, 'concept "-1"'),
        ("lang\tword\tconcept\nen\tcat\t1.5\n", 2, 'concept "1.5"'),
        ("lang\tword\tconcept\nen\tcat\t4294967296\n", 2, "concept"),
        ("lang\tword\nen\n", 2, "expected 2 tab-separated fields, found 1"),
        ("lang\tword\nen\tcat\tdog\n", 2, "expected 2 tab-separated fields, found 3"),
        ("lang\tword\nEN\tcat\n", 2, "invalid language code"),
        ("lang\tword\nenglish\tcat\n", 2, "invalid language code"),
        ("lang\tword\tLang\nen\tcat\ten\n", 1, "duplicate column"),
        ("lang\tword\n", 0, "no words"),
        ("lang\tword\n\n\n", 0, "no words"),
        ("", 0, "empty file"),
        ("\n \n\n", 0, "empty file"),
        ("lang\tword\nen\t" + "a" * 1025 + "\n", 2, "longer than the limit"),
    ],
    ids=[
        "empty-word",
        "blank-word",
        "no-lang-column",
        "no-word-column",
        "negative-weight",
        "text-weight",
        "nan-weight",
        "inf-weight",
        "overflow-weight",
        "text-concept",
        "negative-concept",
        "fractional-concept",
        "u32-overflow-concept",
        "too-few-cells",
        "too-many-cells",
        "upper-case-lang",
        "long-lang",
        "duplicate-column",
        "header-only",
        "header-and-blank-lines",
        "empty-file",
        "blank-file",
        "word-too-long",
    ],
)
def test_validation_errors_name_file_line_and_reason(tmp_path: Path, content: str, line: int, needle: str) -> None:
    path = _write(tmp_path, content)
    reason = _assert_one_line(_load_error(path), path, line)
    assert needle in reason, reason


def test_invalid_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, b"lang\tword\nen\tcat\nen\tca\xfft\n")
    reason = _assert_one_line(_load_error(path), path, 3)
    assert "invalid UTF-8" in reason


def test_invalid_utf8_in_a_word_list(tmp_path: Path) -> None:
    path = _write(tmp_path, b"cat\n\xc3\n", "words.txt")
    assert "invalid UTF-8" in _assert_one_line(_load_error(path, lang="en"), path, 2)


def test_the_first_bad_line_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "lang\tword\nen\tok\nen\tbad one\nen\tfine\nen\tbad two\n")
    assert "bad one" in _assert_one_line(_load_error(path), path, 3)


def test_line_numbers_count_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufefflang\tword\r\n\r\nen\tok\r\n\r\nen\tbad word\r\n")
    _assert_one_line(_load_error(path), path, 5)


def test_lexicon_error_is_a_hyperword_error() -> None:
    assert issubclass(LexiconError, hyperword.HyperwordError)


# --- Unicode normalisation -------------------------------------------------------------------


def test_non_nfc_words_are_normalised_and_counted(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "lumière")
    assert decomposed != "lumière"
    nfd_path = _write(tmp_path, f"lang\tword\nfr\t{decomposed}\nfr\tété\nfr\tcœur\n", "nfd.tsv")
    lex = Lexicon.load(nfd_path)
    assert lex.words("fr") == ["lumière", "été", "cœur"]
    assert all(unicodedata.is_normalized("NFC", w) for w in lex.words("fr"))
    assert lex.normalized == 1  # only the decomposed one changed ("cœur" has no decomposition)
    nfc_path = _write(tmp_path, "lang\tword\nfr\tlumière\nfr\tété\nfr\tcœur\n", "nfc.tsv")
    nfc = Lexicon.load(nfc_path)
    assert nfc.normalized == 0
    assert nfc.sha256 == lex.sha256  # the content is what was validated
    # and the output uses the NFC form
    assert set(hyperword.sample(30, lexicon=lex, words_per_phrase=1)) <= {"lumière", "été", "cœur"}


def test_normalised_count_counts_every_changed_word(tmp_path: Path) -> None:
    words = [unicodedata.normalize("NFD", w) for w in ["été", "ñandú", "Ångström", "dŵr"]]
    lex = Lexicon.load(write_tsv(tmp_path / "nfd.tsv", [("fr", w) for w in words]))
    assert lex.normalized == 4
    assert lex.words("fr") == ["été", "ñandú", "Ångström", "dŵr"]


def test_strict_nfc_rejects_non_nfc_words(tmp_path: Path) -> None:
    path = _write(tmp_path, "lang\tword\nfr\tlumière\nfr\t" + unicodedata.normalize("NFD", "été") + "\n")
    reason = _assert_one_line(_load_error(path, strict_nfc=True), path, 3)
    assert "NFC" in reason
    assert Lexicon.load(path).normalized == 1  # accepted (normalised) without strict_nfc


def test_strict_nfc_accepts_nfc_text(lexicon_path: Path) -> None:
    assert len(Lexicon.load(lexicon_path, strict_nfc=True)) == 63


# --- files -----------------------------------------------------------------------------------


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        Lexicon.load(tmp_path / "nope.tsv")
    assert "nope.tsv" in str(info.value)
    with pytest.raises(FileNotFoundError):
        hyperword.sample(1, lexicon=tmp_path / "nope.tsv")


def test_a_directory_is_not_a_lexicon(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="directory"):
        Lexicon.load(tmp_path)


def test_pathlike_and_str_paths_are_equivalent(lexicon_path: Path) -> None:
    assert Lexicon.load(lexicon_path).sha256 == Lexicon.load(str(lexicon_path)).sha256


# --- scripts ---------------------------------------------------------------------------------

SCRIPT_WORDS = {
    "he": ["שָׁלוֹם", "מַיִם", "אהבה"],  # RTL with niqqud (combining points)
    "ar": ["مَاء", "السَّلَام", "قلب"],  # RTL with harakat
    "hi": ["नमस्ते", "पानी"],  # combining vowel signs and virama
    "zh": ["水", "你好", "中华人民共和国"],
    "yue": ["佢哋", "嘅"],
    "vi": ["tiếng", "Việt"],  # stacked diacritics
    "ko": ["한국어", "물"],
}


def test_rtl_combining_and_cjk_words_come_through_intact(tmp_path: Path) -> None:
    expected = {lang: [unicodedata.normalize("NFC", w) for w in ws] for lang, ws in SCRIPT_WORDS.items()}
    path = write_tsv(tmp_path / "scripts.tsv", [(lang, w) for lang, ws in expected.items() for w in ws])
    lex = Lexicon.load(path, strict_nfc=True)
    assert lex.normalized == 0
    for lang, ws in expected.items():
        assert lex.words(lang) == ws
    rows = rows_of(4000, lexicon=lex, seed=3, columns="text,words,langs")
    seen: Counter[tuple[str, str]] = Counter()
    for r in rows:
        assert r["text"] == "".join(r["words"])
        for lang, w in zip(r["langs"], r["words"]):
            assert w in expected[lang], (lang, w)
            seen[(lang, w)] += 1
    assert set(seen) == {(lang, w) for lang, ws in expected.items() for w in ws}


# --- content hash ----------------------------------------------------------------------------


def test_content_hash_ignores_formatting(tmp_path: Path) -> None:
    plain = _write(tmp_path, "lang\tword\tconcept\tfield\nen\tcat\t1\tanimals\nru\tкот\t1\tanimals\n", "a.tsv")
    variants = [
        "\ufefflang\tword\tconcept\tfield\r\nen\tcat\t1\tanimals\r\n\r\nru\tкот\t1\tanimals\r\n",
        "field\tconcept\tword\tlang\nanimals\t1\tcat\ten\nanimals\t1\tкот\tru\n",
        "lang\tword\tconcept\tfield\tgloss\n\n en\tcat \t1\tanimals\tfeline\nru\tкот\t1\tanimals\t\n\n",
        "lang\tword\tconcept\tfield\tweight\nen\tcat\t1\tanimals\t1\nru\tкот\t1\tanimals\t1.0\n",
    ]
    expected = Lexicon.load(plain).sha256
    for i, text in enumerate(variants):
        assert Lexicon.load(_write(tmp_path, text, f"v{i}.tsv")).sha256 == expected, text


@pytest.mark.parametrize(
    "text",
    [
        "lang\tword\tconcept\tfield\nen\tdog\t1\tanimals\nru\tкот\t1\tanimals\n",  # word
        "lang\tword\tconcept\tfield\nfr\tcat\t1\tanimals\nru\tкот\t1\tanimals\n",  # language
        "lang\tword\tconcept\tfield\nen\tcat\t2\tanimals\nru\tкот\t1\tanimals\n",  # concept
        "lang\tword\tconcept\tfield\nen\tcat\t1\tpets\nru\tкот\t1\tanimals\n",  # field
        "lang\tword\tconcept\tfield\nru\tкот\t1\tanimals\nen\tcat\t1\tanimals\n",  # order
        "lang\tword\tconcept\tfield\nen\tcat\t1\tanimals\n",  # fewer rows
        "lang\tword\tconcept\tfield\tweight\nen\tcat\t1\tanimals\t2\nru\tкот\t1\tanimals\t1\n",  # weight
    ],
    ids=["word", "lang", "concept", "field", "order", "rows", "weight"],
)
def test_content_hash_follows_content(tmp_path: Path, text: str) -> None:
    base = _write(tmp_path, "lang\tword\tconcept\tfield\nen\tcat\t1\tanimals\nru\tкот\t1\tanimals\n", "base.tsv")
    assert Lexicon.load(_write(tmp_path, text, "other.tsv")).sha256 != Lexicon.load(base).sha256


# --- the shipped lexicon ---------------------------------------------------------------------

SHIPPED_TSV = REPO / "lexicons" / "multisimlex.tsv"
_FORBIDDEN_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff]")


@pytest.fixture(scope="module")
def shipped() -> Lexicon:
    return Lexicon.default()


def test_shipped_lexicon_has_the_twelve_languages(shipped: Lexicon) -> None:
    assert sorted(shipped.langs) == SHIPPED_LANGS, "rebuild the extension after changing lexicons/multisimlex.tsv"
    counts = shipped.counts()
    assert all(counts[lang] > 1000 for lang in SHIPPED_LANGS), counts
    assert len(shipped) == sum(counts.values())


def test_shipped_lexicon_words_pass_validation(shipped: Lexicon) -> None:
    assert shipped.normalized == 0, "the shipped lexicon should already be NFC"
    for lang in shipped.langs:
        words = shipped.words(lang)
        assert words, lang
        for w in words:
            assert w and unicodedata.is_normalized("NFC", w), (lang, w)
            assert not any(c.isspace() for c in w), (lang, w)
            assert not _FORBIDDEN_RE.search(w), (lang, w)


def test_shipped_lexicon_has_fields(shipped: Lexicon) -> None:
    assert len(shipped.fields) >= 20, shipped.fields
    assert all(f.strip() == f and f for f in shipped.fields)


def test_shipped_tsv_loads_strictly_and_matches_the_embedded_copy(shipped: Lexicon) -> None:
    on_disk = Lexicon.load(SHIPPED_TSV, strict_nfc=True)
    assert sorted(on_disk.langs) == SHIPPED_LANGS
    assert on_disk.sha256 == shipped.sha256, "the embedded lexicon is stale: rebuild (maturin develop)"


def test_shipped_tsv_columns_and_fields_per_row() -> None:
    lines = SHIPPED_TSV.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    assert header == ["lang", "word", "concept", "field", "pos", "concepticon", "gloss"]
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    assert all(len(r) == len(header) for r in rows)
    with_field = sum(1 for r in rows if r[3].strip())
    # Concepticon gives a semantic field to 983 of the 2,243 concepts (lexicons/README.md).
    assert 0.4 < with_field / len(rows) < 0.6, f"{with_field} of {len(rows)} rows have a field"
    assert all(r[2].strip().isdigit() for r in rows), "every row has a concept id"


def test_default_lexicon_is_used_when_none_is_given(shipped: Lexicon) -> None:
    for lang in SHIPPED_LANGS:
        words = set(shipped.words(lang))
        for phrase in hyperword.sample(3, langs=lang, words_per_phrase=1, seed=5):
            assert phrase in words, (lang, phrase)
