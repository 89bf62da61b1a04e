"""The built-in arms of the experiment, under two protocols.

Every arm is a pre-stage of ``k`` tokens (mnemophrases, a control, or nothing) and ``n`` tokens
of natural text:

=======================  =================================================================
arm                      stages
=======================  =================================================================
``mnemo-first``          ``mnemo`` k (all weights), then ``natural`` n (all weights)
``joint``                one stage of k + n, ``mnemo`` and ``natural`` mixed k : n throughout
``natural-only``         ``natural`` n (no pre-stage)
``natural-first``        ``natural`` n, then ``mnemo`` k
``mnemo-first-lora``     ``mnemo`` k (all weights), then ``natural`` n training a LoRA adapter
                         ``lang`` over the frozen mnemo-trained model; ``lang`` also owns and
                         trains the embedding rows of the token ids the ``mnemo`` stage never
                         saw (``lora_tokens``, default ``new``)
``mnemo-adapter``        ``mnemo`` k training a LoRA adapter ``mnemo`` over the frozen (freshly
                         initialised) model, then ``natural`` n training all base weights with
                         the ``mnemo`` adapter on and frozen; evaluation reports natural loss
                         with the adapter on and off
``unfused-first``        control: ``unfused`` (the same lexicon words with spaces) k, then
                         ``natural`` n
``random-first``         control: ``random`` k (uniformly random token ids, same document
                         lengths as ``mnemo``; see :mod:`hyperword.train.corpora`), then
                         ``natural`` n
``shuffled-first``       control: ``shuffled`` k (the ``mnemo`` corpus's own tokens permuted
                         across the corpus: same unigram counts, no word structure), then
                         ``natural`` n
``unigram-first``        control: ``unigram`` k (tokens drawn independently from the ``mnemo``
                         corpus's token frequencies), then ``natural`` n
``dyck-first``           the anchor (Hu et al. 2025): ``dyck`` k (k-shuffle Dyck sequences, one
                         token per bracket), then ``natural`` n
``ngram-first``          the anchor's control: ``ngram`` k (samples of an n-gram model of the
                         natural training text's words), then ``natural`` n
``unfused-first-lora``   LoRA control: ``unfused`` k (all weights), then ``natural`` n as
                         ``mnemo-first-lora``'s ``lang`` adapter (and rows)
``random-lora``          LoRA control: ``natural`` n as the same ``lang`` adapter (and rows:
                         every id is new) over the frozen random initialisation (no pre-stage)
=======================  =================================================================

``matched`` (:func:`build_arm`): one fixed total ``T`` carved by the mnemo fraction ``f``:
``k = f * T`` rounded to whole optimizer steps, ``n = T - k``, so every arm trains exactly ``T``
tokens (``natural-only`` and ``random-lora`` train ``T`` natural tokens).

``additive`` (:func:`build_additive`, the protocol of Hu et al. 2025): the natural stage is the
same ``n = N`` tokens in every arm — the same batches in the same order (its stage names the
data ``stream`` ``natural``), the same schedule — and the pre-stage *adds* ``k`` tokens before
it; ``joint`` mixes the ``k`` tokens into one stage of ``N + k``. The optimizer is reset between
stages (every stage makes its own, with its own warm-up and decay) unless
``optimizer_state="keep"``, which starts every later stage from the previous stage's AdamW
moments for the parameters both train (the learning-rate schedule still starts afresh).

``bridge=w`` adds the ``bridge`` corpus to every stage with weight ``w`` (the stage's own weights
scaled by ``1 - w``); ``embeddings`` says how embeddings carry into the second stage of a
two-stage arm; ``lora_tokens`` which embedding rows the ``lang`` adapter owns (``none``,
``new``, ``all``: see :mod:`hyperword.train.plan`). ``mnemo-adapter``'s ``mnemo`` adapter owns
none: rows it owned would be overridden while it is on, so the natural stage could not train
them in the base weights.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hyperword.errors import ConfigError
from hyperword.train.plan import EMBEDDINGS, OPTIMIZER_STATE, TRAIN_TOKENS, Plan, Stage, split_steps
from hyperword.train.plan_file import load_plan
from hyperword.train.presets import Preset

__all__ = [
    "ARMS",
    "ARM_DESCRIPTIONS",
    "NATURAL_STREAM",
    "PROTOCOLS",
    "build_additive",
    "build_arm",
    "pre_role",
    "pre_tokens",
    "resolve_plan",
    "with_bridge",
]

#: the two ways of budgeting an arm (see the module documentation)
PROTOCOLS = ("additive", "matched")
#: the data stream every additive arm's natural stage reads
NATURAL_STREAM = "natural"


@dataclass(frozen=True)
class _Arm:
    """An arm's shape: its pre-stage corpus (``None``: none), and how it trains."""

    pre: str | None
    layout: str = "first"  # "first" (pre, natural), "last" (natural, pre), "joint" (one mixed stage)
    natural_lora: bool = False  # the natural stage trains the `lang` adapter over frozen weights
    pre_adapter: bool = False  # the pre-stage trains the `mnemo` adapter; the natural stage keeps it on
    description: str = ""


_ARMS: dict[str, _Arm] = {
    "mnemo-first": _Arm("mnemo", description="mnemophrases, then natural text"),
    "joint": _Arm("mnemo", "joint", description="mnemophrases and natural text mixed throughout"),
    "natural-only": _Arm(None, description="natural text only"),
    "natural-first": _Arm("mnemo", "last", description="natural text, then mnemophrases"),
    "mnemo-first-lora": _Arm(
        "mnemo",
        natural_lora=True,
        description="mnemophrases, then natural text as a LoRA adapter 'lang' over the frozen model",
    ),
    "mnemo-adapter": _Arm(
        "mnemo",
        pre_adapter=True,
        description="mnemophrases as a LoRA adapter 'mnemo', then natural text in all weights with that adapter on",
    ),
    "unfused-first": _Arm("unfused", description="control: the lexicon words with spaces, then natural text"),
    "random-first": _Arm("random", description="control: random token sequences, then natural text"),
    "shuffled-first": _Arm(
        "shuffled", description="control: the mnemo tokens shuffled across the corpus, then natural text"
    ),
    "unigram-first": _Arm(
        "unigram", description="control: tokens drawn from the mnemo unigram distribution, then natural text"
    ),
    "dyck-first": _Arm("dyck", description="the anchor: k-shuffle Dyck sequences, then natural text"),
    "ngram-first": _Arm(
        "ngram", description="the anchor's control: n-gram samples of the natural text's words, then natural text"
    ),
    "unfused-first-lora": _Arm(
        "unfused",
        natural_lora=True,
        description="LoRA control: unfused words, then natural text as the 'lang' adapter over the frozen model",
    ),
    "random-lora": _Arm(
        None,
        natural_lora=True,
        description="LoRA control: natural text as the 'lang' adapter over the frozen random initialisation",
    ),
}
#: every built-in arm, in the order of the table above
ARMS: tuple[str, ...] = tuple(_ARMS)
ARM_DESCRIPTIONS = {name: arm.description for name, arm in _ARMS.items()}


def pre_role(name: str) -> str | None:
    """The corpus role of built-in arm ``name``'s pre-stage (``None``: the arm has none)."""
    return _arm(name).pre


def _arm(name: str) -> _Arm:
    if name not in _ARMS:
        raise ConfigError(f"unknown arm {name!r}: expected one of {', '.join(ARMS)} (or a plan file)")
    return _ARMS[name]


def _check_options(embeddings: str, lora_tokens: str) -> None:
    if embeddings not in EMBEDDINGS:
        raise ConfigError(f"embeddings must be one of {', '.join(EMBEDDINGS)}, got {embeddings!r}")
    if lora_tokens not in TRAIN_TOKENS:
        raise ConfigError(f"lora_tokens must be one of {', '.join(TRAIN_TOKENS)}, got {lora_tokens!r}")


def _stages(
    name: str,
    pre: int,
    natural: int,
    joint_mixture: dict[str, float],
    *,
    embeddings: str,
    lora_tokens: str,
    stream: str | None,
) -> list[Stage]:
    """The stages of arm ``name`` with a pre-stage of ``pre`` tokens and ``natural`` natural tokens."""
    arm = _ARMS[name]
    if arm.layout == "joint":
        return [Stage("joint", joint_mixture, pre + natural)]
    lang = {"train_adapter": "lang", "train_tokens": lora_tokens} if arm.natural_lora else {}
    if arm.pre is None:
        return [Stage("natural", {"natural": 1.0}, natural, stream=stream, **lang)]  # type: ignore[arg-type]
    if arm.layout == "last":
        return [
            Stage("natural", {"natural": 1.0}, natural, stream=stream),
            Stage(arm.pre, {arm.pre: 1.0}, pre, embeddings=embeddings),
        ]
    if arm.pre_adapter:
        first, second = Stage(arm.pre, {arm.pre: 1.0}, pre, train_adapter="mnemo"), {"adapter": "mnemo"}
    else:
        first, second = Stage(arm.pre, {arm.pre: 1.0}, pre), dict(lang)
    if second.get("train_adapter") is not None and embeddings != "keep":
        raise ConfigError(
            f"arm {name!r}: its second stage trains a LoRA adapter over frozen embeddings, so embeddings must be 'keep'"
        )
    return [first, Stage("natural", {"natural": 1.0}, natural, embeddings=embeddings, stream=stream, **second)]  # type: ignore[arg-type]


def build_arm(
    name: str,
    *,
    total_tokens: int,
    step_tokens: int = 1,
    mnemo_fraction: float = 0.5,
    bridge: float = 0.0,
    embeddings: str = "keep",
    lora_tokens: str = "new",
    optimizer_state: str = "reset",
) -> Plan:
    """The ``matched`` plan of built-in arm ``name`` over ``total_tokens`` (a whole number of
    ``step_tokens``-token optimizer steps), the pre-stage taking ``mnemo_fraction`` of it.
    ``ConfigError`` for an unknown arm or bad numbers."""
    arm = _arm(name)
    if isinstance(mnemo_fraction, bool) or not isinstance(mnemo_fraction, (int, float)) or not 0 < mnemo_fraction < 1:
        raise ConfigError(f"mnemo fraction must be in (0, 1), got {mnemo_fraction!r}")
    _check_options(embeddings, lora_tokens)
    where = f"arm {name!r}"
    if (
        isinstance(total_tokens, bool)
        or not isinstance(total_tokens, int)
        or total_tokens < 1
        or total_tokens % step_tokens
    ):
        raise ConfigError(
            f"{where}: total_tokens {total_tokens!r} is not a positive multiple of the {step_tokens} tokens of an optimizer step"
        )
    f = float(mnemo_fraction)
    if arm.pre is None or arm.layout == "joint":
        pre, natural = 0, total_tokens
    else:
        # the pre-stage share is rounded once, so natural text gets the same budget in every arm
        pre, natural = split_steps(where, total_tokens, [f, 1.0 - f], step_tokens)
    joint = {"mnemo": f, "natural": 1.0 - f}
    stages = _stages(
        name,
        pre,
        natural - (pre if arm.layout == "joint" else 0),
        joint,
        embeddings=embeddings,
        lora_tokens=lora_tokens,
        stream=None,
    )
    plan = Plan(name, tuple(_optimizer(stages, optimizer_state)), total_tokens, description=arm.description)
    return with_bridge(plan, bridge) if bridge else plan


def build_additive(
    name: str,
    *,
    natural_tokens: int,
    fraction: float,
    step_tokens: int = 1,
    bridge: float = 0.0,
    embeddings: str = "keep",
    lora_tokens: str = "new",
    optimizer_state: str = "reset",
) -> Plan:
    """The ``additive`` plan of built-in arm ``name``: the natural stage of ``natural_tokens`` (a
    whole number of optimizer steps) and a pre-stage of ``fraction * natural_tokens`` rounded to
    whole steps (at least one) before it (see the module documentation). Arms without a
    pre-stage (``natural-only``, ``random-lora``) ignore ``fraction``."""
    arm = _arm(name)
    where = f"arm {name!r}"
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 4:
        raise ConfigError(f"pre-stage fraction must be in (0, 4], got {fraction!r}")
    _check_options(embeddings, lora_tokens)
    if (
        isinstance(natural_tokens, bool)
        or not isinstance(natural_tokens, int)
        or natural_tokens < 1
        or natural_tokens % step_tokens
    ):
        raise ConfigError(
            f"{where}: the natural budget {natural_tokens!r} is not a positive multiple of the {step_tokens} tokens of an optimizer step"
        )
    pre = 0 if arm.pre is None else pre_tokens(natural_tokens, fraction, step_tokens)
    joint = {"mnemo": pre / (pre + natural_tokens), "natural": natural_tokens / (pre + natural_tokens)}
    stages = _stages(
        name, pre, natural_tokens, joint, embeddings=embeddings, lora_tokens=lora_tokens, stream=NATURAL_STREAM
    )
    plan = Plan(name, tuple(_optimizer(stages, optimizer_state)), pre + natural_tokens, description=arm.description)
    return with_bridge(plan, bridge) if bridge else plan


def _optimizer(stages: list[Stage], state: str) -> list[Stage]:
    """``stages`` with every stage after the first keeping the optimizer state (``keep``) or not."""
    if state not in OPTIMIZER_STATE:
        raise ConfigError(f"optimizer state must be one of {', '.join(OPTIMIZER_STATE)}, got {state!r}")
    return [s if i == 0 or state == "reset" else dataclasses.replace(s, optimizer=state) for i, s in enumerate(stages)]


def pre_tokens(natural_tokens: int, fraction: float, step_tokens: int) -> int:
    """The pre-stage budget of the additive protocol: ``fraction * natural_tokens`` rounded to
    whole optimizer steps, at least one."""
    return max(1, round(fraction * natural_tokens / step_tokens)) * step_tokens


def with_bridge(plan: Plan, weight: float, stages: list[str] | None = None) -> Plan:
    """``plan`` with the ``bridge`` corpus added to ``stages`` (default: all) at ``weight`` of
    each stage's mixture, the stage's own weights scaled by ``1 - weight``."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 1:
        raise ConfigError(f"bridge weight must be in [0, 1), got {weight!r}")
    names = [s.name for s in plan.stages]
    unknown = sorted(set(stages or []) - set(names))
    if unknown:
        raise ConfigError(
            f"plan {plan.name!r} has no stage {', '.join(map(repr, unknown))} (stages: {', '.join(names)})"
        )

    def add(mixture: Mapping[str, float]) -> dict[str, float]:
        total = sum(mixture.values())
        out = {k: (1.0 - weight) * v / total for k, v in mixture.items() if k != "bridge"}
        out["bridge"] = weight + (1.0 - weight) * mixture.get("bridge", 0.0) / total
        return out

    new = []
    for s in plan.stages:
        if stages is None or s.name in stages:
            s = dataclasses.replace(
                s, mixture=add(s.mixture), mixture_end=None if s.mixture_end is None else add(s.mixture_end)
            )
        new.append(s)
    return Plan(
        plan.name if not weight else f"{plan.name}+bridge", tuple(new), plan.total_tokens, description=plan.description
    )


def resolve_plan(
    plan: Plan | str | os.PathLike[str],
    preset: Preset,
    *,
    mnemo_fraction: float = 0.5,
    bridge: float = 0.0,
    world_size: int = 1,
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
            resolved = build_arm(
                plan, total_tokens=preset.tokens, step_tokens=step, mnemo_fraction=mnemo_fraction, bridge=bridge
            )
        elif Path(plan).suffix.lower() in (".json", ".yaml", ".yml"):
            resolved = load_plan(plan, total_tokens=preset.tokens, step_tokens=step)
            resolved = with_bridge(resolved, bridge) if bridge else resolved
        else:
            raise ConfigError(
                f"unknown arm {str(plan)!r}: expected one of {', '.join(ARMS)}, or a .json/.yaml plan file"
            )
        resolved.check_steps(step)
    except ConfigError as e:
        if world_size == 1 or "optimizer step" not in str(e):
            raise
        raise ConfigError(f"{e} ({preset.step_tokens} tokens on each of {world_size} processes)") from None
    return resolved
