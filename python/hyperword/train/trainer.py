"""The training loop: one model through a plan's stages, in order. Read :func:`run_plan` top to
bottom:

1. check everything (:func:`~hyperword.train.state.prepare_run`); a finished run in ``OUT`` is
   returned as it is, a checkpoint there is resumed;
2. the model and where the run stands (:class:`~hyperword.train.state.RunState`): from scratch,
   or as the checkpoint left them;
3. fixed validation batches;
4. each stage: carry the embeddings over (keep / reset / re-initialise unseen ids) and add its
   LoRA adapter, switch to its adapter view, make an AdamW optimizer over exactly the parameters
   it trains (chosen by name) with warm-up and decay, then optimizer steps (:class:`TrainStep`:
   forward, loss and backward of ``grad_accum`` micro-batches, clipping, AdamW, the schedule;
   bf16 autocast on a GPU); every ``eval_every`` tokens a curve point, every
   ``checkpoint_every`` tokens and at the end of each stage a checkpoint;
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
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import peft
import torch
from tqdm.auto import tqdm

from hyperword.errors import InternalError
from hyperword.train import distributed
from hyperword.train.adapters import (
    adapter_names,
    adapter_tokens,
    adapter_view,
    add_adapter,
    load_model,
    parameters_of,
    save_model,
    set_trainable,
    view_name,
)
from hyperword.train.data import EvalSets
from hyperword.train.distributed import Trace
from hyperword.train.model import autocast, build_model, lm_loss, reinit_embedding_rows
from hyperword.train.plans import Plan, Stage, stage_schedule
from hyperword.train.presets import Preset, make_scheduler
from hyperword.train.results import RunResult
from hyperword.train.state import RunState, Setup, prepare_run, read_trainer_state, set_rng_state

__all__ = ["TrainStep", "evaluate", "evaluate_views", "make_optimizer", "run_plan", "to_device"]


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
    """Train ``plan`` (a :class:`~hyperword.train.plans.Plan`, a built-in arm's name or a plan
    file) on ``corpora`` (role -> token directory), evaluating on ``validation`` (name -> token
    directory), with ``preset`` and ``seed``; checkpoints, stage models (``OUT/stages/``), the
    final model (``OUT/final/``) and ``run.json`` go to ``out_dir``, and a checkpoint there is
    resumed. ``stop_after_steps`` stops (checkpointed, ``finished=False``) once the run has done
    that many optimizer steps. ``compile``: ``torch.compile`` the training step (default: on
    CUDA). In an initialised process group of several processes (torchrun), every rank calls
    this alike and they train one model together (see the module doc)."""
    # 1. Everything checked before any training starts (rank 0 first: it may write the twin corpora).
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
    p, stages, dev = setup.preset, setup.plan.stages, setup.device
    trace = Trace.from_env(world.rank)

    # 2. The model and where the run stands: from scratch, or as the checkpoint left them.
    model: torch.nn.Module
    saved = None  # the checkpoint's trainer state (optimizer, scheduler, loader and RNG states)
    if setup.checkpoint is not None:
        saved = read_trainer_state(setup.checkpoint)
        model = load_model(setup.checkpoint, size=p.size, vocab_size=setup.vocab_size)
        run = RunState(**saved["progress"])
    else:
        model = build_model(p.size, setup.vocab_size, seed=seed, eos_id=setup.tokenizer.eos_id)
        run = RunState.fresh(setup.vocab_size)
    model.to(dev)
    run.to(dev)
    compiled = dev.type == "cuda" if compile is None else compile

    # 3. Fixed validation batches (then, resuming, the random number generators as they were).
    sets = EvalSets.load(
        {n: d.path for n, d in setup.validation.items()},
        seq_len=p.seq_len,
        batch_size=p.eval_batch_size,
        batches=p.eval_batches,
    )
    if saved is not None:
        set_rng_state(distributed.mine(saved["rng"], world))

    def losses_now() -> dict[str, float]:
        """Validation losses in the current view, computed on rank 0, the same on every rank."""
        return distributed.from_main(lambda: evaluate(model, sets, dev), world)

    def train_stage(index: int, resume: dict[str, Any] | None) -> bool:
        """Stage ``index``'s optimizer steps from ``run.stage_step`` on (``resume``: the
        checkpoint's optimizer, scheduler and loader state, when it stopped within the stage),
        then, the stage complete, its record and a checkpoint. Returns whether the run stops."""
        stage, steps = stages[index], setup.steps(stages[index])
        with adapter_view(model, stage.view):
            # Exactly the parameters this stage trains, chosen by name; requires_grad made to agree.
            named = parameters_of(model, [stage.owner])
            set_trainable(model, [stage.owner])
            schedule = stage_schedule(stage, p)
            optimizer = make_optimizer(named, p, schedule.peak, fused=dev.type == "cuda")
            scheduler = make_scheduler(optimizer, schedule, steps)
            loader = setup.stage_loader(index)
            if resume is not None:  # the optimizer, schedule and data as the checkpoint left them
                if resume["optimizer_names"] != [n for n, _ in named]:
                    raise InternalError(
                        f"stage {stage.name!r}: the checkpoint's optimizer holds other parameters than the stage trains"
                    )
                optimizer.load_state_dict(resume["optimizer"])
                scheduler.load_state_dict(resume["scheduler"])
                loader.load_state_dict(distributed.mine(resume["loader"], world))
            elif stage.optimizer == "keep":  # the previous stage's AdamW moments, where it trained these too
                run.take_carried(optimizer, named)
            batches = iter(loader)
            net = distributed.data_parallel(model, dev, world)  # the model itself with one process
            net.train()
            step = TrainStep(
                net,
                [q for _, q in named],
                optimizer,
                scheduler,
                grad_clip=p.grad_clip,
                device=dev,
                seen=run.seen,
                compile=compiled,
            )
            pending: list[torch.Tensor] = []  # losses of the steps since they were last read
            shown, stop = "", False
            while run.stage_step < steps and not stop:
                started = time.perf_counter()
                micro_batches = []
                for _ in range(p.grad_accum):
                    batch = next(batches)
                    if trace is not None:
                        trace.batch(index, run.step, loader.dataset.names, batch)
                    micro_batches.append(batch["tokens"].to(torch.int64))
                pending.append(step(micro_batches))  # forward, loss, backward; clip, AdamW, schedule
                run.stage_step += 1
                run.step += 1
                run.tokens += setup.step_tokens
                stop = stop_after_steps is not None and run.step >= stop_after_steps
                curve_point = run.tokens % p.eval_every == 0
                checkpoint = run.stage_step < steps and (stop or run.tokens % p.checkpoint_every == 0)
                if curve_point or checkpoint or run.stage_step == steps or stop:
                    values = distributed.mean_each(torch.cat(pending).tolist(), world)  # the one wait for the device
                    pending.clear()
                    run.add_losses(values)
                    shown = f"{values[-1]:.3f}"
                run.train_seconds += time.perf_counter() - started
                bar.update(1)
                bar.set_postfix(stage=stage.name, loss=shown, tok_s=f"{run.tokens / max(run.train_seconds, 1e-9):.0f}")
                if curve_point:
                    run.add_curve_point(stage, losses_now())
                if checkpoint:
                    names = [n for n, _ in named]
                    run.save(setup, model, optimizer=optimizer, names=names, scheduler=scheduler, loader=loader)
            del net, step  # a wrapper lives for one stage (see distributed.data_parallel)
        if run.stage_step < steps:
            return stop  # stopped within the stage
        # The stage is complete: AdamW's state kept for a next stage that starts from it; the
        # stage recorded (exact tokens served, evaluation in every adapter view) and its model
        # kept; a checkpoint at the start of the next stage.
        keeps = index + 1 < len(stages) and stages[index + 1].optimizer == "keep"
        run.carry(optimizer, named if keeps else None)
        served = distributed.sum_counts({str(k): int(v) for k, v in loader.served_tokens.items()}, world)
        if sum(served.values()) != stage.tokens:
            raise InternalError(
                f"stage {stage.name!r}: the loader served {sum(served.values())} target tokens, the budget is {stage.tokens}"
            )
        views: list[str | None] = [None, *adapter_names(model)]
        losses = distributed.from_main(lambda: evaluate_views(model, sets, dev, views), world)
        rows = 0 if stage.train_adapter is None else len(adapter_tokens(model, stage.train_adapter))
        run.end_stage(stage, served, losses, rows)
        if keep_stage_models and index < len(stages) - 1 and world.main:
            save_model(model, setup.out / "stages" / f"{index + 1}-{stage.name}")
        if run.stage < len(stages):  # after the last stage, final/ and run.json take over
            run.save(setup, model)
        return stop

    # 4. The stages, in order.
    if stop_after_steps is not None and run.step >= stop_after_steps:
        return _stopped(setup, run, model, trace)
    bar = tqdm(
        total=setup.plan.total_tokens // setup.step_tokens,
        initial=run.step,
        disable=not (progress and world.main),
        desc=setup.plan.name,
        unit="step",
    )
    try:
        stop = False
        while run.stage < len(stages) and not stop:
            index, stage = run.stage, stages[run.stage]
            resume = saved if saved is not None and run.stage_step > 0 else None
            saved = None
            if resume is None:  # a new stage: embeddings carried over, its adapter added
                model = _begin_stage(model, stage, index, setup, run)
            if run.tokens == 0 and not run.curve:  # the curve starts at the untrained model
                with adapter_view(model, stage.view):
                    run.add_curve_point(stage, losses_now())
            stop = train_stage(index, resume)
    finally:
        bar.close()
    if run.stage < len(stages):
        return _stopped(setup, run, model, trace)

    # 5. The final evaluation in every adapter view (the last stage's), the final model, run.json.
    result = run.result(setup, finished=True, views=run.stages[-1]["eval"])
    if world.main:
        save_model(model, setup.out / "final")
        result.write(setup.out)
        shutil.rmtree(setup.out / "checkpoint", ignore_errors=True)
    distributed.barrier(world)
    if trace is not None:
        trace.params(run.step, model)
    return result


LossFn = Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]


class TrainStep:
    """One optimizer step, as the trainer runs it (and ``hyperword bench train`` measures it).
    Calling it with the step's micro-batches returns their losses, a float32 tensor on the
    device: nothing waits for the GPU. Token ids of the batches are marked in ``seen`` (a boolean
    mask on the device) when one is given; with many processes gradients are averaged over the
    ranks once, at the last micro-batch."""

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
        """The step over ``batches``, its micro-batches. When the compiled loss fails (no C
        compiler, triton, an unsupported op), one line on stderr says so and the step (its
        gradients dropped), and every later one, runs eagerly."""
        try:
            return self._step(batches)
        except Exception as e:
            if not self.compiled:
                raise
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
            last = micro == len(batches) - 1
            with distributed.no_sync(self.net, not last):  # gradients averaged over the ranks once a step
                with autocast(self.device):
                    loss = self.loss(self.net, tokens)  # forward pass and loss
                torch.autograd.backward(loss / len(batches))  # backward: gradients of the step's mean loss
            losses.append(loss.detach())
        torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        self.scheduler.step()  # the learning rate of the next step
        self.optimizer.zero_grad(set_to_none=True)
        return torch.stack(losses)


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


@torch.no_grad()
def evaluate(model: torch.nn.Module, sets: EvalSets, device: torch.device) -> dict[str, float]:
    """Mean next-token loss per validation set, in the model's current adapter view; the model
    is put back in training mode if it was in it."""
    was_training = model.training
    model.eval()
    out: dict[str, float] = {}
    try:
        for name, batches in sets.batches.items():
            total, count = 0.0, 0
            for tokens in batches:
                with autocast(device):
                    loss = lm_loss(model, tokens.to(device), reduction="sum")
                total += float(loss)
                count += tokens[:, 1:].numel()
            out[name] = total / count
    finally:
        model.train(was_training)
    return out


def evaluate_views(
    model: torch.nn.Module, sets: EvalSets, device: torch.device, views: Sequence[str | None]
) -> dict[str, dict[str, float]]:
    """:func:`evaluate` in each of ``views`` (adapter names, ``None`` for the base model alone),
    keyed by :func:`~hyperword.train.adapters.view_name`; the model's adapter state is unchanged
    afterwards."""
    out: dict[str, dict[str, float]] = {}
    for view in views:
        with adapter_view(model, view):
            out[view_name(view)] = evaluate(model, sets, device)
    return out


def _begin_stage(model: torch.nn.Module, stage: Stage, index: int, setup: Setup, run: RunState) -> torch.nn.Module:
    """Carry the embeddings over as the stage says and add its adapter if it is new (with the
    embedding rows it owns: none, the ids no batch held so far, or all); both seeded by (seed,
    stage) alone."""
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


def _adapter_rows(stage: Stage, setup: Setup, run: RunState) -> list[int] | None:
    """The token ids whose embedding rows the stage's new adapter owns (``None``: none)."""
    if stage.train_tokens == "none":
        return None
    if stage.train_tokens == "all" or run.seen is None:  # "new" with nothing recorded: every id is new
        return list(range(setup.vocab_size))
    ids = (~run.seen).nonzero().flatten().tolist()
    return ids or None  # every id was trained on already: the adapter needs no rows of its own


def _stopped(setup: Setup, run: RunState, model: torch.nn.Module, trace: Trace | None) -> RunResult:
    """The result of a run stopped early (rank 0 writes it; every rank waits for that)."""
    result = run.result(setup, finished=False)
    if setup.world.main:
        result.write(setup.out)
    distributed.barrier(setup.world)
    if trace is not None:
        trace.params(run.step, model)
    return result
