"""Evaluation: validation loss on held-out token directories, a fixed number of fixed batches
(the same batches for every run, arm and seed), in whichever adapter view is asked for."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext

import torch

from hyperword.train.adapters import BASE, adapter_view
from hyperword.train.data import eval_batches, lm_loss

__all__ = ["EVAL_SEED", "EvalSets", "autocast", "evaluate", "evaluate_views", "view_name"]

#: the sampling seed of validation batches: a constant, so every run sees the same batches
EVAL_SEED = 20_240_601


def autocast(device: torch.device) -> AbstractContextManager[object]:
    """bf16 autocast on a GPU; fp32 (no autocast) on the CPU, where runs are exactly reproducible."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


def view_name(view: str | None) -> str:
    """How a view is named in results: the adapter's name, or ``base`` for the base model alone."""
    return BASE if view is None else view


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


@torch.no_grad()
def evaluate(model: torch.nn.Module, sets: EvalSets, device: torch.device) -> dict[str, float]:
    """Mean next-token loss per validation set, in the model's current adapter view; the model
    is put back in training mode if it was in it."""
    was_training = model.training
    model.eval()
    out: dict[str, float] = {}
    try:
        for name, batches in sets.batches.items():
            total, count = 0.0, 0
            for tokens in batches:
                with autocast(device):
                    loss = lm_loss(model, tokens.to(device), reduction="sum")
                total += float(loss)
                count += tokens[:, 1:].numel()
            out[name] = total / count
    finally:
        model.train(was_training)
    return out


def evaluate_views(
    model: torch.nn.Module, sets: EvalSets, device: torch.device, views: Sequence[str | None]
) -> dict[str, dict[str, float]]:
    """:func:`evaluate` in each of ``views`` (adapter names, ``None`` for the base model alone),
    keyed by :func:`view_name`; the model's adapter state is unchanged afterwards."""
    out: dict[str, dict[str, float]] = {}
    for view in views:
        with adapter_view(model, view):
            out[view_name(view)] = evaluate(model, sets, device)
    return out
