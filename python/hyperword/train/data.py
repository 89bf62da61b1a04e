"""Batches for training and evaluation through :mod:`hyperword.torch`: a stage's loader, and the
fixed validation batches (:class:`EvalSets`).

A batch is ``{"tokens": int64 [B, seq_len + 1], "corpus": int64 [B], ...}``: inputs are
``tokens[:, :-1]``, targets ``tokens[:, 1:]`` (already shifted: :func:`~hyperword.train.model.lm_loss`).

Loaders are single-process (``num_workers=0``): the trainer's batches cost little next to a
training step on these model sizes, and the loader's ``state_dict`` is then exactly where the
trainer stands. The rank and world size are always given explicitly (``hyperword.torch`` would
otherwise take them from an initialised ``torch.distributed``): a training rank reads its own
part of each corpus, while validation batches are the same whole set on every rank.

Validation batches are a fixed number of fixed batches of each held-out token directory, the
same for every run, arm and seed (drawn with the constant :data:`EVAL_SEED`), held in memory.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Mapping, Sequence

import torch

from hyperword.errors import ConfigError
from hyperword.torch import TokenDataset, TokenLoader
from hyperword.train.model import derive_seed
from hyperword.train.plans import MixtureSchedule, Stage

__all__ = ["EVAL_SEED", "EvalSets", "eval_batches", "make_loader", "stage_loader", "stream_key"]

#: the sampling seed of validation batches: a constant, so every run sees the same batches
EVAL_SEED = 20_240_601


def make_loader(
    corpora: Mapping[str, str | os.PathLike[str]],
    *,
    seq_len: int,
    batch_size: int,
    seed: int,
    weights: Mapping[str, float] | None = None,
    schedule: Callable[[int], Mapping[str, float]] | None = None,
    max_batches: int | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> TokenLoader:
    """A loader over ``corpora`` (name -> token directory) for ``rank`` of ``world_size``: fixed
    ``weights``, or a ``schedule`` (batch index -> weights), which then replaces them."""
    with torch.random.fork_rng(devices=[]):  # whatever set-up draws, the training RNG stream is untouched
        dataset = TokenDataset(
            {name: str(path) for name, path in corpora.items()},
            seq_len=seq_len,
            batch_size=batch_size,
            seed=seed,
            weights=None if weights is None or schedule is not None else dict(weights),
            schedule=schedule,
            max_batches=max_batches,
            rank=rank,
            world_size=world_size,
        )
        return TokenLoader(dataset, num_workers=0)


def stage_loader(
    stage: Stage,
    index: int,
    corpora: Mapping[str, str | os.PathLike[str]],
    *,
    seq_len: int,
    batch_size: int,
    seed: int,
    batches: int,
    rank: int = 0,
    world_size: int = 1,
) -> TokenLoader:
    """The loader of stage ``index`` of a run seeded ``seed`` on ``rank`` of ``world_size``: its
    mixture (or its schedule from ``mixture`` to ``mixture_end``) over the roles it names,
    ``batches`` micro-batches (on this rank), in an order seeded by (``seed``, ``index``), or by
    (``seed``, the stage's ``stream``) when it names one."""
    roles = stage.roles
    schedule = None if stage.mixture_end is None else MixtureSchedule(stage.mixture, stage.mixture_end, batches)
    where = index if stage.stream is None else stream_key(stage.stream)
    return make_loader(
        {role: corpora[role] for role in roles},
        seq_len=seq_len,
        batch_size=batch_size,
        seed=derive_seed(seed, where, 0xDA7A),
        weights={r: stage.mixture.get(r, 0.0) for r in roles},
        schedule=schedule,
        max_batches=batches,
        rank=rank,
        world_size=world_size,
    )


def stream_key(name: str) -> int:
    """A data stream's name as a seed word (the first 8 bytes of its sha256, so it is the same on
    every machine; stage indices are small, so a name never collides with one in practice)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") | (1 << 63)


def eval_batches(
    path: str | os.PathLike[str], *, seq_len: int, batch_size: int, batches: int, seed: int
) -> list[torch.Tensor]:
    """``batches`` fixed token batches of one validation directory: the same for every run,
    arm and seed of the experiment (``seed`` is a constant of the trainer, not the run's)."""
    loader = make_loader({"validation": path}, seq_len=seq_len, batch_size=batch_size, seed=seed, max_batches=batches)
    out = [batch["tokens"].to(torch.int64) for batch in itertools.islice(iter(loader), batches)]
    if len(out) != batches:
        raise ConfigError(f"validation corpus {str(path)!r} gave {len(out)} batches, {batches} were asked for")
    return out


class EvalSets:
    """The fixed validation batches of each validation set, held in memory (CPU)."""

    def __init__(self, batches: Mapping[str, Sequence[torch.Tensor]]) -> None:
        self.batches = {name: list(b) for name, b in batches.items()}

    @classmethod
    def load(
        cls, validation: Mapping[str, str | os.PathLike[str]], *, seq_len: int, batch_size: int, batches: int
    ) -> EvalSets:
        return cls(
            {
                name: eval_batches(path, seq_len=seq_len, batch_size=batch_size, batches=batches, seed=EVAL_SEED)
                for name, path in validation.items()
            }
        )

    @property
    def names(self) -> list[str]:
        return list(self.batches)
