"""Fusing words into phrases (rust/core/src/fusion.rs, config.rs): `sample` and the rows of `stream`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from _helpers import (
    LEXICON_LANGS,
    LEXICON_ROWS,
    field_pair_rate,
    rows_of,
    shares,
    word_counts,
    words_of,
    write_tsv,
)
from hypothesis import given
from hypothesis import strategies as st

import hyperword
from hyperword import ConfigError, Lexicon

# --- determinism -----------------------------------------------------------------------------


def test_same_seed_same_phrases(lexicon: Lexicon) -> None:
    a = hyperword.sample(200, lexicon=lexicon, seed=7)
    b = hyperword.sample(200, lexicon=lexicon, seed=7)
    assert a == b
    assert len(a) == 200 and len(set(a)) > 150


def test_different_seed_different_phrases(lexicon: Lexicon) -> None:
    a = hyperword.sample(200, lexicon=lexicon, seed=7)
    b = hyperword.sample(200, lexicon=lexicon, seed=8)
    assert a != b
    assert sum(x == y for x, y in zip(a, b)) < 20


def test_same_seed_same_phrases_across_lexicon_objects(lexicon_path: Path) -> None:
    a = hyperword.sample(50, lexicon=Lexicon.load(lexicon_path), seed=1)
    b = hyperword.sample(50, lexicon=str(lexicon_path), seed=1)
    assert a == b


def test_sample_is_a_prefix_of_the_stream(lexicon: Lexicon) -> None:
    kw = dict(lexicon=lexicon, seed=21, words_per_phrase=(1, 4), joiner="_")
    texts = hyperword.stream(5000, columns="text", **kw).read_all().column("text").to_pylist()
    assert hyperword.sample(300, **kw) == texts[:300]
    assert hyperword.sample(10, **kw) == texts[:10]


def test_sample_zero_and_invalid_counts(lexicon: Lexicon) -> None:
    assert hyperword.sample(0, lexicon=lexicon) == []
    with pytest.raises(ConfigError):
        hyperword.sample(-1, lexicon=lexicon)
    with pytest.raises(ConfigError):
        hyperword.sample(3, lexicon=lexicon, seed=-1)
    with pytest.raises(ConfigError):
        hyperword.sample(True, lexicon=lexicon)  # type: ignore[arg-type]


def test_largest_seed_is_accepted(lexicon: Lexicon) -> None:
    a = hyperword.sample(20, lexicon=lexicon, seed=2**64 - 1)
    assert a != hyperword.sample(20, lexicon=lexicon, seed=0)
    with pytest.raises(ConfigError):
        hyperword.sample(20, lexicon=lexicon, seed=2**64)


# --- phrase lengths --------------------------------------------------------------------------


def _lengths(lexicon: Lexicon, words: int = 20_000, **kw: object) -> Counter[int]:
    return Counter(len(r["words"]) for r in rows_of(words, lexicon=lexicon, columns="words", **kw))


@pytest.mark.parametrize("wpp", [3, "3", (3, 3), "3-3"])
def test_fixed_phrase_length(lexicon: Lexicon, wpp: object) -> None:
    assert set(_lengths(lexicon, 6000, words_per_phrase=wpp)) == {3}


def test_phrase_length_one(lexicon: Lexicon) -> None:
    phrases = hyperword.sample(200, lexicon=lexicon, words_per_phrase=1)
    assert set(phrases) <= {w for (_, w) in LEXICON_ROWS}


@pytest.mark.parametrize("wpp", [(2, 6), "2-6", " 2 - 6 "])
def test_phrase_length_range_is_uniform(lexicon: Lexicon, wpp: object) -> None:
    counts = _lengths(lexicon, 40_000, words_per_phrase=wpp)
    assert set(counts) == {2, 3, 4, 5, 6}
    for length, share in shares(counts).items():
        assert abs(share - 0.2) < 0.02, (length, share)


def test_range_forms_are_equivalent(lexicon: Lexicon) -> None:
    assert hyperword.sample(100, lexicon=lexicon, words_per_phrase="2-5") == hyperword.sample(
        100, lexicon=lexicon, words_per_phrase=(2, 5)
    )


@pytest.mark.parametrize(
    "wpp, dist, expected",
    [
        ((2, 4), "weights:0,0,1", {4: 1.0}),
        ((2, 4), "weights:1,0,0", {2: 1.0}),
        ((2, 4), "weights:1,0,3", {2: 0.25, 4: 0.75}),
        ((1, 3), "geometric:0.5", {1: 4 / 7, 2: 2 / 7, 3: 1 / 7}),
        ((2, 5), "geometric:1", {2: 1.0}),
        ((1, 3), "uniform", {1: 1 / 3, 2: 1 / 3, 3: 1 / 3}),
    ],
)
def test_phrase_length_distributions(
    lexicon: Lexicon, wpp: tuple[int, int], dist: str, expected: dict[int, float]
) -> None:
    got = shares(_lengths(lexicon, 30_000, words_per_phrase=wpp, phrase_dist=dist))
    assert set(got) == set(expected), got
    for length, share in expected.items():
        assert abs(got[length] - share) < 0.02, (length, got)


@pytest.mark.parametrize(
    "kw",
    [
        {"words_per_phrase": 0},
        {"words_per_phrase": "0-3"},
        {"words_per_phrase": (5, 2)},
        {"words_per_phrase": "5-2"},
        {"words_per_phrase": 1025},
        {"words_per_phrase": "two"},
        {"words_per_phrase": True},
        {"words_per_phrase": (2, 4), "phrase_dist": "weights:1,1"},
        {"words_per_phrase": (2, 4), "phrase_dist": "weights:0,0,0"},
        {"words_per_phrase": (2, 4), "phrase_dist": "weights:1,-1,1"},
        {"phrase_dist": "geometric:0"},
        {"phrase_dist": "geometric:1.5"},
        {"phrase_dist": "poisson"},
    ],
)
def test_invalid_phrase_lengths(lexicon: Lexicon, kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        hyperword.sample(5, lexicon=lexicon, **kw)  # type: ignore[arg-type]


def test_longest_allowed_phrase(lexicon: Lexicon) -> None:
    rows = rows_of(3000, lexicon=lexicon, words_per_phrase=1024, columns="words")
    assert {len(r["words"]) for r in rows} == {1024}


# --- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize("langs", ["ru", ["ru"], {"ru": 1}, "ru:5"])
def test_one_language(lexicon: Lexicon, langs: object) -> None:
    rows = rows_of(3000, lexicon=lexicon, langs=langs, seed=3)
    assert {lang for r in rows for lang in r["langs"]} == {"ru"}
    assert {w for r in rows for w in r["words"]} == set(words_of("ru"))


def test_language_subset(lexicon: Lexicon) -> None:
    rows = rows_of(5000, lexicon=lexicon, langs=["he", "zh"], mix="word")
    assert {lang for r in rows for lang in r["langs"]} == {"he", "zh"}


def test_all_languages_by_default(lexicon: Lexicon) -> None:
    rows = rows_of(20_000, lexicon=lexicon, words_per_phrase=2)
    per_phrase = shares(Counter(r["langs"][0] for r in rows))
    assert set(per_phrase) == set(LEXICON_LANGS)
    for lang, share in per_phrase.items():
        assert abs(share - 1 / 7) < 0.02, (lang, share)


@pytest.mark.parametrize("langs", [{"en": 3, "ru": 1}, "en:3,ru:1", "en:3, ru", [" en:3", "ru:1 "]])
def test_language_weights_shape_phrases(lexicon: Lexicon, langs: object) -> None:
    rows = rows_of(8000, lexicon=lexicon, langs=langs, words_per_phrase=2, seed=9)
    assert len(rows) == 4000
    got = shares(Counter(r["langs"][0] for r in rows))
    assert set(got) == {"en", "ru"}
    assert abs(got["en"] - 0.75) < 0.03, got


def test_language_weight_forms_give_the_same_output(lexicon: Lexicon) -> None:
    a = hyperword.sample(100, lexicon=lexicon, langs={"en": 3, "ru": 1})
    assert a == hyperword.sample(100, lexicon=lexicon, langs="en:3,ru:1")
    assert a == hyperword.sample(100, lexicon=lexicon, langs="en:3,ru")
    assert a != hyperword.sample(100, lexicon=lexicon, langs="en:1,ru:1")


def test_language_weights_per_word_with_mix_word(lexicon: Lexicon) -> None:
    rows = rows_of(16_000, lexicon=lexicon, langs="en:3,ru:1", mix="word", words_per_phrase=4)
    got = shares(Counter(lang for r in rows for lang in r["langs"]))
    assert abs(got["en"] - 0.75) < 0.03, got


def test_zero_weight_language_never_appears(lexicon: Lexicon) -> None:
    rows = rows_of(5000, lexicon=lexicon, langs="en:1,ru:0,he:1", mix="word")
    langs = {lang for r in rows for lang in r["langs"]}
    assert langs == {"en", "he"}


@pytest.mark.parametrize(
    "langs, needle",
    [
        ("xx", '"xx"'),
        ("en,xx", '"xx"'),
        ("en,en", "twice"),
        ("en:-1", "non-negative"),
        ("en:0,ru:0", "at least one"),
        ("en:abc", "weight"),
        ("en,,ru", "empty"),
        ({"en": float("inf")}, ""),
    ],
)
def test_invalid_languages(lexicon: Lexicon, langs: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle or None):
        hyperword.sample(5, lexicon=lexicon, langs=langs)  # type: ignore[arg-type]


# --- mix ---------------------------------------------------------------------------------------


def test_mix_phrase_keeps_one_language_per_phrase(lexicon: Lexicon) -> None:
    rows = rows_of(20_000, lexicon=lexicon, mix="phrase", words_per_phrase=(2, 6))
    assert all(len(set(r["langs"])) == 1 for r in rows)
    assert len({r["langs"][0] for r in rows}) == 7


def test_mix_word_mixes_languages_within_phrases(lexicon: Lexicon) -> None:
    rows = rows_of(20_000, lexicon=lexicon, mix="word", langs="en,ru,he", words_per_phrase=4)
    mixed = sum(len(set(r["langs"])) > 1 for r in rows) / len(rows)
    assert abs(mixed - 26 / 27) < 0.02, mixed  # 1 - 3 * (1/3)^4
    per_word = shares(Counter(lang for r in rows for lang in r["langs"]))
    assert all(abs(s - 1 / 3) < 0.02 for s in per_word.values()), per_word


def test_invalid_mix(lexicon: Lexicon) -> None:
    with pytest.raises(ConfigError):
        hyperword.sample(5, lexicon=lexicon, mix="sentence")


# --- coherence ---------------------------------------------------------------------------------

# In the fixture every language has fields of 4, 3 and 2 words (9 in all). The next word
# comes from the current word's field with probability p, otherwise from the whole language
# (where it lands in the same field with probability n_f / N), so consecutive words share a
# field with probability p + (1 - p) * sum_f (n_f / N)^2.
_SAME_FIELD_BY_CHANCE = (4**2 + 3**2 + 2**2) / 9**2


@pytest.mark.parametrize("p", [0.0, 0.5, 0.9, 1.0])
def test_coherence_sets_the_share_of_same_field_neighbours(lexicon: Lexicon, p: float) -> None:
    rows = rows_of(36_000, lexicon=lexicon, langs="en", words_per_phrase=6, coherence=p, seed=5)
    expected = p + (1 - p) * _SAME_FIELD_BY_CHANCE
    assert abs(field_pair_rate(rows) - expected) < 0.02, (p, field_pair_rate(rows), expected)


def test_coherence_raises_same_field_neighbours(lexicon: Lexicon) -> None:
    kw = dict(lexicon=lexicon, words_per_phrase=(3, 6), seed=8)
    low = field_pair_rate(rows_of(30_000, coherence=0.0, **kw))
    high = field_pair_rate(rows_of(30_000, coherence=0.9, **kw))
    assert low < 0.42 and high > 0.9, (low, high)


def test_full_coherence_keeps_the_field_across_languages(lexicon: Lexicon) -> None:
    """With mix=word the language changes per word, but coherence 1 keeps the field."""
    rows = rows_of(20_000, lexicon=lexicon, mix="word", words_per_phrase=5, coherence=1.0)
    assert all(len({LEXICON_ROWS[(lang, w)][1] for lang, w in zip(r["langs"], r["words"])}) == 1 for r in rows)
    assert sum(len(set(r["langs"])) > 1 for r in rows) / len(rows) > 0.9


def test_coherence_with_words_without_a_field(tmp_path: Path) -> None:
    """Words with no field are followed by a draw from the whole language."""
    path = write_tsv(
        tmp_path / "lex.tsv",
        [("en", "a", "x"), ("en", "b", "x"), ("en", "c", ""), ("en", "d", "")],
        "lang\tword\tfield",
    )
    rows = rows_of(20_000, lexicon=Lexicon.load(path), words_per_phrase=2, coherence=1.0, columns="words")
    pairs = Counter(tuple(r["words"]) for r in rows)
    after_field = {b for (a, b) in pairs if a in "ab"}
    after_none = {b for (a, b) in pairs if a in "cd"}
    assert after_field == {"a", "b"}
    assert after_none == {"a", "b", "c", "d"}


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_invalid_coherence(lexicon: Lexicon, p: float) -> None:
    with pytest.raises(ConfigError):
        hyperword.sample(5, lexicon=lexicon, coherence=p)


# --- alpha and word weights -----------------------------------------------------------------


@pytest.fixture
def weighted(tmp_path: Path) -> Lexicon:
    rows = [("en", "heavy", 9), ("en", "light", 1), ("en", "middle", 2), ("en", "never", 0)]
    return Lexicon.load(write_tsv(tmp_path / "weighted.tsv", rows, "lang\tword\tweight"))


def test_alpha_one_draws_proportionally_to_weight(weighted: Lexicon) -> None:
    counts = word_counts(rows_of(60_000, lexicon=weighted, alpha=1.0, words_per_phrase=3, columns="words"))
    assert "never" not in counts  # weight 0
    assert abs(counts["heavy"] / counts["light"] - 9) < 0.8, counts
    assert abs(counts["middle"] / counts["light"] - 2) < 0.25, counts


def test_alpha_half_draws_proportionally_to_the_root(weighted: Lexicon) -> None:
    counts = word_counts(rows_of(60_000, lexicon=weighted, alpha=0.5, words_per_phrase=3, columns="words"))
    assert abs(counts["heavy"] / counts["light"] - 3) < 0.3, counts


def test_alpha_zero_is_uniform(weighted: Lexicon) -> None:
    counts = word_counts(rows_of(60_000, lexicon=weighted, alpha=0.0, words_per_phrase=3, columns="words"))
    assert set(counts) == {"heavy", "light", "middle", "never"}
    for word, share in shares(counts).items():
        assert abs(share - 0.25) < 0.015, (word, share)


def test_weights_do_not_matter_without_alpha(weighted: Lexicon, tmp_path: Path) -> None:
    flat = Lexicon.load(write_tsv(tmp_path / "flat.tsv", [("en", w) for w in ["heavy", "light", "middle", "never"]]))
    assert hyperword.sample(100, lexicon=weighted) == hyperword.sample(100, lexicon=flat)


def test_alpha_with_no_positive_weight_is_an_error(tmp_path: Path) -> None:
    lex = Lexicon.load(write_tsv(tmp_path / "zero.tsv", [("en", "a", 0), ("ru", "б", 1)], "lang\tword\tweight"))
    with pytest.raises(ConfigError, match='"en"'):
        hyperword.sample(5, lexicon=lex, alpha=1.0)
    assert set(hyperword.sample(5, lexicon=lex, alpha=1.0, langs="ru", words_per_phrase=1)) == {"б"}


@pytest.mark.parametrize("alpha", [-1.0, float("inf"), float("nan")])
def test_invalid_alpha(lexicon: Lexicon, alpha: float) -> None:
    with pytest.raises(ConfigError):
        hyperword.sample(5, lexicon=lexicon, alpha=alpha)


# --- joiner and case -------------------------------------------------------------------------


@pytest.mark.parametrize("joiner", ["", "-", " ", "·", "||", "\u2009", "🙂"])
def test_joiner_goes_between_words(lexicon: Lexicon, joiner: str) -> None:
    rows = rows_of(3000, lexicon=lexicon, joiner=joiner, words_per_phrase=(1, 5), columns="text,words")
    for r in rows:
        assert r["text"] == joiner.join(r["words"])
    if joiner:
        assert any(joiner in r["text"] for r in rows)
        assert not any(r["text"].startswith(joiner) or r["text"].endswith(joiner) for r in rows)


def test_joiner_in_sample(lexicon: Lexicon) -> None:
    words = {w for (_, w) in LEXICON_ROWS}
    for phrase in hyperword.sample(100, lexicon=lexicon, joiner="+", words_per_phrase=(2, 4)):
        parts = phrase.split("+")
        assert 2 <= len(parts) <= 4 and set(parts) <= words, phrase


def test_no_joiner_concatenates(lexicon: Lexicon) -> None:
    plain = hyperword.sample(50, lexicon=lexicon, seed=3)
    joined = hyperword.sample(50, lexicon=lexicon, seed=3, joiner="/")
    assert plain == [p.replace("/", "") for p in joined]  # same draws, only the joiner differs


@pytest.mark.parametrize("joiner", ["\n", "\t", "\x00", "\u200b", "\ufeff", "\u2060", "x" * 65])
def test_invalid_joiner(lexicon: Lexicon, joiner: str) -> None:
    with pytest.raises(ConfigError):
        hyperword.sample(5, lexicon=lexicon, joiner=joiner)


def test_longest_joiner(lexicon: Lexicon) -> None:
    joiner = "é" * 32  # 64 bytes
    (phrase,) = hyperword.sample(1, lexicon=lexicon, joiner=joiner, words_per_phrase=2)
    assert joiner in phrase


CASED = {
    # lexicon word: (lower, title, upper)
    "WaTer": ("water", "Water", "WATER"),
    "straße": ("straße", "Straße", "STRASSE"),
    "ÉCOLE": ("école", "École", "ÉCOLE"),
    "вОДА": ("вода", "Вода", "ВОДА"),
    "ΟΔΟΣ": ("οδος", "Οδος", "ΟΔΟΣ"),
    "水": ("水", "水", "水"),
}


@pytest.mark.parametrize("case, index", [("as-is", None), ("lower", 0), ("title", 1), ("upper", 2)])
def test_case(tmp_path: Path, case: str, index: int | None) -> None:
    lex = Lexicon.load(write_tsv(tmp_path / "cased.tsv", [("en", w) for w in CASED]))
    expected = {w if index is None else forms[index] for w, forms in CASED.items()}
    rows = rows_of(6000, lexicon=lex, case=case, words_per_phrase=(1, 4), columns="text,words")
    seen = {w for r in rows for w in r["words"]}
    assert seen == expected
    for r in rows:
        assert r["text"] == "".join(r["words"])
    # casing never changes which words are drawn
    as_is = rows_of(6000, lexicon=lex, words_per_phrase=(1, 4), columns="words")
    assert [len(r["words"]) for r in rows] == [len(r["words"]) for r in as_is]


def test_title_case_is_per_word(lexicon: Lexicon) -> None:
    for phrase in hyperword.sample(50, lexicon=lexicon, langs="en", case="title", words_per_phrase=3, joiner=" "):
        assert all(w[0].isupper() and w[1:].islower() for w in phrase.split(" ")), phrase


def test_invalid_case(lexicon: Lexicon) -> None:
    with pytest.raises(ConfigError):
        hyperword.sample(5, lexicon=lexicon, case="shout")


# --- property: text is the joined words, each a word of its language ------------------------


@given(
    low=st.integers(1, 6),
    extra=st.integers(0, 4),
    joiner=st.sampled_from(["", "-", " ", "·", "||", "‿"]),
    mix=st.sampled_from(["phrase", "word"]),
    coherence=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**64 - 1),
    langs=st.none() | st.lists(st.sampled_from(LEXICON_LANGS), min_size=1, max_size=4, unique=True),
    words=st.integers(1, 400),
)
def test_rows_are_joined_lexicon_words(
    session_lexicon: Lexicon,
    low: int,
    extra: int,
    joiner: str,
    mix: str,
    coherence: float,
    seed: int,
    langs: list[str] | None,
    words: int,
) -> None:
    high = low + extra
    rows = rows_of(
        words,
        lexicon=session_lexicon,
        words_per_phrase=(low, high),
        joiner=joiner,
        mix=mix,
        coherence=coherence,
        seed=seed,
        langs=langs,
        columns="text,words,langs",
    )
    allowed = set(langs or LEXICON_LANGS)
    total = 0
    for r in rows:
        assert r["text"] == joiner.join(r["words"])
        assert low <= len(r["words"]) <= high
        assert len(r["langs"]) == len(r["words"])
        for lang, w in zip(r["langs"], r["words"]):
            assert (lang, w) in LEXICON_ROWS, (lang, w)
            assert lang in allowed
        if mix == "phrase":
            assert len(set(r["langs"])) == 1
        total += len(r["words"])
    assert words <= total < words + high  # the last phrase may pass the target
    assert hyperword.sample(
        len(rows),
        lexicon=session_lexicon,
        words_per_phrase=(low, high),
        joiner=joiner,
        mix=mix,
        coherence=coherence,
        seed=seed,
        langs=langs,
    ) == [r["text"] for r in rows]


# --- words of every length and script ----------------------------------------------------------

# Words from 1 to 40 bytes in 1-, 2-, 3- and 4-byte scripts: short words and long ones are
# copied differently by the engine, so lengths around 16 bytes matter.
_LENGTHY = sorted(
    {"a" * n for n in range(1, 41)}
    | {"ж" * n for n in range(1, 21)}
    | {"水" * n for n in range(1, 14)}
    | {"🙂" * n for n in range(1, 11)}
    | {"x" * n + "é" for n in range(10, 20)}
)


@pytest.mark.parametrize("joiner", ["", "-", "=+=", "·"])
def test_words_of_every_length_come_through_whole(tmp_path: Path, joiner: str) -> None:
    lex = Lexicon.load(write_tsv(tmp_path / "lengths.tsv", [("xx-long", w) for w in _LENGTHY]))
    rows = rows_of(40_000, lexicon=lex, joiner=joiner, words_per_phrase=(1, 8), columns="text,words", seed=12)
    for r in rows:
        assert r["text"] == joiner.join(r["words"])
        assert all(w in _LENGTHY for w in r["words"])
    assert {w for r in rows for w in r["words"]} == set(_LENGTHY)


_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'-_.éèêëçñøåæœßŵŷ"
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙ"
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔ"
    "אבגדהוזחטיכלמנסעפצקרשת"
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    "水火日月山川人心手大小中国语言"
    "🙂🌍✨"
)
_word = st.text(alphabet=_ALPHABET, min_size=1, max_size=24)


@given(
    words=st.lists(_word, min_size=1, max_size=30, unique=True),
    joiner=st.sampled_from(["", "-", " ", "·", "<>"]),
    seed=st.integers(0, 2**64 - 1),
)
def test_arbitrary_words_round_trip(
    tmp_path_factory: pytest.TempPathFactory, words: list[str], joiner: str, seed: int
) -> None:
    path = write_tsv(tmp_path_factory.mktemp("lex") / "lex.tsv", [("qq", w) for w in words])
    lex = Lexicon.load(path, strict_nfc=True)
    assert lex.words("qq") == words
    rows = rows_of(200, lexicon=lex, joiner=joiner, seed=seed, words_per_phrase=(1, 5), columns="text,words")
    known = set(words)
    for r in rows:
        assert r["text"] == joiner.join(r["words"])
        assert set(r["words"]) <= known
