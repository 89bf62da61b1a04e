"""Everything about a run checked before any training starts: the plan (arm name or file), the
preset, the seed, the corpus role mapping (a stage naming a missing corpus is an error), one
tokenizer across every token directory, that every stage's loader can be made (a corpus too
small for a batch is an error), and what the output directory already holds (a run of another
configuration, or a checkpoint of another model size, is an error).

The result, :class:`Setup`, carries the run's fingerprint: the sha256 of the plan, preset,
seed, corpus and validation fingerprints and tokenizer hash (and the number of processes, when
it is more than one: :mod:`~hyperword.train.distributed`). A checkpoint resumes only a run with
the same fingerprint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hyperword.errors import ConfigError
from hyperword.formats.identity import fingerprint
from hyperword.train.arms import resolve_plan
from hyperword.train.checkpoint import find_checkpoint, model_config, read_trainer_state
from hyperword.train.corpora import TWINS, TokenDir, check_tokenizer, describe, twin
from hyperword.train.data import make_loader, stage_loader
from hyperword.train.distributed import SINGLE, World
from hyperword.train.model import describe_config, get_size, size_of
from hyperword.train.plan import Plan
from hyperword.train.presets import Preset, get_preset
from hyperword.train.results import RunResult, read_run

__all__ = ["TRAINER_VERSION", "Setup", "prepare_run"]

#: part of every run's fingerprint: bump when the same inputs would train differently
TRAINER_VERSION = 1


@dataclass(frozen=True)
class Setup:
    """A checked run: resolved plan and preset, token directories by role (the twin
    controls included), validation directories, the shared tokenizer, the fingerprint, what the
    output directory holds (a finished result, a checkpoint to resume, or nothing), and the
    training processes (this one's rank among them)."""

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
    world: World = SINGLE

    @property
    def step_tokens(self) -> int:
        """Target tokens per optimizer step over all processes (the preset's on each)."""
        return self.preset.step_tokens * self.world.size

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
            if role in given or (role in TWINS and "mnemo" in given):
                continue
            hint = f" (or 'mnemo', to make a {role} twin of it)" if role in TWINS else ""
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
    world: World = SINGLE,
) -> Setup:
    """Check a run (see the module doc) for this process of ``world``; raises ``ConfigError`` for
    anything wrong. Writes nothing but the twin controls (under ``OUT/corpora/ROLE``) when the
    plan needs them and ``OUT`` holds no other run (with many processes, let rank 0 go first)."""
    p = get_preset(preset)
    resolved = resolve_plan(plan, p, mnemo_fraction=mnemo_fraction, bridge=bridge, world_size=world.size)
    _check_intervals(p, world)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    _missing_roles(resolved, corpora)
    needed = [r for r in resolved.roles if r in corpora]
    twins = [r for r in resolved.roles if r in TWINS and r not in corpora]
    if twins and "mnemo" not in needed:
        needed.append("mnemo")
    dirs = {role: describe(role, corpora[role]) for role in needed}
    for name in validation:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"validation set names must be non-empty strings, got {name!r}")
    val = {name: describe(f"validation {name}", path) for name, path in validation.items()}
    ref = check_tokenizer([*dirs.values(), *val.values()], tokenizer)
    dev = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    corpus_ids: dict[str, Any] = {role: d.fingerprint for role, d in dirs.items()}
    for role in twins:
        corpus_ids[role] = {f"{role}_twin_of": dirs["mnemo"].fingerprint, "seed": seed}
    identity = {
        "trainer": TRAINER_VERSION,
        "plan": resolved.to_dict(),
        "preset": p.to_dict(),
        "seed": seed,
        "corpora": corpus_ids,
        "validation": {name: d.fingerprint for name, d in val.items()},
        "tokenizer_sha256": ref.tokenizer_sha256,
    }
    if world.size > 1:  # one process keeps the fingerprint it always had
        identity["world_size"] = world.size
    fp = fingerprint(identity)
    out = Path(out_dir)
    finished, checkpoint = _existing(out, fp, p, world)
    if twins and finished is None:
        out.mkdir(parents=True, exist_ok=True)
        for role in twins:
            dirs[role] = twin(role, dirs["mnemo"], out / "corpora" / role, seed=seed, tokenizer=tokenizer)
    setup = Setup(resolved, p, seed, out, dev, dirs, val, ref, fp, identity, finished, checkpoint, world)
    if finished is None:
        _check_loaders(setup)
    return setup


def _check_intervals(p: Preset, world: World) -> None:
    """With many processes, evaluation and checkpoint intervals are whole global steps too."""
    step = p.step_tokens * world.size
    for name in ("eval_every", "checkpoint_every"):
        if getattr(p, name) % step:
            raise ConfigError(
                f"preset {p.name!r}: {name} ({getattr(p, name)}) is not a multiple of the {step} tokens of an optimizer step "
                f"({p.step_tokens} tokens on each of {world.size} processes)"
            )


def _check_loaders(setup: Setup) -> None:
    """Make (without reading a batch) every stage's loader (this rank's) and every validation
    loader, so that a corpus too small for a batch, or weights the loader refuses, stop the run
    here."""
    p, world = setup.preset, setup.world
    for index, stage in enumerate(setup.plan.stages):
        batches = stage.tokens // setup.step_tokens * p.grad_accum
        try:
            stage_loader(
                stage,
                index,
                setup.paths,
                seq_len=p.seq_len,
                batch_size=p.batch_size,
                seed=setup.seed,
                batches=batches,
                rank=world.rank,
                world_size=world.size,
            )
        except ConfigError as e:
            raise ConfigError(f"plan {setup.plan.name!r}, stage {stage.name!r}: {e}") from None
    for name, d in setup.validation.items():
        try:
            make_loader(
                {name: d.path}, seq_len=p.seq_len, batch_size=p.eval_batch_size, seed=0, max_batches=p.eval_batches
            )
        except ConfigError as e:
            raise ConfigError(f"validation set {name!r}: {e}") from None


def _existing(out: Path, fp: str, preset: Preset, world: World) -> tuple[RunResult | None, Path | None]:
    """A finished result or a checkpoint of this very run in ``out``; ``ConfigError`` when
    ``out`` holds another run (a checkpoint of another model size, or a run over another number
    of processes, is named as such)."""
    checkpoint = find_checkpoint(out)
    state: dict[str, Any] | None = None
    if checkpoint is not None:
        config = model_config(checkpoint)
        size = get_size(preset.size)
        if size_of(config) != size.name:
            raise ConfigError(
                f"checkpoint {str(checkpoint)!r} is from another model size: {size_of(config) or 'unknown'!r} "
                f"({describe_config(config)}); preset {preset.name!r} trains {size.name!r} ({describe_config(size.config(config.vocab_size))})"
            )
        state = read_trainer_state(checkpoint)
        _same_world(f"checkpoint {str(checkpoint)!r}", int(state.get("world_size", 1)), world)
    previous = read_run(out)
    if previous is not None:
        _same_world(f"{str(out)!r}", previous.world_size, world)
    if previous is not None and previous.fingerprint != fp:
        raise ConfigError(
            f"{str(out)!r} holds another run (plan {previous.name!r}, seed {previous.seed}, preset {previous.preset.get('name')!r}, "
            f"model {previous.model.get('size')!r}); use another output directory"
        )
    if previous is not None and previous.finished:
        return previous, None
    if checkpoint is None or state is None:
        return None, None
    if state.get("fingerprint") != fp:
        raise ConfigError(
            f"checkpoint {str(checkpoint)!r} is from another run configuration (fingerprint differs); use another output directory"
        )
    return None, checkpoint


def _same_world(what: str, size: int, world: World) -> None:
    if size != world.size:
        raise ConfigError(
            f"{what} holds a run trained by {size} process(es), this one has {world.size}: "
            "resume it with as many (torchrun --nproc_per_node), or use another output directory"
        )
