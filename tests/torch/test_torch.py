"""hyperword.torch on real token shards: packing, shuffling, mixing, ranks, workers, resume,
fork safety, and the checks that must fail loudly."""

from __future__ import annotations

import functools
import itertools
import json
import math
import pickle
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hyperword
from hyperword import ConfigError, CorruptCorpusError, _hyperword
from hyperword.encode import encode, read_token_manifest
from hyperword.tokenizer import TrainOptions, train_tokenizer

torch = pytest.importorskip("torch")
pytest.importorskip("sentencepiece")

from torch.utils.data import DataLoader, IterableDataset, get_worker_info  # noqa: E402

from hyperword.batches.synthetic import random_documents, write_token_dir  # noqa: E402
from hyperword.torch import BatchPlan, MixState, RankStream, TokenCorpus, TokenDataset, TokenLoader  # noqa: E402

torch.set_num_threads(1)

L = 64  # seq_len of most tests
B = 16  # batch_size of most tests
FORK = "fork"


@dataclass(frozen=True)
class Data:
    tok: Path
    a: Path  # 4 shards, ~140k tokens
    b: Path  # 1 shard, ~46k tokens
    root: Path

    @property
    def ab(self) -> dict[str, Path]:
        return {"a": self.a, "b": self.b}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    root = tmp_path_factory.mktemp("torch")
    hyperword.generate(root / "ca", 30_000, langs="en,ru,ar,es", shard_words=8_000, seed=1, threads=1)
    hyperword.generate(root / "cb", 10_000, langs="en", seed=2, threads=1)
    train_tokenizer([str(root / "ca")], root / "tok", options=TrainOptions(vocab_size=700, max_sentences=2500, seed=5))
    encode(root / "tok", root / "ca", root / "a", threads=1)
    encode(root / "tok", root / "cb", root / "b", threads=1)
    return Data(root / "tok", root / "a", root / "b", root)


def flat(path: Path) -> np.ndarray:
    return np.concatenate([np.load(p) for p in read_token_manifest(path).tokens_paths()])


def take(batches: Iterable[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [{k: v.clone() for k, v in b.items()} for b in itertools.islice(batches, n)]


def assert_same(xs: list[dict[str, Any]], ys: list[dict[str, Any]]) -> None:
    assert len(xs) == len(ys)
    for j, (x, y) in enumerate(zip(xs, ys)):
        assert x.keys() == y.keys()
        for k in x:
            assert torch.equal(x[k], y[k]), (j, k)


def rows(batches: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(int(c), int(w)) for b in batches for c, w in zip(b["corpus"], b["window"])]


def ramp(step: int, total: int = 40) -> dict[str, float]:
    """A picklable schedule: from all ``a`` to all ``b`` over ``total`` steps."""
    x = min(1.0, step / total)
    return {"a": 1.0 - x, "b": x}


def switch(step: int) -> dict[str, float]:
    return {"a": 1.0} if step < 10 else {"b": 1.0}


def broken_after_five(step: int) -> dict[str, float]:
    return {"a": 1.0, "b": -1.0 if step >= 5 else 1.0}


# --- corpus ---------------------------------------------------------------------------------------


def test_corpus_reports_its_manifest(data: Data) -> None:
    c = TokenCorpus.open(data.a, verify=True)
    m = read_token_manifest(data.a)
    assert (c.name, c.path, c.tokens, c.documents) == ("a", data.a, m.tokens, m.documents) and len(m.shards) == 4
    assert (c.vocab_size, c.eos_id, c.tokenizer_sha256) == (700, m.tokenizer["eos_id"], m.tokenizer["sha256"])
    assert c.dtype == np.uint16 and c.dtype == "uint16"
    assert c.windows(L) == (c.tokens - 1) // L
    assert TokenCorpus.open(data.a, name="other").name == "other"


@pytest.mark.parametrize("seq_len", [1, 7, L, 500])
def test_windows_are_the_flat_array_cut_with_one_token_overlap(data: Data, seq_len: int) -> None:
    c = TokenCorpus.open(data.a)
    tokens = flat(data.a)
    n = c.windows(seq_len)
    everything = c.gather(np.arange(n), seq_len)
    assert everything.shape == (n, seq_len + 1)
    # every token but the first is a label exactly once; what is left is the documented tail
    assert np.array_equal(everything[:, 1:].reshape(-1), tokens[1 : 1 + n * seq_len])
    assert np.array_equal(everything[:, :-1].reshape(-1), tokens[: n * seq_len])
    assert len(tokens) - 1 - n * seq_len == (c.tokens - 1) % seq_len
    crossing = [k for k in range(n) if any(k * seq_len < o <= k * seq_len + seq_len for o in c.offsets[1:-1])]
    assert crossing, "some window must cross a shard boundary"
    picks = np.array([*crossing, 0, n - 1, *crossing[::-1]], dtype=np.int64)
    assert np.array_equal(c.gather(picks, seq_len), everything[picks])
    for k in crossing:
        assert np.array_equal(c.window(k, seq_len), tokens[k * seq_len : k * seq_len + seq_len + 1])
    with pytest.raises(IndexError):
        c.window(n, seq_len)
    with pytest.raises(IndexError):
        c.gather(np.array([n]), seq_len)


def test_uint32_corpus_keeps_large_ids(tmp_path: Path) -> None:
    shards = [random_documents(n, vocab_size=100_000, eos_id=7, seed=n) for n in (2_000, 3_000)]
    ids = np.concatenate(shards)
    write_token_dir(tmp_path / "big", shards, vocab_size=100_000, eos_id=7)
    c = TokenCorpus.open(tmp_path / "big", verify=True)
    assert c.dtype == np.uint32 and c.vocab_size == 100_000
    ds = TokenDataset(tmp_path / "big", seq_len=32, batch_size=8, max_batches=3)
    for batch in ds:
        assert batch["tokens"].dtype == torch.int64 and int(batch["tokens"].max()) > 65_535
        for row, w in zip(batch["tokens"], batch["window"]):
            assert np.array_equal(row.numpy(), ids[int(w) * 32 : int(w) * 32 + 33])


def _copy(src: Path, dst: Path, **edit: Any) -> Path:
    shutil.copytree(src, dst)
    if edit:
        data = json.loads((dst / "manifest.json").read_text(encoding="utf-8"))
        for key, value in edit.items():
            if key == "shard0":
                data["shards"][0].update(value)
            else:
                data[key] = value
        (dst / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    return dst


def test_open_rejects_a_directory_that_differs_from_its_manifest(data: Data, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="ca-missing"):  # a missing directory is not a corrupt one
        TokenCorpus.open(data.root / "ca-missing")
    d = _copy(data.a, tmp_path / "missing")
    (d / "docs-00001.npy").unlink()
    with pytest.raises(CorruptCorpusError, match="docs-00001.npy: missing"):
        TokenCorpus.open(d)
    d = _copy(data.a, tmp_path / "short")
    with open(d / "tokens-00002.npy", "r+b") as f:
        f.truncate((d / "tokens-00002.npy").stat().st_size - 2)
    with pytest.raises(CorruptCorpusError, match="tokens-00002.npy: .* bytes, the manifest records"):
        TokenCorpus.open(d)
    d = _copy(data.a, tmp_path / "flipped")
    raw = bytearray((d / "tokens-00000.npy").read_bytes())
    raw[-3] ^= 0xFF
    (d / "tokens-00000.npy").write_bytes(bytes(raw))
    TokenCorpus.open(d)  # sizes agree: only verify reads the bytes
    with pytest.raises(CorruptCorpusError, match="tokens-00000.npy.*sha256"):
        TokenCorpus.open(d, verify=True)
    tok = json.loads((data.a / "manifest.json").read_text(encoding="utf-8"))["tokenizer"]
    d = _copy(data.a, tmp_path / "vocab", tokenizer={**tok, "vocab_size": 70_000})
    with pytest.raises(CorruptCorpusError, match="dtype uint16 does not match a vocabulary of 70000"):
        TokenCorpus.open(d)
    first = read_token_manifest(data.a).shards[0]
    d = _copy(data.a, tmp_path / "count", shard0={"tokens": first.tokens + 1})
    with pytest.raises(CorruptCorpusError, match=r"tokens-00000.npy: holds uint16\[\d+\], the manifest records uint16"):
        TokenCorpus.open(d)


# --- the plan, without data -----------------------------------------------------------------------


def test_rank_streams_are_disjoint_equal_and_roll_into_new_epochs() -> None:
    for shuffle in (True, False):
        streams = [RankStream(100, corpus_index=0, seed=4, rank=r, world_size=3, shuffle=shuffle) for r in range(3)]
        for epoch in (0, 1):
            orders = [s.order(epoch) for s in streams]
            assert all(len(o) == 33 for o in orders)
            union = np.concatenate([*orders, streams[0].dropped(epoch)])
            assert sorted(union.tolist()) == list(range(100))
        if not shuffle:
            assert streams[0].dropped(0).tolist() == [99] and streams[1].order(0)[:3].tolist() == [1, 4, 7]
        s = streams[1]
        assert np.array_equal(s.take(20, 40), np.concatenate([s.order(0)[20:], s.order(1)[:27]]))
    a, b = (RankStream(100, corpus_index=0, seed=4, rank=0, world_size=1, shuffle=True) for _ in range(2))
    assert np.array_equal(a.order(3), b.order(3)) and not np.array_equal(a.order(0), a.order(1))
    other = RankStream(100, corpus_index=1, seed=4, rank=0, world_size=1, shuffle=True)
    assert not np.array_equal(a.order(0), other.order(0))


def _plan(weights: tuple[float, ...] | None, batch_size: int, schedule: Any = None) -> BatchPlan:
    n = len(weights) if weights is not None else 2
    streams = [RankStream(10**6, corpus_index=i, seed=0, rank=0, world_size=1, shuffle=False) for i in range(n)]
    names = ["a", "b", "c", "d", "e"][:n]
    return BatchPlan(names, streams, batch_size, seed=0, shuffle=False, weights=weights, schedule=schedule)


@given(
    raw=st.lists(st.one_of(st.just(0.0), st.floats(0.001, 1.0)), min_size=1, max_size=5).filter(lambda ws: sum(ws) > 0),
    batch_size=st.integers(1, 64),
)
def test_fixed_mixture_stays_within_one_window_of_its_target(raw: list[float], batch_size: int) -> None:
    weights = tuple(w / math.fsum(raw) for w in raw)
    plan = _plan(weights, batch_size)
    state = MixState.start(len(weights))
    for j in range(120):
        slots, after = plan.advance(state)
        assert len(slots) == batch_size and all(weights[i] > 0 for i in slots)
        assert all(x >= y for x, y in zip(after.windows, state.windows))
        assert sum(after.windows) == (j + 1) * batch_size
        for c, w in zip(after.windows, weights):
            assert abs(c - (j + 1) * batch_size * w) < 1 + 1e-9
        state = after


def test_schedule_is_followed_and_a_switched_off_corpus_gets_nothing() -> None:
    plan = _plan(None, 16, functools.partial(ramp, total=40))
    state = MixState.start(2)
    for j in range(60):
        slots, state = plan.advance(state)
        target = [math.fsum(ramp(t)[n] for t in range(j + 1)) * 16 for n in "ab"]
        assert all(abs(c - t) < 1 + 1e-9 for c, t in zip(state.windows, target)), (j, state.windows, target)
        if j >= 40:
            assert set(slots) == {1}
    plan = _plan(None, 16, switch)
    state = MixState.start(2)
    for j in range(20):
        slots, state = plan.advance(state)
        assert set(slots) == ({0} if j < 10 else {1})


# --- datasets -------------------------------------------------------------------------------------


def test_batches_hold_the_windows_they_name(data: Data) -> None:
    ds = TokenDataset(data.ab, seq_len=L, batch_size=B, max_batches=12, seed=3)
    assert ds.names == ["a", "b"] and [c.name for c in ds.corpora] == ["a", "b"]
    tokens = {i: flat(p) for i, p in enumerate((data.a, data.b))}
    batches = list(ds)
    assert len(batches) == 12
    for batch in batches:
        assert batch["tokens"].shape == (B, L + 1) and batch["tokens"].dtype == torch.int64
        assert batch["corpus"].shape == (B,) and batch["corpus"].dtype == torch.int64
        for row, c, w in zip(batch["tokens"], batch["corpus"].tolist(), batch["window"].tolist()):
            assert np.array_equal(row.numpy(), tokens[c][w * L : w * L + L + 1])
    assert {c for c, _ in rows(batches)} == {0, 1}


def test_default_names_weights_and_epoch(data: Data) -> None:
    ds = TokenDataset([data.a, data.b], seq_len=L, batch_size=B)
    wa, wb = (c.windows(L) for c in ds.corpora)
    assert ds.names == ["a", "b"] and ds.weights is not None
    assert ds.weights["a"] == pytest.approx(wa / (wa + wb)) and ds.batches_per_epoch == (wa + wb) // B
    one = TokenDataset(str(data.b), seq_len=L, batch_size=B, rank=1, world_size=3)
    assert one.names == ["b"] and one.batches_per_epoch == (one.corpora[0].windows(L) // 3) // B
    assert one.remainder() == {
        "b": {"tail_tokens": (one.corpora[0].tokens - 1) % L, "dropped_windows": one.corpora[0].windows(L) % 3}
    }


def test_single_corpus_serves_a_permutation_per_epoch_and_rolls_over(data: Data) -> None:
    n = TokenCorpus.open(data.b).windows(L)
    ds = TokenDataset(data.b, seq_len=L, batch_size=B, seed=9, max_batches=2 * n // B + 2)
    served = [w for _, w in rows(ds)]
    first, second = served[:n], served[n : 2 * n]
    assert sorted(first) == sorted(second) == list(range(n)) and first != second
    again = [w for _, w in rows(TokenDataset(data.b, seq_len=L, batch_size=B, seed=9, max_batches=4))]
    assert again == served[: 4 * B]
    other = [w for _, w in rows(TokenDataset(data.b, seq_len=L, batch_size=B, seed=10, max_batches=4))]
    assert other != again
    plain = [w for _, w in rows(TokenDataset(data.b, seq_len=L, batch_size=B, shuffle=False, max_batches=n // B + 2))]
    assert plain == [k % n for k in range(len(plain))]


def test_each_corpus_rolls_into_its_next_epoch_on_its_own(data: Data) -> None:
    ds = TokenDataset(data.ab, seq_len=L, batch_size=B, weights={"a": 1, "b": 1}, max_batches=120)
    na, nb = ds.windows
    got: dict[int, list[int]] = {0: [], 1: []}
    for c, w in rows(ds):
        got[c].append(w)
    assert len(got[1]) > nb and len(got[0]) < na  # b is in its second epoch, a still in its first
    assert sorted(got[0]) == sorted(set(got[0]))
    stream = ds.plan.streams[1]
    assert sorted(got[1]) == sorted(stream.take(0, len(got[1])).tolist())
    assert sorted(stream.take(0, nb).tolist()) == list(range(nb))


def test_mixture_tracks_fixed_weights_within_one_window(data: Data) -> None:
    ds = TokenDataset(data.ab, seq_len=L, batch_size=B, weights={"a": 0.3, "b": 0.7}, max_batches=150)
    loader = TokenLoader(ds)
    counts = Counter[int]()
    for k, batch in enumerate(loader, start=1):
        counts.update(batch["corpus"].tolist())
        assert loader.batches == k
        assert loader.served_tokens == {"a": counts[0] * L, "b": counts[1] * L}
        assert abs(counts[0] - 0.3 * k * B) < 1 and abs(counts[1] - 0.7 * k * B) < 1
    assert loader.batches == 150 and list(loader) == []


def test_zero_weight_corpus_is_never_served_even_if_too_short(data: Data, tmp_path: Path) -> None:
    tiny = write_token_dir(
        tmp_path / "tiny",
        [random_documents(50, vocab_size=700, eos_id=2)],
        vocab_size=700,
        eos_id=2,
        tokenizer_sha256=TokenCorpus.open(data.a).tokenizer_sha256,
    )
    ds = TokenDataset(
        {"a": data.a, "tiny": tiny}, seq_len=L, batch_size=B, weights={"a": 1.0, "tiny": 0.0}, max_batches=30
    )
    assert {c for c, _ in rows(ds)} == {0}
    with pytest.raises(ConfigError, match=r"seq_len 64 is larger than corpus 'tiny' \(50 tokens.*default weights"):
        TokenDataset({"a": data.a, "tiny": tiny}, seq_len=L, batch_size=B)
    with pytest.raises(ConfigError, match=r"seq_len 64 is larger than corpus 'tiny' \(50 tokens.*weight 0.5 at step 0"):
        TokenDataset({"a": data.a, "tiny": tiny}, seq_len=L, batch_size=B, weights={"a": 1, "tiny": 1})


def test_schedule_through_the_dataset(data: Data) -> None:
    ds = TokenDataset(data.ab, seq_len=L, batch_size=B, schedule=functools.partial(ramp, total=20), max_batches=30)
    per_batch = [Counter(b["corpus"].tolist()) for b in ds]
    assert per_batch[0] == {0: B} and all(c == {1: B} for c in per_batch[20:])
    assert [c[1] for c in per_batch[:21]] == sorted(c[1] for c in per_batch[:21])  # b's share grows
    ds = TokenDataset(data.ab, seq_len=L, batch_size=B, schedule=broken_after_five, max_batches=10)
    with pytest.raises(ConfigError, match=r"schedule\(5\): weight of 'b' must be a finite number >= 0"):
        list(ds)
    loader = TokenLoader(ds, num_workers=2, multiprocessing_context=FORK, timeout=60)
    got = []
    with pytest.raises(ConfigError, match=r"schedule\(5\): weight of 'b'"):  # raised in a worker, same type here
        for batch in loader:
            got.append(batch)
    assert len(got) == loader.batches == 5


def test_configuration_errors_are_loud(data: Data, tmp_path: Path) -> None:
    def bad(match: str, corpora: Any = None, **kw: Any) -> None:
        kw = {"seq_len": L, "batch_size": B, **kw}
        with pytest.raises(ConfigError, match=match):
            TokenDataset(data.ab if corpora is None else corpora, **kw)

    bad("seq_len must be a positive integer", seq_len=0)
    bad("seq_len must be a positive integer", seq_len=True)
    bad("batch_size must be a positive integer", batch_size=0)
    bad(r"rank must be in \[0, 3\)", rank=3, world_size=3)
    bad(r"rank must be in \[0, 2\)", rank=-1, world_size=2)
    bad("pass both rank and world_size", rank=0)
    bad("world_size must be a positive integer", rank=0, world_size=0)
    bad("seed must be a non-negative integer", seed=-1)
    bad("max_batches must be", max_batches=-1)
    bad("weight of 'a' must be a finite number >= 0", weights={"a": -1.0, "b": 1.0})
    bad("weight of 'b' must be a finite number >= 0", weights={"a": 1.0, "b": float("nan")})
    bad("weight of 'b' must be a finite number >= 0", weights={"a": 1.0, "b": math.inf})
    bad("every weight is zero", weights={"a": 0.0, "b": 0})
    bad("unknown corpus 'c'", weights={"a": 1.0, "c": 1.0})
    bad("pass weights or schedule, not both", weights={"a": 1.0}, schedule=ramp)
    bad("schedule must be picklable", schedule=lambda step: {"a": 1.0})
    bad("corpus names must be unique", corpora=[data.a, data.a])
    bad("no corpora given", corpora=[])
    bad(r"seq_len 200000 is larger than corpus 'a' \(\d+ tokens", seq_len=200_000)
    bad(
        "corpus 'b' has 723 windows of 64, 241 per rank over 3 ranks: fewer than batch_size 300",
        batch_size=300,
        rank=0,
        world_size=3,
        weights={"b": 1},
    )
    tok = json.loads((data.b / "manifest.json").read_text(encoding="utf-8"))["tokenizer"]
    other = _copy(data.b, tmp_path / "other-tok", tokenizer={**tok, "sha256": "f" * 64})
    bad(
        r"different tokenizers: 'a' \(.*\) with sha256 [0-9a-f]{12}…, 'other-tok' \(.*\) with sha256 ffffffffffff",
        corpora=[data.a, other],
    )
    ds = TokenDataset(data.a, seq_len=L, batch_size=1000)
    TokenLoader(ds, num_workers=2)  # 2195 windows >= 2 x 1000
    with pytest.raises(ConfigError, match="fewer than batch_size 1000 x 3 workers = 3000"):
        TokenLoader(ds, num_workers=3)
    TokenLoader(
        TokenDataset(data.ab, seq_len=L, batch_size=500, weights={"a": 1, "b": 0}), num_workers=4
    )  # b (723) is never served
    with pytest.raises(ConfigError, match="corpus 'b' has 723 windows per rank, fewer than batch_size 500 x 2 workers"):
        TokenLoader(TokenDataset(data.ab, seq_len=L, batch_size=500, weights={"a": 1, "b": 1}), num_workers=2)
    with pytest.raises(ConfigError, match="prefetch_factor needs num_workers"):
        TokenLoader(ds, prefetch_factor=2)


# --- ranks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("world", [2, 3])
def test_ranks_are_disjoint_equal_and_cover_all_but_the_remainder(data: Data, world: int) -> None:
    n = TokenCorpus.open(data.a).windows(L)
    per_rank = n // world
    epochs: list[list[int]] = []
    for rank in range(world):
        ds = TokenDataset(
            data.a, seq_len=L, batch_size=B, seed=5, rank=rank, world_size=world, max_batches=per_rank // B + 1
        )
        assert ds.batches_per_epoch == per_rank // B
        epochs.append([w for _, w in rows(ds)][:per_rank])
    assert all(len(e) == per_rank for e in epochs)
    union = [w for e in epochs for w in e]
    assert len(set(union)) == len(union) == per_rank * world  # disjoint
    dropped = set(range(n)) - set(union)
    assert len(dropped) == n % world == ds.remainder()["a"]["dropped_windows"]
    assert dropped == set(ds.plan.streams[0].dropped(0).tolist())


def test_rank_defaults_to_torch_distributed(data: Data, tmp_path: Path) -> None:
    assert (
        TokenDataset(data.a, seq_len=L, batch_size=B).rank,
        TokenDataset(data.a, seq_len=L, batch_size=B).world_size,
    ) == (0, 1)
    dist = torch.distributed
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        ds = TokenDataset(data.a, seq_len=L, batch_size=B)
        assert (ds.rank, ds.world_size) == (0, 1)
        assert (TokenDataset(data.a, seq_len=L, batch_size=B, rank=1, world_size=2).rank) == 1
    finally:
        dist.destroy_process_group()


# --- workers and resume ---------------------------------------------------------------------------


def mixed(data: Data, **kw: Any) -> TokenDataset:
    kw = {"seq_len": L, "batch_size": B, "seed": 11, "weights": {"a": 0.3, "b": 0.7}, **kw}
    return TokenDataset(data.ab, **kw)


@pytest.fixture(scope="module")
def reference(data: Data) -> list[dict[str, Any]]:
    """90 batches of the mixture, uninterrupted, in this process (``b`` enters its second epoch)."""
    loader = TokenLoader(mixed(data, max_batches=90))
    batches = take(loader, 90)
    assert loader.epochs["b"] > 1 > loader.epochs["a"]
    return batches


def test_any_number_of_workers_yields_the_same_batches(data: Data, reference: list[dict[str, Any]]) -> None:
    for workers in (0, 1, 2):
        loader = TokenLoader(
            mixed(data, max_batches=23),
            num_workers=workers,
            multiprocessing_context=FORK if workers else None,
            timeout=60,
        )
        assert_same(take(loader, 100), reference[:23])
        assert loader.batches == 23 and sum(loader.served_tokens.values()) == 23 * B * L
    direct = DataLoader(
        mixed(data, max_batches=9), batch_size=None, num_workers=2, multiprocessing_context=FORK, timeout=60
    )
    assert_same(take(direct, 100), reference[:9])


def test_iteration_is_persistent(data: Data, reference: list[dict[str, Any]]) -> None:
    loader = TokenLoader(mixed(data), num_workers=2, multiprocessing_context=FORK, timeout=60)
    got = []
    for batch in loader:
        got.append({k: v.clone() for k, v in batch.items()})
        if len(got) == 5:
            break
    assert loader.batches == 5
    got += take(loader, 7)
    assert_same(got, reference[:12])
    state = loader.state_dict()
    assert state["batches"] == 12 and state["served_tokens"] == loader.served_tokens
    loader.close()
    assert_same(take(loader, 3), reference[12:15])  # restarts the workers where it stands
    loader.close()


def _resume_chain(make: Any, stops: list[int], workers: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    batches: list[dict[str, Any]] = []
    states = []
    state: dict[str, Any] | None = None
    for (start, stop), w in zip(itertools.pairwise([0, *stops]), itertools.cycle(workers)):
        loader = TokenLoader(make(), num_workers=w, multiprocessing_context=FORK if w else None, timeout=60)
        if state is not None:
            loader.load_state_dict(json.loads(json.dumps(state)))
        assert loader.batches == start
        batches += take(loader, stop - start)
        state = loader.state_dict()
        states.append(state)
        loader.close()
    return batches, states


def test_resume_many_times_equals_an_uninterrupted_run(data: Data, reference: list[dict[str, Any]]) -> None:
    stops = [3, 7, 8, 19, 31, 44, 60, 71, 90]
    got, states = _resume_chain(lambda: mixed(data), stops, [0, 2])
    assert_same(got, reference)
    for stop, state in zip(stops, states):
        counts = Counter(int(c) for b in reference[:stop] for c in b["corpus"])
        assert state["batches"] == stop
        assert state["served_tokens"] == {"a": counts[0] * L, "b": counts[1] * L}


def test_resume_with_a_schedule_and_two_workers(data: Data) -> None:
    def make() -> TokenDataset:
        return TokenDataset(data.ab, seq_len=L, batch_size=B, seed=2, schedule=functools.partial(ramp, total=30))

    whole = take(TokenLoader(make()), 45)
    got, states = _resume_chain(make, [5, 6, 17, 33, 45], [2, 2, 0])
    assert_same(got, whole)
    assert states[-1]["served_tokens"] == {
        n: sum(int((b["corpus"] == i).sum()) for b in whole) * L for i, n in enumerate("ab")
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stop=st.integers(0, 85), more=st.integers(1, 5))
def test_resume_at_any_step(data: Data, reference: list[dict[str, Any]], stop: int, more: int) -> None:
    first = TokenLoader(mixed(data))
    take(first, stop)
    second = TokenLoader(mixed(data))
    second.load_state_dict(first.state_dict())
    assert_same(take(second, more), reference[stop : stop + more])
    assert second.served_tokens == {
        n: sum(int((b["corpus"] == i).sum()) for b in reference[: stop + more]) * L for i, n in enumerate("ab")
    }


def test_resume_refuses_another_configuration(data: Data) -> None:
    loader = TokenLoader(mixed(data))
    take(loader, 4)
    state = loader.state_dict()
    assert state["version"] == 1 and json.loads(json.dumps(state)) == state
    with pytest.raises(ConfigError, match="seed: saved 11, now 12"):
        TokenLoader(mixed(data, seed=12)).load_state_dict(state)
    with pytest.raises(ConfigError, match="seq_len: saved 64, now 32"):
        TokenLoader(mixed(data, seq_len=32)).load_state_dict(state)
    with pytest.raises(ConfigError, match="weights"):
        TokenLoader(mixed(data, weights={"a": 0.5, "b": 0.5})).load_state_dict(state)
    with pytest.raises(ConfigError, match="rank"):
        TokenLoader(mixed(data, rank=1, world_size=2)).load_state_dict(state)
    with pytest.raises(ConfigError, match="served_tokens"):
        TokenLoader(mixed(data)).load_state_dict({**state, "served_tokens": {"a": 1, "b": 2}})
    with pytest.raises(ConfigError, match="version 2"):
        TokenLoader(mixed(data)).load_state_dict({**state, "version": 2})
    ramp30 = TokenLoader(mixed(data, weights=None, schedule=functools.partial(ramp, total=30)))
    take(ramp30, 2)
    with pytest.raises(
        ConfigError,
        match=r"schedule: saved 'partial\(test_torch.ramp, total=30\)', now 'partial\(test_torch.ramp, total=31\)'",
    ):
        TokenLoader(mixed(data, weights=None, schedule=functools.partial(ramp, total=31))).load_state_dict(
            ramp30.state_dict()
        )
    same = TokenLoader(mixed(data, max_batches=100))  # max_batches and workers are not part of it
    same.load_state_dict(state)
    assert same.batches == 4


class Blend:
    """A callable-object schedule (like a trainer's): its parameters are part of the fingerprint."""

    def __init__(self, b: float) -> None:
        self.b = b

    def __call__(self, step: int) -> dict[str, float]:
        return {"a": 1.0 - self.b, "b": self.b}


def test_callable_object_schedules_are_told_apart_by_their_parameters(data: Data) -> None:
    def fp(b: float) -> str:
        return mixed(data, weights=None, schedule=Blend(b)).fingerprint

    assert fp(0.25) == fp(0.25) != fp(0.5)
    loader = TokenLoader(mixed(data, weights=None, schedule=Blend(0.25)))
    take(loader, 3)
    assert loader.state_dict()["identity"]["schedule"].startswith("test_torch.Blend#")
    with pytest.raises(ConfigError, match="schedule: saved"):
        TokenLoader(mixed(data, weights=None, schedule=Blend(0.5))).load_state_dict(loader.state_dict())


def test_pickled_dataset_carries_no_token_data(data: Data, reference: list[dict[str, Any]]) -> None:
    ds = mixed(data, max_batches=6)
    fresh = len(pickle.dumps(ds))
    list(ds)  # opens the memory maps, caches each corpus's epoch order
    blob = pickle.dumps(ds)
    assert len(blob) == fresh < 20_000
    assert_same(list(pickle.loads(blob)), reference[:6])


@pytest.mark.slow
def test_spawned_workers_yield_the_same_batches(data: Data, reference: list[dict[str, Any]]) -> None:
    loader = TokenLoader(mixed(data, max_batches=8), num_workers=2, multiprocessing_context="spawn", timeout=120)
    assert_same(take(loader, 8), reference[:8])


# --- fork safety ----------------------------------------------------------------------------------


class RustInWorker(IterableDataset[dict[str, Any]]):
    """Runs hyperword's threaded Rust generator inside each DataLoader worker."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def __iter__(self) -> Any:
        info = get_worker_info()
        assert info is not None
        m = hyperword.generate(
            self.out / f"worker{info.id}", 20_000, langs="en,ru", shard_words=5_000, seed=7, threads=2
        )
        yield {
            "worker": info.id,
            "rows": sum(s.rows for s in m.shards),
            "sha": [s.sha256 for s in m.shards],
            "sample": hyperword.sample(3, langs="ru", seed=1),
            "forked": _hyperword._is_forked(),
        }


def test_rust_thread_pools_work_in_forked_dataloader_workers(tmp_path: Path) -> None:
    parent = hyperword.generate(
        tmp_path / "parent", 20_000, langs="en,ru", shard_words=5_000, seed=7, threads=2
    )  # pool used before fork
    loader = DataLoader(
        RustInWorker(tmp_path), batch_size=None, num_workers=2, multiprocessing_context=FORK, timeout=60
    )
    got = sorted(list(loader), key=lambda r: r["worker"])
    assert [r["worker"] for r in got] == [0, 1]
    for r in got:
        assert r["rows"] == sum(s.rows for s in parent.shards) and r["sha"] == [s.sha256 for s in parent.shards]
        assert r["sample"] == hyperword.sample(3, langs="ru", seed=1)
        assert r["forked"] is True  # the child ran hyperword's work single-threaded, by the fork hook
    assert _hyperword._is_forked() is False


def test_token_loader_with_forked_workers_after_rust_work(
    data: Data, reference: list[dict[str, Any]], tmp_path: Path
) -> None:
    hyperword.generate(tmp_path / "warm", 5_000, langs="en", seed=1, threads=2)
    loader = TokenLoader(mixed(data, max_batches=10), num_workers=2, multiprocessing_context=FORK, timeout=60)
    assert_same(take(loader, 10), reference[:10])
