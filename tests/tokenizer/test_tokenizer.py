"""hyperword.tokenizer: sentencepiece trained from corpus shards, its Hugging Face twin,
and the report on how it segments fused words."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from _helpers import SHARED_DATA

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import hyperword  # noqa: E402
from hyperword import ConfigError, OutputExistsError  # noqa: E402
from hyperword.cli import main  # noqa: E402
from hyperword.tokenizer import META_FILE, TrainOptions, tokenizer_report, train_tokenizer  # noqa: E402
from hyperword.tokenizer.sample import allocate  # noqa: E402

spm = pytest.importorskip("sentencepiece")

NATURAL = SHARED_DATA / "natural" / "en.txt"
LANGS = "en,ru,ar,es"
FUSED = [
    "водагрустьплавностьсвет",
    "водаsadnesssuavidadlumière",
    "مرحباكتابشمس",
    "水火山川",
    "暖炉分析井井有条",
    "cafe\u0301naïvee\u0301te\u0301",
    "עבריתمرحباвода",
    "a b  c ",
    " leading",
    "x\u0301\u0302y",
    "",
]


def cli(*argv: str) -> int:
    """``hyperword tokenizer ...`` through the real entry point (errors: one line on stderr, exit 1)."""
    return main(["tokenizer", *argv])


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("corpora")
    out = {
        "mnemo": base / "mnemo",
        "mnemo2": base / "mnemo2",
    }
    hyperword.generate(out["mnemo"], 30_000, langs=LANGS, columns="text,words,langs", seed=1)
    hyperword.generate(out["mnemo2"], 30_000, langs="ru", columns="text,words,langs", seed=2)
    if NATURAL.is_file():
        from hyperword.ingest import ingest

        src = base / "en.txt"
        src.write_text("".join(NATURAL.read_text(encoding="utf-8").splitlines(keepends=True)[:400]), encoding="utf-8")
        ingest(src, base / "natural", lang="en")
        out["natural"] = base / "natural"
    return out


@pytest.fixture(scope="module")
def trained(corpora: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tok") / "unigram"
    specs = [f"{corpora['mnemo']}:3", f"{corpora['mnemo2']}:1"]
    if "natural" in corpora:
        specs.append(f"{corpora['natural']}:1")
    train_tokenizer(specs, out, options=TrainOptions(vocab_size=700, max_sentences=2500, seed=5))
    return out


def meta(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    return data


def test_allocate_follows_weights_and_bounds() -> None:
    assert allocate([1000, 1000], [3, 1], 400) == [300, 100]
    assert allocate([50, 1000], [1, 1], 400) == [50, 50]  # the small corpus bounds the whole sample
    assert sum(allocate([10_000, 7, 333], [1.5, 0.25, 2], 1001)) <= 1001
    assert allocate([5, 5], [1, 1], 1_000_000) == [5, 5]


def test_train_writes_everything_and_weights_shape_the_sample(trained: Path, corpora: dict[str, Path]) -> None:
    names = {p.name for p in trained.iterdir()}
    assert {"tokenizer.model", "tokenizer.vocab", META_FILE, "tokenizer.json", "tokenizer_config.json"} <= names
    m = meta(trained)
    counts = [c["sampled"] for c in m["corpora"]]
    weights = [c["weight"] for c in m["corpora"]]
    total = sum(counts)
    assert total <= 2500
    for n, w in zip(counts, weights):
        assert abs(n - total * w / sum(weights)) <= 1
    assert m["corpora"][0]["fingerprint"] == hyperword.open_corpus(corpora["mnemo"]).manifest.fingerprint
    import hashlib

    assert m["model_sha256"] == hashlib.sha256((trained / "tokenizer.model").read_bytes()).hexdigest()
    assert m["fed"] + m["skipped_empty"] + m["skipped_long"] == total
    assert len((trained / "tokenizer.vocab").read_text(encoding="utf-8").splitlines()) == m["vocab_size"] == 700


def test_max_sentences_respected_and_counts_in_meta(corpora: dict[str, Path], tmp_path: Path) -> None:
    r = train_tokenizer(
        [str(corpora["mnemo"])],
        tmp_path / "t",
        options=TrainOptions(vocab_size=400, max_sentences=1234, model_type="bpe"),
    )
    assert r.sampled == 1234 and meta(tmp_path / "t")["sampled"] == 1234


def test_deterministic_byte_identical(corpora: dict[str, Path], tmp_path: Path) -> None:
    opts = TrainOptions(vocab_size=500, max_sentences=1500, seed=9)
    a = train_tokenizer([f"{corpora['mnemo']}:2", str(corpora["mnemo2"])], tmp_path / "a", options=opts)
    b = train_tokenizer([f"{corpora['mnemo']}:2", str(corpora["mnemo2"])], tmp_path / "b", options=opts)
    assert (tmp_path / "a" / "tokenizer.model").read_bytes() == (tmp_path / "b" / "tokenizer.model").read_bytes()
    assert a.model_sha256 == b.model_sha256
    c = train_tokenizer(
        [f"{corpora['mnemo']}:2", str(corpora["mnemo2"])],
        tmp_path / "c",
        options=TrainOptions(vocab_size=500, max_sentences=1500, seed=10),
    )
    assert c.sampled == a.sampled  # same quotas, other rows
    assert c.model_sha256 != a.model_sha256


def test_long_rows_counted_and_skipped(corpora: dict[str, Path], tmp_path: Path) -> None:
    texts = [t for b in hyperword.open_corpus(corpora["mnemo2"]).iter_batches() for t in b.column(0).to_pylist()]
    limit = 40
    expected = sum(len(t.encode("utf-8")) > limit for t in texts)
    assert 0 < expected < len(texts)
    r = train_tokenizer(
        [str(corpora["mnemo2"])],
        tmp_path / "t",
        options=TrainOptions(vocab_size=400, max_sentences=len(texts), max_sentence_length=limit),
    )
    assert r.sampled == len(texts)
    assert r.skipped_long == expected and meta(tmp_path / "t")["skipped_long"] == expected
    assert r.fed == len(texts) - expected


def test_exact_decode_round_trip(trained: Path) -> None:
    sp = spm.SentencePieceProcessor(model_file=str(trained / "tokenizer.model"))
    for s in FUSED + hyperword.sample(200, seed=4):
        assert sp.decode(sp.encode(s)) == s


@pytest.mark.parametrize(
    ("model_type", "dummy"), [("unigram", True), ("unigram", False), ("bpe", True), ("bpe", False)]
)
def test_hf_tokenizer_identical_ids(corpora: dict[str, Path], tmp_path: Path, model_type: str, dummy: bool) -> None:
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "t"
    train_tokenizer(
        [str(corpora["mnemo"])],
        out,
        options=TrainOptions(
            vocab_size=500,
            max_sentences=1500,
            model_type=model_type,
            add_dummy_prefix=dummy,
            user_defined_symbols=("вода", "sad"),
        ),
    )
    sp = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    hf = transformers.AutoTokenizer.from_pretrained(str(out))
    for s in FUSED + hyperword.sample(150, langs=LANGS, seed=6) + ["вода sad водаsad", "hello world"]:
        ids = sp.encode(s)
        assert hf.encode(s) == ids, s
        assert hf.decode(ids) == s == sp.decode(ids)


def test_report_numbers_sane(trained: Path, corpora: dict[str, Path], tmp_path: Path) -> None:
    specs = [f"{corpora['mnemo']}:mix"] + ([f"{corpora['natural']}:en"] if "natural" in corpora else [])
    r = tokenizer_report(
        trained,
        specs,
        lexicon=Path(hyperword.__file__).resolve().parents[2] / "lexicons" / "multisimlex.tsv",
        max_rows=500,
    )
    d = r.to_dict()
    mix = d["corpora"][0]
    assert mix["name"] == "mix" and mix["rows"] == 500 and mix["words_source"] == "words column"
    assert mix["fertility"] >= 1 and mix["bytes_per_token"] > 0 and 0 <= mix["unknown_rate"] <= 1
    assert 0 <= mix["boundary_alignment"] <= 1
    assert abs(sum(mix["script_share"].values()) - 1) < 1e-9
    assert set(mix["lang_share"]) == set(LANGS.split(","))
    assert mix["script_share"]["Cyrillic"] > 0 and mix["script_share"]["Arabic"] > 0
    if "natural" in corpora:
        en = d["corpora"][1]
        assert en["words_source"] == "whitespace" and en["boundary_alignment"] is None and en["fertility"] >= 1
    lex = d["lexicon"]
    assert lex["words"] > 1000 and lex["occurrences"] == mix["words"]
    assert lex["mean_pieces_alone"] >= 1 and lex["mean_pieces_inside"] >= 1
    assert 0 <= lex["single_piece_share_alone"] <= 1 and 0 <= lex["single_piece_share_inside"] <= 1
    assert abs(sum(d["vocab_script_share"].values()) - 1) < 1e-9


def test_boundary_alignment_one_when_words_are_symbols(tmp_path: Path) -> None:
    lex = tmp_path / "lex.tsv"
    words = ["вода", "грусть", "свет", "plavnost", "sol", "luna"]
    lex.write_text("lang\tword\n" + "".join(f"ru\t{w}\n" for w in words), encoding="utf-8")
    hyperword.generate(tmp_path / "c", 3000, lexicon=lex, columns="text,words,langs", seed=3)
    train_tokenizer(
        [str(tmp_path / "c")],
        tmp_path / "t",
        options=TrainOptions(vocab_size=len(words) + 4, byte_fallback=False, user_defined_symbols=tuple(words)),
    )
    r = tokenizer_report(tmp_path / "t", [str(tmp_path / "c")], lexicon=lex).to_dict()
    assert r["corpora"][0]["boundary_alignment"] == 1.0
    assert r["lexicon"]["single_piece_share_inside"] == 1.0 and r["lexicon"]["mean_pieces_inside"] == 1.0


def test_cli_train_and_report(corpora: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t"
    assert (
        cli(
            "train",
            "--corpus",
            f"{corpora['mnemo']}:2",
            "--corpus",
            str(corpora["mnemo2"]),
            "--vocab-size",
            "400",
            "--model-type",
            "bpe",
            "--out",
            str(out),
            "--max-sentences",
            "1k",
            "--no-split-by-unicode-script",
        )
        == 0
    )
    assert "sampled" in capsys.readouterr().out
    assert meta(out)["options"]["split_by_unicode_script"] is False
    assert (
        cli(
            "report",
            "--tokenizer",
            str(out),
            "--corpus",
            f"{corpora['mnemo']}:mix",
            "--max-rows",
            "200",
            "--json",
            str(tmp_path / "r.json"),
        )
        == 0
    )
    assert "tok/word" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["corpora"][0]["rows"] == 200
    assert cli("train", "--corpus", str(corpora["mnemo"]), "--vocab-size", "400", "--out", str(out)) == 1
    assert "not empty" in capsys.readouterr().err
    assert (
        cli(
            "train",
            "--corpus",
            str(corpora["mnemo"]),
            "--vocab-size",
            "500",
            "--max-sentences",
            "800",
            "--out",
            str(out),
            "--force",
        )
        == 0
    )
    assert meta(out)["options"]["vocab_size"] == 500


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such directory"),
        ("not_corpus", "not a hyperword corpus"),
        ("weight_zero", "positive number"),
        ("weight_text", "not a number"),
        ("vocab", "sentencepiece could not train"),
        ("out_exists", "not empty"),
    ],
)
def test_bad_train_input(corpora: dict[str, Path], tmp_path: Path, case: str, message: str) -> None:
    (tmp_path / "plain").mkdir()
    out = tmp_path / "out"
    spec = {
        "missing": str(tmp_path / "nope"),
        "not_corpus": str(tmp_path / "plain"),
        "weight_zero": f"{corpora['mnemo']}:0",
        "weight_text": f"{corpora['mnemo']}:abc",
    }.get(case, str(corpora["mnemo"]))
    if case == "out_exists":
        out.mkdir()
        (out / "keep").write_text("x")
    vocab = 100_000 if case == "vocab" else 300
    with pytest.raises((ConfigError, OutputExistsError)) as e:
        train_tokenizer([spec], out, options=TrainOptions(vocab_size=vocab, max_sentences=500))
    assert message in str(e.value) and "\n" not in str(e.value)
    if case == "out_exists":
        assert [p.name for p in out.iterdir()] == ["keep"]
    else:
        assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_bad_report_input(trained: Path, corpora: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such directory"):
        tokenizer_report(tmp_path / "nope", [str(corpora["mnemo"])])
    with pytest.raises(ConfigError, match="not a tokenizer"):
        tokenizer_report(corpora["mnemo"], [str(corpora["mnemo"])])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "tokenizer.model").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a sentencepiece model"):
        tokenizer_report(bad, [str(corpora["mnemo"])])
    with pytest.raises(ConfigError, match="not a hyperword corpus"):
        tokenizer_report(trained, [str(trained)])
    assert (
        cli(
            "report",
            "--tokenizer",
            str(tmp_path / "nope"),
            "--corpus",
            str(corpora["mnemo"]),
            "--json",
            str(tmp_path / "r.json"),
        )
        == 2
    )
    assert not (tmp_path / "r.json").exists()


def test_parquet_corpus_sampled_rows_are_real_rows(tmp_path: Path) -> None:
    from hyperword.tokenizer.sample import choose_indices, open_source, sample_rows

    hyperword.generate(tmp_path / "pq", 5000, langs="ru", format="parquet", shard_words=1000, seed=4)
    src = open_source(f"{tmp_path / 'pq'}:2", weighted=True)
    assert src.weight == 2.0 and src.rows > 500
    texts = [t for b in src.corpus.iter_batches() for t in b.column(0).to_pylist()]
    idx = choose_indices(src.rows, 300, seed=1, index=0)
    assert list(sample_rows(src.corpus, idx)) == [texts[i] for i in idx]
    assert list(choose_indices(src.rows, 300, seed=1, index=0)) == list(idx)
    assert list(choose_indices(src.rows, 300, seed=1, index=1)) != list(idx)
