"""Lexicon tools (python/hyperword/lexicon/, cli_lexicon.py): import, wordfreq build and
weights, check, info, and the `hyperword lexicon` commands.

Every written lexicon is cross-checked with the engine: `Lexicon.load` must accept it.
`check_lexicon` is the loader's own collecting mode: its first problem is `Lexicon.load`'s error.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from _helpers import FIXTURES, LEXICON_LANGS, REPO, write_tsv

import hyperword
from hyperword import ConfigError, Lexicon, LexiconError
from hyperword._hyperword import validate_word
from hyperword.cli import lexicon as cli_lexicon
from hyperword.formats.reader import open_corpus
from hyperword.lexicon import (
    add_wordfreq_weights,
    build_wordfreq,
    char_script,
    check_lexicon,
    import_lexicon,
    lexicon_info,
    word_scripts,
)

TOOLS = FIXTURES / "lexicon_tools"
wordfreq = pytest.importorskip("wordfreq")


def read_rows(path: Path) -> list[list[str]]:
    """The TSV's lines split into cells (header first), exactly as written."""
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    return [line.split("\t") for line in text[:-1].split("\n")]


def assert_nothing_written(directory: Path, before: set[str]) -> None:
    """No output and no temporary file left behind."""
    assert {p.name for p in directory.iterdir()} == before


# --- import -------------------------------------------------------------------------------------


def test_import_csv_with_column_mapping(tmp_path: Path) -> None:
    out = tmp_path / "out.tsv"
    mapping = {
        "word": "Lemma",
        "lang": "Language",
        "concept": "Meaning ID",
        "field": "Domain",
        "pos": "Part of speech",
        "weight": "Freq",
    }
    report = import_lexicon(TOOLS / "mapped.csv", out, columns=mapping)
    assert report.format == "csv"
    assert report.rows_read == 7 and report.rows_written == 6
    assert report.duplicates == 1 and report.invalid == 0
    assert report.lang_codes_normalized == 1  # EN -> en
    assert report.columns == ["lang", "word", "concept", "field", "pos", "weight"]
    assert report.languages == {"ru": 1, "en": 1, "fr": 1, "ar": 1, "he": 1, "zh": 1}
    assert read_rows(out) == [
        ["lang", "word", "concept", "field", "pos", "weight"],
        ["ru", "вода", "1", "nature", "noun", "120.5"],
        ["en", "water", "1", "nature", "noun", "300"],
        ["fr", "lumière", "3", "nature", "noun", ""],
        ["ar", "ماء", "1", "nature", "noun", "50"],
        ["he", "מים", "1", "nature", "noun", "40"],
        ["zh", "悲伤", "5", "emotion", "adj", "7"],
    ]
    lex = Lexicon.load(out)
    assert report.sha256 == lex.sha256
    assert lex.counts() == report.languages
    assert "Note" not in out.read_text(encoding="utf-8")


def test_import_tsv_keeps_the_lexicon_content(tmp_path: Path, lexicon_path: Path) -> None:
    out = tmp_path / "out.tsv"
    report = import_lexicon(lexicon_path, out)  # lang word concept field pos weight gloss
    assert report.format == "tsv" and report.rows_written == 63
    assert report.mapping == {c: c for c in ("lang", "word", "concept", "field", "pos", "weight")}
    assert read_rows(out)[0] == ["lang", "word", "concept", "field", "pos", "weight"]  # gloss dropped
    # same validated content: the hash corpus manifests record is unchanged
    assert Lexicon.load(out).sha256 == Lexicon.load(lexicon_path).sha256 == report.sha256


def test_import_word_list(tmp_path: Path) -> None:
    out = tmp_path / "ru.tsv"
    src = tmp_path / "words.txt"
    src.write_bytes("\ufeffвода\r\n\r\n  грусть \nсвет\nвода\n".encode())
    report = import_lexicon(src, out, lang="ru")
    assert report.format == "txt"
    assert (report.rows_read, report.rows_written, report.duplicates) == (4, 3, 1)
    assert read_rows(out) == [["lang", "word"], ["ru", "вода"], ["ru", "грусть"], ["ru", "свет"]]
    assert Lexicon.load(out).words("ru") == ["вода", "грусть", "свет"]
    # the shipped word-list fixture round-trips too
    import_lexicon(FIXTURES / "words_ru.txt", out, lang="ru")
    assert Lexicon.load(out).sha256 == Lexicon.load(FIXTURES / "words_ru.txt", lang="ru").sha256


def _table() -> pa.Table:
    return pa.table(
        {
            "lemma": ["вода", "lumie\u0300re", "水", "ماء", None],
            "language": pa.array(["ru", "fr", "zh", "ar", "en"]).dictionary_encode(),
            "concept": pa.array([1, 2, None, 1, 9], pa.int64()),
            "score": [2.5, 1.0, 3.0, None, 1.0],
            "extra": [[1], [2], [3], [4], [5]],
        }
    )


@pytest.mark.parametrize("kind", ["parquet", "arrow", "arrow-stream", "feather"])
def test_import_parquet_and_arrow_tables(tmp_path: Path, kind: str) -> None:
    table = _table()
    src = (
        tmp_path / {"parquet": "t.parquet", "arrow": "t.arrow", "arrow-stream": "t.arrow", "feather": "t.feather"}[kind]
    )
    if kind == "parquet":
        pq.write_table(table, src)
    elif kind == "arrow":
        with pa.ipc.new_file(src, table.schema) as w:
            w.write_table(table)
    elif kind == "arrow-stream":
        with pa.ipc.new_stream(src, table.schema) as w:
            w.write_table(table)
    else:
        feather.write_feather(table, src)
    out = tmp_path / "out.tsv"
    columns = {"word": "lemma", "lang": "language", "weight": "score"}
    # row 5 has no word: the import fails, naming the row ...
    with pytest.raises(LexiconError) as e:
        import_lexicon(src, out, columns=columns)
    assert str(e.value).splitlines()[1:] == [f"  {src}:row 5: empty word"]
    assert not out.exists()
    # ... or skips it
    report = import_lexicon(src, out, columns=columns, skip_invalid=True)
    assert report.format in ("parquet", "arrow")
    assert (report.rows_read, report.rows_written, report.invalid, report.normalized) == (5, 4, 1, 1)
    assert report.invalid_examples == [f"{src}:row 5: empty word"]
    assert read_rows(out) == [
        ["lang", "word", "concept", "weight"],
        ["ru", "вода", "1", "2.5"],
        ["fr", "lumière", "2", "1"],
        ["zh", "水", "", "3"],
        ["ar", "ماء", "1", ""],
    ]
    Lexicon.load(out)


def test_import_normalises_to_nfc_and_counts(tmp_path: Path) -> None:
    src = write_tsv(
        tmp_path / "d.tsv",
        [
            ("fr", "lumie\u0300re"),  # e + combining grave
            ("vi", "Vie\u0302\u0323t"),  # stacked diacritics, not in canonical order
            ("vi", "Vi\u1ec7t"),  # the same word, precomposed: a duplicate once normalised
            ("ko", "\u1112\u1161\u11ab"),  # Hangul jamo -> one syllable
            ("en", "plain"),
        ],
    )
    out = tmp_path / "out.tsv"
    report = import_lexicon(src, out)
    assert report.normalized == 3 and report.duplicates == 1
    words = [r[1] for r in read_rows(out)[1:]]
    assert words == ["lumière", "Việt", "한", "plain"]
    assert all(unicodedata.is_normalized("NFC", w) for w in words)
    assert Lexicon.load(out).normalized == 0  # nothing left for the loader to do
    # normalize=False: a word not in NFC is invalid instead
    with pytest.raises(LexiconError, match=r"d\.tsv:2: .*not in Unicode NFC"):
        import_lexicon(src, tmp_path / "strict.tsv", normalize=False)
    assert not (tmp_path / "strict.tsv").exists()


@pytest.mark.parametrize("fmt", ["tsv", "csv", "parquet"])
def test_scripts_survive_byte_exactly_to_sample(tmp_path: Path, fmt: str) -> None:
    """RTL (Arabic, Hebrew with marks), Chinese, Devanagari (virama), Vietnamese (stacked diacritics)."""
    rows = read_rows(TOOLS / "scripts.tsv")[1:]
    if fmt == "tsv":
        src = TOOLS / "scripts.tsv"
    elif fmt == "csv":
        src = tmp_path / "s.csv"
        src.write_text("lang,word,concept,field\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    else:
        src = tmp_path / "s.parquet"
        pq.write_table(pa.table({"lang": [r[0] for r in rows], "word": [r[1] for r in rows]}), src)
    out = tmp_path / "out.tsv"
    report = import_lexicon(src, out)
    assert report.normalized == 0 and report.rows_written == 15
    lex = Lexicon.load(out)
    for lang in ("ar", "he", "zh", "hi", "vi"):
        expected = [r[1] for r in rows if r[0] == lang]
        assert lex.words(lang) == expected
        assert [w.encode() for w in lex.words(lang)] == [w.encode() for w in expected]
        phrases = hyperword.sample(300, lexicon=lex, langs=lang, words_per_phrase=1, seed=3)
        assert set(phrases) == set(expected)  # one-word phrases: each word, byte for byte
        two = hyperword.sample(50, lexicon=lex, langs=lang, words_per_phrase=2, seed=3)
        assert all(any(p == a + b for a in expected for b in expected) for p in two)
        if lang in ("ar", "he", "zh", "hi"):  # scripts without case: casing changes nothing
            assert hyperword.sample(50, lexicon=lex, langs=lang, words_per_phrase=2, seed=3, case="upper") == two
    scripts = check_lexicon(out).scripts
    assert scripts == {
        "ar": {"Arabic": 3},
        "he": {"Hebrew": 3},
        "zh": {"Han": 3},
        "hi": {"Devanagari": 3},
        "vi": {"Latin": 3},
    }


def test_script_table() -> None:
    assert [char_script(c) for c in "aЖ水ا\u094dמ\u03001,ぁ한ⴰ"] == [
        "Latin",
        "Cyrillic",
        "Han",
        "Arabic",
        "Devanagari",
        "Hebrew",
        "Inherited",
        "Common",
        "Common",
        "Hiragana",
        "Hangul",
        "Tifinagh",
    ]
    assert word_scripts("e\u0301") == {"Latin"}
    assert word_scripts("42") == {"Common"}
    assert word_scripts("toyota車") == {"Latin", "Han"}


def test_import_invalid_rows_fail_with_file_and_line_or_are_skipped(tmp_path: Path) -> None:
    src = write_tsv(
        tmp_path / "bad.tsv", [("en", "ok"), ("en", "two words"), ("EN!", "x"), ("en", "a\u200bb"), ("en",)]
    )
    out = tmp_path / "out.tsv"
    out.write_text("previous content\n")
    with pytest.raises(LexiconError) as e:
        import_lexicon(src, out)
    lines = str(e.value).splitlines()  # every bad row, each with its line
    assert (
        lines[0]
        == f"{src}: 4 invalid rows, nothing written (--skip-invalid, skip_invalid=True, drops and counts them):"
    )
    assert lines[1] == f'  {src}:3: word "two words" contains whitespace (U+0020)'
    assert [x.split(": ", 1)[0] for x in lines[1:]] == [f"  {src}:{n}" for n in (3, 4, 5, 6)]
    assert out.read_text() == "previous content\n"  # untouched
    report = import_lexicon(src, out, skip_invalid=True)
    assert (report.rows_read, report.rows_written, report.invalid) == (5, 1, 4)
    assert [e.split(": ", 1)[0] for e in report.invalid_examples] == [f"{src}:{n}" for n in (3, 4, 5, 6)]
    assert "invalid language code" in report.invalid_examples[1]
    assert "U+200B" in report.invalid_examples[2]
    assert "expected 2 fields" in report.invalid_examples[3]
    assert read_rows(out) == [["lang", "word"], ["en", "ok"]]


def test_import_lang_for_a_table_without_language_column(tmp_path: Path) -> None:
    src = tmp_path / "w.csv"
    src.write_text("lemma,gloss\nвода,water\nсвет,light\n", encoding="utf-8")
    out = tmp_path / "out.tsv"
    report = import_lexicon(src, out, lang="ru", columns={"word": "lemma"})
    assert report.languages == {"ru": 2}
    with pytest.raises(ConfigError, match="no 'lang' column"):
        import_lexicon(src, tmp_path / "x.tsv", columns={"word": "lemma"})
    with pytest.raises(ConfigError, match="has a language column"):
        import_lexicon(TOOLS / "scripts.tsv", tmp_path / "x.tsv", lang="ru")
    assert not (tmp_path / "x.tsv").exists()


# --- bad input: one clear error, nothing written ------------------------------------------------


def _binary(p: Path) -> Path:
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return p


def _bad_utf8(p: Path) -> Path:
    p.write_bytes(b"lang\tword\nen\tok\nen\tbad\xff\xfe\n")
    return p


def _empty(p: Path) -> Path:
    p.write_bytes(b"")
    return p


def _blank(p: Path) -> Path:
    p.write_bytes(b"\n \r\n\t\n")
    return p


def _header_only(p: Path) -> Path:
    p.write_bytes(b"lang\tword\n")
    return p


BAD_INPUTS: list[tuple[str, str, Callable[[Path], Path], dict[str, Any], type[Exception], str]] = [
    ("missing file", "nope.tsv", lambda p: p, {}, FileNotFoundError, "nope.tsv"),
    ("directory", "dir.tsv", lambda p: (p.mkdir(), p)[1], {}, IsADirectoryError, "directory"),
    ("binary file", "img.tsv", _binary, {}, LexiconError, r"img\.tsv:3: binary data"),
    ("invalid UTF-8", "u.tsv", _bad_utf8, {}, LexiconError, r"u\.tsv:3: invalid UTF-8 at byte 6 of the line"),
    ("empty file", "e.tsv", _empty, {}, LexiconError, r"e\.tsv: empty file"),
    ("blank file", "b.csv", _blank, {}, LexiconError, r"b\.csv: empty file"),
    ("header only", "h.tsv", _header_only, {}, LexiconError, r"h\.tsv: no words to import"),
    ("empty word list", "w.txt", _empty, {"lang": "ru"}, LexiconError, r"w\.txt: no words to import"),
    ("word list without lang", "w.txt", _header_only, {}, ConfigError, r"give its language with lang="),
    (
        "mapping naming no column",
        "m.tsv",
        _header_only,
        {"columns": {"word": "lemma"}},
        ConfigError,
        r"names column 'lemma', which .*m\.tsv does not have; its columns: 'lang', 'word'",
    ),
    (
        "unknown target column",
        "m.tsv",
        _header_only,
        {"columns": {"gloss": "word"}},
        ConfigError,
        "unknown target column 'gloss'",
    ),
    ("unknown extension", "m.dat", _header_only, {}, ConfigError, r"cannot tell the format .* give fmt="),
    ("bad parquet", "p.parquet", _header_only, {}, LexiconError, r"p\.parquet: not a readable Parquet file"),
    ("bad arrow", "p.arrow", _header_only, {}, LexiconError, r"p\.arrow: not a readable Arrow IPC file"),
    ("bad lang", "w.txt", _header_only, {"lang": "Russian"}, ConfigError, "invalid language code 'Russian'"),
    ("bad delimiter", "m.csv", _header_only, {"delimiter": ";;"}, ConfigError, "one character"),
]


@pytest.mark.parametrize("name,filename,make,kwargs,error,message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_import_bad_input_is_one_clear_error_and_writes_nothing(
    tmp_path: Path,
    name: str,
    filename: str,
    make: Callable[[Path], Path],
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    src = make(tmp_path / filename)
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(error, match=message):
        import_lexicon(src, tmp_path / "out.tsv", **kwargs)
    assert_nothing_written(tmp_path, before)


def test_output_path_errors(tmp_path: Path, lexicon_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="output's directory does not exist"):
        import_lexicon(lexicon_path, tmp_path / "no" / "out.tsv")
    with pytest.raises(IsADirectoryError):
        import_lexicon(lexicon_path, tmp_path)


# --- wordfreq -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ru_wordfreq(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("wf") / "ru.tsv"
    return out, build_wordfreq(out, lang="ru", top=3000)


def test_wordfreq_build_ru(ru_wordfreq: tuple[Path, Any]) -> None:
    out, report = ru_wordfreq
    rows = read_rows(out)
    assert rows[0] == ["lang", "word", "weight"]
    body = rows[1:]
    assert len(body) == report.words == 3000  # top N, exactly
    assert all(r[0] == "ru" for r in body)
    weights = [float(r[2]) for r in body]
    assert all(a >= b for a, b in zip(weights, weights[1:])) and weights[0] > weights[-1] > 0
    assert (report.max_weight, report.min_weight) == (weights[0], weights[-1])
    words = [r[1] for r in body]
    assert all(validate_word(w, strict_nfc=True) == w for w in words)
    assert len(set(words)) == len(words)
    assert words[:3] == ["в", "и", "на"]
    assert abs(weights[0] - wordfreq.word_frequency("в", "ru")) < 1e-9
    lex = Lexicon.load(out)
    assert lex.counts() == {"ru": 3000} and lex.sha256 == report.sha256
    assert check_lexicon(out).scripts["ru"]["Cyrillic"] > 2900


def test_wordfreq_alpha_one_favours_frequent_words(ru_wordfreq: tuple[Path, Any], tmp_path: Path) -> None:
    out, _ = ru_wordfreq
    lex = Lexicon.load(out)
    top10 = {row[1] for row in read_rows(out)[1:11]}
    shares = {}
    for alpha in (1.0, 0.0):
        corpus = tmp_path / f"alpha{alpha}"
        hyperword.generate(corpus, 20_000, lexicon=lex, alpha=alpha, columns="words", threads=1)
        drawn = Counter(
            w
            for batch in open_corpus(corpus).iter_batches()
            for words in batch.column("words").to_pylist()
            for w in words
        )
        shares[alpha] = sum(n for w, n in drawn.items() if w in top10) / sum(drawn.values())
    # the 10 most frequent of 3000 words: about 20% of running Russian text, 0.33% when drawn uniformly
    assert shares[1.0] > 0.15 and shares[0.0] < 0.02, shares


def test_wordfreq_top_and_min_zipf(tmp_path: Path) -> None:
    report = build_wordfreq(tmp_path / "a.tsv", lang="en", top=100_000, wordlist="small", min_zipf=5.0)
    weights = [float(r[2]) for r in read_rows(tmp_path / "a.tsv")[1:]]
    assert 50 < len(weights) == report.words < 2000
    assert min(weights) >= wordfreq.zipf_to_freq(5.0) * 0.99
    assert report.non_words > 0  # e.g. "00", "1": numbers are not words


def test_wordfreq_refuses_a_substituted_language(tmp_path: Path) -> None:
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(ConfigError) as e:
        build_wordfreq(tmp_path / "cy.tsv", lang="cy")
    assert str(e.value) == "wordfreq has no word list for 'cy' (it would silently substitute 'en')"
    with pytest.raises(ConfigError, match=r"^wordfreq has no word list for 'xx'$"):
        build_wordfreq(tmp_path / "xx.tsv", lang="xx")
    with pytest.raises(ConfigError, match=r"no word list for 'bg'.*wordlist 'best' or 'small' has it"):
        build_wordfreq(tmp_path / "bg.tsv", lang="bg", wordlist="large")
    with pytest.raises(ConfigError, match="invalid language code"):
        build_wordfreq(tmp_path / "x.tsv", lang="Welsh")
    with pytest.raises(ConfigError, match="unknown wordfreq word list"):
        build_wordfreq(tmp_path / "x.tsv", lang="en", wordlist="huge")
    with pytest.raises(ConfigError, match="top must be a positive"):
        build_wordfreq(tmp_path / "x.tsv", lang="en", top=0)
    assert_nothing_written(tmp_path, before)


def test_wordfreq_same_language_aliases_are_accepted(tmp_path: Path) -> None:
    report = build_wordfreq(tmp_path / "iw.tsv", lang="iw", top=10)  # old code of Hebrew
    assert report.wordfreq_lang == "he" and Lexicon.load(tmp_path / "iw.tsv").counts() == {"iw": 10}


def test_wordfreq_build_zh(tmp_path: Path) -> None:
    out = tmp_path / "zh.tsv"
    report = build_wordfreq(out, lang="zh", top=2000)
    assert report.words == 2000
    lex = Lexicon.load(out)
    words = lex.words("zh")
    assert all(" " not in w for w in words)
    scripts = check_lexicon(out).scripts["zh"]
    assert scripts["Han"] > 1900
    phrases = hyperword.sample(20, lexicon=lex, words_per_phrase=3, alpha=1.0, seed=0)
    assert all(word_scripts(p) <= {"Han", "Latin", "Common"} for p in phrases)


def test_add_weights_to_a_small_lexicon(tmp_path: Path, lexicon_path: Path) -> None:
    out = tmp_path / "w.tsv"
    # the fixture has Welsh, which wordfreq lacks
    with pytest.raises(
        ConfigError, match=r"no word list for 'cy' \(it would silently substitute 'en'\).*skip_missing_langs"
    ):
        add_wordfreq_weights(lexicon_path, out)
    assert not out.exists()
    src = tmp_path / "src.tsv"
    src.write_text(
        lexicon_path.read_text(encoding="utf-8") + "en\tzzxqvw\t10\tnature\tnoun\t\tnonsense\n", encoding="utf-8"
    )
    report = add_wordfreq_weights(src, out, skip_missing_langs=True)
    assert report.replaced and report.rows == 64
    assert list(report.skipped_langs) == ["cy"]
    rows = read_rows(out)
    assert rows[0] == ["lang", "word", "concept", "field", "pos", "weight", "gloss"]  # other columns kept
    weights = {(r[0], r[1]): r[5] for r in rows[1:]}
    assert all(w == "" for (lang, _), w in weights.items() if lang == "cy")
    assert float(weights[("en", "water")]) == wordfreq.word_frequency("water", "en")
    assert float(weights[("ru", "вода")]) == wordfreq.word_frequency("вода", "ru")
    assert float(weights[("zh", "太阳")]) == wordfreq.word_frequency("太阳", "zh")  # jieba
    en = report.languages["en"]
    assert (en.words, en.found, en.floored) == (10, 9, 1)
    smallest = min(
        float(weights[("en", w)]) for w in ("water", "fire", "sun", "tree", "sadness", "joy", "fear", "hand", "heart")
    )
    assert float(weights[("en", "zzxqvw")]) == pytest.approx(smallest / 10) == en.floor
    assert all(float(w) > 0 for (lang, _), w in weights.items() if lang != "cy")
    lex = Lexicon.load(out)
    assert lex.sha256 == report.sha256 and lex.counts() == Lexicon.load(src).counts()
    # an explicit floor; a source without a weight column gets one appended
    plain = write_tsv(tmp_path / "plain.tsv", [("en", "water"), ("en", "zzxqvw")])
    report = add_wordfreq_weights(plain, out, floor=1e-7)
    assert not report.replaced
    assert read_rows(out) == [
        ["lang", "word", "weight"],
        ["en", "water", repr(wordfreq.word_frequency("water", "en"))],
        ["en", "zzxqvw", "1e-07"],
    ]
    with pytest.raises(ConfigError, match="floor must be a positive number"):
        add_wordfreq_weights(plain, out, floor=0)


def test_add_weights_refuses_chinese_without_jieba(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wordfreq.tokens

    monkeypatch.setitem(sys.modules, "jieba", None)  # `import jieba` raises ImportError
    monkeypatch.setitem(sys.modules, "wordfreq.chinese", None)
    monkeypatch.setattr(wordfreq.tokens, "_jieba_tokenize", None)
    src = write_tsv(tmp_path / "zh.tsv", [("zh", "水"), ("zh", "悲伤")])
    with pytest.raises(ConfigError, match=r"wordfreq needs jieba to look up 'zh' words.*hyperword\[lexicon\]"):
        add_wordfreq_weights(src, tmp_path / "out.tsv")
    assert not (tmp_path / "out.tsv").exists()


def test_add_weights_rejects_a_bad_lexicon_first(tmp_path: Path) -> None:
    src = write_tsv(tmp_path / "bad.tsv", [("en", "water"), ("en", "bad word")])
    with pytest.raises(LexiconError, match=r"bad\.tsv:3: "):
        add_wordfreq_weights(src, tmp_path / "out.tsv")
    assert not (tmp_path / "out.tsv").exists()


# --- check --------------------------------------------------------------------------------------

# One problem (or warning) per line; the comments give the line number.
PROBLEM_LINES = [
    b"lang\tword\tconcept\tfield\tweight\tnote",  # 1
    b"en\twater\t1\tnature\t2\tfine",  # 2
    b"en\ttwo words\t2\tnature\t1\twhitespace",  # 3
    b"EN\tfire\t3\tnature\t1\tbad language code",  # 4
    b"en\tsun\tx\tnature\t1\tbad concept",  # 5
    b"en\ttree\t4\tnature\t-1\tnegative weight",  # 6
    b"en\tjoy\t5",  # 7: wrong width
    b"en\tbad\xff\t6\tnature\t1\tinvalid UTF-8",  # 8
    b"",  # 9: blank, fine
    b"en\tlumie\xcc\x80re\t7\tnature\t1\tnot NFC: a warning only",  # 10
    b"en\twater\t1\tnature\t3\tduplicate of line 2: a warning only",  # 11
    b"en\tzero\xe2\x80\x8bwidth\t8\tnature\t1\tU+200B",  # 12
    b"en\twater\t9\tnature\tnan\tsame word, other concept; bad weight",  # 13
    b"en\t" + b"x" * 1025 + b"\t10\tnature\t1\ttoo long",  # 14
]


def test_check_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "problems.tsv"
    path.write_bytes(b"\r\n".join(PROBLEM_LINES) + b"\r\n")
    report = check_lexicon(path)
    assert not report.ok
    by_line: dict[int, list[str]] = {}
    for p in report.problems:
        by_line.setdefault(p.line, []).append(p.message)
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 12, 13, 14]
    assert by_line[3] == ['word "two words" contains whitespace (U+0020)']
    assert "invalid language code" in by_line[4][0]
    assert by_line[5] == ['concept "x" is not a non-negative integer id']
    assert by_line[6] == ['weight "-1" is not a non-negative number']
    assert by_line[7] == ["expected 6 tab-separated fields, found 3"]
    assert by_line[8] == ["invalid UTF-8 at byte 6 of the line"]
    assert "U+200B" in by_line[12][0]
    assert by_line[13] == ['weight "nan" is not a non-negative number']
    assert "longer than the limit of 1024" in by_line[14][0]
    assert [(n.line, n.word, n.nfc) for n in report.normalized] == [(10, "lumie\u0300re", "lumière")]
    assert [(d.lang, d.word, d.concept, d.lines) for d in report.duplicate_entries] == [("en", "water", 1, [2, 11])]
    assert [(d.lang, d.word, d.lines) for d in report.duplicate_words] == [("en", "water", [2, 11])]  # 13 is invalid
    assert report.rows == 12 and report.valid_rows == 3  # lines 2, 10 and 11
    assert report.ignored_columns == ["note"]
    # the loader stops at the first of them, with the same line and message
    with pytest.raises(LexiconError) as e:
        Lexicon.load(path)
    first = report.problems[0]
    assert str(e.value) == f"{path}:{first.line}: {first.message}"
    # the report prints, and serialises to JSON
    table = report.format_table()
    assert "NOT OK: 9 problem(s)" in table and "   8  invalid UTF-8 at byte 6 of the line" in table
    data = json.loads(report.to_json())
    assert (
        data["ok"] is False
        and len(data["problems"]) == 9
        and data["problems"][0] == {"line": 3, "message": by_line[3][0]}
    )


HEADER_PROBLEMS = [
    (b"", "empty file: no header row", 0),
    (b"\n  \n", "empty file: no header row", 0),
    (b"lang\tword\n", "the lexicon holds no words", 0),
    (
        b"word\nwater\n",
        'the header has no "lang" column (a plain word list needs its language: --lexicon-lang); found ["word"]',
        1,
    ),
    (b"\nlang\tlemma\nen\twater\n", 'the header has no "word" column; found ["lang", "lemma"]', 2),
    (b"lang\tword\tLang\nen\twater\ten\n", 'duplicate column "lang" in the header', 1),
    (b"\x00\x01binary", "binary data (a NUL byte): not a text lexicon", 1),
]


@pytest.mark.parametrize("content,message,line", HEADER_PROBLEMS)
def test_check_header_problems(tmp_path: Path, content: bytes, message: str, line: int) -> None:
    path = tmp_path / "h.tsv"
    path.write_bytes(content)
    report = check_lexicon(path)
    assert not report.ok
    assert (report.problems[0].line, report.problems[0].message) == (line, message)
    with pytest.raises(LexiconError):
        Lexicon.load(path)


def test_check_clean_lexicon(lexicon_path: Path) -> None:
    report = check_lexicon(lexicon_path)
    assert report.ok and report.problems == []
    lex = Lexicon.load(lexicon_path)  # ok means it loads
    assert report.languages == lex.counts()
    assert report.rows == report.valid_rows == len(lex) == 63
    assert report.fields == {"nature": 28, "emotion": 21, "body": 14}
    assert report.concepts == 9
    assert report.ignored_columns == ["gloss"]
    assert report.scripts["ru"] == {"Cyrillic": 9} and report.scripts["ar"] == {"Arabic": 9}
    assert report.scripts["he"] == {"Hebrew": 9} and report.scripts["zh"] == {"Han": 9}
    assert report.duplicate_words == [] and report.normalized == []
    assert "OK: loads" in report.format_table()


def test_check_word_list(tmp_path: Path) -> None:
    report = check_lexicon(FIXTURES / "words_ru.txt", lang="ru")
    assert report.ok and report.languages == Lexicon.load(FIXTURES / "words_ru.txt", lang="ru").counts()
    bad = tmp_path / "w.txt"
    bad.write_text("вода\nдва слова\n\nсвет\n", encoding="utf-8")
    report = check_lexicon(bad, lang="ru")
    assert [(p.line, p.message) for p in report.problems] == [(2, 'word "два слова" contains whitespace (U+0020)')]
    assert check_lexicon(FIXTURES / "words_ru.txt", lang="RU").problems[0].message.startswith("invalid language code")


def test_check_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        check_lexicon(tmp_path / "nope.tsv")


# The loader's collecting mode (`_hyperword.check_lexicon`) is the one reading behind
# `check_lexicon`: on every file without a NUL byte, its first problem is the loader's error.
FIRST_PROBLEM_IS_THE_ERROR = [
    (b"".join(line + b"\n" for line in PROBLEM_LINES), None),
    (b"lang\tword\tconcept\tweight\nEN\ta b\tx\t-1\nen\tok\t1\t1\n", None),  # four problems on line 2
    (b"\xef\xbb\xbflang\tword\r\nen\tok\r\n\r\nen\t\r\n", None),  # BOM, CRLF, a blank line: line 4
    (b"lang\tlang\tword\tword\nen\ten\tx\ty\nen\tbad word\ta\tb\n", None),  # two duplicates, then a row
    (b"lang\tword\n\xc3\x28\nen\ta b\n", None),
    (b"\xff\nen\ta\n", None),
    (b"lang\tword\nen\t" + b"x" * 1025 + b"\n", None),
    (b"lang\tword\tweight\nen\ta\tinf\nen\tb\t+.5\n", None),
    (b"lang\tword\tconcept\nen\ta\t4294967296\nen\tb\t+7\n", None),
    ("вода\nдва слова\n\n\u200b\n".encode(), "ru"),
    ("вода\nдва слова\n".encode(), "RU"),
    (b"\n\n", "ru"),
    # values quoted as the loader quotes them (a vowel sign is escaped, a letter is not)
    ("lang\tword\tconcept\nx\u09bey\tw\tx\u09bey\n".encode(), None),
    ("lang\tword\tweight\nen\tw\t\u0c5c\n".encode(), None),
    ("lang\tword\tlang\u09be\tlang\u09be\nen\tw\t\t\n".encode(), None),
] + [(content, None) for content, _, _ in HEADER_PROBLEMS if b"\x00" not in content]


@pytest.mark.parametrize("content,lang", FIRST_PROBLEM_IS_THE_ERROR)
def test_check_first_problem_is_the_loader_error(tmp_path: Path, content: bytes, lang: str | None) -> None:
    path = tmp_path / "l.tsv"
    path.write_bytes(content)
    report = check_lexicon(path, lang=lang)
    assert not report.ok and report.problems
    assert report.problems == sorted(report.problems, key=lambda p: p.line)
    with pytest.raises(LexiconError) as e:
        Lexicon.load(path, lang=lang)
    first = report.problems[0]
    assert str(e.value) == f"{path}:{first.line}: {first.message}"
    if first.line <= 1:  # the header (or a word list's language) fails any line
        return
    # every line with a problem fails the loader on its own with its first problem
    lines = content.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    header = b"" if lang is not None else lines[0] + b"\n"
    for p in report.problems:
        alone = tmp_path / "alone.tsv"
        alone.write_bytes(header + lines[p.line - 1])
        with pytest.raises(LexiconError) as e:
            Lexicon.load(alone, lang=lang)
        on_line = next(q for q in report.problems if q.line == p.line)
        assert str(e.value) == f"{alone}:{2 if header else 1}: {on_line.message}"


def test_check_reports_binary_data_alone(tmp_path: Path) -> None:
    """A NUL byte is the one thing the collecting mode reports that the loader does not: a
    file with one in an ignored column even loads."""
    path = tmp_path / "nul.tsv"
    path.write_bytes(b"lang\tword\tnote\nen\ta b\t\x00\n")
    report = check_lexicon(path)
    assert [(p.line, p.message) for p in report.problems] == [(2, "binary data (a NUL byte): not a text lexicon")]
    assert report.rows == 0 and report.columns == []
    path.write_bytes(b"lang\tword\tnote\nen\ta\t\x00\n")
    assert len(Lexicon.load(path)) == 1 and not check_lexicon(path).ok


# --- info ---------------------------------------------------------------------------------------


def test_info(lexicon_path: Path, tmp_path: Path) -> None:
    info = lexicon_info(lexicon_path)
    lex = Lexicon.load(lexicon_path)
    assert info.rows == 63 and info.languages == lex.counts() and sorted(info.languages) == sorted(LEXICON_LANGS)
    assert (info.fields, info.concepts, info.has_weights, info.normalized) == (3, 9, True, 0)
    assert info.sha256 == lex.sha256
    assert json.loads(info.to_json())["sha256"] == lex.sha256
    assert lex.sha256 in info.format_table()
    words = lexicon_info(FIXTURES / "words_ru.txt", lang="ru")
    assert (words.languages, words.concepts, words.fields, words.has_weights) == ({"ru": 4}, 0, 0, False)
    no_weights = write_tsv(tmp_path / "n.tsv", [("en", "a", ""), ("en", "b", "")], header="lang\tword\tweight")
    assert not lexicon_info(no_weights).has_weights
    with pytest.raises(LexiconError):
        lexicon_info(write_tsv(tmp_path / "bad.tsv", [("en", "a b")]))


# --- the `hyperword lexicon` commands -----------------------------------------------------------


def cli(*argv: object) -> tuple[int, str, str]:
    """Run `hyperword ARGV` through `cli_lexicon.register` alone, as `hyperword.cli.main` would."""
    parser = argparse.ArgumentParser(prog="hyperword")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_lexicon.register(sub)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            args = parser.parse_args([str(a) for a in argv])
            args.func(args)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except (hyperword.HyperwordError, OSError) as e:
            print(f"hyperword: error: {e}", file=sys.stderr)
            code = 1
    return code, out.getvalue(), err.getvalue()


def test_cli_import(tmp_path: Path) -> None:
    out = tmp_path / "out.tsv"
    code, stdout, stderr = cli(
        "lexicon",
        "import",
        TOOLS / "mapped.csv",
        "--out",
        out,
        "--column",
        "word=Lemma",
        "--column",
        "lang=Language",
        "--column",
        "concept=Meaning ID",
        "--column",
        "weight=Freq",
    )
    assert (code, stderr) == (0, "")
    assert "rows written" in stdout and "duplicates dropped         1" in stdout
    assert read_rows(out)[0] == ["lang", "word", "concept", "weight"]
    code, stdout, _ = cli("lexicon", "import", FIXTURES / "words_ru.txt", "--out", out, "--lang", "ru", "--json")
    assert code == 0 and json.loads(stdout)["rows_written"] == 4
    code, _, stderr = cli(
        "lexicon", "import", TOOLS / "mapped.csv", "--out", tmp_path / "x.tsv", "--column", "word=lemma_x"
    )
    assert code == 1 and stderr.startswith("hyperword: error: the column mapping word=lemma_x names column 'lemma_x'")
    assert stderr.count("\n") == 1 and not (tmp_path / "x.tsv").exists()
    src = write_tsv(tmp_path / "s.txt", [("вода",), ("два слова",)], header="свет")
    code, _, stderr = cli("lexicon", "import", src, "--out", tmp_path / "x.tsv", "--lang", "ru", "--format", "txt")
    assert code == 1 and f"{src}:3: word" in stderr
    code, stdout, stderr = cli("lexicon", "import", src, "--out", tmp_path / "x.tsv", "--lang", "ru", "--skip-invalid")
    assert code == 0 and "invalid rows dropped       1" in stdout
    semi = tmp_path / "semi.csv"
    semi.write_text("lang;word\nen;water\n", encoding="utf-8")
    assert cli("lexicon", "import", semi, "--out", tmp_path / "y.tsv", "--delimiter", ";")[0] == 0
    assert (
        cli(
            "lexicon",
            "import",
            write_tsv(tmp_path / "t.dat", [("en", "a")]),
            "--out",
            tmp_path / "z.tsv",
            "--format",
            "csv",
            "--delimiter",
            "tab",
        )[0]
        == 0
    )


def test_cli_build_and_add_weights(tmp_path: Path, lexicon_path: Path) -> None:
    out = tmp_path / "ru.tsv"
    code, stdout, stderr = cli(
        "lexicon", "build", "--source", "wordfreq", "--lang", "ru", "--top", "500", "--out", out, "--wordlist", "small"
    )
    assert (code, stderr) == (0, "") and "words                          500" in stdout
    assert len(read_rows(out)) == 501
    code, _, stderr = cli("lexicon", "build", "--source", "wordfreq", "--lang", "cy", "--out", tmp_path / "cy.tsv")
    assert (
        code == 1
        and stderr == "hyperword: error: wordfreq has no word list for 'cy' (it would silently substitute 'en')\n"
    )
    assert not (tmp_path / "cy.tsv").exists()
    code, _, stderr = cli("lexicon", "build", "--source", "wordfreq", "--out", tmp_path / "x.tsv")
    assert code == 1 and "needs --lang" in stderr
    weighted = tmp_path / "w.tsv"
    code, stdout, stderr = cli(
        "lexicon", "build", "--source", "wordfreq", "--add-weights", lexicon_path, "--out", weighted
    )
    assert code == 1 and "--skip-missing-langs" in stderr and not weighted.exists()
    code, stdout, stderr = cli(
        "lexicon",
        "build",
        "--source",
        "wordfreq",
        "--add-weights",
        lexicon_path,
        "--out",
        weighted,
        "--skip-missing-langs",
        "--json",
    )
    assert code == 0 and json.loads(stdout)["skipped_langs"].keys() == {"cy"}
    code, _, stderr = cli(
        "lexicon", "build", "--source", "wordfreq", "--add-weights", lexicon_path, "--lang", "ru", "--out", weighted
    )
    assert code == 1 and "--lang builds a new lexicon" in stderr


def test_cli_check_and_info(tmp_path: Path, lexicon_path: Path) -> None:
    code, stdout, stderr = cli("lexicon", "check", lexicon_path)
    assert (code, stderr) == (0, "") and "OK: loads" in stdout
    bad = write_tsv(tmp_path / "bad.tsv", [("en", "ok"), ("en", "two words"), ("EN", "x")])
    code, stdout, stderr = cli("lexicon", "check", bad)
    assert code == 1
    assert stderr == f"hyperword: error: {bad}: 2 problems (see report)\n"
    assert '   3  word "two words" contains whitespace' in stdout
    code, stdout, _ = cli("lexicon", "check", bad, "--json")
    assert code == 1 and [p["line"] for p in json.loads(stdout)["problems"]] == [3, 4]
    code, stdout, _ = cli("lexicon", "check", FIXTURES / "words_ru.txt", "--lang", "ru")
    assert code == 0
    code, stdout, stderr = cli("lexicon", "info", lexicon_path, "--json")
    assert code == 0 and json.loads(stdout)["sha256"] == Lexicon.load(lexicon_path).sha256
    code, stdout, _ = cli("lexicon", "info", lexicon_path)
    assert "concepts                9" in stdout
    code, _, stderr = cli("lexicon", "info", tmp_path / "missing.tsv")
    assert code == 1 and "missing.tsv" in stderr
    code, _, stderr = cli("lexicon", "check", tmp_path / "missing.tsv")
    assert code == 1 and "missing.tsv" in stderr


def test_cli_usage_errors() -> None:
    assert cli("lexicon")[0] == 2
    assert cli("lexicon", "import", "x.csv")[0] == 2  # --out is required
    assert cli("lexicon", "build", "--source", "other", "--out", "x")[0] == 2
    assert cli("lexicon", "import", "x.csv", "--out", "y", "--column", "word")[0] == 2


def test_shipped_lexicon_checks_clean() -> None:
    shipped = REPO / "lexicons" / "multisimlex.tsv"
    if not shipped.exists():
        pytest.skip("no shipped lexicon in this checkout")
    report = check_lexicon(shipped)
    assert report.ok and report.duplicate_entries == [] and report.normalized == []
    assert report.languages == Lexicon.load(shipped).counts()
    assert set(report.scripts["he"]) == {"Hebrew"} and set(report.scripts["zh"]) == {"Han"}
    assert os.path.getsize(shipped) > 0
