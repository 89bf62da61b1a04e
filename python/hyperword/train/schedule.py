"""Learning-rate schedule of one stage: linear warm-up to the peak, then one of three shapes.

Every stage runs its own schedule over its own steps (a curriculum stage re-warms): the
factor of step ``s`` of ``n`` (``s`` counts completed optimizer steps, as ``LambdaLR`` does) is
``(s + 1) / w`` while ``s < w``, with ``w = round(warmup * n)`` warm-up steps, and after that

- ``cosine`` (the default): ``min_ratio + (1 - min_ratio) * (1 + cos(pi * p)) / 2``,
  ``p = (s - w) / max(1, n - 1 - w)`` (so the last step ``s = n - 1`` runs at exactly
  ``min_ratio``), clamped at ``p = 1``;
- ``wsd`` (warm-up, stable, decay): the peak until the last ``d = round(decay * n)`` steps, then
  linearly down to ``min_ratio`` at the last step;
- ``constant``: the peak to the end.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch

from hyperword.errors import ConfigError

__all__ = ["SHAPES", "LRSchedule", "check_shape", "make_scheduler"]

#: the schedule shapes after warm-up
SHAPES = ("cosine", "wsd", "constant")


def check_shape(shape: object) -> str:
    """``shape`` when it is one of :data:`SHAPES`; ``ConfigError`` naming them otherwise."""
    if not isinstance(shape, str) or shape not in SHAPES:
        raise ConfigError(f"unknown learning-rate schedule {shape!r}: expected one of {', '.join(SHAPES)}")
    return shape


@dataclass(frozen=True)
class LRSchedule:
    """``peak`` learning rate, ``warmup`` as a fraction of the stage's steps, ``min_ratio`` of the
    peak reached at the end, the ``shape`` after warm-up and (``wsd``) the ``decay`` fraction."""

    peak: float
    warmup: float = 0.1
    min_ratio: float = 0.1
    shape: str = "cosine"
    decay: float = 0.2

    def __post_init__(self) -> None:
        if not (isinstance(self.peak, (int, float)) and math.isfinite(self.peak) and self.peak > 0):
            raise ConfigError(f"learning rate must be a positive number, got {self.peak!r}")
        if not (isinstance(self.warmup, (int, float)) and 0 <= self.warmup < 1):
            raise ConfigError(f"warm-up must be a fraction of the stage in [0, 1), got {self.warmup!r}")
        if not (isinstance(self.min_ratio, (int, float)) and 0 <= self.min_ratio <= 1):
            raise ConfigError(f"min_lr_ratio must be in [0, 1], got {self.min_ratio!r}")
        check_shape(self.shape)
        if not (isinstance(self.decay, (int, float)) and 0 < self.decay <= 1):
            raise ConfigError(f"the wsd decay must be a fraction of the stage in (0, 1], got {self.decay!r}")

    def warmup_steps(self, total: int) -> int:
        return min(total, round(self.warmup * total))

    def factor(self, step: int, total: int) -> float:
        """The multiplier of the peak at optimizer step ``step`` (0-based) of ``total``."""
        w = self.warmup_steps(total)
        if step < w:
            return (step + 1) / w
        if self.shape == "constant":
            return 1.0
        if self.shape == "wsd":
            d = max(1, round(self.decay * total))
            start = max(w, total - d)  # the first decaying step
            if step < start:
                return 1.0
            progress = min(1.0, (step - start + 1) / max(1, total - start))
            return 1.0 - (1.0 - self.min_ratio) * progress
        progress = min(1.0, (step - w) / max(1, total - 1 - w))
        return self.min_ratio + (1.0 - self.min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def lr(self, step: int, total: int) -> float:
        return self.peak * self.factor(step, total)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_scheduler(
    optimizer: torch.optim.Optimizer, schedule: LRSchedule, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` over ``optimizer`` (whose groups' ``lr`` must be the peak) following
    ``schedule`` for ``total_steps`` steps. Its ``state_dict`` holds the step count only (the
    factor is a plain function), so a resumed run rebuilds it the same way and loads it."""
    if total_steps < 1:
        raise ConfigError(f"a stage needs at least one optimizer step, got {total_steps}")

    def factor(step: int) -> float:
        return schedule.factor(step, total_steps)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
