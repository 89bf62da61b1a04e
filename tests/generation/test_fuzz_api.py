"""Property tests of the Python API with arbitrary arguments: no input panics, crashes or hangs.

The contract these tests hold every public entry point to (``sample``, ``stream``,
``generate``, ``parse_count``, ``Lexicon.load``):

- a call either succeeds or raises an ordinary exception;
- an argument of the documented type (int, float, str, a sequence or mapping of those, a
  path) with a bad value raises ``hyperword.HyperwordError`` (``ConfigError``,
  ``LexiconError``, ...) -- never ``TypeError``, ``ValueError``, ``OverflowError``;
- an argument of another type (``None`` where a value is needed, bytes, floats where ints are
  needed, bools, lists of numbers for strings, objects, strings that are not valid Unicode)
  may also raise ``TypeError`` or ``ValueError``;
- the file system's refusals (a lexicon that does not exist, an output path that cannot be a
  directory) are ``OSError``;
- an exception raised by the caller's ``progress`` callback propagates unchanged;
- never ``InternalError`` (a Rust panic caught at the boundary) nor ``pyo3_runtime.PanicException``,
  and every call returns within ``CALL_SECONDS``.

Valid-but-large values (billions of words) are not generated here, only values just past each
limit, which must be refused up front. The Rust parsers are fuzzed by ``rust/fuzz`` (cargo fuzz).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _helpers import LEXICON_LANGS, lexicon_tsv_text
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

import hyperword
from hyperword import ConfigError, HyperwordError, InternalError
from hyperword.generation import MAX_SAMPLE, MAX_THREADS

CALL_SECONDS = 60

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# --- values: each strategy draws (value, well_typed) ------------------------------------

Drawn = tuple[Any, bool]


class Boom(Exception):
    """Raised by a progress callback: must reach the caller unchanged."""


def typed(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Drawn]:
    return strategy.map(lambda v: (v, True))


def untyped(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Drawn]:
    return strategy.map(lambda v: (v, False))


BOUNDARY_INTS = [
    0,
    1,
    -1,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63),
    10**30,
    -(10**30),
]
any_int = st.one_of(st.integers(-3, 12), st.sampled_from(BOUNDARY_INTS), st.integers())
any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 1e308, 5e-324, math.nan, math.inf, -math.inf, 4.3e10]),
)
# Text that is valid Unicode, with control, format and whitespace characters.
any_text = st.one_of(
    st.text(max_size=12),
    st.text(st.sampled_from("ab\x00\t\n\r \u200b\u2060\ufeff\u0085\u3000é\u0301{}:,-"), max_size=8),
)
# Anything at all, including strings with lone surrogates.
junk = st.one_of(
    st.none(),
    st.booleans(),
    any_float,
    st.binary(max_size=6),
    st.text(st.characters(codec=None, categories=["Cs", "Lu"]), min_size=1, max_size=3),
    st.lists(st.integers(-2, 2), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.builds(object),
    st.builds(complex, st.floats(allow_nan=False, allow_infinity=False)),
)


def value(good: st.SearchStrategy[Any], also_typed: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Drawn]:
    """Mostly ``good`` values, sometimes other values of the right type, sometimes junk."""

    def pick(i: int) -> st.SearchStrategy[Drawn]:
        if i < 17:
            return typed(good)
        if i < 19 and also_typed is not None:
            return typed(also_typed)
        return untyped(junk)

    return st.integers(0, 19).flatmap(pick)


good_lang = st.sampled_from(["en", "ru", "fr", "zh"])
lang_code = st.one_of(good_lang, st.sampled_from([*LEXICON_LANGS, "xx", "EN", "en-", "", "zh-Hant"]))
small_phrase = st.one_of(
    st.integers(1, 8),
    st.tuples(st.integers(1, 5), st.integers(5, 8)),
    st.sampled_from(["2-6", "3", " 1 - 4 ", "1-1024"]),
)
phrase_extreme = st.one_of(
    any_int, st.tuples(any_int, any_int), any_text, st.sampled_from(["0-2", "5-2", "-3", "1025", "a-b", "1-2-3"])
)
phrase_dist = st.one_of(
    st.just("uniform"),
    st.builds(lambda p: f"geometric:{p}", any_float),
    st.builds(lambda ws: "weights:" + ",".join(map(str, ws)), st.lists(any_float, min_size=1, max_size=9)),
)
good_langs = st.one_of(
    st.none(),
    st.lists(good_lang, min_size=1, max_size=2, unique=True),
    st.dictionaries(good_lang, st.floats(0.1, 10), min_size=1, max_size=2),
)
langs_value = st.one_of(
    st.none(),
    st.lists(lang_code, max_size=4, unique=True),
    st.lists(lang_code, max_size=4).map(",".join),
    st.dictionaries(lang_code, any_float, max_size=4),
    st.dictionaries(lang_code, st.sampled_from([1e308, 1.7e308]), min_size=2, max_size=3),
    st.builds(lambda c, w: f"{c}:{w}", lang_code, any_float),
)
template = st.one_of(
    st.none(),
    st.lists(
        st.sampled_from(["{source}", "{target}", "{{", "}}", "{", "}", " = ", "\n", "\t", "\x00", "{src}", "é"]),
        max_size=6,
    ).map("".join),
)
COLUMNS = ["text", "words", "langs", "concepts", "field", "source", "target", "bogus"]
good_columns = st.one_of(st.none(), st.lists(st.sampled_from(COLUMNS[:5]), min_size=1, max_size=5, unique=True))
columns = st.one_of(
    good_columns,
    st.lists(st.sampled_from(COLUMNS), max_size=4),
    st.lists(st.sampled_from(COLUMNS), max_size=4).map(",".join),
)

FUSION = {
    "words_per_phrase": value(small_phrase, phrase_extreme),
    "phrase_dist": value(
        st.sampled_from(["uniform", "geometric:0.5", "geometric:1"]), st.one_of(phrase_dist, any_text)
    ),
    "langs": value(good_langs, langs_value),
    "mix": value(st.sampled_from(["phrase", "word"]), any_text),
    "alpha": value(st.sampled_from([0.0, 0.5, 1.0, 2.0, 60.0, 4.3e10]), st.one_of(any_float, any_int)),
    "coherence": value(st.sampled_from([0.0, 0.3, 1.0]), st.one_of(any_float, any_int)),
    "joiner": value(st.sampled_from(["", "-", " · "]), any_text),
    "case": value(st.sampled_from(["as-is", "lower", "title", "upper"]), any_text),
    "kind": value(st.sampled_from(["mnemo", "bridge"]), any_text),
    "bridge": value(st.sampled_from([None, "segment", "translate"]), any_text),
    "pivot": value(st.one_of(st.none(), good_lang), lang_code),
    "template": value(
        st.sampled_from([None, "{source} = {target}", "<{source}>\t{{{target}}}"]), st.one_of(template, any_text)
    ),
    "seed": value(st.integers(0, 2**64 - 1), any_int),
}


@st.composite
def fusion_kwargs(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A random subset of the fusion options, and whether every value drawn is well typed."""
    names = draw(st.sets(st.sampled_from(sorted(FUSION)), max_size=draw(st.sampled_from([2, 4, len(FUSION)]))))
    kwargs, ok = {}, True
    for name in sorted(names):
        v, good = draw(FUSION[name])
        kwargs[name] = v
        ok = ok and good
    return kwargs, ok


# --- the contract -------------------------------------------------------------------------


@contextlib.contextmanager
def time_limit(seconds: int = CALL_SECONDS) -> Iterator[None]:
    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError(f"call still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def outcome(call: Callable[[], Any], well_typed: bool, also: tuple[type[BaseException], ...] = ()) -> Any:
    """Run ``call``: its result, or the permitted exception it raised (anything else fails)."""
    allowed: tuple[type[BaseException], ...] = (HyperwordError, *also)
    if not well_typed:
        allowed += (TypeError, ValueError)
    try:
        with time_limit():
            result = call()
        event("ok")
        return result
    except InternalError as e:  # a Rust panic caught by the binding
        pytest.fail(f"hyperword panicked: {e}")
    except TimeoutError:
        raise
    except allowed as e:
        event(type(e).__name__ + ": " + re.sub(r"^/\S*:\d+: ", "", str(e))[:40])
        return e
    except BaseException as e:  # pyo3_runtime.PanicException is a BaseException
        pytest.fail(f"{type(e).__module__}.{type(e).__name__} is outside the contract: {e!r}")


# --- lexicons -----------------------------------------------------------------------------


def weighted_lexicon_text() -> str:
    """A lexicon whose weights, raised to a large alpha, overflow a float."""
    rows = [
        ("en", "big", "1e308"),
        ("en", "bigger", "1.5e308"),
        ("en", "small", "0.5"),
        ("ru", "вода", "2"),
        ("ru", "свет", "0"),
    ]
    return "lang\tword\tweight\n" + "".join("\t".join(r) + "\n" for r in rows)


@pytest.fixture(scope="module")
def lexicons(tmp_path_factory: pytest.TempPathFactory) -> dict[str, hyperword.Lexicon]:
    d = tmp_path_factory.mktemp("fuzz-lexicons")
    (d / "multi.tsv").write_text(lexicon_tsv_text(), encoding="utf-8")
    (d / "weighted.tsv").write_text(weighted_lexicon_text(), encoding="utf-8")
    return {
        "multi": hyperword.Lexicon.load(d / "multi.tsv"),
        "weighted": hyperword.Lexicon.load(d / "weighted.tsv"),
    }


lexicon_name = st.sampled_from(["multi", "weighted"])

# Each example takes milliseconds: three times the profile's examples (ci: 300) stay within seconds.
FAST = settings(
    max_examples=settings.default.max_examples * 3,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# --- sample -------------------------------------------------------------------------------


@FAST
@given(
    lexicon_name,
    value(
        st.integers(0, 20),
        st.one_of(
            st.sampled_from([MAX_SAMPLE + 1, -1, 2**64 - 1, 2**64]),
            st.integers(max_value=-1),
            st.integers(min_value=MAX_SAMPLE + 1),
        ),
    ),
    fusion_kwargs(),
)
def test_sample_takes_anything(
    lexicons: dict[str, hyperword.Lexicon], lex: str, n: Drawn, fusion: tuple[dict[str, Any], bool]
) -> None:
    (count, count_ok), (kwargs, kwargs_ok) = n, fusion
    result = outcome(lambda: hyperword.sample(count, lexicon=lexicons[lex], **kwargs), count_ok and kwargs_ok)
    if not isinstance(result, BaseException):
        assert isinstance(result, list) and len(result) == count and all(isinstance(p, str) and p for p in result)


# --- stream -------------------------------------------------------------------------------


@FAST
@given(
    lexicon_name,
    value(st.integers(1, 5000), any_int),
    value(st.integers(1, 3000), any_int),
    value(st.integers(1, 2000), st.sampled_from([0, -1, 2**64, 2**64 - 1, 10**30])),
    value(columns, st.lists(any_text, max_size=2)),
    fusion_kwargs(),
)
def test_stream_takes_anything(
    lexicons: dict[str, hyperword.Lexicon],
    lex: str,
    words: Drawn,
    shard_words: Drawn,
    batch_words: Drawn,
    cols: Drawn,
    fusion: tuple[dict[str, Any], bool],
) -> None:
    kwargs, ok = fusion
    ok = ok and words[1] and shard_words[1] and batch_words[1] and cols[1]
    # Valid but large batches are slow, not wrong: only values past the limits are drawn large.
    assume(
        not (
            isinstance(batch_words[0], int)
            and 2000 < batch_words[0] < 2**64
            and isinstance(words[0], int)
            and words[0] > 2000
            and isinstance(shard_words[0], int)
            and shard_words[0] > 2000
        )
    )

    def call() -> object:
        return hyperword.stream(
            words[0],
            lexicon=lexicons[lex],
            shard_words=shard_words[0],
            batch_words=batch_words[0],
            columns=cols[0],
            **kwargs,
        )

    reader = outcome(call, ok)
    if isinstance(reader, BaseException):
        return
    # Validated up front: reading the first batch must work.
    with time_limit():
        batch = reader.read_next_batch()
    assert batch.num_rows >= 1


# --- generate -----------------------------------------------------------------------------


@FAST
@given(
    lexicon_name,
    value(st.integers(1, 400), st.sampled_from([0, -5, 2**64, 2**64 - 1, 10**15])),
    value(st.integers(1, 300), st.sampled_from([0, -1, 1, 2**64])),
    value(st.integers(1, 200), st.sampled_from([0, 2**64])),
    value(st.sampled_from(["zstd", "lz4", "none"]), any_text),
    value(st.one_of(st.none(), st.integers(-8, 23)), any_int),
    value(st.sampled_from(["arrow", "parquet"]), any_text),
    value(st.one_of(st.none(), st.integers(1, 2)), st.sampled_from([0, -1, MAX_THREADS + 1, 2**40, 2**64 - 1, 2**64])),
    value(columns, st.lists(any_text, max_size=2)),
    st.sampled_from(["none", "count", "boom", "not callable"]),
    value(st.sampled_from(["local"]), any_text.filter(lambda s: s != "ray")),
    fusion_kwargs(),
)
def test_generate_takes_anything(
    lexicons: dict[str, hyperword.Lexicon],
    lex: str,
    words: Drawn,
    shard_words: Drawn,
    batch_words: Drawn,
    compression: Drawn,
    level: Drawn,
    fmt: Drawn,
    threads: Drawn,
    cols: Drawn,
    progress: str,
    engine: Drawn,
    fusion: tuple[dict[str, Any], bool],
) -> None:
    kwargs, ok = fusion
    drawn = [words, shard_words, batch_words, compression, level, fmt, threads, cols, engine]
    ok = ok and all(good for _, good in drawn)
    # Tiny corpora only: more words than that must be refused (too many shards) or not drawn.
    assume(
        not (
            isinstance(words[0], int)
            and 400 < words[0] < 2**64
            and not (isinstance(shard_words[0], int) and 0 < shard_words[0] <= 1)
        )
    )
    calls: list[int] = []

    def boom(n: int) -> None:
        raise Boom(n)

    callback = {"none": None, "count": calls.append, "boom": boom, "not callable": 5}[progress]
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "corpus"
        call = lambda: hyperword.generate(  # noqa: E731
            out,
            words[0],
            lexicon=lexicons[lex],
            shard_words=shard_words[0],
            batch_words=batch_words[0],
            compression=compression[0],
            compression_level=level[0],
            format=fmt[0],
            threads=threads[0],
            columns=cols[0],
            progress=callback,
            engine=engine[0],
            **kwargs,
        )
        result = outcome(call, ok and progress != "not callable", also=(Boom, TypeError) if progress != "none" else ())
        if isinstance(result, hyperword.Manifest):
            assert progress != "boom", "the final progress call raises"
            assert (out / "manifest.json").is_file() and result.words >= words[0]
            assert not calls or calls[-1] == result.words
        elif isinstance(result, (HyperwordError, TypeError, ValueError)):
            assert not (out / "manifest.json").exists()


@pytest.mark.parametrize("threads", [MAX_THREADS + 1, 100_000, 2**40, 2**64 - 1])
def test_absurd_thread_counts_are_refused_at_once(tmp_path: Path, threads: int) -> None:
    # Found by the hypothesis tests: rayon tried to start that many threads (a hang).
    with time_limit(20), pytest.raises(ConfigError, match="threads"):
        hyperword.generate(tmp_path / "c", 10, threads=threads)
    assert not (tmp_path / "c").exists()


# --- parse_count --------------------------------------------------------------------------

count_text = st.one_of(
    st.from_regex(r"\A\s*\d{1,30}(\.\d{0,30})?([eE]\d{1,12})?\s*[kKmMbBgGtT]?\s*\Z"),
    any_text,
)


@given(st.one_of(typed(count_text), typed(any_int), untyped(junk)))
@example(("1e999999", True))
@example(("1e1000000k", True))
@example(("1.0000000000000000000000000001k", True))
@example(("18446744073709551615", True))
@example(("18446744073709551616", True))
def test_parse_count_takes_anything(drawn: Drawn) -> None:
    text, ok = drawn
    result = outcome(lambda: hyperword.parse_count(text), ok)
    if isinstance(result, int):
        assert 1 <= result < 2**64
        if isinstance(text, str):
            assert hyperword.parse_count(str(result)) == result


def test_parse_count_is_exact() -> None:
    # Found by the hypothesis tests: Decimal's 28-digit context rounded the product (a
    # fractional count passed as whole) and overflowed on large exponents (decimal.Overflow).
    with pytest.raises(ConfigError, match="whole"):
        hyperword.parse_count("1.0000000000000000000000000001k")
    for text in ["1e1000000", "1e999999999999", "1e1000000k"]:
        with pytest.raises(ConfigError, match="2\\*\\*64"):
            hyperword.parse_count(text)
    assert hyperword.parse_count("18446744073709551615") == 2**64 - 1
    assert hyperword.parse_count("18446744073709551.615k") == 2**64 - 1
    assert hyperword.parse_count("2.5k") == 2500


# --- Lexicon.load -------------------------------------------------------------------------

weird = st.text(max_size=6)


def mostly(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    """A good cell 90% of the time, else a bad or arbitrary one."""
    return st.integers(0, 19).flatmap(
        lambda i: st.sampled_from(good) if i < 18 else st.sampled_from(bad) if i < 19 else weird
    )


CELLS = {
    "lang": mostly(["en", "ru", "zh-Hant", "yue"], ["EN", "", "e", "en-", "x" * 9]),
    "word": mostly(["water", "вода", "水", "lumie\u0301re", "ǆ", "a" * 1024], ["", "a b", "a\u200bb", "a" * 1025]),
    "concept": mostly(["", "0", "7", "4294967295"], ["-1", "4294967296", "1.5"]),
    "weight": mostly(["", "0", "1", "2.5", "1e308"], ["-1", "nan", "inf", "1e309"]),
}


def column_cell(name: str) -> st.SearchStrategy[str]:
    return CELLS.get(name, mostly(["", "nature", "noun", "a b"], ["\u0000"]))


@st.composite
def tsv_bytes(draw: st.DrawFn) -> bytes:
    extra = draw(
        st.lists(st.sampled_from(["concept", "field", "pos", "weight", "gloss", "Weight", ""]), max_size=3, unique=True)
    )
    cols = draw(st.permutations(["lang", "word", *extra]))
    rows = draw(st.lists(st.tuples(*[column_cell(c) for c in cols]), max_size=6))
    if draw(st.booleans()) and rows:  # a row of the wrong width
        rows.append(rows[0][:-1])
    sep = draw(st.sampled_from(["\n", "\r\n"]))
    text = sep.join(["\t".join(cols)] + ["\t".join(r) for r in rows]) + sep
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return (bom + text).encode()


word_list = st.lists(CELLS["word"], max_size=6).map(lambda ws: ("\n".join(ws) + "\n").encode())


@FAST
@given(
    st.one_of(st.binary(max_size=300), tsv_bytes(), tsv_bytes(), word_list, st.text(max_size=60).map(str.encode)),
    value(st.sampled_from([None, None, "ru", "zh-Hant"]), st.one_of(lang_code, any_text)),
    value(st.booleans()),
    st.booleans(),
    st.sampled_from([0.0, 1.0, 60.0]),
)
def test_lexicon_load_takes_any_bytes(data: bytes, lang: Drawn, strict: Drawn, as_path: bool, alpha: float) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "lexicon.tsv"
        path.write_bytes(data)
        source: Any = path if as_path else os.fspath(path)
        lex = outcome(lambda: hyperword.Lexicon.load(source, lang=lang[0], strict_nfc=strict[0]), lang[1] and strict[1])
    if isinstance(lex, BaseException):
        return
    assert len(lex) >= 1 and len(lex.sha256) == 64
    assert sum(lex.counts().values()) == len(lex)
    # Whatever loads can be sampled from, or is refused with a configuration error.
    phrases = outcome(lambda: hyperword.sample(3, lexicon=lex, alpha=alpha, coherence=0.5), True)
    assert isinstance(phrases, (list, ConfigError)), phrases


@given(value(st.sampled_from(["missing.tsv", "", ".", "dir/"]), any_text))
def test_lexicon_load_of_bad_paths(tmp_path_factory: pytest.TempPathFactory, name: Drawn) -> None:
    base = tmp_path_factory.getbasetemp()
    target = base / name[0] if isinstance(name[0], str) and "\x00" not in name[0] else name[0]
    outcome(lambda: hyperword.Lexicon.load(target), name[1] and isinstance(target, Path), also=(OSError,))


# --- regressions found by these tests -----------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": 10**400},
        {"coherence": -(10**400)},
        {"langs": {"en": 10**400}},
        {"langs": "en:1e999"},
        {"words_per_phrase": (math.inf, 2)},
        {"langs": [1, 2]},
        {"langs": {"en": 1e308, "ru": 1e308}},
        {"words_per_phrase": (1, 2), "phrase_dist": "weights:1e308,1e308"},
    ],
)
def test_bad_values_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises((ConfigError, TypeError)) as info:
        hyperword.sample(2, **kwargs)
    if kwargs != {"langs": [1, 2]} and not isinstance(kwargs.get("words_per_phrase", (1,))[0], float):
        assert info.type is ConfigError


def test_weights_overflowing_under_alpha_are_a_config_error(lexicons: dict[str, hyperword.Lexicon]) -> None:
    # Found by the fuzzers: weight ** alpha summing to infinity panicked in the alias table.
    with pytest.raises(ConfigError, match="overflow"):
        hyperword.sample(2, lexicon=lexicons["weighted"], alpha=2.0)
    assert len(hyperword.sample(2, lexicon=lexicons["weighted"], alpha=0.0)) == 2


def test_huge_sample_counts_are_refused_at_once() -> None:
    with time_limit(10), pytest.raises(ConfigError, match="at most"):
        hyperword.sample(MAX_SAMPLE + 1)
    with time_limit(10), pytest.raises(ConfigError):
        hyperword.sample(2**64 - 1)


def test_an_empty_output_path_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by review of the generate fuzzing: "" left a .hyperword/ state directory in the
    # working directory and failed with an OSError naming no path.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="empty path"):
        hyperword.generate("", 10)
    assert list(tmp_path.iterdir()) == []
