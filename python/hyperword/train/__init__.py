"""hyperword.train: train a small Llama-style model on token directories following a curriculum
plan — mnemophrases first, natural text first, mixed, or as LoRA adapters — and record the loss
curve at fixed token counts.

    >>> from hyperword.train import run_plan
    >>> result = run_plan("mnemo-first", {"mnemo": "tok/mnemo", "natural": "tok/natural"},
    ...                   {"natural": "tok/natural-val"}, preset="cpu", seed=0, out_dir="runs/mf-0")  # doctest: +SKIP
    >>> result.final_eval, result.served_tokens                                              # doctest: +SKIP

Modules, each with one job:

- :mod:`~hyperword.train.trainer`: the loop, :func:`run_plan` (read it top to bottom);
- :mod:`~hyperword.train.plans`: stages, plans, plan files (YAML/JSON) and the built-in arms;
- :mod:`~hyperword.train.presets`: run settings and the learning-rate schedule;
- :mod:`~hyperword.train.model`: the Llama-style model at named sizes, and the loss;
- :mod:`~hyperword.train.adapters`: LoRA adapters (peft), and saving and loading models;
- :mod:`~hyperword.train.data`: token directories, the twin control corpora, a stage's batches
  and the fixed validation batches;
- :mod:`~hyperword.train.state`: the checked set-up, where the run stands, checkpoints;
- :mod:`~hyperword.train.distributed`: many processes under ``torchrun``, and a per-rank trace;
- :mod:`~hyperword.train.results`: what a run reports (``run.json``);
- :mod:`~hyperword.train.bench`: ``hyperword bench train``, the trainer's step timed.

Command line: ``python -m hyperword.train`` (the same as ``hyperword train``).
"""

from hyperword.train.adapters import LoraSpec, adapter_view, load_model, save_model
from hyperword.train.model import SIZES, ModelSize, build_model, parameter_count
from hyperword.train.plans import ARMS, Plan, Stage, build_arm, load_plan, plan_from_dict, resolve_plan, with_bridge
from hyperword.train.presets import PRESETS, LRSchedule, Preset, get_preset
from hyperword.train.results import CurvePoint, RunResult, StageResult, read_run
from hyperword.train.state import RunState, Setup, prepare_run
from hyperword.train.trainer import run_plan

__all__ = [
    "ARMS",
    "PRESETS",
    "SIZES",
    "CurvePoint",
    "LRSchedule",
    "LoraSpec",
    "ModelSize",
    "Plan",
    "Preset",
    "RunResult",
    "RunState",
    "Setup",
    "Stage",
    "StageResult",
    "adapter_view",
    "build_arm",
    "build_model",
    "get_preset",
    "load_model",
    "load_plan",
    "parameter_count",
    "plan_from_dict",
    "prepare_run",
    "read_run",
    "resolve_plan",
    "run_plan",
    "save_model",
    "with_bridge",
]
