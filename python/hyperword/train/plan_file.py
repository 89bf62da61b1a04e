"""Plan files: a plan as YAML or JSON, and its dictionary form.

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
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hyperword.errors import ConfigError
from hyperword.train.adapters import LoraSpec
from hyperword.train.plan import Plan, Stage, split_steps

__all__ = ["load_plan", "plan_from_dict"]

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
