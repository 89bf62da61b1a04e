"""A run's state: what is checked before training starts (:class:`Setup`), where the run stands
(:class:`RunState`), and how both are kept on disk (``OUT/checkpoint``).

**The set-up.** Everything about a run is checked before any training starts
(:func:`prepare_run`): the plan (arm name or file), the preset, the seed, the corpus role
mapping (a stage naming a missing corpus is an error), one tokenizer across every token
directory, that every stage's loader can be made (a corpus too small for a batch is an error),
and what the output directory already holds (a run of another configuration, or a checkpoint of
another model size, is an error). :class:`Setup` carries the run's fingerprint: the sha256 of
the plan, preset, seed, corpus and validation fingerprints and tokenizer hash (and the number of
processes, when it is more than one: :mod:`~hyperword.train.distributed`). A checkpoint
resumes only a run with the same fingerprint.

**Where the run stands.** :class:`RunState` is the stage under way and the steps and tokens
done, the running train-loss sums, the curve and the finished stages, the token ids seen so far
and the AdamW moments carried to a next stage that keeps them; its fields are the ``progress``
record of every checkpoint, and its methods record losses, curve points and stages, carry the
optimizer state over, save a checkpoint and make the run's result.

**A checkpoint** (``OUT/checkpoint/``) is a saved model
(:func:`~hyperword.train.adapters.save_model`) plus ``trainer.pt``: the fingerprint, the
progress, the optimizer, scheduler, RNG and data-loader state and the number of processes. It is
written as ``checkpoint.tmp`` and swapped in by renames (the previous one kept as
``checkpoint.old`` until the new one is in place), so a crash at any moment leaves a complete
checkpoint behind. ``trainer.pt`` is a pickle (the loader's state is whatever
``hyperword.torch`` keeps): load only checkpoints you wrote.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import peft
import torch
import transformers

from hyperword._hyperword import __version__
from hyperword.errors import ConfigError, HyperwordError
from hyperword.formats.identity import fingerprint
from hyperword.torch import TokenLoader
from hyperword.train import distributed
from hyperword.train.adapters import model_config, save_model, view_name
from hyperword.train.data import TWINS, TokenDir, check_tokenizer, describe, make_loader, stage_loader, twin
from hyperword.train.distributed import SINGLE, World
from hyperword.train.model import describe_config, get_size, parameter_count, size_of
from hyperword.train.plans import Plan, Stage, resolve_plan
from hyperword.train.presets import Preset, get_preset
from hyperword.train.results import CurvePoint, RunResult, StageResult, read_run

__all__ = [
    "CHECKPOINT",
    "TRAINER_VERSION",
    "RunState",
    "Setup",
    "find_checkpoint",
    "prepare_run",
    "read_trainer_state",
    "save_checkpoint",
    "set_rng_state",
]

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

    def steps(self, stage: Stage) -> int:
        """The optimizer steps of ``stage`` (over all processes)."""
        return stage.tokens // self.step_tokens

    def stage_loader(self, index: int) -> TokenLoader:
        """This rank's loader of stage ``index``: every micro-batch of the stage, in its order."""
        stage, p = self.plan.stages[index], self.preset
        return stage_loader(
            stage,
            index,
            self.paths,
            seq_len=p.seq_len,
            batch_size=p.batch_size,
            seed=self.seed,
            batches=self.steps(stage) * p.grad_accum,
            rank=self.world.rank,
            world_size=self.world.size,
        )


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
    p = setup.preset
    for index, stage in enumerate(setup.plan.stages):
        try:
            setup.stage_loader(index)
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


# --- where the run stands -------------------------------------------------------------------------
@dataclass
class RunState:
    """Where the run stands. Its fields, in this order, are the ``progress`` record of every
    checkpoint (``RunState(**progress)`` reads one back)."""

    stage: int = 0  # index of the stage under way
    stage_step: int = 0  # optimizer steps done in it
    step: int = 0  # optimizer steps done in the run
    tokens: int = 0  # target tokens trained in the run
    loss_sum: float = 0.0  # train loss (sum over micro-batches) since the last curve point
    loss_count: int = 0
    stage_loss_sum: float = 0.0  # ... and since the start of the stage
    stage_loss_count: int = 0
    train_seconds: float = 0.0
    curve: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    seen: torch.Tensor | None = None  # bool [vocab]: token ids some batch has held so far
    carried: dict[str, dict[str, Any]] | None = None  # AdamW state by parameter name, for a next stage that keeps it

    @classmethod
    def fresh(cls, vocab_size: int) -> RunState:
        """A run at its start: nothing trained, no token id seen."""
        return cls(seen=torch.zeros(vocab_size, dtype=torch.bool))

    def to(self, device: torch.device) -> None:
        """The seen-ids mask on ``device`` (the training step marks it there)."""
        if self.seen is not None:
            self.seen = self.seen.to(device)

    def add_losses(self, values: list[float]) -> None:
        """Count train losses (one per micro-batch) towards the next curve point and the stage."""
        for value in values:
            self.loss_sum += value
            self.stage_loss_sum += value
            self.loss_count += 1
            self.stage_loss_count += 1

    def add_curve_point(self, stage: Stage, losses: dict[str, float]) -> None:
        """A point of the loss curve here: the mean train loss since the previous point (``None``
        at 0 tokens) and the validation ``losses`` in the stage's view."""
        train_loss = None
        if self.tokens:
            train_loss = self.loss_sum / self.loss_count
            self.loss_sum, self.loss_count = 0.0, 0
        point = CurvePoint(self.tokens, self.step, stage.name, view_name(stage.view), train_loss, losses)
        self.curve.append(point.to_dict())

    def end_stage(
        self, stage: Stage, served: dict[str, int], losses: dict[str, dict[str, float]], token_rows: int
    ) -> None:
        """Record the finished ``stage`` (the target tokens ``served`` per corpus role, its mean
        train loss, the validation ``losses`` in every adapter view, the embedding rows its
        adapter owns) and move on to the next one."""
        result = StageResult(
            name=stage.name,
            trains=stage.trains,
            view=view_name(stage.view),
            tokens=stage.tokens,
            steps=self.stage_step,
            served_tokens=served,
            train_loss=self.stage_loss_sum / self.stage_loss_count if self.stage_loss_count else None,
            eval=losses,
            token_rows=token_rows,
        )
        self.stages.append(result.to_dict())
        self.stage, self.stage_step = self.stage + 1, 0
        self.stage_loss_sum, self.stage_loss_count = 0.0, 0

    def carry(self, optimizer: torch.optim.Optimizer, named: list[tuple[str, torch.nn.Parameter]] | None) -> None:
        """Keep ``optimizer``'s state (AdamW's moments and step counts) of the parameters
        ``named``, by name, for the next stage (``None``: keep nothing)."""
        self.carried = (
            None
            if named is None
            else {
                n: {k: v.detach().cpu().clone() for k, v in optimizer.state[q].items()}
                for n, q in named
                if q in optimizer.state
            }
        )

    def take_carried(self, optimizer: torch.optim.Optimizer, named: list[tuple[str, torch.nn.Parameter]]) -> None:
        """Start ``optimizer`` from the carried state of the parameters both stages train; from
        here on the optimizer's own state (and checkpoints) hold it."""
        if not self.carried:
            return
        for name, param in named:
            if name in self.carried:
                optimizer.state[param] = {k: v.to(param.device).clone() for k, v in self.carried[name].items()}
        self.carried = None

    def save(
        self,
        setup: Setup,
        model: torch.nn.Module,
        *,
        optimizer: torch.optim.Optimizer | None = None,
        names: list[str] | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        loader: TokenLoader | None = None,
    ) -> None:
        """Checkpoint the run (the optimizer, scheduler and loader of the stage under way, if it
        is under way). Every rank calls this; rank 0 writes ``OUT/checkpoint``. With many
        processes the loader and RNG states are lists indexed by rank, and ``seen`` is united
        over the ranks first."""
        world = setup.world
        if self.seen is not None:
            self.seen.copy_(distributed.union(self.seen, world))  # in place: the stage's TrainStep marks this tensor
        loader_state: Any = None if loader is None else loader.state_dict()
        rng: Any = _rng_state()
        if world.size > 1:
            loader_state, rng = distributed.gather(loader_state, world), distributed.gather(rng, world)
        progress = asdict(self)
        if self.seen is not None:
            progress["seen"] = self.seen.cpu()  # a checkpoint loads on any device
        state = {
            "fingerprint": setup.fingerprint,
            "progress": progress,
            "optimizer": None if optimizer is None else optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "optimizer_names": names,
            "loader": loader_state,
            "rng": rng,
            "world_size": world.size,
        }
        if world.main:
            save_checkpoint(setup.out, model, state)
        distributed.barrier(world)

    def result(self, setup: Setup, *, finished: bool, views: dict[str, dict[str, float]] | None = None) -> RunResult:
        """What the run reports (``run.json``); ``views``: the final evaluation in every adapter view."""
        served: dict[str, int] = {}
        for s in self.stages:
            for role, n in s.get("served_tokens", {}).items():
                served[role] = served.get(role, 0) + int(n)
        final_view = view_name(setup.plan.stages[-1].view)
        p = setup.preset
        return RunResult(
            name=setup.plan.name,
            seed=setup.seed,
            finished=finished,
            fingerprint=setup.fingerprint,
            out_dir=str(setup.out),
            plan=setup.plan.to_dict(),
            preset=p.to_dict(),
            model={
                "size": p.size,
                "parameters": parameter_count(p.size, setup.vocab_size),
                "vocab_size": setup.vocab_size,
            },
            tokenizer_sha256=setup.tokenizer.tokenizer_sha256,
            corpora={r: d.to_dict() for r, d in setup.corpora.items()},
            validation={n: d.to_dict() for n, d in setup.validation.items()},
            tokens=self.tokens,
            steps=self.step,
            served_tokens=served,
            curve=[CurvePoint.from_dict(c) for c in self.curve],
            stages=[StageResult.from_dict(s) for s in self.stages],
            final_view=final_view if views else None,
            final_eval=dict(views.get(final_view, {})) if views else {},
            views=views or {},
            device=str(setup.device),
            world_size=setup.world.size,
            train_seconds=self.train_seconds,
            tokens_per_second=self.tokens / self.train_seconds if self.train_seconds else 0.0,
            versions={
                "hyperword": __version__,
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "peft": peft.__version__,
            },
        )


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """The random number generators as :meth:`RunState.save` found them."""
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --- the checkpoint on disk ---------------------------------------------------------------------
CHECKPOINT = "checkpoint"
TRAINER_STATE = "trainer.pt"


def save_checkpoint(out_dir: str | os.PathLike[str], model: torch.nn.Module, state: dict[str, Any]) -> Path:
    """Write ``OUT/checkpoint`` (model + ``state`` as ``trainer.pt``) atomically; see the module doc."""
    out = Path(out_dir)
    final, tmp, old = out / CHECKPOINT, out / f"{CHECKPOINT}.tmp", out / f"{CHECKPOINT}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    save_model(model, tmp)
    torch.save(state, tmp / TRAINER_STATE)
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def find_checkpoint(out_dir: str | os.PathLike[str]) -> Path | None:
    """``OUT/checkpoint`` if complete, else ``OUT/checkpoint.old`` if a crash left only that."""
    out = Path(out_dir)
    for candidate in (out / CHECKPOINT, out / f"{CHECKPOINT}.old"):
        if (candidate / TRAINER_STATE).is_file():
            return candidate
    return None


def read_trainer_state(checkpoint: str | os.PathLike[str]) -> dict[str, Any]:
    """``trainer.pt`` of a checkpoint (a pickle this trainer wrote: the loader state is arbitrary)."""
    state = torch.load(Path(checkpoint) / TRAINER_STATE, map_location="cpu", weights_only=False)
    if not isinstance(state, dict):
        raise HyperwordError(f"{str(checkpoint)!r}: {TRAINER_STATE} is not a trainer state")
    return state
