"""Everything about a run checked before any training starts: the plan (arm name or file), the
preset, the seed, the corpus role mapping (a stage naming a missing corpus is an error), one
tokenizer across every token directory, that every stage's loader can be made (a corpus too
small for a batch is an error), and what the output directory already holds (a run of another
configuration, or a checkpoint of another model size, is an error).

The result, :class:`Setup`, carries the run's fingerprint: the sha256 of the plan, preset,
seed, corpus and validation fingerprints and tokenizer hash. A checkpoint resumes only a run with
the same fingerprint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hyperword._hyperword import ConfigError
from hyperword.shards import fingerprint
from hyperword.train.arms import resolve_plan
from hyperword.train.checkpoint import find_checkpoint, model_config, read_trainer_state
from hyperword.train.corpora import TokenDir, check_tokenizer, describe, random_twin
from hyperword.train.data import make_loader, stage_loader
from hyperword.train.model import describe_config, get_size, size_of
from hyperword.train.plan import Plan
from hyperword.train.presets import Preset, get_preset
from hyperword.train.results import RunResult, read_run

__all__ = ["TRAINER_VERSION", "Setup", "prepare_run"]

#: part of every run's fingerprint: bump when the same inputs would train differently
TRAINER_VERSION = 1
RANDOM = "random"


@dataclass(frozen=True)
class Setup:
    """A checked run: resolved plan and preset, token directories by role (the random twin
    included), validation directories, the shared tokenizer, the fingerprint, and what the
    output directory holds (a finished result, a checkpoint to resume, or nothing)."""

    plan: Plan
    preset: Preset
    seed: int
    out: Path
    device: torch.device
    corpora: dict[str, TokenDir]
    validation: dict[str, TokenDir]
    tokenizer: TokenDir
    fingerprint: str
    identity: dict[str, Any]
    finished: RunResult | None
    checkpoint: Path | None

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def paths(self) -> dict[str, Path]:
        """Token directory of each corpus role."""
        return {role: d.path for role, d in self.corpora.items()}


def _missing_roles(plan: Plan, given: Mapping[str, Any]) -> None:
    for stage in plan.stages:
        for role in stage.roles:
            if role in given or (role == RANDOM and "mnemo" in given):
                continue
            hint = " (or 'mnemo', to make a random twin of it)" if role == RANDOM else ""
            raise ConfigError(
                f"plan {plan.name!r}, stage {stage.name!r} draws from corpus {role!r}{hint}, which is not given "
                f"(given: {', '.join(sorted(given)) or 'none'})"
            )


def prepare_run(
    plan: Plan | str | os.PathLike[str],
    corpora: Mapping[str, str | os.PathLike[str]],
    validation: Mapping[str, str | os.PathLike[str]],
    preset: Preset | str,
    seed: int,
    out_dir: str | os.PathLike[str],
    *,
    mnemo_fraction: float = 0.5,
    bridge: float = 0.0,
    tokenizer: str | os.PathLike[str] | None = None,
    device: str | torch.device | None = None,
) -> Setup:
    """Check a run (see the module doc); raises ``ConfigError`` for anything wrong. Writes nothing
    but the random twin (under ``OUT/corpora/random``) when the plan needs one and ``OUT`` holds
    no other run."""
    p = get_preset(preset)
    resolved = resolve_plan(plan, p, mnemo_fraction=mnemo_fraction, bridge=bridge)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    _missing_roles(resolved, corpora)
    needed = [r for r in resolved.roles if r in corpora]
    twin = RANDOM in resolved.roles and RANDOM not in corpora
    if twin and "mnemo" not in needed:
        needed.append("mnemo")
    dirs = {role: describe(role, corpora[role]) for role in needed}
    for name in validation:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"validation set names must be non-empty strings, got {name!r}")
    val = {name: describe(f"validation {name}", path) for name, path in validation.items()}
    ref = check_tokenizer([*dirs.values(), *val.values()], tokenizer)
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    corpus_ids: dict[str, Any] = {role: d.fingerprint for role, d in dirs.items()}
    if twin:
        corpus_ids[RANDOM] = {"random_twin_of": dirs["mnemo"].fingerprint, "seed": seed}
    identity = {
        "trainer": TRAINER_VERSION, "plan": resolved.to_dict(), "preset": p.to_dict(), "seed": seed, "corpora": corpus_ids,
        "validation": {name: d.fingerprint for name, d in val.items()}, "tokenizer_sha256": ref.tokenizer_sha256,
    }  # fmt: skip
    fp = fingerprint(identity)
    out = Path(out_dir)
    finished, checkpoint = _existing(out, fp, p)
    if twin and finished is None:
        out.mkdir(parents=True, exist_ok=True)
        dirs[RANDOM] = random_twin(dirs["mnemo"], out / "corpora" / RANDOM, seed=seed, tokenizer=tokenizer)
    setup = Setup(resolved, p, seed, out, dev, dirs, val, ref, fp, identity, finished, checkpoint)
    if finished is None:
        _check_loaders(setup)
    return setup


def _check_loaders(setup: Setup) -> None:
    """Make (without reading a batch) every stage's loader and every validation loader, so that
    a corpus too small for a batch, or weights the loader refuses, stop the run here."""
    p = setup.preset
    for index, stage in enumerate(setup.plan.stages):
        batches = stage.tokens // p.step_tokens * p.grad_accum
        try:
            stage_loader(stage, index, setup.paths, seq_len=p.seq_len, batch_size=p.batch_size, seed=setup.seed, batches=batches)
        except ConfigError as e:
            raise ConfigError(f"plan {setup.plan.name!r}, stage {stage.name!r}: {e}") from None
    for name, d in setup.validation.items():
        try:
            make_loader({name: d.path}, seq_len=p.seq_len, batch_size=p.eval_batch_size, seed=0, max_batches=p.eval_batches)
        except ConfigError as e:
            raise ConfigError(f"validation set {name!r}: {e}") from None


def _existing(out: Path, fp: str, preset: Preset) -> tuple[RunResult | None, Path | None]:
    """A finished result or a checkpoint of this very run in ``out``; ``ConfigError`` when
    ``out`` holds another run (a checkpoint of another model size is named as such)."""
    checkpoint = find_checkpoint(out)
    if checkpoint is not None:
        config = model_config(checkpoint)
        size = get_size(preset.size)
        if size_of(config) != size.name:
            raise ConfigError(
                f"checkpoint {str(checkpoint)!r} is from another model size: {size_of(config) or 'unknown'!r} "
                f"({describe_config(config)}); preset {preset.name!r} trains {size.name!r} ({describe_config(size.config(config.vocab_size))})"
            )
    previous = read_run(out)
    if previous is not None and previous.fingerprint != fp:
        raise ConfigError(
            f"{str(out)!r} holds another run (plan {previous.name!r}, seed {previous.seed}, preset {previous.preset.get('name')!r}, "
            f"model {previous.model.get('size')!r}); use another output directory"
        )
    if previous is not None and previous.finished:
        return previous, None
    if checkpoint is None:
        return None, None
    if read_trainer_state(checkpoint).get("fingerprint") != fp:
        raise ConfigError(f"checkpoint {str(checkpoint)!r} is from another run configuration (fingerprint differs); use another output directory")
    return None, checkpoint
