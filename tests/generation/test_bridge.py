"""Bridge corpora: each hyperword paired with ordinary language (segmentation or translation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.ipc as ipc
import pytest
from _helpers import LEXICON_ROWS, dir_bytes, rows_of, words_of

import hyperword

BRIDGE_COLUMNS = "text,source,target,words,langs,concepts"


def _pivot_word(word_lang: tuple[str, str], pivot: str) -> str:
    concept = LEXICON_ROWS[word_lang][0]
    return words_of(pivot)[concept - 1]


def test_segment_pairs_each_hyperword_with_its_words(lexicon: hyperword.Lexicon) -> None:
    rows = rows_of(3000, lexicon=lexicon, kind="bridge", columns=BRIDGE_COLUMNS, seed=3)
    assert len(rows) > 500
    for r in rows:
        assert r["source"] == "".join(r["words"])
        assert r["target"] == " ".join(r["words"])
        assert r["text"] == f"{r['source']} = {r['target']}"


def test_translate_renders_every_word_in_the_pivot_language(lexicon: hyperword.Lexicon) -> None:
    rows = rows_of(3000, lexicon=lexicon, kind="bridge", bridge="translate", pivot="ru", columns=BRIDGE_COLUMNS)
    langs_seen = set()
    for r in rows:
        expected = [_pivot_word((lang, w), "ru") for lang, w in zip(r["langs"], r["words"])]
        assert r["target"] == " ".join(expected)
        langs_seen.update(r["langs"])
    assert len(langs_seen) == 7  # every language is translated, the pivot itself too


def test_template_and_casing(lexicon: hyperword.Lexicon) -> None:
    rows = rows_of(
        500,
        lexicon=lexicon,
        kind="bridge",
        bridge="translate",
        langs="ru",
        case="title",
        template="<{source}>\t{{means}} {target}",
        columns=BRIDGE_COLUMNS,
    )
    for r in rows:
        english = " ".join(_pivot_word(("ru", w.lower()), "en").title() for w in r["words"])
        assert r["text"] == f"<{r['source']}>\t{{means}} {english}"


def test_sample_matches_the_corpus_text(lexicon: hyperword.Lexicon) -> None:
    kw: dict[str, Any] = {"lexicon": lexicon, "kind": "bridge", "bridge": "translate", "seed": 9}
    assert hyperword.sample(20, **kw) == [r["text"] for r in rows_of(200, columns="text", **kw)][:20]


def test_generate_bridge_corpus_is_deterministic_and_self_described(tmp_path: Path, lexicon: hyperword.Lexicon) -> None:
    kw: dict[str, Any] = {"lexicon": lexicon, "kind": "bridge", "bridge": "segment", "shard_words": 2000}
    m1 = hyperword.generate(tmp_path / "a", 7000, threads=1, **kw)
    hyperword.generate(tmp_path / "b", 7000, threads=2, **kw)
    assert dir_bytes(tmp_path / "a") == dir_bytes(tmp_path / "b")
    assert m1.kind == "bridge" and len(m1.shards) == 4
    assert m1.config["fusion"]["bridge"] == {"mode": "segment", "pivot": None, "template": "{source} = {target}"}
    with ipc.open_file(tmp_path / "a" / m1.shards[0].path) as reader:
        assert reader.schema.names == ["text", "source", "target"]


def test_cli_bridge(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    out = tmp_path / "bridge"
    rc, stdout, stderr = run_cli(
        "generate",
        "--kind",
        "bridge",
        "--bridge",
        "translate",
        "--pivot",
        "fr",
        "--words",
        "5k",
        "--out",
        out,
        "--lexicon",
        lexicon_path,
    )
    assert rc == 0, stderr
    rc, stdout, _ = run_cli("inspect", out, "--rows", "2")
    assert "bridge corpus" in stdout and "columns: text, source, target" in stdout
    rc, stdout, _ = run_cli("sample", "-n", "4", "--kind", "bridge", "--lexicon", lexicon_path, "--langs", "en")
    assert len(stdout.splitlines()) == 4 and all(" = " in line for line in stdout.splitlines())


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"kind": "bridge", "bridge": "translate", "pivot": "xx"}, "unknown pivot language"),
        ({"kind": "bridge", "template": "no placeholders"}, "must contain {source} or {target}"),
        ({"kind": "bridge", "template": "{src}"}, "only {source} and {target}"),
        ({"bridge": "segment"}, "kind='bridge'"),
        ({"columns": "text,source"}, "belongs to bridge corpora"),
        ({"kind": "poem"}, "unknown corpus kind"),
    ],
)
def test_bad_bridge_options_write_nothing(
    tmp_path: Path, lexicon: hyperword.Lexicon, kw: dict[str, Any], needle: str
) -> None:
    with pytest.raises(hyperword.ConfigError, match=needle.replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")):
        hyperword.generate(tmp_path / "out", 100, lexicon=lexicon, **kw)
    assert not (tmp_path / "out").exists()


def test_translate_needs_concepts(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("вода\nсвет\n", encoding="utf-8")
    lex = hyperword.Lexicon.load(words, lang="ru")
    with pytest.raises(hyperword.ConfigError, match="unknown pivot language"):
        hyperword.sample(1, lexicon=lex, kind="bridge", bridge="translate")
    with pytest.raises(hyperword.ConfigError, match="translation needs a concept column"):
        hyperword.sample(1, lexicon=lex, kind="bridge", bridge="translate", pivot="ru")
