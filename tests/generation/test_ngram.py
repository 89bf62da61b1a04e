"""n-gram corpora (``--kind ngram``, rust/core/src/ngram.rs): documents sampled from a unigram,
bigram or trigram model of a natural corpus' words — only n-grams of the source, documents
within the length bound — with the corpus guarantees of mnemophrases (determinism across
threads, resume, the source's content in the fingerprint) and bad input."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _helpers import REPO, dir_bytes

import hyperword
from hyperword import ConfigError, OutputExistsError, RunStats
from hyperword.ingest import ingest
from hyperword.verify import verify

NATURAL = REPO / "tests" / "fixtures" / "natural" / "en.txt"
SMALL: dict[str, Any] = dict(kind="ngram", shard_words=2_000, batch_words=500, seed=4)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ngram") / "en"
    ingest([NATURAL], out, lang="en", shard_docs=200)
    return out


@pytest.fixture(scope="module")
def documents(source: Path) -> list[list[str]]:
    return [t.split() for t in hyperword.open_corpus(source).to_table().column("text").to_pylist()]


def gen(out: Path, source: Path, n: int = 2, words: int = 8_000, **kw: Any) -> hyperword.Manifest:
    return hyperword.generate(out, words, ngram_n=n, source=source, **{**SMALL, **kw})


def rows(m: hyperword.Manifest) -> list[str]:
    return [str(t) for t in hyperword.open_corpus(m.directory).to_table().column("text").to_pylist()]


def grams(documents: list[list[str]], n: int) -> set[tuple[str, ...]]:
    """Every n-gram of the documents, padded with None at the start (the start context)."""
    out: set[tuple[str, ...]] = set()
    for words in documents:
        padded: list[Any] = [None] * (n - 1) + words
        out.update(tuple(padded[i : i + n]) for i in range(len(words)))
    return out


# --- the model -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_n_gram_comes_from_the_source(tmp_path: Path, source: Path, documents: list[list[str]], n: int) -> None:
    m = gen(tmp_path / "g", source, n=n, seq_len=60)
    known = grams(documents, n)
    texts = rows(m)
    assert m.kind == "ngram" and m.words == sum(len(t.split()) for t in texts) >= 8_000
    for text in texts:
        words = text.split()
        assert 1 <= len(words) <= 60 and text == " ".join(words)
        assert grams([words], n) <= known, text
    if n > 1:  # and the model does produce new documents, not copies of the source's
        assert {tuple(t.split()) for t in texts} - {tuple(d) for d in documents}


def test_unigram_frequencies_follow_the_source(tmp_path: Path, source: Path, documents: list[list[str]]) -> None:
    m = gen(tmp_path / "g", source, n=1, words=200_000, shard_words=100_000)
    got = Counter(w for t in rows(m) for w in t.split())
    want = Counter(w for d in documents for w in d)
    total_got, total_want = sum(got.values()), sum(want.values())
    for word, count in want.most_common(5):
        assert abs(got[word] / total_got - count / total_want) < 0.005, word
    # Document lengths: the end of a document is drawn like a word, so the mean length holds.
    mean = total_got / m.rows
    assert abs(mean - total_want / len(documents)) < 0.15 * total_want / len(documents)


def test_manifest_records_the_source(tmp_path: Path, source: Path, documents: list[list[str]]) -> None:
    m = gen(tmp_path / "g", source, n=3)
    assert m.lexicon is None and "fusion" not in m.config
    assert m.config["ngram"] == {"n": 3, "source": str(source), "seq_len": 2048}
    src = m.raw["source"]
    assert src["kind"] == "natural" and src["docs"] == len(documents) and src["words"] == sum(map(len, documents))
    assert src["vocabulary"] == len({w for d in documents for w in d})
    assert verify(tmp_path / "g").ok
    assert hyperword.open_corpus(tmp_path / "g").head(2).num_rows == 2


def test_a_parquet_source_gives_the_same_corpus(tmp_path: Path, source: Path) -> None:
    pq_source = tmp_path / "en-parquet"
    ingest([NATURAL], pq_source, lang="en", shard_docs=200, format="parquet")
    a, b = gen(tmp_path / "a", source), gen(tmp_path / "b", pq_source)
    assert rows(a) == rows(b)


# --- the corpus guarantees -----------------------------------------------------------------------


def test_byte_identical_across_threads_and_with_the_stream(tmp_path: Path, source: Path) -> None:
    gen(tmp_path / "t1", source, threads=1)
    gen(tmp_path / "t2", source, threads=2)
    reference = dir_bytes(tmp_path / "t1")
    assert len([name for name in reference if name.startswith("shard-")]) == 4
    assert dir_bytes(tmp_path / "t2") == reference
    streamed = [
        t for b in hyperword.stream(8_000, ngram_n=2, source=source, **SMALL) for t in b.column("text").to_pylist()
    ]
    assert streamed == rows(hyperword.read_manifest(tmp_path / "t1"))


def test_a_damaged_shard_is_regenerated_alone_and_identically(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "g"
    gen(out, source)
    original = dir_bytes(out)
    (out / "shard-00002.arrow").unlink()
    m = gen(out, source)
    assert m.run == RunStats(generated_shards=1, reused_shards=3)
    assert dir_bytes(out) == original


def test_the_source_content_not_its_path_is_the_identity(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "g"
    first = gen(out, source)
    moved = tmp_path / "moved"
    shutil.copytree(source, moved)
    again = gen(out, moved)  # the same content elsewhere: the same corpus, kept
    assert again.run == RunStats(generated_shards=0, reused_shards=4)
    assert again.fingerprint == first.fingerprint
    other = tmp_path / "other"
    ingest([REPO / "tests" / "fixtures" / "natural" / "es.txt"], other, lang="es")
    before = dir_bytes(out)
    with pytest.raises(OutputExistsError):
        gen(out, other)
    assert dir_bytes(out) == before


def test_a_corrupt_source_is_refused(tmp_path: Path, source: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(source, broken)
    shard = next(broken.glob("shard-*.arrow"))
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(hyperword.CorruptCorpusError):
        gen(tmp_path / "g", broken)
    assert not (tmp_path / "g").exists()


# --- bad input -----------------------------------------------------------------------------------


def _empty_corpus(tmp_path: Path, source: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    manifest["shards"] = []
    manifest["totals"] = {key: 0 for key in manifest["totals"]}
    (empty / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return empty


@pytest.mark.parametrize(
    "make, kw, needle",
    [
        (None, {"n": 0}, "must be 1, 2 or 3"),
        (None, {"n": 4}, "must be 1, 2 or 3"),
        (None, {"seq_len": 1}, "sequence length"),
        ("missing", {}, "not a hyperword corpus"),
        ("empty-dir", {}, "not a hyperword corpus"),
        ("file", {}, "not a hyperword corpus"),
        ("no-words", {}, "is empty"),
        (None, {"langs": "en"}, "do not apply to --kind ngram"),
        (None, {"dyck_k": 4}, "describe Dyck corpora"),
        (None, {"lexicon": "lexicons/multisimlex.tsv"}, "draws no lexicon words"),
    ],
)
def test_bad_input_is_a_config_error_and_writes_nothing(
    tmp_path: Path, source: Path, make: str | None, kw: dict[str, Any], needle: str
) -> None:
    src = source
    if make == "missing":
        src = tmp_path / "nowhere"
    elif make == "empty-dir":
        src = tmp_path / "nothing"
        src.mkdir()
    elif make == "file":
        src = tmp_path / "file.txt"
        src.write_text("not a corpus")
    elif make == "no-words":
        src = _empty_corpus(tmp_path, source)
    out = tmp_path / "g"
    with pytest.raises(ConfigError) as e:
        gen(out, src, **kw)
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert not out.exists()


def test_order_and_source_are_required(tmp_path: Path, source: Path) -> None:
    for kw in ({"source": source}, {"ngram_n": 2}):
        with pytest.raises(ConfigError, match="needs its order and its source"):
            hyperword.generate(tmp_path / "g", 1000, kind="ngram", **kw)
    with pytest.raises(ConfigError, match="describe the dyck and ngram kinds"):
        hyperword.generate(tmp_path / "g", 1000, ngram_n=2)
    assert not (tmp_path / "g").exists()


def test_cli_generates_and_refuses_bad_input(tmp_path: Path, source: Path, run_cli: Any) -> None:
    out = tmp_path / "g"
    rc, _, stderr = run_cli(
        "generate", "--kind", "ngram", "--ngram-n", "2", "--source", source, "--words", "3000", "--out", out
    )
    assert rc == 0, stderr
    assert hyperword.read_manifest(out).kind == "ngram"
    rc, stdout, stderr = run_cli(
        "generate",
        "--kind",
        "ngram",
        "--ngram-n",
        "5",
        "--source",
        source,
        "--words",
        "3000",
        "--out",
        tmp_path / "bad",
    )
    assert rc == 2 and stdout == "" and "Traceback" not in stderr and not (tmp_path / "bad").exists()
    assert stderr.count("\n") == 1 and "1, 2 or 3" in stderr
    assert not (tmp_path / "bad").exists()
