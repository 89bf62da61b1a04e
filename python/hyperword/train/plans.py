"""Curriculum plans, in one module: the :class:`Stage` and :class:`Plan` types, their file form
(YAML or JSON: :func:`load_plan`, :func:`plan_from_dict`), the built-in arms of the experiment
(:func:`build_arm`, :func:`build_additive`) and :func:`resolve_plan`, which turns whichever of
these a run is given into a checked :class:`Plan`.

Stages
------
A plan is a list of stages, each a corpus mixture, a token budget, what trains and its
learning-rate schedule. A stage trains all base weights (optionally with an earlier stage's
adapter on, frozen), or a named LoRA adapter over frozen weights. Corpus roles are names (``mnemo``, ``natural``,
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

Plan files
----------
.. code-block:: yaml

    name: mnemo-then-lang-adapter
    total_tokens: 524288          # optional: the preset's budget by default
    stages:
      - name: mnemo
        mixture: {mnemo: 0.9, bridge: 0.1}    # corpus roles -> weights
        fraction: 0.5                          # or tokens: 262144 (one or the other, in every stage)
      - name: natural
        mixture: {natural: 1}
        mixture_end: {natural: 0.5, mnemo: 0.5}  # optional: weights move linearly to these
        fraction: 0.5
        train: {lora: lang, r: 8, alpha: 16}   # or "full" (default), or "lora:lang" (the preset's LoRA)
        train_tokens: new                      # LoRA stages: embedding rows the new adapter owns: none | new | all
        embeddings: keep                       # keep | reset | reinit-new (full stages only)
        adapter: null                          # full stages: an earlier adapter kept on, frozen
        lr: 0.01                               # optional: peak; else the preset's (LoRA: lora_lr)
        warmup: 0.1                            # optional: fraction of the stage
        min_lr_ratio: 0.1                      # optional
        schedule: cosine                       # optional: cosine | wsd | constant (else the preset's)
        stream: natural                        # optional: stages sharing a stream name read the same batches
        optimizer: reset                       # optional: reset (a fresh AdamW) | keep (the previous stage's moments)

Budgets: every stage gives ``tokens``, or every stage a ``fraction`` of ``total_tokens``
(fractions summing to 1, rounded to whole optimizer steps, the last stage taking the remainder).
Unknown keys are errors (a typo must not silently fall back to a default). Numbers PyYAML reads
as text (``1e-3``: YAML 1.1 wants ``1.0e-3``) count as numbers.

The built-in arms
-----------------
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
                         lengths as ``mnemo``; see :mod:`hyperword.train.data`), then
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
``new``, ``all``: see *Stages* above). ``mnemo-adapter``'s ``mnemo`` adapter owns
none: rows it owned would be overridden while it is on, so the natural stage could not train
them in the base weights.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperword.errors import ConfigError
from hyperword.train.adapters import BASE, LoraSpec, check_adapter_name
from hyperword.train.presets import LRSchedule, Preset, check_shape

__all__ = [
    "ARMS",
    "ARM_DESCRIPTIONS",
    "EMBEDDINGS",
    "NATURAL_STREAM",
    "OPTIMIZER_STATE",
    "PROTOCOLS",
    "TRAIN_TOKENS",
    "MixtureSchedule",
    "Plan",
    "Stage",
    "build_additive",
    "build_arm",
    "load_plan",
    "plan_from_dict",
    "pre_role",
    "pre_tokens",
    "resolve_plan",
    "split_steps",
    "stage_schedule",
    "with_bridge",
]


# --- stages and plans -------------------------------------------------------------------------
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


def stage_schedule(stage: Stage, preset: Preset) -> LRSchedule:
    """The stage's learning-rate schedule: its own settings over the preset's (LoRA stages
    default to the preset's ``lora_lr``)."""
    peak = stage.lr if stage.lr is not None else preset.lr if stage.train_adapter is None else preset.lora_lr
    warmup = stage.warmup if stage.warmup is not None else preset.warmup
    min_ratio = stage.min_lr_ratio if stage.min_lr_ratio is not None else preset.min_lr_ratio
    shape = stage.schedule if stage.schedule is not None else preset.schedule
    return LRSchedule(peak, warmup, min_ratio, shape=shape)


# --- plan files ---------------------------------------------------------------------------------
_STAGE_KEYS = {
    "name",
    "mixture",
    "mixture_end",
    "tokens",
    "fraction",
    "train",
    "adapter",
    "embeddings",
    "train_tokens",
    "lr",
    "warmup",
    "min_lr_ratio",
    "schedule",
    "stream",
    "optimizer",
}
_PLAN_KEYS = {"name", "description", "total_tokens", "stages"}
_LORA_KEYS = {"lora", "r", "alpha", "dropout", "targets"}


def _number(value: Any) -> Any:
    """YAML 1.1 (PyYAML) reads ``1e-3`` as a string; numbers written that way count as numbers."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _numbers(value: Any) -> Any:
    return {k: _number(v) for k, v in value.items()} if isinstance(value, Mapping) else value


def _parse_train(where: str, value: Any) -> tuple[str | None, LoraSpec | None]:
    if value is None or value == "full":
        return None, None
    if isinstance(value, str) and value.startswith("lora:"):
        return value[5:], None
    if isinstance(value, Mapping):
        unknown = set(value) - _LORA_KEYS
        if "lora" not in value or unknown:
            raise ConfigError(
                f"{where}: train must be 'full', 'lora:NAME' or {{lora: NAME, r, alpha, dropout, targets}}; got {dict(value)!r}"
            )
        spec_keys = set(value) - {"lora"}
        spec = None
        if spec_keys:
            d = LoraSpec()
            spec = LoraSpec(
                r=value.get("r", d.r),
                alpha=value.get("alpha", d.alpha),
                dropout=_number(value.get("dropout", d.dropout)),
                targets=tuple(value.get("targets", d.targets)),
            )
        return str(value["lora"]), spec
    raise ConfigError(f"{where}: train must be 'full', 'lora:NAME' or a mapping with 'lora'; got {value!r}")


def plan_from_dict(
    data: Any, *, total_tokens: int | None = None, step_tokens: int = 1, name: str | None = None
) -> Plan:
    """A :class:`Plan` from its dictionary form (see the module doc). ``total_tokens`` is the
    budget when the data names none; ``step_tokens`` the rounding unit of fractions."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"a plan is a mapping with 'stages', got {type(data).__name__}")
    unknown = set(data) - _PLAN_KEYS
    if unknown:
        raise ConfigError(f"plan: unknown keys {sorted(unknown)} (known: {sorted(_PLAN_KEYS)})")
    plan_name = str(data.get("name") or name or "plan")
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise ConfigError(f"plan {plan_name!r}: 'stages' must be a non-empty list")
    total = data.get("total_tokens", total_tokens)
    budgets = _budgets(plan_name, raw_stages, total, step_tokens)
    stages = []
    for i, raw in enumerate(raw_stages):
        where = f"plan {plan_name!r}, stage {i + 1}"
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: a stage is a mapping, got {raw!r}")
        unknown = set(raw) - _STAGE_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_STAGE_KEYS)})")
        train_adapter, spec = _parse_train(where, raw.get("train"))
        stages.append(
            Stage(
                name=str(raw.get("name", f"stage{i + 1}")),
                mixture=_numbers(raw.get("mixture")),
                tokens=budgets[i],
                train_adapter=train_adapter,
                lora=spec,
                adapter=raw.get("adapter"),
                embeddings=raw.get("embeddings", "keep"),
                mixture_end=_numbers(raw.get("mixture_end")),
                lr=_number(raw.get("lr")),
                warmup=_number(raw.get("warmup")),
                min_lr_ratio=_number(raw.get("min_lr_ratio")),
                train_tokens=raw.get("train_tokens", "none"),
                schedule=raw.get("schedule"),
                stream=raw.get("stream"),
                optimizer=raw.get("optimizer", "reset"),
            )
        )
    plan_total = sum(budgets) if total is None else total
    return Plan(plan_name, tuple(stages), plan_total, description=str(data.get("description", "")))


def _budgets(plan_name: str, raw_stages: list[Any], total: Any, step_tokens: int) -> list[int]:
    """Each stage's tokens: given directly, or fractions of ``total`` rounded to steps."""
    where = f"plan {plan_name!r}"
    kinds = {("tokens" in s) + 2 * ("fraction" in s) if isinstance(s, Mapping) else 0 for s in raw_stages}
    if kinds == {1}:
        return [s["tokens"] for s in raw_stages]
    if kinds != {2}:
        raise ConfigError(
            f"{where}: every stage gives its budget as 'tokens' or every stage as 'fraction' (not both, not neither)"
        )
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise ConfigError(f"{where}: budgets given as fractions need total_tokens (a positive integer), got {total!r}")
    fractions = [_number(s["fraction"]) for s in raw_stages]
    if any(isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1 for f in fractions):
        raise ConfigError(f"{where}: fractions must be in (0, 1], got {fractions}")
    if abs(sum(fractions) - 1) > 1e-9:
        raise ConfigError(
            f"{where}: stage budgets do not add up: fractions {fractions} sum to {sum(fractions):g}, not 1"
        )
    if total % step_tokens:
        raise ConfigError(
            f"{where}: total_tokens {total} is not a multiple of the {step_tokens} tokens of an optimizer step"
        )
    return split_steps(where, total, fractions, step_tokens)


def load_plan(path: str | os.PathLike[str], *, total_tokens: int | None = None, step_tokens: int = 1) -> Plan:
    """Read a plan file: ``.json``, or ``.yaml``/``.yml``; the plan's name defaults to the file's stem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"plan file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"plan file {str(p)!r} cannot be read: {e}") from None
    suffix = p.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ConfigError(f"plan file {str(p)!r}: not valid JSON: {e}") from None
    elif suffix in (".yaml", ".yml"):
        import yaml  # type: ignore[import-untyped,unused-ignore]  # PyYAML ships no type information

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"plan file {str(p)!r}: not valid YAML: {e}") from None
    else:
        raise ConfigError(f"plan file {str(p)!r}: expected a .json, .yaml or .yml file")
    return plan_from_dict(data, total_tokens=total_tokens, step_tokens=step_tokens, name=p.stem)


# --- the built-in arms ----------------------------------------------------------------------------
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


def _check_budget(what: str, tokens: object, step_tokens: int) -> None:
    """``ConfigError`` unless ``tokens`` is a positive whole number of ``step_tokens``-token steps."""
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1 or tokens % step_tokens:
        raise ConfigError(
            f"{what} {tokens!r} is not a positive multiple of the {step_tokens} tokens of an optimizer step"
        )


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
    _check_budget(f"{where}: total_tokens", total_tokens, step_tokens)
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
    _check_budget(f"{where}: the natural budget", natural_tokens, step_tokens)
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
