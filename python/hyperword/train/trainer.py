"""The training loop: one model through a plan's stages, in order.

Read :func:`run_plan` top to bottom:

1. check everything (:func:`~hyperword.train.setup.prepare_run`); a finished run in ``OUT`` is
   returned as it is, a checkpoint there is resumed;
2. the model: built from scratch at the preset's size, or loaded from the checkpoint;
3. fixed validation batches;
4. each stage: carry the embeddings over (keep / reset / re-initialise unseen ids), add its
   LoRA adapter, switch to its adapter view, make an AdamW optimizer over exactly the parameters
   it trains (chosen by name) with warm-up + cosine, then optimizer steps (:class:`TrainStep`)
   of ``grad_accum`` micro-batches with gradient clipping (bf16 autocast on a GPU); every
   ``eval_every`` tokens a curve point, every ``checkpoint_every`` tokens and at the end of each
   stage a checkpoint;
5. the final evaluation in every adapter view (done at the end of the last stage), the final
   model, ``OUT/run.json``.

On the CPU the run is a function of its inputs and seed: a run stopped (``stop_after_steps``)
and resumed from its checkpoint reproduces the uninterrupted run's loss curve bit for bit (with
the same number of torch threads).

Speed (the GPU's view): a step never waits for the GPU. Train losses stay on the device and are
read once per curve point or checkpoint; the seen-ids mask lives on the device; batches go
through pinned memory with ``non_blocking`` copies; AdamW is fused on CUDA; ``compile`` (on by
default on CUDA) runs the forward pass and loss through ``torch.compile``, with a one-line
warning and eager mode when compilation fails. None of it changes a CPU run's numbers.

Under ``torchrun`` (an initialised process group of more than one process) every rank runs this
same loop on its own part of the data, over a ``DistributedDataParallel`` wrapper built per
stage; budgets, tokens and steps are global, and only rank 0 writes. The details are in
:mod:`~hyperword.train.distributed`; with one process none of it changes anything.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import peft
import torch
import transformers
from tqdm.auto import tqdm

from hyperword._hyperword import __version__
from hyperword.errors import InternalError
from hyperword.torch import TokenLoader
from hyperword.train import distributed
from hyperword.train.adapters import (
    adapter_names,
    adapter_tokens,
    adapter_view,
    add_adapter,
    parameters_of,
    set_trainable,
)
from hyperword.train.checkpoint import load_model, read_trainer_state, save_checkpoint, save_model
from hyperword.train.data import lm_loss, stage_loader
from hyperword.train.evaluation import EvalSets, autocast, evaluate, evaluate_views, view_name
from hyperword.train.model import build_model, parameter_count, reinit_embedding_rows
from hyperword.train.plan import Plan, Stage
from hyperword.train.presets import Preset
from hyperword.train.results import CurvePoint, RunResult, StageResult
from hyperword.train.schedule import LRSchedule, make_scheduler
from hyperword.train.setup import Setup, prepare_run
from hyperword.train.trace import Trace

__all__ = ["TrainStep", "make_optimizer", "run_plan", "stage_schedule", "to_device"]


@dataclass
class Progress:
    """Where the run is; saved in every checkpoint."""

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


def stage_schedule(stage: Stage, preset: Preset) -> LRSchedule:
    """The stage's learning-rate schedule: its own settings over the preset's (LoRA stages
    default to the preset's ``lora_lr``)."""
    peak = stage.lr if stage.lr is not None else preset.lr if stage.train_adapter is None else preset.lora_lr
    warmup = stage.warmup if stage.warmup is not None else preset.warmup
    min_ratio = stage.min_lr_ratio if stage.min_lr_ratio is not None else preset.min_lr_ratio
    shape = stage.schedule if stage.schedule is not None else preset.schedule
    return LRSchedule(peak, warmup, min_ratio, shape=shape)


def make_optimizer(
    named: list[tuple[str, torch.nn.Parameter]], preset: Preset, lr: float, *, fused: bool = False
) -> torch.optim.AdamW:
    """AdamW over exactly ``named``: weight decay on matrices (embeddings included), none on
    norms. Each parameter group records its parameters' names under ``"names"``. ``fused``: the
    one-kernel implementation (CUDA parameters; the CPU keeps the default one)."""
    decay = [(n, p) for n, p in named if p.dim() >= 2]
    plain = [(n, p) for n, p in named if p.dim() < 2]
    groups = [
        {"params": [p for _, p in decay], "names": [n for n, _ in decay], "weight_decay": preset.weight_decay},
        {"params": [p for _, p in plain], "names": [n for n, _ in plain], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=preset.betas, fused=fused or None)


def to_device(tokens: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A host batch on ``device``: through pinned memory, without waiting, to a GPU."""
    if device.type == "cuda":
        return tokens.pin_memory().to(device, non_blocking=True)
    return tokens.to(device)


LossFn = Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]


class TrainStep:
    """One optimizer step, as the trainer runs it (and ``hyperword bench train`` measures it):
    forward and backward of each micro-batch (gradients averaged over the ranks once, at the
    last), clipping, AdamW, the learning-rate scheduler. Token ids of the batches are marked in
    ``seen`` (a boolean mask on the device) when one is given.

    Calling it returns the micro-batches' losses, a float32 tensor on the device: nothing waits
    for the GPU. With ``compile``, the loss (forward pass included) goes through
    ``torch.compile``; if compiling fails, one line on stderr says so and the step, and every
    later one, runs eagerly (the failed step's gradients are dropped and it is run again)."""

    def __init__(
        self,
        net: torch.nn.Module,
        params: Sequence[torch.nn.Parameter],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        *,
        grad_clip: float,
        device: torch.device,
        seen: torch.Tensor | None = None,
        compile: bool = False,
    ) -> None:
        self.net, self.params, self.optimizer, self.scheduler = net, list(params), optimizer, scheduler
        self.grad_clip, self.device, self.seen = grad_clip, device, seen
        self.loss: LossFn = torch.compile(lm_loss) if compile else lm_loss
        self.compiled = compile

    def __call__(self, batches: Sequence[torch.Tensor]) -> torch.Tensor:
        if not self.compiled:
            return self._step(batches)
        try:
            return self._step(batches)
        except Exception as e:  # a compiler that fails (no C compiler, triton, an unsupported op)
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            print(
                f"hyperword train: warning: torch.compile failed ({type(e).__name__}: {first[:200]}); training in eager mode",
                file=sys.stderr,
            )
            self.loss, self.compiled = lm_loss, False
            self.optimizer.zero_grad(set_to_none=True)
            return self._step(batches)

    def _step(self, batches: Sequence[torch.Tensor]) -> torch.Tensor:
        losses = []
        for micro, batch in enumerate(batches):
            tokens = to_device(batch, self.device)
            if self.seen is not None:
                self.seen[tokens.reshape(-1)] = True
            with distributed.no_sync(self.net, micro < len(batches) - 1):  # gradients averaged over ranks once a step
                with autocast(self.device):
                    loss = self.loss(self.net, tokens)
                torch.autograd.backward(loss / len(batches))
            losses.append(loss.detach())
        torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return torch.stack(losses)


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def run_plan(
    plan: Plan | str | os.PathLike[str],
    corpora: Mapping[str, str | os.PathLike[str]],
    validation: Mapping[str, str | os.PathLike[str]],
    preset: Preset | str = "cpu",
    seed: int = 0,
    out_dir: str | os.PathLike[str] = "run",
    *,
    mnemo_fraction: float = 0.5,
    bridge: float = 0.0,
    tokenizer: str | os.PathLike[str] | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    stop_after_steps: int | None = None,
    keep_stage_models: bool = True,
    compile: bool | None = None,
) -> RunResult:
    """Train ``plan`` (a :class:`~hyperword.train.plan.Plan`, a built-in arm's name or a plan
    file) on ``corpora`` (role -> token directory), evaluating on ``validation`` (name -> token
    directory), with ``preset`` and ``seed``; checkpoints, stage models (``OUT/stages/``), the
    final model (``OUT/final/``) and ``run.json`` go to ``out_dir``, and a checkpoint there is
    resumed. ``stop_after_steps`` stops (checkpointed, ``finished=False``) once the run has done
    that many optimizer steps. ``compile``: ``torch.compile`` the training step (default: on
    CUDA). In an initialised process group of several processes (torchrun), every rank calls
    this alike and they train one model together (see the module doc)."""
    # 1. Everything checked before any training starts (rank 0 first: it may write the random twin).
    world = distributed.current()

    def check() -> Setup:
        return prepare_run(
            plan,
            corpora,
            validation,
            preset,
            seed,
            out_dir,
            mnemo_fraction=mnemo_fraction,
            bridge=bridge,
            tokenizer=tokenizer,
            device=device,
            world=world,
        )

    setup = distributed.main_first(check, world)
    if setup.finished is not None:
        return setup.finished
    if world.main:
        setup.out.mkdir(parents=True, exist_ok=True)
    p, stages = setup.preset, setup.plan.stages
    trace = Trace.from_env(world.rank)

    # 2. The model: from scratch, or where the checkpoint left it.
    state: dict[str, Any] | None = None
    if setup.checkpoint is not None:
        state = read_trainer_state(setup.checkpoint)
        model = load_model(setup.checkpoint, size=p.size, vocab_size=setup.vocab_size)
        run = Progress(**state["progress"])
    else:
        model = build_model(p.size, setup.vocab_size, seed=seed, eos_id=setup.tokenizer.eos_id)
        run = Progress(seen=torch.zeros(setup.vocab_size, dtype=torch.bool))
    model.to(setup.device)
    if run.seen is not None:
        run.seen = run.seen.to(setup.device)
    compiled = setup.device.type == "cuda" if compile is None else compile

    # 3. Fixed validation batches.
    sets = EvalSets.load(
        {n: d.path for n, d in setup.validation.items()},
        seq_len=p.seq_len,
        batch_size=p.eval_batch_size,
        batches=p.eval_batches,
    )
    if state is not None:
        _set_rng_state(distributed.mine(state["rng"], world))

    # 4. The stages.
    if stop_after_steps is not None and run.step >= stop_after_steps:
        return _stopped(setup, run, model, trace)
    total_steps = setup.plan.total_tokens // setup.step_tokens
    bar = tqdm(
        total=total_steps, initial=run.step, disable=not (progress and world.main), desc=setup.plan.name, unit="step"
    )
    try:
        while run.stage < len(stages):
            index, stage = run.stage, stages[run.stage]
            resume = state if state is not None and run.stage_step > 0 else None
            state = None
            if resume is None:
                model = _begin_stage(model, stage, index, setup, run)
            if run.tokens == 0 and not run.curve:
                with adapter_view(model, stage.view):
                    losses = _evaluate(model, sets, setup)
                run.curve.append(CurvePoint(0, 0, stage.name, view_name(stage.view), None, losses).to_dict())
            stopped, served = _train_stage(
                model, stage, index, setup, run, sets, bar, resume, stop_after_steps, trace, compiled
            )
            if served is not None:
                _end_stage(model, stage, index, setup, run, sets, served, keep_stage_models)
            if stopped and run.stage < len(stages):
                return _stopped(setup, run, model, trace)
    finally:
        bar.close()

    # 5. The final evaluation in every adapter view (the last stage's), the final model, run.json.
    views = run.stages[-1]["eval"]
    result = _result(setup, run, finished=True, views=views)
    if world.main:
        save_model(model, setup.out / "final")
        result.write(setup.out)
        shutil.rmtree(setup.out / "checkpoint", ignore_errors=True)
    distributed.barrier(world)
    if trace is not None:
        trace.params(run.step, model)
    return result


def _stopped(setup: Setup, run: Progress, model: torch.nn.Module, trace: Trace | None) -> RunResult:
    """The result of a run stopped early (rank 0 writes it; every rank waits for that)."""
    result = _result(setup, run, finished=False)
    if setup.world.main:
        result.write(setup.out)
    distributed.barrier(setup.world)
    if trace is not None:
        trace.params(run.step, model)
    return result


def _evaluate(model: torch.nn.Module, sets: EvalSets, setup: Setup) -> dict[str, float]:
    """Validation losses in the current view, computed on rank 0 and the same numbers handed to
    every rank."""
    return distributed.from_main(lambda: evaluate(model, sets, setup.device), setup.world)


def _begin_stage(model: torch.nn.Module, stage: Stage, index: int, setup: Setup, run: Progress) -> torch.nn.Module:
    """Carry the embeddings over as the stage says and add its adapter if it is new (with the
    embedding rows it owns); both seeded by (seed, stage) alone."""
    if run.seen is not None:
        run.seen = distributed.union(run.seen, setup.world)  # ids any rank's batches held
    if stage.embeddings != "keep":
        rows = None if stage.embeddings == "reset" or run.seen is None else ~run.seen
        base = model.get_base_model() if isinstance(model, peft.PeftModel) else model
        reinit_embedding_rows(base, rows, seed=[setup.seed, index, 0xE3])
    if stage.train_adapter is not None and stage.train_adapter not in adapter_names(model):
        model = add_adapter(
            model,
            stage.train_adapter,
            stage.lora or setup.preset.lora,
            seed=[setup.seed, index, 0xAD],
            tokens=_adapter_rows(stage, setup, run),
        )
    return model


def _adapter_rows(stage: Stage, setup: Setup, run: Progress) -> list[int] | None:
    """The token ids whose embedding rows the stage's new adapter owns (``None``: none)."""
    if stage.train_tokens == "none":
        return None
    if stage.train_tokens == "all" or run.seen is None:  # "new" with nothing recorded: every id is new
        return list(range(setup.vocab_size))
    ids = (~run.seen).nonzero().flatten().tolist()
    return ids or None  # every id was trained on already: the adapter needs no rows of its own


def _train_stage(
    model: torch.nn.Module,
    stage: Stage,
    index: int,
    setup: Setup,
    run: Progress,
    sets: EvalSets,
    bar: Any,
    resume: dict[str, Any] | None,
    stop_after_steps: int | None,
    trace: Trace | None = None,
    compile: bool = False,
) -> tuple[bool, dict[str, int] | None]:
    """The stage's optimizer steps from ``run.stage_step`` on. Returns whether the run stops
    here, and the exact target tokens served per corpus role (over all ranks) once the stage is
    complete. Train losses are read from the device (and averaged over ranks) only where they
    are used: at curve points, checkpoints and the stage's end."""
    p, world = setup.preset, setup.world
    steps, accum = stage.tokens // setup.step_tokens, p.grad_accum
    stop = False
    with adapter_view(model, stage.view):
        # Exactly the parameters this stage trains, chosen by name; requires_grad made to agree.
        named = parameters_of(model, [stage.owner])
        set_trainable(model, [stage.owner])
        schedule = stage_schedule(stage, p)
        optimizer = make_optimizer(named, p, schedule.peak, fused=setup.device.type == "cuda")
        scheduler = make_scheduler(optimizer, schedule, steps)
        loader = stage_loader(
            stage,
            index,
            setup.paths,
            seq_len=p.seq_len,
            batch_size=p.batch_size,
            seed=setup.seed,
            batches=steps * accum,
            rank=world.rank,
            world_size=world.size,
        )
        if resume is not None:
            if resume["optimizer_names"] != [n for n, _ in named]:
                raise InternalError(
                    f"stage {stage.name!r}: the checkpoint's optimizer holds other parameters than the stage trains"
                )
            optimizer.load_state_dict(resume["optimizer"])
            scheduler.load_state_dict(resume["scheduler"])
            loader.load_state_dict(distributed.mine(resume["loader"], world))
        elif stage.optimizer == "keep" and run.carried:
            # AdamW's moments (and step counts) of the parameters the previous stage trained too
            for name, param in named:
                if name in run.carried:
                    optimizer.state[param] = {k: v.to(param.device).clone() for k, v in run.carried[name].items()}
            run.carried = None  # from here on the optimizer's own state (and checkpoints) hold it
        batches = iter(loader)
        net = distributed.data_parallel(model, setup.device, world)  # the model itself with one process
        net.train()
        step = TrainStep(
            net,
            [q for _, q in named],
            optimizer,
            scheduler,
            grad_clip=p.grad_clip,
            device=setup.device,
            seen=run.seen,
            compile=compile,
        )
        pending: list[torch.Tensor] = []  # losses of the steps since they were last read
        shown = ""
        while run.stage_step < steps and not stop:
            started = time.perf_counter()
            micro_batches = []
            for _ in range(accum):
                batch = next(batches)
                if trace is not None:
                    trace.batch(index, run.step, loader.dataset.names, batch)
                micro_batches.append(batch["tokens"].to(torch.int64))
            pending.append(step(micro_batches))
            run.stage_step += 1
            run.step += 1
            run.tokens += setup.step_tokens
            stop = stop_after_steps is not None and run.step >= stop_after_steps
            curve_point = run.tokens % p.eval_every == 0
            checkpoint = run.stage_step < steps and (stop or run.tokens % p.checkpoint_every == 0)
            if curve_point or checkpoint or run.stage_step == steps or stop:
                values = distributed.mean_each(torch.cat(pending).tolist(), world)  # the one wait for the device
                pending.clear()
                for value in values:
                    run.loss_sum += value
                    run.stage_loss_sum += value
                    run.loss_count += 1
                    run.stage_loss_count += 1
                shown = f"{values[-1]:.3f}"
            run.train_seconds += time.perf_counter() - started
            bar.update(1)
            bar.set_postfix(stage=stage.name, loss=shown, tok_s=f"{run.tokens / max(run.train_seconds, 1e-9):.0f}")
            if curve_point:
                train_loss = run.loss_sum / run.loss_count
                run.loss_sum, run.loss_count = 0.0, 0
                point = CurvePoint(
                    run.tokens, run.step, stage.name, view_name(stage.view), train_loss, _evaluate(model, sets, setup)
                )
                run.curve.append(point.to_dict())
            if checkpoint:
                _checkpoint(
                    model,
                    setup,
                    run,
                    optimizer=optimizer.state_dict(),
                    scheduler=scheduler.state_dict(),
                    names=[n for n, _ in named],
                    loader=loader,
                )
        del net  # a wrapper lives for one stage (see distributed.data_parallel)
    if run.stage_step < steps:
        return stop, None
    keeps = index + 1 < len(setup.plan.stages) and setup.plan.stages[index + 1].optimizer == "keep"
    run.carried = (
        {
            n: {k: v.detach().cpu().clone() for k, v in optimizer.state[q].items()}
            for n, q in named
            if q in optimizer.state
        }
        if keeps
        else None
    )
    served = distributed.sum_counts({str(k): int(v) for k, v in loader.served_tokens.items()}, world)
    if sum(served.values()) != stage.tokens:
        raise InternalError(
            f"stage {stage.name!r}: the loader served {sum(served.values())} target tokens, the budget is {stage.tokens}"
        )
    return stop, served


def _end_stage(
    model: torch.nn.Module,
    stage: Stage,
    index: int,
    setup: Setup,
    run: Progress,
    sets: EvalSets,
    served: dict[str, int],
    keep_model: bool,
) -> None:
    """Record the stage (tokens served, mean train loss, evaluation in every adapter view), keep
    its model, move on to the next stage and checkpoint there."""
    views: list[str | None] = [None, *adapter_names(model)]
    result = StageResult(
        name=stage.name,
        trains=stage.trains,
        view=view_name(stage.view),
        tokens=stage.tokens,
        steps=run.stage_step,
        served_tokens=served,
        train_loss=run.stage_loss_sum / run.stage_loss_count if run.stage_loss_count else None,
        eval=distributed.from_main(lambda: evaluate_views(model, sets, setup.device, views), setup.world),
        token_rows=0 if stage.train_adapter is None else len(adapter_tokens(model, stage.train_adapter)),
    )
    run.stages.append(result.to_dict())
    if keep_model and index < len(setup.plan.stages) - 1 and setup.world.main:
        save_model(model, setup.out / "stages" / f"{index + 1}-{stage.name}")
    run.stage, run.stage_step = index + 1, 0
    run.stage_loss_sum, run.stage_loss_count = 0.0, 0
    if run.stage < len(setup.plan.stages):  # after the last stage, final/ and run.json take over
        _checkpoint(model, setup, run)


def _checkpoint(
    model: torch.nn.Module,
    setup: Setup,
    run: Progress,
    *,
    optimizer: dict[str, Any] | None = None,
    scheduler: dict[str, Any] | None = None,
    names: list[str] | None = None,
    loader: TokenLoader | None = None,
) -> None:
    """Every rank calls this; rank 0 writes ``OUT/checkpoint``. With many processes the loader
    and RNG states are lists indexed by rank, and ``seen`` is united over the ranks first."""
    world = setup.world
    if run.seen is not None:
        run.seen.copy_(distributed.union(run.seen, world))  # in place: the stage's TrainStep marks this tensor
    loader_state: Any = None if loader is None else loader.state_dict()
    rng: Any = _rng_state()
    if world.size > 1:
        loader_state, rng = distributed.gather(loader_state, world), distributed.gather(rng, world)
    progress = asdict(run)
    if run.seen is not None:
        progress["seen"] = run.seen.cpu()  # a checkpoint loads on any device
    state = {
        "fingerprint": setup.fingerprint,
        "progress": progress,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "optimizer_names": names,
        "loader": loader_state,
        "rng": rng,
        "world_size": world.size,
    }
    if world.main:
        save_checkpoint(setup.out, model, state)
    distributed.barrier(world)


def _result(
    setup: Setup, run: Progress, *, finished: bool, views: dict[str, dict[str, float]] | None = None
) -> RunResult:
    served: dict[str, int] = {}
    for s in run.stages:
        for role, n in s.get("served_tokens", {}).items():
            served[role] = served.get(role, 0) + int(n)
    final_view = view_name(setup.plan.stages[-1].view)
    p = setup.preset
    result = RunResult(
        name=setup.plan.name,
        seed=setup.seed,
        finished=finished,
        fingerprint=setup.fingerprint,
        out_dir=str(setup.out),
        plan=setup.plan.to_dict(),
        preset=p.to_dict(),
        model={"size": p.size, "parameters": parameter_count(p.size, setup.vocab_size), "vocab_size": setup.vocab_size},
        tokenizer_sha256=setup.tokenizer.tokenizer_sha256,
        corpora={r: d.to_dict() for r, d in setup.corpora.items()},
        validation={n: d.to_dict() for n, d in setup.validation.items()},
        tokens=run.tokens,
        steps=run.step,
        served_tokens=served,
        curve=[CurvePoint.from_dict(c) for c in run.curve],
        stages=[StageResult.from_dict(s) for s in run.stages],
        final_view=final_view if views else None,
        final_eval=dict(views.get(final_view, {})) if views else {},
        views=views or {},
        device=str(setup.device),
        world_size=setup.world.size,
        train_seconds=run.train_seconds,
        tokens_per_second=run.tokens / run.train_seconds if run.train_seconds else 0.0,
        versions={
            "hyperword": __version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
        },
    )
    return result
