"""The limits the formats and the engine allow (``hyperword.LIMITS``) are enforced up front:
a clear ``ConfigError``/``LexiconError`` before anything is written, not a failure deep
inside a run. Values at the limit are accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

import hyperword
from hyperword import LIMITS, ConfigError, LexiconError


def test_limits_are_published() -> None:
    assert LIMITS == {
        "max_word_bytes": 1024,
        "max_phrase_words": 1024,
        "max_joiner_bytes": 64,
        "max_shards": 1_000_000,
        "max_words": 2**64 - 1,
        "max_batch_text_bytes": 256 << 20,
        "max_batch_words": 1 << 20,
        "max_lexicon_text_bytes": 2**32 - 1,
    }
    # The longest phrase (longest words, longest joiner) fits a record batch many times over,
    # so Arrow's 32-bit string offsets can never overflow inside a batch.
    longest = (
        LIMITS["max_phrase_words"] * LIMITS["max_word_bytes"]
        + (LIMITS["max_phrase_words"] - 1) * LIMITS["max_joiner_bytes"]
    )
    assert longest * 100 < LIMITS["max_batch_text_bytes"] < 2**31


def test_word_length(tmp_path: Path) -> None:
    limit = LIMITS["max_word_bytes"]
    ok, long = tmp_path / "ok.txt", tmp_path / "long.txt"
    ok.write_text("a" * limit + "\n", encoding="utf-8")
    long.write_text("a\n" + "ж" * (limit // 2 + 1) + "\n", encoding="utf-8")
    assert len(hyperword.Lexicon.load(ok, lang="en")) == 1
    with pytest.raises(LexiconError, match=r"long.txt:2: word of 1026 bytes is longer than the limit of 1024"):
        hyperword.Lexicon.load(long, lang="ru")


def test_phrase_length_joiner_and_shard_count(tmp_path: Path) -> None:
    out = tmp_path / "out"
    n = LIMITS["max_phrase_words"]
    assert len(hyperword.sample(1, words_per_phrase=(n, n), langs="en", seed=1)[0]) > n
    with pytest.raises(ConfigError, match=f"{n + 1} exceeds the limit of {n}"):
        hyperword.generate(out, 10_000, words_per_phrase=(2, n + 1))
    with pytest.raises(ConfigError, match="joiner is longer than 64 bytes"):
        hyperword.generate(out, 10_000, joiner="-" * 65)
    with pytest.raises(ConfigError, match="1000001 shards exceed the limit of 1000000"):
        hyperword.generate(out, 1_000_001, shard_words=1)
    with pytest.raises(ConfigError, match="batch words: 1048577 exceeds the limit of 1048576"):
        hyperword.generate(out, 10_000, batch_words=(1 << 20) + 1)
    with pytest.raises(ConfigError, match="below 2\\*\\*64"):
        hyperword.generate(out, 2**64, shard_words=2**63)
    assert not out.exists()


def test_token_ids_must_fit_the_dtype() -> None:
    from hyperword.formats.tokens import dtype_for_vocab

    assert dtype_for_vocab(2**16).name == "uint16" and dtype_for_vocab(2**16 + 1).name == "uint32"
    with pytest.raises(ConfigError, match="does not fit uint32"):
        dtype_for_vocab(2**32 + 1)
