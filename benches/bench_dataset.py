#!/usr/bin/env python3
"""Packed-batch throughput: naive loaders vs hyperword.torch, side by side.

    python benches/bench_dataset.py --tokens 150M --seq-len 512 --batch-size 64 --workers 0,2
    python benches/bench_dataset.py --tokens 150M --corpora 3      # a 3-way mixture
    python benches/bench_dataset.py --dir /data/bench --batches 5000

Builds ``--corpora`` synthetic uint16 token directories (random ids cut into documents, a
valid ``hyperword-tokens`` manifest; ``--tokens`` in all, ``--shards`` shards each) in a
temporary directory, or in ``--dir`` (reused when already built). Then, one after another,
each loader delivers ``--warmup`` batches (untimed: worker start-up, first page faults) and
``--batches`` timed ones of ``[batch_size, seq_len + 1]`` int64 token windows:

- ``python-list``: every shard ``np.load``-ed into memory, each row a ``tolist()`` slice, the
  batch a ``torch.tensor`` of Python lists (the loop one writes first);
- ``nanogpt``: nanoGPT's ``get_batch``: a fresh ``np.memmap`` per batch, random offsets,
  ``torch.stack`` of ``torch.from_numpy(slice.astype(int64))`` rows;
- ``nanogpt-wN``: the same batches from N DataLoader workers (the cost of moving batches
  between processes, for comparison with ``loader-wN``);
- ``dataset``: ``TokenDataset`` iterated directly (no DataLoader);
- ``loader-wN``: ``TokenLoader`` with N DataLoader workers (fork); with several corpora, the
  default mixture (weights proportional to size).

Tokens/s counts label tokens (``batch_size * seq_len`` per batch). The random baselines do not
pack (windows overlap and repeat); hyperword's loaders serve a shuffled, exact, resumable
partition of the corpus. The rates depend on the cores free at the time: run on a quiet
machine and compare ratios.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from hyperword.batches.synthetic import random_documents, write_token_dir
from hyperword.encode import read_token_manifest
from hyperword.torch import TokenDataset, TokenLoader

VOCAB = 32_000
EOS = 2
_COUNT = re.compile(r"(\d+(?:\.\d*)?(?:e\+?\d+)?)([kmgb]?)", re.IGNORECASE)
_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}

Batches = Callable[[], Iterator[Any]]


def parse_count(text: str) -> int:
    """A positive whole count: ``150000000``, ``150M``, ``1.5e8``."""
    match = _COUNT.fullmatch(text.strip().replace("_", ""))
    if not match:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected e.g. 150M")
    value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if not math.isfinite(value) or value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected a positive whole number")
    return int(value)


def parse_workers(text: str) -> list[int]:
    try:
        workers = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        workers = []
    if not workers or min(workers) < 0:
        raise argparse.ArgumentTypeError(f"invalid worker counts {text!r}: expected e.g. 0,2")
    return workers


def build(directory: Path, tokens: int, shards: int, seed: int) -> None:
    """A synthetic uint16 token directory of about ``tokens`` tokens over ``shards`` shards."""
    per = -(-tokens // shards)
    start = time.perf_counter()
    arrays = [
        random_documents(min(per, tokens - i * per), vocab_size=VOCAB, eos_id=EOS, seed=seed + i)
        for i in range(shards)
        if tokens > i * per
    ]
    write_token_dir(directory, arrays, vocab_size=VOCAB, eos_id=EOS)
    print(
        f"built {directory}: {tokens:,} tokens in {len(arrays)} shards, {time.perf_counter() - start:.1f} s", flush=True
    )


def shard_paths(directories: list[Path]) -> list[Path]:
    return [p for d in directories for p in read_token_manifest(d).tokens_paths()]


def python_list(directories: list[Path], seq_len: int, batch_size: int, seed: int) -> Batches:
    arrays = [np.load(p) for p in shard_paths(directories)]  # into memory

    def batches() -> Iterator[torch.Tensor]:
        rng = np.random.default_rng(seed)
        while True:
            rows = []
            for _ in range(batch_size):
                a = arrays[int(rng.integers(len(arrays)))]
                s = int(rng.integers(len(a) - seq_len - 1))
                rows.append(a[s : s + seq_len + 1].tolist())
            yield torch.tensor(rows, dtype=torch.int64)

    return batches


class NanoGPT(IterableDataset[torch.Tensor]):
    """nanoGPT's ``get_batch`` as an endless stream (seeded per DataLoader worker)."""

    def __init__(self, paths: list[Path], seq_len: int, batch_size: int, seed: int) -> None:
        self.paths, self.seq_len, self.batch_size, self.seed = paths, seq_len, batch_size, seed

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = get_worker_info()
        g = torch.Generator().manual_seed(self.seed + (info.id if info is not None else 0))
        L = self.seq_len
        while True:
            path = self.paths[int(torch.randint(len(self.paths), (1,), generator=g))]
            data = np.load(path, mmap_mode="r")  # nanoGPT recreates its memmap every batch
            ix = torch.randint(len(data) - L - 1, (self.batch_size,), generator=g)
            yield torch.stack([torch.from_numpy(data[i : i + L + 1].astype(np.int64)) for i in ix.tolist()])


def nanogpt(directories: list[Path], seq_len: int, batch_size: int, seed: int, workers: int) -> Batches:
    ds = NanoGPT(shard_paths(directories), seq_len, batch_size, seed)
    if workers == 0:
        return lambda: iter(ds)
    return lambda: iter(DataLoader(ds, batch_size=None, num_workers=workers, multiprocessing_context="fork"))


def corpora(directories: list[Path]) -> dict[str, Path]:
    return {f"c{i}": d for i, d in enumerate(directories)}


def hyperword_dataset(directories: list[Path], seq_len: int, batch_size: int, seed: int) -> Batches:
    ds = TokenDataset(corpora(directories), seq_len=seq_len, batch_size=batch_size, seed=seed)
    return lambda: iter(ds)


def hyperword_loader(directories: list[Path], seq_len: int, batch_size: int, seed: int, workers: int) -> Batches:
    ds = TokenDataset(corpora(directories), seq_len=seq_len, batch_size=batch_size, seed=seed)
    return lambda: iter(TokenLoader(ds, num_workers=workers, multiprocessing_context="fork" if workers else None))


def measure(make: Batches, warmup: int, count: int) -> float:
    """Seconds for ``count`` batches after ``warmup`` untimed ones."""
    it = make()
    for _ in range(warmup):
        next(it)
    start = time.perf_counter()
    for _ in range(count):
        batch = next(it)
        tokens = batch["tokens"] if isinstance(batch, dict) else batch
        assert tokens.dtype == torch.int64
    seconds = time.perf_counter() - start
    del it, batch, tokens  # the last reference to a loader: its workers stop
    gc.collect()
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--tokens",
        type=parse_count,
        default=parse_count("150M"),
        help="tokens of the synthetic corpus (default 150M: 300 MB of uint16)",
    )
    p.add_argument("--shards", type=int, default=4, help="shards per corpus (default 4)")
    p.add_argument(
        "--corpora", type=int, default=1, help="corpora sharing --tokens, mixed by the default weights (default 1)"
    )
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=parse_workers, default=[0, 2], help="DataLoader worker counts, e.g. 0,2 (default)")
    p.add_argument(
        "--batches", type=int, default=2000, help="timed batches per loader (the python-list baseline times a tenth)"
    )
    p.add_argument("--warmup", type=int, default=20, help="untimed batches first (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where to build the corpora (reused when already there; default: a temporary directory)",
    )
    p.add_argument("--skip-baselines", action="store_true", help="time hyperword's loaders only")
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    tmp = None
    root: Path = args.dir
    if root is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-dataset-"))
        root = tmp
    try:
        directories = [root / f"tokens-{args.tokens}-{i}of{args.corpora}" for i in range(args.corpora)]
        for i, d in enumerate(directories):
            if not (d / "manifest.json").is_file():
                build(d, args.tokens // args.corpora, args.shards, args.seed + 1000 * i)
        tokens = sum(read_token_manifest(d).tokens for d in directories)
        L, B = args.seq_len, args.batch_size
        print(
            f"{len(directories)} corpora, {tokens:,} tokens (uint16, {args.shards} shards each); seq_len {L}, batch_size {B}; "
            f"{os.cpu_count()} cores, python {sys.version.split()[0]}, torch {torch.__version__}, numpy {np.__version__}",
            flush=True,
        )
        runs: list[tuple[str, Batches, int]] = []
        for w in args.workers:
            runs.append((f"loader-w{w}", hyperword_loader(directories, L, B, args.seed, w), args.batches))
        runs.append(("dataset", hyperword_dataset(directories, L, B, args.seed), args.batches))
        if not args.skip_baselines:
            for w in sorted({0, *args.workers}):
                runs.append(
                    ("nanogpt" if w == 0 else f"nanogpt-w{w}", nanogpt(directories, L, B, args.seed, w), args.batches)
                )
            runs.append(("python-list", python_list(directories, L, B, args.seed), max(1, args.batches // 10)))
        rates: dict[str, float] = {}
        print(f"{'loader':<12} {'batches':>8} {'seconds':>8} {'Mtok/s':>9}", flush=True)
        for name, make, count in runs:
            seconds = measure(make, args.warmup, count)
            rates[name] = count * B * L / seconds
            print(f"{name:<12} {count:>8} {seconds:>8.2f} {rates[name] / 1e6:>9.1f}", flush=True)
        if "nanogpt" in rates:
            print(
                "vs nanogpt, in process: "
                + ", ".join(f"{n} {rates[n] / rates['nanogpt']:.1f}x" for n in ("dataset", "loader-w0") if n in rates)
            )
        pairs = [(f"loader-w{w}", f"nanogpt-w{w}") for w in args.workers if w and f"nanogpt-w{w}" in rates]
        if pairs:
            print("vs nanogpt, same workers: " + ", ".join(f"{a} {rates[a] / rates[b]:.1f}x" for a, b in pairs))
        if "python-list" in rates:
            print(
                "vs python-list: "
                + ", ".join(
                    f"{n} {r / rates['python-list']:.1f}x"
                    for n, r in rates.items()
                    if n.startswith(("loader", "dataset"))
                )
            )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
