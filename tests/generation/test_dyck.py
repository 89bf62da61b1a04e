"""k-shuffle Dyck corpora (``--kind dyck``, rust/core/src/dyck.rs): every sequence balanced
per bracket type and within the depth bound, the corpus guarantees of mnemophrases
(determinism across threads, resume, verification, readers), bad input, and one token per
bracket through the tokenizer and the exact encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sentencepiece as spm
from _helpers import dir_bytes

import hyperword
from hyperword import ConfigError, RunStats
from hyperword._hyperword import KIND_LIMITS, dyck_symbols
from hyperword.encode import encode
from hyperword.tokenizer import TrainOptions, train_tokenizer
from hyperword.verify import verify

# 4 shards of 4 sequences of 256 brackets (a shard ends at the first sequence reaching 1,000).
SMALL: dict[str, Any] = dict(
    kind="dyck", dyck_k=8, p_open=0.6, max_depth=6, seq_len=256, shard_words=1_000, batch_words=512, seed=5
)
SHARDS = [f"shard-{i:05d}.arrow" for i in range(4)]


def gen(out: Path, words: int = 4_000, **kw: Any) -> hyperword.Manifest:
    return hyperword.generate(out, words, **{**SMALL, **kw})


def rows(m: hyperword.Manifest) -> list[str]:
    return [str(t) for t in hyperword.open_corpus(m.directory).to_table().column("text").to_pylist()]


def check(seq: str, k: int, max_depth: int, seq_len: int) -> int:
    """Fail unless ``seq`` is a balanced k-shuffle Dyck sequence of ``seq_len`` brackets within
    ``max_depth``; return its greatest depth."""
    symbols = dyck_symbols(k)
    bracket = {s: (i % k, i < k) for i, s in enumerate(symbols)}
    counts = [0] * k
    depth = deepest = 0
    assert len(seq) == seq_len
    for pos, c in enumerate(seq):
        assert c in bracket, f"{c!r} at {pos} is not a bracket of k={k}"
        t, opens = bracket[c]
        counts[t] += 1 if opens else -1
        assert counts[t] >= 0, f"type {t} closes at {pos} with none open"
        depth += 1 if opens else -1
        deepest = max(deepest, depth)
    assert depth == 0 and not any(counts)
    assert deepest <= max_depth
    return deepest


# --- the language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "k, p_open, max_depth, seq_len",
    [(64, 0.51, 16, 2048), (1, 0.9, 3, 10), (3, 0.99, 1, 2), (8, 0.7, 40, 512), (3200, 0.6, 16, 300)],
)
def test_every_sequence_is_balanced_per_type_and_within_the_depth_bound(
    tmp_path: Path, k: int, p_open: float, max_depth: int, seq_len: int
) -> None:
    m = hyperword.generate(
        tmp_path / "d", 20 * seq_len, kind="dyck", dyck_k=k, p_open=p_open, max_depth=max_depth, seq_len=seq_len, seed=1
    )
    texts = rows(m)
    assert len(texts) == m.rows == 20 and m.words == 20 * seq_len
    depths = [check(t, k, max_depth, seq_len) for t in texts]
    if p_open >= 0.7 and seq_len >= 2 * max_depth:
        assert max(depths) == max_depth  # the bound is reached, and then a bracket closes


def test_streams_interleave_rather_than_nest(tmp_path: Path) -> None:
    """A shuffle of k Dyck words, not one nested Dyck word: a bracket may close while one of
    another type opened after it is still open."""
    k = 4
    symbols = dyck_symbols(k)
    crossing = 0
    for seq in hyperword.sample(20, kind="dyck", dyck_k=k, seq_len=200):
        stack: list[int] = []
        for c in seq:
            i = symbols.index(c)
            if i < k:
                stack.append(i)
            else:
                crossing += stack.pop() != i - k
    assert crossing > 0


def test_the_open_rate_away_from_the_bounds_is_p_open() -> None:
    k = 64
    opening = set(dyck_symbols(k)[:k])
    free = opened = 0
    for seq in hyperword.sample(50, kind="dyck", p_open=0.51, max_depth=16, seq_len=2048, seed=2):
        depth = 0
        for pos, c in enumerate(seq):
            if 0 < depth < 16 and depth < len(seq) - pos:
                free += 1
                opened += c in opening
            depth += 1 if c in opening else -1
    assert free > 50_000
    assert abs(opened / free - 0.51) < 0.01


def test_brackets_are_private_use_characters_stable_across_k() -> None:
    small, large = dyck_symbols(2), dyck_symbols(64)
    assert all(len(s) == 1 and 0xE000 <= ord(s) <= 0xF8FF for s in large)
    assert len(set(large)) == 128
    assert small == [large[0], large[1], large[64], large[65]]  # type t has one symbol whatever k
    assert len(dyck_symbols(KIND_LIMITS["max_dyck_k"])) == 2 * KIND_LIMITS["max_dyck_k"]


# --- the corpus guarantees -----------------------------------------------------------------------


def test_manifest_layout_and_readers(tmp_path: Path) -> None:
    m = gen(tmp_path / "d")
    assert m.kind == "dyck" and m.lexicon is None
    assert m.config["dyck"] == {"k": 8, "p_open": 0.6, "max_depth": 6, "seq_len": 256}
    assert "fusion" not in m.config
    assert [s.path for s in m.shards] == SHARDS
    assert [s.rows for s in m.shards] == [4, 4, 4, 4] and m.words == 4 * 4 * 256
    assert m.text_bytes == 3 * m.words  # one 3-byte character per bracket
    corpus = hyperword.open_corpus(tmp_path / "d")
    assert corpus.schema().names == ["text"]
    assert corpus.head(3).column("text").to_pylist() == rows(m)[:3]
    assert corpus.to_table().num_rows == 16
    assert verify(tmp_path / "d").ok


def test_defaults_are_the_anchors_language(tmp_path: Path) -> None:
    m = hyperword.generate(tmp_path / "d", 4096, kind="dyck")
    assert m.config["dyck"] == {"k": 64, "p_open": 0.51, "max_depth": 16, "seq_len": 2048}
    assert all(check(t, 64, 16, 2048) for t in rows(m))


def test_byte_identical_across_threads_and_with_the_stream(tmp_path: Path) -> None:
    gen(tmp_path / "t1", threads=1)
    gen(tmp_path / "t2", threads=2)
    reference = dir_bytes(tmp_path / "t1")
    assert sorted(reference) == sorted([*SHARDS, "manifest.json"])
    assert dir_bytes(tmp_path / "t2") == reference
    streamed = [t for b in hyperword.stream(4_000, **SMALL) for t in b.column("text").to_pylist()]
    assert streamed == rows(hyperword.read_manifest(tmp_path / "t1"))
    # sample(n): the first n rows of shard 0 (its shard holds the 4 first rows here)
    assert (
        hyperword.sample(4, **{k: v for k, v in SMALL.items() if k not in ("shard_words", "batch_words")})
        == streamed[:4]
    )


def test_seed_and_options_change_the_bytes(tmp_path: Path) -> None:
    base = rows(gen(tmp_path / "a"))
    assert rows(gen(tmp_path / "b", seed=6)) != base
    assert rows(gen(tmp_path / "c", p_open=0.5)) != base
    assert len(set(base)) == len(base)  # every shard and sequence its own draws


@pytest.mark.parametrize("damage", ["delete", "flip-a-byte"])
def test_a_damaged_shard_is_regenerated_alone_and_identically(tmp_path: Path, damage: str) -> None:
    out = tmp_path / "d"
    gen(out)
    original = dir_bytes(out)
    victim = out / SHARDS[1]
    if damage == "delete":
        victim.unlink()
    else:
        data = bytearray(original[SHARDS[1]])
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    m = gen(out)
    assert m.run == RunStats(generated_shards=1, reused_shards=3)
    assert dir_bytes(out) == original


def test_an_interrupted_run_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def progress(words: int) -> None:
        raise Stop(words)

    kw: dict[str, Any] = dict(shard_words=1_000_000, batch_words=100_000, seq_len=2048, threads=1)
    out = tmp_path / "d"
    with pytest.raises(Stop):
        gen(out, 12_000_000, progress=progress, **kw)
    assert not (out / "manifest.json").exists() and (out / ".hyperword" / "run.json").exists()
    partial = sorted(p.name for p in out.glob("shard-*.arrow"))
    assert len(partial) < 12, "the run was not stopped"
    m = gen(out, 12_000_000, **kw)
    assert m.run is not None and m.run.generated_shards + m.run.reused_shards == 12
    gen(tmp_path / "whole", 12_000_000, **kw)
    assert dir_bytes(out) == dir_bytes(tmp_path / "whole")


def test_another_configuration_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "d"
    gen(out)
    before = dir_bytes(out)
    with pytest.raises(hyperword.OutputExistsError):
        gen(out, dyck_k=9)
    assert dir_bytes(out) == before


# --- bad input -----------------------------------------------------------------------------------

BAD: list[tuple[dict[str, Any], str]] = [
    ({"dyck_k": 0}, "dyck k must be 1 to 3200"),
    ({"dyck_k": 3201}, "dyck k must be 1 to 3200"),
    ({"p_open": 0.0}, "p_open must be in (0, 1)"),
    ({"p_open": 1.0}, "p_open must be in (0, 1)"),
    ({"p_open": -0.5}, "p_open must be in (0, 1)"),
    ({"max_depth": 0}, "max depth must be at least 1"),
    ({"seq_len": 1}, "sequence length"),
    ({"seq_len": 0}, "sequence length"),
    ({"seq_len": 255}, "even"),
    ({"seq_len": KIND_LIMITS["max_seq_len"] + 2}, "sequence length"),
    ({"langs": "en"}, "do not apply to --kind dyck"),
    ({"words_per_phrase": 3}, "do not apply to --kind dyck"),
    ({"columns": "text,words"}, "one column, text"),
    ({"lexicon": "lexicons/multisimlex.tsv"}, "draws no lexicon words"),
    ({"ngram_n": 2}, "describe n-gram corpora"),
]


@pytest.mark.parametrize("kw, needle", BAD, ids=[next(iter(kw)) + "=" + str(next(iter(kw.values()))) for kw, _ in BAD])
def test_bad_input_is_a_config_error_and_writes_nothing(tmp_path: Path, kw: dict[str, Any], needle: str) -> None:
    out = tmp_path / "d"
    with pytest.raises(ConfigError, match=None) as e:
        gen(out, **kw)
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert not out.exists()


def test_dyck_options_need_kind_dyck(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="describe the dyck and ngram kinds"):
        hyperword.generate(tmp_path / "m", 1000, dyck_k=4)
    assert not (tmp_path / "m").exists()


def test_cli_generates_inspects_and_refuses_bad_input(tmp_path: Path, run_cli: Any) -> None:
    out = tmp_path / "d"
    rc, stdout, stderr = run_cli(
        "generate",
        "--kind",
        "dyck",
        "--dyck-k",
        "4",
        "--p-open",
        "0.6",
        "--max-depth",
        "5",
        "--seq-len",
        "64",
        "--words",
        "1000",
        "--out",
        out,
    )
    assert rc == 0, stderr
    m = hyperword.read_manifest(out)
    assert m.kind == "dyck" and m.config["dyck"] == {"k": 4, "p_open": 0.6, "max_depth": 5, "seq_len": 64}
    assert all(check(t, 4, 5, 64) for t in rows(m))
    rc, stdout, _ = run_cli("inspect", out, "--rows", "1")
    assert rc == 0 and "dyck corpus" in stdout
    bad = tmp_path / "bad"
    rc, stdout, stderr = run_cli("generate", "--kind", "dyck", "--p-open", "1.5", "--words", "1000", "--out", bad)
    assert rc == 2 and stdout == "" and not bad.exists()
    assert stderr.count("\n") == 1 and "p_open must be in (0, 1)" in stderr and "Traceback" not in stderr
    assert not bad.exists()


# --- one token per bracket -----------------------------------------------------------------------


def test_every_bracket_is_one_token_and_decoding_gives_the_sequence_back(tmp_path: Path) -> None:
    k = 16
    dyck = tmp_path / "dyck"
    hyperword.generate(dyck, 40 * 512, kind="dyck", dyck_k=k, seq_len=512, shard_words=10 * 512, seed=3)
    mnemo = tmp_path / "mnemo"
    hyperword.generate(mnemo, 20_000, langs="en,ru", seed=1)
    tok = tmp_path / "tok"
    result = train_tokenizer(
        [f"{dyck}:1", f"{mnemo}:1"], tok, options=TrainOptions(vocab_size=450, max_sentences=2000, seed=0)
    )
    symbols = dyck_symbols(k)
    assert set(symbols) <= set(result.options.user_defined_symbols)  # recorded in hyperword_tokenizer.json
    sp = spm.SentencePieceProcessor(model_file=str(tok / "tokenizer.model"))
    ids = {s: sp.piece_to_id(s) for s in symbols}
    assert len(set(ids.values())) == 2 * k and sp.unk_id() not in ids.values()
    # Through the exact encoder: each document is its brackets' ids (after the dummy-prefix
    # piece), then eos; decoding gives the sequence back.
    tokens_dir = tmp_path / "tokens"
    tm = encode(tok, dyck, tokens_dir, threads=1)
    source = hyperword.read_manifest(dyck)
    texts = rows(source)
    got: list[str] = []
    for shard in tm.shards:
        tokens = np.load(tokens_dir / shard.tokens_path)
        ends = np.load(tokens_dir / shard.docs_path)
        for s, e in zip(np.concatenate([[0], ends[:-1]]), ends):
            doc = tokens[s : e - 1].tolist()
            assert tokens[e - 1] == sp.eos_id()
            text = texts[len(got)]
            prefix = [sp.piece_to_id("\u2581")] if len(doc) == len(text) + 1 else []
            assert doc == prefix + [ids[c] for c in text]  # one token per bracket, in order
            got.append(sp.decode(doc))
    assert got == texts
    assert verify(tokens_dir).ok


def test_dyck_symbols_refuses_a_bad_k() -> None:
    for k in (0, KIND_LIMITS["max_dyck_k"] + 1):
        with pytest.raises((ConfigError, OverflowError)):
            dyck_symbols(k)
