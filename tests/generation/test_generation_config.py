"""The typed configuration (python/hyperword/generation/config.py): the typed dicts mirror the
engine's serde structs field for field, ``config=`` and the keyword arguments build the same
corpus, and the command line's generation flags are the keyword arguments by name."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest
from _helpers import REPO, dir_bytes

import hyperword
from hyperword.cli import build_parser
from hyperword.generation.config import (
    DEFAULTS,
    BridgeConfig,
    CorpusConfig,
    DyckConfig,
    FusionConfig,
    GenerateOptions,
    LangWeight,
    NgramConfig,
    PhraseLength,
    SampleOptions,
    StreamOptions,
    option_names,
)

RUST = REPO / "rust" / "core" / "src"


def rust_fields(file: str, struct: str) -> set[str]:
    """The field names of ``pub struct STRUCT { pub name: ..., }`` in ``rust/core/src/FILE``."""
    text = (RUST / file).read_text(encoding="utf-8")
    body = re.search(rf"pub struct {struct} \{{(.*?)\n\}}", text, re.S)
    assert body, f"{struct} not found in {file}"
    return set(re.findall(r"^\s*pub (\w+):", body.group(1), re.M))


@pytest.mark.parametrize(
    ("typed", "file", "struct"),
    [
        (CorpusConfig, "config.rs", "CorpusConfig"),
        (FusionConfig, "config.rs", "FusionConfig"),
        (PhraseLength, "config.rs", "PhraseLength"),
        (LangWeight, "config.rs", "LangWeight"),
        (BridgeConfig, "bridge.rs", "BridgeConfig"),
        (DyckConfig, "dyck.rs", "DyckConfig"),
        (NgramConfig, "ngram.rs", "NgramConfig"),
    ],
)
def test_typed_dicts_mirror_the_engine(typed: type, file: str, struct: str) -> None:
    assert set(typed.__annotations__) == rust_fields(file, struct)


def test_every_keyword_has_one_default() -> None:
    assert set(DEFAULTS) == option_names(GenerateOptions)
    assert option_names(SampleOptions) < option_names(StreamOptions) < option_names(GenerateOptions)


def test_a_manifest_config_is_a_corpus_config(tmp_path: Path, lexicon: hyperword.Lexicon) -> None:
    m = hyperword.generate(tmp_path / "a", 3000, lexicon=lexicon, kind="bridge", langs="en,ru", seed=4)
    assert set(m.config) <= set(CorpusConfig.__annotations__)
    assert set(m.config["fusion"]) <= set(FusionConfig.__annotations__)
    again = hyperword.generate(tmp_path / "b", config=m.config, lexicon=lexicon)
    assert again.fingerprint == m.fingerprint
    assert dir_bytes(tmp_path / "a") == dir_bytes(tmp_path / "b")


@pytest.mark.parametrize(
    "options",
    [
        {"langs": "en:2,ru", "words_per_phrase": "2-4", "mix": "word", "alpha": 1, "joiner": "-", "case": "title"},
        {"kind": "bridge", "bridge": "translate", "exclude_pivot": True, "template": "<{source}|{target}>"},
        {"kind": "dyck", "dyck_k": 4, "seq_len": 16},
        {"kind": "dyck"},
    ],
)
def test_config_and_keywords_make_the_same_rows(lexicon: hyperword.Lexicon, options: dict[str, Any]) -> None:
    lex = {} if options.get("kind") == "dyck" else {"lexicon": lexicon}
    shape = {k: v for k, v in options.items() if k != "exclude_pivot"}
    pivot = {k: v for k, v in options.items() if k == "exclude_pivot"}
    by_keywords = hyperword.stream(2000, **lex, **options, seed=9, shard_words=500).read_all()
    built = _config_of(lexicon if lex else None, shape, seed=9, shard_words=500)
    by_config = hyperword.stream(2000, config=built, **lex, **pivot).read_all()
    assert by_config.equals(by_keywords)
    assert hyperword.sample(5, config=built, **lex, **pivot) == hyperword.sample(5, **lex, **options, seed=9)
    # the first row of shard 0 is the stream's first (a dyck row may fill a shard)
    assert hyperword.sample(1, **lex, **options, seed=9) == by_keywords.column("text").to_pylist()[:1]


def _config_of(lexicon: hyperword.Lexicon | None, shape: dict[str, Any], **layout: Any) -> CorpusConfig:
    """The configuration ``generate`` records for these options (from a tiny corpus' manifest)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        m = hyperword.generate(Path(d) / "c", 1, lexicon=lexicon, **shape, **layout)
    config: CorpusConfig = dict(m.config)  # type: ignore[assignment]
    config.pop("words")
    return config


def test_config_excludes_the_options_it_holds(lexicon: hyperword.Lexicon) -> None:
    with pytest.raises(TypeError, match="mix"):
        hyperword.sample(2, config={}, lexicon=lexicon, mix="word")
    with pytest.raises(TypeError, match="unexpected keyword argument 'threads'"):
        hyperword.sample(2, lexicon=lexicon, threads=2)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'words'"):
        hyperword.stream(lexicon=lexicon)


def test_help_shows_every_keyword_and_its_default() -> None:
    import inspect

    params = inspect.signature(hyperword.generate).parameters
    assert {name: params[name].default for name in DEFAULTS} == DEFAULTS


def test_every_generation_flag_is_a_keyword_argument() -> None:
    """A flag of ``generate``/``sample`` reaches the API by its name: one not named as a
    keyword argument would be dropped, so there is none."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    runs = {"generate": {"words", "out"}, "sample": {"n"}}
    for command, positional in runs.items():
        dests = {a.dest for a in sub.choices[command]._actions if a.dest != "help"}
        options = GenerateOptions if command == "generate" else SampleOptions
        assert dests - positional <= option_names(options), command
