"""The batch plan, in plain integers and numpy (no torch, no token data): which window of
which corpus fills each row of batch ``j`` on one rank.

Two pieces, both pure functions of their arguments:

- :class:`RankStream`: one corpus as one rank sees it. Epoch ``e`` is the permutation
  ``default_rng([1, corpus_index, e, seed]).permutation(windows)`` (``arange`` without
  shuffle); rank ``r`` of ``W`` takes ``perm[r::W][:windows // W]``, so ranks are disjoint
  and equally long, and the ``windows % W`` windows at the tail of the permutation are not
  served that epoch. Position ``p`` of the endless stream is item ``p % per_rank`` of epoch
  ``p // per_rank``.
- :class:`BatchPlan`: the mixture. Batch ``j`` hands its ``batch_size`` slots to corpora one
  at a time by the quota method of Balinski and Young, on cumulative targets ``T_i`` (slots
  corpus ``i`` should have had by then: ``weight_i * slots`` for fixed weights, the running sum
  of the schedule's weights otherwise): a slot may go to corpus ``i`` only while its count
  ``C_i < T_i`` (upper quota), and goes to the eligible corpus with the largest
  ``T_i / (C_i + 1)``. With fixed weights this keeps ``|C_i - T_i| < 1`` after every slot
  and is house-monotone (no count ever decreases). A schedule gets the same rule; a corpus whose
  weight at step ``j`` is 0 gets no slot in batch ``j``.

The state between batches is :class:`MixState`: the batch index, ``C`` (windows served per
corpus, which is also each corpus's position in its rank stream) and ``T``. Advancing it one
batch is cheap arithmetic, so every DataLoader worker advances through every batch and
gathers tokens only for its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hyperword.errors import ConfigError

__all__ = ["BatchPlan", "MixState", "RankStream", "Schedule", "allocate", "normalize_weights"]

Schedule = Callable[[int], Mapping[str, float]]
Windows = npt.NDArray[np.int64]

#: first words of the rng seeds, so that the permutations and the row shuffles never share one
PERMUTATION_TAG = 1
ROWS_TAG = 2


@dataclass(frozen=True)
class MixState:
    """Where a rank's stream stands before batch ``batches``."""

    batches: int
    windows: tuple[int, ...]
    targets: tuple[float, ...]

    @classmethod
    def start(cls, corpora: int) -> MixState:
        return cls(0, (0,) * corpora, (0.0,) * corpora)


class RankStream:
    """The windows of one corpus that one rank serves, epoch after epoch; see the module doc."""

    def __init__(
        self, windows: int, *, corpus_index: int, seed: int, rank: int, world_size: int, shuffle: bool
    ) -> None:
        self.windows = windows
        self.corpus_index = corpus_index
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle = shuffle
        self.per_rank = windows // world_size
        self._cache: dict[int, Windows] = {}

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_cache": {}}  # a pickled stream carries no cached orders

    def permutation(self, epoch: int) -> Windows:
        """All windows in epoch ``epoch``'s order (shared by every rank)."""
        if not self.shuffle:
            return np.arange(self.windows, dtype=np.int64)
        rng = np.random.default_rng([PERMUTATION_TAG, self.corpus_index, epoch, self.seed])
        return rng.permutation(self.windows).astype(np.int64, copy=False)

    def order(self, epoch: int) -> Windows:
        """This rank's windows in epoch ``epoch``, in serving order (``per_rank`` of them)."""
        if epoch not in self._cache:
            if len(self._cache) >= 2:
                self._cache.pop(min(self._cache))
            self._cache[epoch] = np.ascontiguousarray(
                self.permutation(epoch)[self.rank :: self.world_size][: self.per_rank]
            )
        return self._cache[epoch]

    def dropped(self, epoch: int) -> Windows:
        """The windows no rank serves in epoch ``epoch`` (``windows % world_size`` of them)."""
        return np.sort(self.permutation(epoch)[self.per_rank * self.world_size :])

    def take(self, start: int, count: int) -> Windows:
        """Stream positions ``start .. start + count - 1``, rolling into the next epoch."""
        if count and self.per_rank == 0:
            raise ConfigError(f"corpus {self.corpus_index} has no windows for rank {self.rank} of {self.world_size}")
        out = np.empty(count, dtype=np.int64)
        done = 0
        while done < count:
            epoch, offset = divmod(start + done, self.per_rank)
            n = min(count - done, self.per_rank - offset)
            out[done : done + n] = self.order(epoch)[offset : offset + n]
            done += n
        return out


def normalize_weights(names: Sequence[str], weights: Mapping[str, float], where: str) -> tuple[float, ...]:
    """``weights`` by name (missing names weigh 0) scaled to sum to 1; ``ConfigError`` for an
    unknown name, a negative or non-finite weight, or no positive weight at all."""
    if not isinstance(weights, Mapping):
        raise ConfigError(f"{where}: weights must be a mapping of corpus name to weight, got {type(weights).__name__}")
    unknown = sorted(str(k) for k in weights if k not in names)
    if unknown:
        raise ConfigError(f"{where}: unknown corpus {', '.join(map(repr, unknown))} (corpora: {', '.join(names)})")
    values = []
    for name in names:
        w = weights.get(name, 0.0)
        if (
            isinstance(w, bool)
            or not isinstance(w, (int, float, np.integer, np.floating))
            or not math.isfinite(w)
            or w < 0
        ):
            raise ConfigError(f"{where}: weight of {name!r} must be a finite number >= 0, got {w!r}")
        values.append(float(w))
    total = math.fsum(values)
    if total <= 0:
        raise ConfigError(f"{where}: every weight is zero; at least one corpus must have a positive weight")
    return tuple(v / total for v in values)


def allocate(
    counts: Sequence[int], start: Sequence[float], end: Sequence[float], weights: Sequence[float], batch_size: int
) -> list[int]:
    """The corpus of each of ``batch_size`` slots, in order (module doc: the quota method).
    Slot ``k`` (1-based) is judged against the targets ``start + k * (end - start) / batch_size``
    (exactly ``end`` at the last slot); only corpora with a positive weight take part. When
    none of them is below its target (possible only with a schedule), the one furthest
    below it (or least above) takes the slot."""
    c = list(counts)
    live = [i for i, w in enumerate(weights) if w > 0]
    if len(live) == 1:
        return [live[0]] * batch_size
    slots = []
    for k in range(1, batch_size + 1):
        best, key = -1, -math.inf
        for i in live:
            t = end[i] if k == batch_size else start[i] + k * (end[i] - start[i]) / batch_size
            if c[i] < t and t / (c[i] + 1) > key:
                best, key = i, t / (c[i] + 1)
        if best < 0:
            for i in live:
                t = end[i] if k == batch_size else start[i] + k * (end[i] - start[i]) / batch_size
                if t - c[i] > key:
                    best, key = i, t - c[i]
        c[best] += 1
        slots.append(best)
    return slots


class BatchPlan:
    """Batch ``j``'s rows for one rank: advance a :class:`MixState`, then map slots to windows.

    ``blocked[i]`` is ``None`` when corpus ``i`` can be served, else the reason it cannot (too
    short for ``seq_len``, too few windows per rank); giving it a positive weight is then a
    ``ConfigError`` carrying that reason."""

    def __init__(
        self,
        names: Sequence[str],
        streams: Sequence[RankStream],
        batch_size: int,
        *,
        seed: int,
        shuffle: bool,
        weights: tuple[float, ...] | None = None,
        schedule: Schedule | None = None,
        blocked: Sequence[str | None] | None = None,
    ) -> None:
        if (weights is None) == (schedule is None):
            raise ConfigError("a batch plan needs fixed weights or a schedule, not both")
        self.names = list(names)
        self.streams = list(streams)
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.weights = weights
        self.schedule = schedule
        self.blocked = list(blocked) if blocked is not None else [None] * len(self.names)

    def weights_at(self, step: int) -> tuple[float, ...]:
        """The normalised weights of batch ``step``, checked (``ConfigError`` naming the step)."""
        if self.schedule is None:
            assert self.weights is not None
            w = self.weights
        else:
            w = normalize_weights(self.names, self.schedule(step), f"schedule({step})")
        for i, reason in enumerate(self.blocked):
            if reason is not None and w[i] > 0:
                raise ConfigError(f"{reason} (weight {w[i]:.6g} at step {step})")
        return w

    def advance(self, state: MixState) -> tuple[list[int], MixState]:
        """The corpus of each slot of batch ``state.batches`` and the state after it."""
        j, b = state.batches, self.batch_size
        w = self.weights_at(j)
        if self.schedule is None:
            end = tuple((j + 1) * b * x for x in w)
            start = tuple(j * b * x for x in w)
        else:
            start = state.targets
            end = tuple(t + b * x for t, x in zip(start, w))
        slots = allocate(state.windows, start, end, w, b)
        counts = list(state.windows)
        for i in slots:
            counts[i] += 1
        return slots, MixState(j + 1, tuple(counts), end)

    def rows(self, state: MixState, slots: Sequence[int]) -> tuple[Windows, Windows]:
        """``(corpus, window)`` of each row of batch ``state.batches`` given its slots: corpus
        ``i``'s slots take its next stream positions from ``state.windows[i]``; with shuffle, the
        rows of a batch that holds several corpora are then permuted by
        ``default_rng([2, j % 2**32, j // 2**32, seed])`` (one corpus's rows are already in
        its shuffled stream order)."""
        corpus = np.asarray(slots, dtype=np.int64)
        window = np.empty(len(slots), dtype=np.int64)
        for i in sorted(set(slots)):
            rows = np.flatnonzero(corpus == i)
            window[rows] = self.streams[i].take(state.windows[i], rows.shape[0])
        if self.shuffle and len(set(slots)) > 1:
            j = state.batches
            order = np.random.default_rng([ROWS_TAG, j & 0xFFFFFFFF, j >> 32, self.seed]).permutation(len(slots))
            corpus, window = corpus[order], window[order]
        return corpus, window

    def state_at(self, batches: int, start: MixState | None = None) -> MixState:
        """The state before batch ``batches``, replayed from ``start`` (default: batch 0)."""
        state = start if start is not None else MixState.start(len(self.names))
        while state.batches < batches:
            state = self.advance(state)[1]
        return state
