"""hyperword.train: train a small Llama-style model on token directories following a curriculum
plan — mnemophrases first, natural text first, mixed, or as LoRA adapters — and record the loss
curve at fixed token counts.

    >>> from hyperword.train import run_plan
    >>> result = run_plan("mnemo-first", {"mnemo": "tok/mnemo", "natural": "tok/natural"},
    ...                   {"natural": "tok/natural-val"}, preset="cpu", seed=0, out_dir="runs/mf-0")  # doctest: +SKIP
    >>> result.final_eval, result.served_tokens                                              # doctest: +SKIP

Modules: :mod:`~hyperword.train.model` (sizes), :mod:`~hyperword.train.presets`,
:mod:`~hyperword.train.plan` (stages), :mod:`~hyperword.train.plan_file` (YAML/JSON), :mod:`~hyperword.train.arms` (built-in arms),
:mod:`~hyperword.train.adapters` (LoRA), :mod:`~hyperword.train.schedule` (learning rate),
:mod:`~hyperword.train.corpora` (token directories, the random control),
:mod:`~hyperword.train.checkpoint`, :mod:`~hyperword.train.trainer` (the loop),
:mod:`~hyperword.train.distributed` (many processes under ``torchrun``),
:mod:`~hyperword.train.trace` (a per-rank debugging trace),
:mod:`~hyperword.train.results` (``run.json``). Command line: ``python -m hyperword.train``.
"""

from hyperword.train.adapters import LoraSpec, adapter_view
from hyperword.train.arms import ARMS, build_arm, resolve_plan, with_bridge
from hyperword.train.checkpoint import load_model, save_model
from hyperword.train.model import SIZES, ModelSize, build_model, parameter_count
from hyperword.train.plan import Plan, Stage
from hyperword.train.plan_file import load_plan, plan_from_dict
from hyperword.train.presets import PRESETS, Preset, get_preset
from hyperword.train.results import CurvePoint, RunResult, StageResult, read_run
from hyperword.train.schedule import LRSchedule
from hyperword.train.setup import Setup, prepare_run
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
