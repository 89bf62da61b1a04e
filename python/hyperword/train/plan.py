"""Curriculum plans: a list of stages, each a corpus mixture, a token budget, what trains and
its learning-rate schedule (the file form: :mod:`hyperword.train.plan_file`; built-in arms:
:mod:`hyperword.train.arms`).

A stage trains all base weights (optionally with an earlier stage's adapter on, frozen), or a
named LoRA adapter over frozen weights. Corpus roles are names (``mnemo``, ``natural``,
``unfused``, ``bridge``, ``random``, or any other) that whoever runs the plan maps to token
directories. A mixture's weights may move linearly to ``mixture_end`` over the stage.

Embeddings at the start of a full stage: ``keep`` (as trained so far), ``reset`` (every row drawn
afresh from the initial distribution) or ``reinit-new`` (only rows of token ids that no earlier
stage trained on are drawn afresh). A LoRA stage freezes the base embeddings, so only ``keep``
is allowed there; instead its new adapter may own rows of its own (``train_tokens``): ``none``,
``new`` (the ids no earlier stage trained on, which would otherwise keep their random initial
rows) or ``all``. They are trained with the adapter and switched off with it.

Budgets must add up: stage token budgets sum exactly to the plan's ``total_tokens``, each a
whole number of optimizer steps (:meth:`Plan.check_steps`).

A stage's batches are drawn in an order seeded by (run seed, stage index), or by (run seed,
``stream``) when the stage names a ``stream``: stages of different plans that share a stream
name and a seed read the same batches in the same order, wherever they stand in their plans
(the experiment's additive protocol gives every arm the same natural stage this way).
A stage may set its own learning-rate ``schedule`` shape (``cosine``, ``wsd``, ``constant``).
Every stage makes its own AdamW (``optimizer: reset``, the default), or starts from the previous
stage's moments and step counts for the parameters both train (``optimizer: keep``); its
learning-rate schedule starts afresh either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hyperword.errors import ConfigError
from hyperword.train.adapters import BASE, LoraSpec, check_adapter_name
from hyperword.train.schedule import check_shape

__all__ = ["EMBEDDINGS", "OPTIMIZER_STATE", "TRAIN_TOKENS", "MixtureSchedule", "Plan", "Stage", "split_steps"]

EMBEDDINGS = ("keep", "reset", "reinit-new")
#: what a stage's optimizer starts from: a fresh AdamW (``reset``), or the previous stage's
#: moments for the parameters both train (``keep``)
OPTIMIZER_STATE = ("reset", "keep")
#: which embedding rows a LoRA stage's new adapter owns and trains
TRAIN_TOKENS = ("none", "new", "all")


def _check_mixture(where: str, mixture: Any) -> dict[str, float]:
    if not isinstance(mixture, Mapping) or not mixture:
        raise ConfigError(f"{where}: a mixture is a non-empty mapping of corpus roles to weights, got {mixture!r}")
    out: dict[str, float] = {}
    for role, weight in mixture.items():
        if not isinstance(role, str) or not role:
            raise ConfigError(f"{where}: corpus role {role!r} is not a name")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ConfigError(f"{where}: weight of {role!r} must be a finite number >= 0, got {weight!r}")
        out[role] = float(weight)
    if sum(out.values()) <= 0:
        raise ConfigError(f"{where}: the weights sum to 0")
    return out


@dataclass(frozen=True)
class Stage:
    """One stage: ``tokens`` target tokens drawn from ``mixture``; ``train_adapter`` ``None``
    trains all base weights (with adapter ``adapter`` on, frozen, if given), a name trains that
    LoRA adapter (``lora``, or the preset's spec, when it is new) over frozen weights, with its
    own rows of the embeddings as ``train_tokens`` says (when it is new)."""

    name: str
    mixture: dict[str, float]
    tokens: int
    train_adapter: str | None = None
    lora: LoraSpec | None = None
    adapter: str | None = None
    embeddings: str = "keep"
    mixture_end: dict[str, float] | None = None
    train_tokens: str = "none"
    lr: float | None = None
    warmup: float | None = None
    min_lr_ratio: float | None = None
    schedule: str | None = None
    stream: str | None = None
    optimizer: str = "reset"

    def __post_init__(self) -> None:
        where = f"stage {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a stage needs a name, got {self.name!r}")
        object.__setattr__(self, "mixture", _check_mixture(where, self.mixture))
        if self.mixture_end is not None:
            object.__setattr__(self, "mixture_end", _check_mixture(f"{where} (mixture_end)", self.mixture_end))
        if isinstance(self.tokens, bool) or not isinstance(self.tokens, int) or self.tokens < 1:
            raise ConfigError(f"{where}: token budget must be a positive integer, got {self.tokens!r}")
        if self.embeddings not in EMBEDDINGS:
            raise ConfigError(f"{where}: embeddings must be one of {', '.join(EMBEDDINGS)}, got {self.embeddings!r}")
        if self.train_tokens not in TRAIN_TOKENS:
            raise ConfigError(
                f"{where}: train_tokens must be one of {', '.join(TRAIN_TOKENS)}, got {self.train_tokens!r}"
            )
        if self.train_adapter is None and self.train_tokens != "none":
            raise ConfigError(
                f"{where}: train_tokens {self.train_tokens!r} is for a stage that trains a LoRA adapter; this one trains all weights"
            )
        if self.train_adapter is not None:
            check_adapter_name(self.train_adapter)
            if self.adapter is not None and self.adapter != self.train_adapter:
                raise ConfigError(f"{where}: trains adapter {self.train_adapter!r}, so no other adapter can be on")
            if self.embeddings != "keep":
                raise ConfigError(
                    f"{where}: trains a LoRA adapter over frozen weights, so embeddings must be 'keep' (got {self.embeddings!r})"
                )
        elif self.lora is not None:
            raise ConfigError(f"{where}: LoRA settings given but the stage trains all weights")
        if self.adapter is not None:
            check_adapter_name(self.adapter)
        for name in ("lr", "warmup", "min_lr_ratio"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                raise ConfigError(f"{where}: {name} must be a number, got {value!r}")
        if self.schedule is not None:
            try:
                check_shape(self.schedule)
            except ConfigError as e:
                raise ConfigError(f"{where}: {e}") from None
        if self.optimizer not in OPTIMIZER_STATE:
            raise ConfigError(f"{where}: optimizer must be one of {', '.join(OPTIMIZER_STATE)}, got {self.optimizer!r}")
        if self.stream is not None and (not isinstance(self.stream, str) or not self.stream):
            raise ConfigError(f"{where}: stream must be a non-empty name, got {self.stream!r}")

    @property
    def view(self) -> str | None:
        """The adapter the forward pass uses during this stage (``None``: the base model alone)."""
        return self.train_adapter if self.train_adapter is not None else self.adapter

    @property
    def owner(self) -> str:
        """Whose parameters this stage trains: an adapter name or ``base``."""
        return self.train_adapter if self.train_adapter is not None else BASE

    @property
    def roles(self) -> list[str]:
        return sorted(set(self.mixture) | set(self.mixture_end or {}))

    @property
    def trains(self) -> str:
        return "full" if self.train_adapter is None else f"lora:{self.train_adapter}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "mixture": dict(self.mixture), "tokens": self.tokens}
        if self.mixture_end is not None:
            data["mixture_end"] = dict(self.mixture_end)
        if self.train_adapter is None:
            data["train"] = "full"
        else:
            data["train"] = {"lora": self.train_adapter, **(self.lora.to_dict() if self.lora else {})}
            data["train_tokens"] = self.train_tokens
        if self.adapter is not None and self.train_adapter is None:
            data["adapter"] = self.adapter
        data["embeddings"] = self.embeddings
        for name in ("lr", "warmup", "min_lr_ratio", "schedule", "stream"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.optimizer != "reset":
            data["optimizer"] = self.optimizer
        return data


@dataclass(frozen=True)
class Plan:
    """Stages run in order; their budgets sum to ``total_tokens``."""

    name: str
    stages: tuple[Stage, ...]
    total_tokens: int
    description: str = ""

    def __post_init__(self) -> None:
        where = f"plan {self.name!r}"
        object.__setattr__(self, "stages", tuple(self.stages))
        if not self.stages:
            raise ConfigError(f"{where}: no stages")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}: stage names repeat: {names}")
        if isinstance(self.total_tokens, bool) or not isinstance(self.total_tokens, int) or self.total_tokens < 1:
            raise ConfigError(f"{where}: total_tokens must be a positive integer, got {self.total_tokens!r}")
        spent = sum(s.tokens for s in self.stages)
        if spent != self.total_tokens:
            budgets = " + ".join(str(s.tokens) for s in self.stages)
            raise ConfigError(
                f"{where}: stage budgets do not add up: {budgets} = {spent}, but the plan's total is {self.total_tokens}"
            )
        made: set[str] = set()
        for s in self.stages:
            if s.train_adapter is not None:
                if s.lora is not None and s.train_adapter in made:
                    raise ConfigError(
                        f"{where}, stage {s.name!r}: adapter {s.train_adapter!r} exists already; LoRA settings apply to a new one"
                    )
                made.add(s.train_adapter)
            elif s.adapter is not None and s.adapter not in made:
                raise ConfigError(
                    f"{where}, stage {s.name!r}: adapter {s.adapter!r} is not trained by an earlier stage"
                )

    @property
    def roles(self) -> list[str]:
        """Every corpus role the plan draws from."""
        return sorted({r for s in self.stages for r in s.roles})

    @property
    def adapters(self) -> list[str]:
        """The adapters the plan creates, in order."""
        out: list[str] = []
        for s in self.stages:
            if s.train_adapter is not None and s.train_adapter not in out:
                out.append(s.train_adapter)
        return out

    def check_steps(self, step_tokens: int) -> None:
        """Every stage budget a whole number of optimizer steps of ``step_tokens`` tokens."""
        for s in self.stages:
            if s.tokens % step_tokens:
                raise ConfigError(
                    f"plan {self.name!r}, stage {s.name!r}: budget {s.tokens} is not a multiple of the {step_tokens} tokens of an optimizer step"
                )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "total_tokens": self.total_tokens,
            "stages": [s.to_dict() for s in self.stages],
        }
        if self.description:
            data["description"] = self.description
        return data


class MixtureSchedule:
    """Weights moving linearly from ``start`` to ``end`` over ``batches`` batches (the
    ``schedule`` callable of a ``TokenDataset``: batch index -> weights; a plain object, so it
    pickles into data-loader workers)."""

    def __init__(self, start: Mapping[str, float], end: Mapping[str, float], batches: int) -> None:
        self.start = dict(start)
        self.end = dict(end)
        self.batches = batches
        self.names = sorted(set(self.start) | set(self.end))

    def __call__(self, step: int) -> dict[str, float]:
        t = min(1.0, max(0.0, step / max(1, self.batches - 1)))
        return {n: (1 - t) * self.start.get(n, 0.0) + t * self.end.get(n, 0.0) for n in self.names}


def split_steps(where: str, total: int, fractions: list[float], step_tokens: int) -> list[int]:
    """``total`` tokens split by ``fractions`` into whole optimizer steps (the last part takes the
    remainder); ``ConfigError`` when a part would get no step."""
    steps = total // step_tokens
    parts = [round(f * steps) for f in fractions[:-1]]
    parts.append(steps - sum(parts))
    if any(p < 1 for p in parts):
        raise ConfigError(
            f"{where}: a budget of {steps} optimizer steps split by {fractions} leaves a stage without a step"
        )
    return [p * step_tokens for p in parts]
