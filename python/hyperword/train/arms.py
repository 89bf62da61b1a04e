"""The built-in arms of the experiment, all over the same total token budget.

With mnemo fraction ``f`` (0.5 by default) of a budget of ``T`` tokens:

=====================  ===================================================================
arm                    stages
=====================  ===================================================================
``mnemo-first``        ``mnemo`` f*T (all weights), then ``natural`` (1-f)*T (all weights)
``joint``              one stage of T, ``mnemo`` and ``natural`` mixed f : 1-f throughout
``natural-only``       ``natural`` T
``natural-first``      ``natural`` (1-f)*T, then ``mnemo`` f*T
``mnemo-first-lora``   ``mnemo`` f*T (all weights), then ``natural`` (1-f)*T training a LoRA
                       adapter ``lang`` over the frozen mnemo-trained model; ``lang`` also
                       owns and trains the embedding rows of the token ids the ``mnemo``
                       stage never saw (``lora_tokens``, default ``new``)
``mnemo-adapter``      ``mnemo`` f*T training a LoRA adapter ``mnemo`` over the frozen
                       (freshly initialised) model, then ``natural`` (1-f)*T training all
                       base weights with the ``mnemo`` adapter on and frozen; evaluation
                       reports natural loss with the adapter on and off
``unfused-first``      control: ``unfused`` (the same lexicon words with spaces) f*T, then
                       ``natural`` (1-f)*T
``random-first``       control: ``random`` f*T (uniformly random token ids, same document
                       lengths as ``mnemo``; see :mod:`hyperword.train.corpora`), then
                       ``natural`` (1-f)*T
=====================  ===================================================================

Stage budgets are whole optimizer steps: ``f * steps`` rounded, the second stage taking the
rest, so every arm of a preset trains exactly the same number of tokens. ``bridge=w`` adds the
``bridge`` corpus to every stage with weight ``w`` (the stage's own weights scaled by ``1 - w``);
``embeddings`` says how embeddings carry into the second stage of a two-stage arm;
``lora_tokens`` which embedding rows ``mnemo-first-lora``'s ``lang`` adapter owns (``none``,
``new``, ``all``: see :mod:`hyperword.train.plan`). ``mnemo-adapter``'s ``mnemo`` adapter owns
none: rows it owned would be overridden while it is on, so the natural stage could not train
them in the base weights.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from hyperword._hyperword import ConfigError
from hyperword.train.plan import EMBEDDINGS, TRAIN_TOKENS, Plan, Stage, split_steps
from hyperword.train.plan_file import load_plan
from hyperword.train.presets import Preset

__all__ = ["ARMS", "ARM_DESCRIPTIONS", "build_arm", "resolve_plan", "with_bridge"]

_Shape = list[tuple[str, dict[str, float], str]]  # (stage name, mixture, "first"/"second"/"all")


def _two(first: str, second: str) -> Callable[[float], _Shape]:
    return lambda f: [(first, {first: 1.0}, "first"), (second, {second: 1.0}, "second")]


_SHAPES: dict[str, Callable[[float], _Shape]] = {
    "mnemo-first": _two("mnemo", "natural"),
    "joint": lambda f: [("joint", {"mnemo": f, "natural": 1.0 - f}, "all")],
    "natural-only": lambda f: [("natural", {"natural": 1.0}, "all")],
    "natural-first": lambda f: [("natural", {"natural": 1.0}, "second"), ("mnemo", {"mnemo": 1.0}, "first")],
    "mnemo-first-lora": _two("mnemo", "natural"),
    "mnemo-adapter": _two("mnemo", "natural"),
    "unfused-first": _two("unfused", "natural"),
    "random-first": _two("random", "natural"),
}
#: every built-in arm, in the order of the table above
ARMS: tuple[str, ...] = tuple(_SHAPES)
ARM_DESCRIPTIONS = {
    "mnemo-first": "mnemophrases, then natural text",
    "joint": "mnemophrases and natural text mixed throughout",
    "natural-only": "natural text only",
    "natural-first": "natural text, then mnemophrases",
    "mnemo-first-lora": "mnemophrases, then natural text as a LoRA adapter 'lang' over the frozen model",
    "mnemo-adapter": "mnemophrases as a LoRA adapter 'mnemo', then natural text in all weights with that adapter on",
    "unfused-first": "control: the lexicon words with spaces, then natural text",
    "random-first": "control: random token sequences, then natural text",
}


def build_arm(
    name: str,
    *,
    total_tokens: int,
    step_tokens: int = 1,
    mnemo_fraction: float = 0.5,
    bridge: float = 0.0,
    embeddings: str = "keep",
    lora_tokens: str = "new",
) -> Plan:
    """The plan of built-in arm ``name`` over ``total_tokens`` (a whole number of
    ``step_tokens``-token optimizer steps). ``ConfigError`` for an unknown arm or bad numbers."""
    if name not in _SHAPES:
        raise ConfigError(f"unknown arm {name!r}: expected one of {', '.join(ARMS)} (or a plan file)")
    if isinstance(mnemo_fraction, bool) or not isinstance(mnemo_fraction, (int, float)) or not 0 < mnemo_fraction < 1:
        raise ConfigError(f"mnemo fraction must be in (0, 1), got {mnemo_fraction!r}")
    if embeddings not in EMBEDDINGS:
        raise ConfigError(f"embeddings must be one of {', '.join(EMBEDDINGS)}, got {embeddings!r}")
    if lora_tokens not in TRAIN_TOKENS:
        raise ConfigError(f"lora_tokens must be one of {', '.join(TRAIN_TOKENS)}, got {lora_tokens!r}")
    where = f"arm {name!r}"
    if isinstance(total_tokens, bool) or not isinstance(total_tokens, int) or total_tokens < 1 or total_tokens % step_tokens:
        raise ConfigError(f"{where}: total_tokens {total_tokens!r} is not a positive multiple of the {step_tokens} tokens of an optimizer step")
    shape = _SHAPES[name](float(mnemo_fraction))
    if len(shape) == 1:
        budgets = [total_tokens]
    else:
        # the mnemo-side share is rounded once, so natural text gets the same budget in every arm
        first, second = split_steps(where, total_tokens, [float(mnemo_fraction), 1.0 - float(mnemo_fraction)], step_tokens)
        budgets = [first if part == "first" else second for _, _, part in shape]
    stages = []
    for i, ((stage_name, mixture, _), tokens) in enumerate(zip(shape, budgets)):
        train_adapter = adapter = None
        train_tokens = "none"
        if name == "mnemo-first-lora" and i == 1:
            train_adapter, train_tokens = "lang", lora_tokens
        if name == "mnemo-adapter":
            train_adapter, adapter = ("mnemo", None) if i == 0 else (None, "mnemo")
        stage_embeddings = embeddings if i > 0 else "keep"
        if train_adapter is not None and stage_embeddings != "keep":
            raise ConfigError(f"{where}: its second stage trains a LoRA adapter over frozen embeddings, so embeddings must be 'keep'")
        stages.append(
            Stage(stage_name, mixture, tokens, train_adapter=train_adapter, adapter=adapter, embeddings=stage_embeddings, train_tokens=train_tokens)
        )
    plan = Plan(name, tuple(stages), total_tokens, description=ARM_DESCRIPTIONS[name])
    return with_bridge(plan, bridge) if bridge else plan


def with_bridge(plan: Plan, weight: float, stages: list[str] | None = None) -> Plan:
    """``plan`` with the ``bridge`` corpus added to ``stages`` (default: all) at ``weight`` of
    each stage's mixture, the stage's own weights scaled by ``1 - weight``."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 1:
        raise ConfigError(f"bridge weight must be in [0, 1), got {weight!r}")
    names = [s.name for s in plan.stages]
    unknown = sorted(set(stages or []) - set(names))
    if unknown:
        raise ConfigError(f"plan {plan.name!r} has no stage {', '.join(map(repr, unknown))} (stages: {', '.join(names)})")

    def add(mixture: Mapping[str, float]) -> dict[str, float]:
        total = sum(mixture.values())
        out = {k: (1.0 - weight) * v / total for k, v in mixture.items() if k != "bridge"}
        out["bridge"] = weight + (1.0 - weight) * mixture.get("bridge", 0.0) / total
        return out

    new = []
    for s in plan.stages:
        if stages is None or s.name in stages:
            s = dataclasses.replace(s, mixture=add(s.mixture), mixture_end=None if s.mixture_end is None else add(s.mixture_end))
        new.append(s)
    return Plan(plan.name if not weight else f"{plan.name}+bridge", tuple(new), plan.total_tokens, description=plan.description)


def resolve_plan(
    plan: Plan | str | os.PathLike[str], preset: Preset, *, mnemo_fraction: float = 0.5, bridge: float = 0.0, world_size: int = 1
) -> Plan:
    """A :class:`Plan` as it is, a built-in arm by name, or a plan file (``.json``/``.yaml``),
    over the preset's token budget and optimizer step; ``ConfigError`` when it is none of these
    or its budgets are not whole steps. Budgets are global: with ``world_size`` processes an
    optimizer step trains ``world_size`` times the preset's step tokens."""
    step = preset.step_tokens * world_size
    try:
        if isinstance(plan, Plan):
            resolved = with_bridge(plan, bridge) if bridge else plan
        elif isinstance(plan, str) and plan in ARMS:
            resolved = build_arm(plan, total_tokens=preset.tokens, step_tokens=step, mnemo_fraction=mnemo_fraction, bridge=bridge)
        elif Path(plan).suffix.lower() in (".json", ".yaml", ".yml"):
            resolved = load_plan(plan, total_tokens=preset.tokens, step_tokens=step)
            resolved = with_bridge(resolved, bridge) if bridge else resolved
        else:
            raise ConfigError(f"unknown arm {str(plan)!r}: expected one of {', '.join(ARMS)}, or a .json/.yaml plan file")
        resolved.check_steps(step)
    except ConfigError as e:
        if world_size == 1 or "optimizer step" not in str(e):
            raise
        raise ConfigError(f"{e} ({preset.step_tokens} tokens on each of {world_size} processes)") from None
    return resolved
