"""The data side of ``hyperword.train``: real token directories for the trainer tests (built once
per session: mnemo, unfused and natural corpora through one sentencepiece tokenizer, validation
sets, and a directory made with a second tokenizer), and the parts of the ``hyperword.torch``
contract the trainer relies on (batch shape, exact served-token accounting, exact resume,
seeding).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _helpers import SHARED_DATA

torch = pytest.importorskip("torch")

import hyperword  # noqa: E402
from hyperword.encode import encode, read_token_manifest  # noqa: E402
from hyperword.tokenizer import TrainOptions, train_tokenizer  # noqa: E402
from hyperword.torch import TokenDataset, TokenLoader  # noqa: E402

torch.set_num_threads(1)

NATURAL_TEXT = SHARED_DATA / "natural" / "en.txt"


# --------------------------------------------------------------------------------------------
# Token directories, built once per session.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Data:
    """Token directories: ``corpora`` by role, ``validation`` by name, the tokenizer directory,
    and ``other`` (natural validation text through a different tokenizer)."""

    corpora: dict[str, Path]
    validation: dict[str, Path]
    tokenizer: Path
    other: Path
    other_tokenizer: Path


_BUILT: dict[str, Data] = {}


def _natural_lines(n: int) -> list[str]:
    if NATURAL_TEXT.is_file():
        return NATURAL_TEXT.read_text(encoding="utf-8").splitlines()[:n]
    # without shared/data: plain spaced sentences of lexicon words stand in for natural text
    words = hyperword.sample(n, langs="en", joiner=" ", seed=3)
    return [f"The {w} is here." for w in words]


def build_data(base: Path) -> Data:
    """Corpora (``mnemo`` 16k words, ``unfused`` the same kind of phrases spaced, ``natural``
    ~2,400 sentences split 90/10 for validation), a 600-piece tokenizer over all of them, and the
    natural validation text encoded with a second (400-piece) tokenizer."""
    if str(base) in _BUILT:
        return _BUILT[str(base)]
    raw = base / "raw"
    hyperword.generate(raw / "mnemo", 16_000, langs="en,ru", shard_words=8_000, seed=1)
    hyperword.generate(raw / "unfused", 16_000, langs="en,ru", joiner=" ", seed=2)
    (raw / "natural.txt").write_text("\n".join(_natural_lines(2_400)) + "\n", encoding="utf-8")
    from hyperword.ingest import ingest

    ingest([raw / "natural.txt"], raw / "natural", lang="en", split=0.1)
    tok = base / "tokenizer"
    sources = [str(raw / "mnemo"), str(raw / "unfused"), str(raw / "natural" / "train")]
    train_tokenizer(sources, tok, options=TrainOptions(vocab_size=600, max_sentences=4_000, seed=5))
    other_tok = base / "other-tokenizer"
    train_tokenizer(
        [str(raw / "natural" / "train")], other_tok, options=TrainOptions(vocab_size=400, max_sentences=2_000, seed=5)
    )
    tokens = base / "tokens"
    corpora = {}
    for role, src in (("mnemo", raw / "mnemo"), ("unfused", raw / "unfused"), ("natural", raw / "natural" / "train")):
        encode(tok, src, tokens / role, threads=1)
        corpora[role] = tokens / role
    encode(tok, raw / "natural" / "validation", tokens / "natural-val", threads=1)
    hyperword.generate(raw / "mnemo-val", 3_000, langs="en,ru", seed=9)
    encode(tok, raw / "mnemo-val", tokens / "mnemo-val", threads=1)
    encode(other_tok, raw / "natural" / "validation", tokens / "natural-val-other", threads=1)
    data = Data(
        corpora,
        {"natural": tokens / "natural-val", "mnemo": tokens / "mnemo-val"},
        tok,
        tokens / "natural-val-other",
        other_tok,
    )
    _BUILT[str(base)] = data
    return data


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return build_data(tmp_path_factory.getbasetemp() / "train-data")


# --------------------------------------------------------------------------------------------
# The contract the trainer relies on.
# --------------------------------------------------------------------------------------------
def _take(loader: Any, n: int) -> list[dict[str, torch.Tensor]]:
    """The next ``n`` batches, drawing no more than that (``zip(loader, range(n))`` would draw one more)."""
    return list(itertools.islice(iter(loader), n))


def test_batches_are_shifted_token_windows_with_corpus_indices(data: Data) -> None:
    ds = TokenDataset(
        dict(data.corpora),
        seq_len=32,
        batch_size=4,
        seed=0,
        weights={"mnemo": 1, "unfused": 1, "natural": 2},
        max_batches=5,
    )
    batches = _take(TokenLoader(ds, num_workers=0), 10)
    assert len(batches) == 5  # max_batches ends the stream
    vocab = read_token_manifest(data.corpora["mnemo"]).tokenizer["vocab_size"]
    for b in batches:
        assert b["tokens"].dtype == torch.int64 and tuple(b["tokens"].shape) == (4, 33)
        assert b["corpus"].dtype == torch.int64 and tuple(b["corpus"].shape) == (4,)
        assert 0 <= int(b["tokens"].min()) and int(b["tokens"].max()) < vocab
        assert set(b["corpus"].tolist()) <= set(range(len(ds.names)))


def test_served_tokens_count_target_tokens_per_corpus_exactly(data: Data) -> None:
    ds = TokenDataset(
        {"mnemo": data.corpora["mnemo"], "natural": data.corpora["natural"]},
        seq_len=16,
        batch_size=8,
        seed=3,
        max_batches=12,
    )
    loader = TokenLoader(ds, num_workers=0)
    counts = {"mnemo": 0, "natural": 0}
    for b in loader:
        for c in b["corpus"].tolist():
            counts[ds.names[c]] += 16
    assert dict(loader.served_tokens) == counts and sum(counts.values()) == 12 * 8 * 16
    assert min(counts.values()) > 0  # default weights (proportional to size) serve both corpora


def test_loader_state_resumes_the_exact_stream(data: Data) -> None:
    def loader() -> Any:
        return TokenLoader(
            TokenDataset({"mnemo": data.corpora["mnemo"]}, seq_len=16, batch_size=4, seed=7, max_batches=8),
            num_workers=0,
        )

    whole = [b["tokens"] for b in loader()]
    first = loader()
    head = [b["tokens"] for b in _take(first, 3)]
    state = first.state_dict()
    second = loader()
    second.load_state_dict(state)
    tail = [b["tokens"] for b in second]
    assert len(head) + len(tail) == len(whole) == 8
    assert all(torch.equal(a, b) for a, b in zip(head + tail, whole))
    other = [
        b["tokens"]
        for b in TokenLoader(
            TokenDataset({"mnemo": data.corpora["mnemo"]}, seq_len=16, batch_size=4, seed=8, max_batches=8)
        )
    ]
    assert not all(torch.equal(a, b) for a, b in zip(other, whole))  # the seed matters


def test_the_fixture_corpora_share_one_tokenizer_and_the_other_does_not(data: Data) -> None:
    shas = {read_token_manifest(p).tokenizer["sha256"] for p in [*data.corpora.values(), *data.validation.values()]}
    assert len(shas) == 1
    assert read_token_manifest(data.other).tokenizer["sha256"] not in shas
