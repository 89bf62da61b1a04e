"""What a run reports (``OUT/run.json``): the loss curve at fixed token counts, each stage's
outcome, the final evaluation in every adapter view, the exact tokens served per corpus role,
and everything that identifies the run (plan, preset, seed, model, tokenizer and corpus hashes)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hyperword.formats.atomic import write_atomic

__all__ = ["RUN_FILE", "CurvePoint", "RunResult", "StageResult", "read_run"]

RUN_FILE = "run.json"
FORMAT = "hyperword-train-run"


@dataclass
class CurvePoint:
    """After ``tokens`` trained target tokens (``step`` optimizer steps): the mean train loss
    since the previous point (``None`` at 0 tokens) and the validation losses, in ``view`` (the
    adapter the stage under way uses, or ``base``)."""

    tokens: int
    step: int
    stage: str
    view: str
    train_loss: float | None
    eval: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CurvePoint:
        return cls(**data)


@dataclass
class StageResult:
    """One finished stage: what it trained (``token_rows``: how many embedding rows its adapter
    owns), the exact target tokens served per corpus role, its mean train loss over the whole
    stage, and validation losses at its end in every adapter view the model then had."""

    name: str
    trains: str
    view: str
    tokens: int
    steps: int
    served_tokens: dict[str, int]
    train_loss: float | None
    eval: dict[str, dict[str, float]]
    token_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageResult:
        return cls(**data)


@dataclass
class RunResult:
    """A run of a plan (``finished`` ``False`` when it stopped early and can be resumed)."""

    name: str
    seed: int
    finished: bool
    fingerprint: str
    out_dir: str
    plan: dict[str, Any]
    preset: dict[str, Any]
    model: dict[str, Any]
    tokenizer_sha256: str
    corpora: dict[str, dict[str, Any]]
    validation: dict[str, dict[str, Any]]
    tokens: int
    steps: int
    served_tokens: dict[str, int]
    curve: list[CurvePoint] = field(default_factory=list)
    stages: list[StageResult] = field(default_factory=list)
    final_view: str | None = None
    final_eval: dict[str, float] = field(default_factory=dict)
    views: dict[str, dict[str, float]] = field(default_factory=dict)
    device: str = "cpu"
    world_size: int = 1  # training processes (torchrun); tokens and steps count all of them
    train_seconds: float = 0.0
    tokens_per_second: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        data["curve"] = [p.to_dict() for p in self.curve]
        data["stages"] = [s.to_dict() for s in self.stages]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        data = dict(data)
        data.pop("format", None)
        data["curve"] = [CurvePoint.from_dict(p) for p in data.get("curve", [])]
        data["stages"] = [StageResult.from_dict(s) for s in data.get("stages", [])]
        return cls(**data)

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        path = Path(out_dir) / RUN_FILE
        write_atomic(path, (json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        return path


def read_run(out_dir: str | os.PathLike[str]) -> RunResult | None:
    """``OUT/run.json`` back, or ``None`` when there is none."""
    path = Path(out_dir) / RUN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return RunResult.from_dict(data)
