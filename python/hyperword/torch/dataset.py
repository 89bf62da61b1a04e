"""``TokenDataset``: packed, shuffled, mixed batches of token windows for one rank, as an
``IterableDataset`` that yields whole batches (use it with ``DataLoader(batch_size=None)``,
or through :class:`hyperword.torch.TokenLoader`).

Everything is checked on construction (``ConfigError``): parameters, that the corpora share a
tokenizer, that every corpus with a positive weight fills at least one batch per rank. What
batch ``j`` holds is :class:`hyperword.batches.plan.BatchPlan`'s business; this class builds
the plan, and in each worker advances it through every batch, gathering tokens only for the
batches ``j`` with ``(j - first) % num_workers == worker id``, the order in which a DataLoader
asks its workers; so any number of workers yields the same batches.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from hyperword.batches.corpus import check_seq_len
from hyperword.batches.plan import BatchPlan, MixState, RankStream, Schedule, normalize_weights
from hyperword.errors import ConfigError
from hyperword.formats.identity import fingerprint
from hyperword.torch.options import CorporaArg, check_schedule, open_corpora, positive, schedule_name, topology

__all__ = ["Batch", "TokenDataset"]

Batch = dict[str, torch.Tensor]


class TokenDataset(IterableDataset[Batch]):
    """Batches ``{"tokens": int64 [batch_size, seq_len + 1], "corpus": int64 [batch_size],
    "window": int64 [batch_size]}`` (the corpus index into :attr:`names` and the window index
    within that corpus, per row); see the package doc for the semantics."""

    def __init__(
        self,
        corpora: CorporaArg,
        *,
        seq_len: int,
        batch_size: int,
        seed: int = 0,
        weights: Mapping[str, float] | None = None,
        schedule: Schedule | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        max_batches: int | None = None,
        shuffle: bool = True,
        verify: bool = False,
    ) -> None:
        self.seq_len = check_seq_len(seq_len)
        self.batch_size = positive("batch_size", batch_size)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        if max_batches is not None and (
            isinstance(max_batches, bool) or not isinstance(max_batches, (int, np.integer)) or max_batches < 0
        ):
            raise ConfigError(f"max_batches must be a non-negative integer or None, got {max_batches!r}")
        self.max_batches = None if max_batches is None else int(max_batches)
        self.shuffle = bool(shuffle)
        self.rank, self.world_size = topology(rank, world_size)
        self.corpora = open_corpora(corpora, verify)
        self.names = [c.name for c in self.corpora]
        #: windows of ``seq_len`` per corpus, and how many each rank serves per epoch
        self.windows = [c.windows(self.seq_len) for c in self.corpora]
        self.windows_per_rank = [n // self.world_size for n in self.windows]
        if weights is not None and schedule is not None:
            raise ConfigError("pass weights or schedule, not both")
        if schedule is not None:
            check_schedule(schedule)
        self.schedule = schedule
        fixed: tuple[float, ...] | None = None
        if weights is None and schedule is None:
            for i in range(len(self.corpora)):  # default weights serve every corpus given
                reason = self._blocked_reason(i)
                if reason is not None:
                    raise ConfigError(
                        f"{reason} (default weights serve every corpus; give it weight 0 to leave it out)"
                    )
            fixed = normalize_weights(
                self.names, dict(zip(self.names, map(float, self.windows_per_rank))), "default weights"
            )
        elif weights is not None:
            fixed = normalize_weights(self.names, weights, "weights")
        self.weights = None if fixed is None else dict(zip(self.names, fixed))
        streams = [
            RankStream(
                n, corpus_index=i, seed=self.seed, rank=self.rank, world_size=self.world_size, shuffle=self.shuffle
            )
            for i, n in enumerate(self.windows)
        ]
        blocked = [self._blocked_reason(i) for i in range(len(self.corpora))]
        self.plan = BatchPlan(
            self.names,
            streams,
            self.batch_size,
            seed=self.seed,
            shuffle=self.shuffle,
            weights=fixed,
            schedule=schedule,
            blocked=blocked,
        )
        self.plan.weights_at(0)  # checks the weights (or the schedule's first step) against the topology
        self.start = MixState.start(len(self.corpora))

    def _blocked_reason(self, i: int) -> str | None:
        c, n = self.corpora[i], self.windows_per_rank[i]
        if self.seq_len + 1 > c.tokens:
            return f"seq_len {self.seq_len} is larger than corpus {c.name!r} ({c.tokens} tokens; a window needs seq_len + 1)"
        if n < self.batch_size:
            return (
                f"corpus {c.name!r} has {self.windows[i]} windows of {self.seq_len}, {n} per rank over {self.world_size} ranks: "
                f"fewer than batch_size {self.batch_size}, it cannot fill one batch per rank"
            )
        return None

    def __repr__(self) -> str:
        return f"TokenDataset({self.names}, seq_len={self.seq_len}, batch_size={self.batch_size}, rank={self.rank}/{self.world_size})"

    @property
    def batches_per_epoch(self) -> int:
        """Full batches in one pass over the served corpora on this rank: the windows per rank
        of every corpus that can have a positive weight, over ``batch_size``. Exact for one
        corpus; for a mixture it is one pass under the default weights (proportional to size)."""
        if self.weights is None:
            served = [n for n, reason in zip(self.windows_per_rank, self.plan.blocked) if reason is None]
        else:
            served = [n for n, w in zip(self.windows_per_rank, self.weights.values()) if w > 0]
        return sum(served) // self.batch_size

    @property
    def identity(self) -> dict[str, Any]:
        """What determines the batch sequence (a resume state must match it)."""
        return {
            "seed": self.seed,
            "seq_len": self.seq_len,
            "batch_size": self.batch_size,
            "rank": self.rank,
            "world_size": self.world_size,
            "shuffle": self.shuffle,
            "corpora": [{"name": c.name, "fingerprint": c.fingerprint, "tokens": c.tokens} for c in self.corpora],
            "weights": self.weights,
            "schedule": None if self.schedule is None else schedule_name(self.schedule),
        }

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.identity)

    def remainder(self) -> dict[str, dict[str, int]]:
        """Per corpus, what one epoch never serves on any rank: ``tail_tokens`` (the last
        ``(tokens - 1) % seq_len`` tokens, never a target) and ``dropped_windows``
        (``windows % world_size``, so that ranks serve equally many)."""
        return {
            c.name: {
                "tail_tokens": (c.tokens - 1) % self.seq_len if c.tokens else 0,
                "dropped_windows": n % self.world_size,
            }
            for c, n in zip(self.corpora, self.windows)
        }

    def resumed(self, state: MixState) -> TokenDataset:
        """A shallow copy that starts at ``state`` (what :class:`TokenLoader` hands a DataLoader)."""
        if len(state.windows) != len(self.corpora) or len(state.targets) != len(self.corpora):
            raise ConfigError(f"resume state is for {len(state.windows)} corpora, this dataset has {len(self.corpora)}")
        other = copy.copy(self)
        other.start = state
        return other

    def check_workers(self, num_workers: int) -> None:
        """``ConfigError`` unless every corpus that may be served (a positive fixed weight, or any
        that can be with a schedule) holds ``batch_size * max(1, num_workers)`` windows per rank:
        each worker gets a batch before data repeats."""
        need = self.batch_size * max(1, num_workers)
        for i, c in enumerate(self.corpora):
            served = self.plan.blocked[i] is None and (self.weights is None or self.weights[c.name] > 0)
            if served and self.windows_per_rank[i] < need:
                raise ConfigError(
                    f"corpus {c.name!r} has {self.windows_per_rank[i]} windows per rank, fewer than batch_size {self.batch_size} x "
                    f"{max(1, num_workers)} workers = {need}: a worker would repeat data within an epoch; use fewer workers"
                )

    def batch(self, state: MixState, slots: Sequence[int]) -> Batch:
        """The batch at ``state`` whose slots are ``slots`` (from ``plan.advance(state)``)."""
        b, n = self.batch_size, self.batch_size * (self.seq_len + 1)
        # One buffer for the three tensors: a DataLoader worker then sends one shared-memory
        # storage per batch, not three (the per-storage cost dominates the transfer).
        flat = np.empty(n + 2 * b, dtype=np.int64)
        tokens = flat[:n].reshape(b, self.seq_len + 1)
        corpus, window = self.plan.rows(state, slots)
        flat[n : n + b] = corpus
        flat[n + b :] = window
        for i in np.unique(corpus).tolist():
            rows = np.flatnonzero(corpus == i)
            if rows.shape[0] == b:
                self.corpora[i].gather(window, self.seq_len, out=tokens)
            else:
                tokens[rows] = self.corpora[i].gather(window[rows], self.seq_len)
        t = torch.from_numpy(flat)
        return {"tokens": t[:n].view(b, self.seq_len + 1), "corpus": t[n : n + b], "window": t[n + b :]}

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        if workers > 1:
            self.check_workers(workers)
        state = self.start
        first = state.batches
        while self.max_batches is None or state.batches < self.max_batches:
            slots, after = self.plan.advance(state)
            if (state.batches - first) % workers == worker:
                yield self.batch(state, slots)
            state = after
