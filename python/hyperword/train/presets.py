"""Presets: everything about a run that is not the plan, the data or the seed; and the
learning-rate schedule that presets (and stages) set.

========  =====  =======  =====  =====  ===========  =======  ========  ===========================
preset    model  seq_len  batch  accum  tokens       lr       LoRA lr   evaluation
========  =====  =======  =====  =====  ===========  =======  ========  ===========================
``smoke`` tiny   64       8      1      16,384       3e-3     1e-2      every 4,096 tokens, 2 x 8
``cpu``   tiny   128      16     1      524,288      3e-3     1e-2      every 65,536 tokens, 4 x 16
``gpu``   base   1024     32     4      2.62B        6e-4     2e-3      every 16.8M tokens, 50 x 32
========  =====  =======  =====  =====  ===========  =======  ========  ===========================

``smoke`` is for tests (seconds per run). ``cpu`` is sized for the 2-core machine: the tiny model
trains at about 6k tokens/s there (measured, seq_len 128, batch 16, 2 threads), so a run is
about 90 s of training plus ~10 s of evaluation with two validation sets, and 4 arms x 3 seeds
fit in 30 minutes. ``gpu`` is a real budget for the ~120M ``base`` model (about 20
tokens per parameter, Chinchilla-style) in bf16 autocast.

Token budgets count trained target tokens (``seq_len`` per sequence); every budget, stage budget,
evaluation interval and checkpoint interval is a whole number of optimizer steps of
``seq_len * batch_size * grad_accum`` tokens. With ``N`` processes (torchrun) these are
per-process numbers and budgets stay global: a step trains ``N`` times as many tokens, so every
budget and interval must be a whole number of those larger steps (``gpu`` evaluates every 100
single-process steps: 1, 2 or 4 processes, not 8).

The learning-rate schedule of one stage (:class:`LRSchedule`): linear warm-up to the peak, then
one of three shapes.

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

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from hyperword.errors import ConfigError
from hyperword.train.adapters import LoraSpec
from hyperword.train.model import MAX_POSITIONS, get_size

__all__ = ["PRESETS", "SHAPES", "LRSchedule", "Preset", "check_shape", "get_preset", "make_scheduler"]


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


@dataclass(frozen=True)
class Preset:
    """Model size, data shape, budget, optimiser and evaluation settings of a run."""

    name: str
    size: str
    seq_len: int
    batch_size: int
    grad_accum: int
    tokens: int
    lr: float
    lora_lr: float
    warmup: float = 0.1
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    eval_every: int = 0
    eval_batches: int = 4
    eval_batch_size: int = 16
    checkpoint_every: int = 0
    lora: LoraSpec = field(default_factory=LoraSpec)
    schedule: str = "cosine"

    def __post_init__(self) -> None:
        get_size(self.size)
        check_shape(self.schedule)
        for name in (
            "seq_len",
            "batch_size",
            "grad_accum",
            "tokens",
            "eval_every",
            "eval_batches",
            "eval_batch_size",
            "checkpoint_every",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"preset {self.name!r}: {name} must be a positive integer, got {value!r}")
        if self.seq_len > MAX_POSITIONS:
            raise ConfigError(
                f"preset {self.name!r}: seq_len {self.seq_len} exceeds the model's {MAX_POSITIONS} positions"
            )
        for name in ("lr", "lora_lr", "grad_clip"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"preset {self.name!r}: {name} must be a positive number, got {value!r}")
        if not 0 <= self.weight_decay < 1:
            raise ConfigError(f"preset {self.name!r}: weight_decay must be in [0, 1), got {self.weight_decay!r}")
        step = self.step_tokens
        for name in ("tokens", "eval_every", "checkpoint_every"):
            if getattr(self, name) % step:
                raise ConfigError(
                    f"preset {self.name!r}: {name} ({getattr(self, name)}) is not a multiple of the {step} tokens of an optimizer step"
                )

    @property
    def step_tokens(self) -> int:
        """Target tokens per optimizer step."""
        return self.seq_len * self.batch_size * self.grad_accum

    @property
    def batch_tokens(self) -> int:
        """Target tokens per micro-batch."""
        return self.seq_len * self.batch_size

    def replace(self, **changes: Any) -> Preset:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["betas"] = list(self.betas)
        data["lora"] = self.lora.to_dict()
        return data


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        "smoke",
        "tiny",
        seq_len=64,
        batch_size=8,
        grad_accum=1,
        tokens=16_384,
        lr=3e-3,
        lora_lr=1e-2,
        eval_every=4_096,
        eval_batches=2,
        eval_batch_size=8,
        checkpoint_every=8_192,
    ),
    "cpu": Preset(
        "cpu",
        "tiny",
        seq_len=128,
        batch_size=16,
        grad_accum=1,
        tokens=524_288,
        lr=3e-3,
        lora_lr=1e-2,
        eval_every=65_536,
        eval_batches=4,
        eval_batch_size=16,
        checkpoint_every=131_072,
    ),
    "gpu": Preset(
        "gpu",
        "base",
        seq_len=1024,
        batch_size=32,
        grad_accum=4,
        tokens=131_072 * 20_000,
        lr=6e-4,
        lora_lr=2e-3,
        warmup=0.02,
        eval_every=131_072 * 128,
        eval_batches=50,
        eval_batch_size=32,
        checkpoint_every=131_072 * 1_000,
        lora=LoraSpec(r=16, alpha=32),
    ),
}


def get_preset(name: str | Preset) -> Preset:
    """The named preset (a :class:`Preset` passes through); ``ConfigError`` naming the known ones."""
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown preset {name!r}: expected one of {', '.join(PRESETS)}") from None
