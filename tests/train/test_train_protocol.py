"""The additive protocol's training pieces on real token directories (the ``smoke`` preset):
an optimizer kept across stages (``optimizer: keep``) carries AdamW's moments into the next
stage, differs from a reset, and resumes exactly from a checkpoint at the stage boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("peft")

from test_train_data import Data, data  # noqa: E402,F401  (the session's token directories)

from hyperword import ConfigError  # noqa: E402
from hyperword.train import PRESETS, run_plan  # noqa: E402
from hyperword.train.plans import build_additive  # noqa: E402
from hyperword.train.state import read_trainer_state  # noqa: E402

torch.set_num_threads(1)
PRESET = PRESETS["smoke"]  # 512 tokens a step


def _plan(state: str) -> object:
    # 4 mnemo steps, then 8 natural steps
    return build_additive("mnemo-first", natural_tokens=8 * 512, fraction=0.5, step_tokens=512, optimizer_state=state)


def _run(data: Data, state: str, out: Path, stop: int | None = None) -> object:
    return run_plan(_plan(state), data.corpora, data.validation, PRESET, 0, out, progress=False, stop_after_steps=stop)  # type: ignore[arg-type]


def test_a_kept_optimizer_carries_the_moments_and_resumes_exactly(data: Data, tmp_path: Path) -> None:
    plan = _plan("keep")
    assert [s.optimizer for s in plan.stages] == ["reset", "keep"]  # type: ignore[attr-defined]
    reset = _run(data, "reset", tmp_path / "reset")
    keep = _run(data, "keep", tmp_path / "keep")
    assert keep.final_eval != reset.final_eval  # type: ignore[attr-defined]
    assert keep.stages[0].eval == reset.stages[0].eval  # the same first stage; only what follows differs  # type: ignore[attr-defined]
    # stopped at the stage boundary: the checkpoint holds stage 1's AdamW state by name
    _run(data, "keep", tmp_path / "resumed", stop=4)
    carried = read_trainer_state(tmp_path / "resumed" / "checkpoint")["progress"]["carried"]
    assert carried and all({"exp_avg", "exp_avg_sq", "step"} <= set(v) for v in carried.values())
    assert all(float(v["step"]) == 4.0 for v in carried.values())
    assert any(float(v["exp_avg"].abs().sum()) > 0 for v in carried.values())
    resumed = _run(data, "keep", tmp_path / "resumed")
    assert resumed.final_eval == keep.final_eval and resumed.curve == keep.curve  # type: ignore[attr-defined]
    # a reset run carries nothing
    _run(data, "reset", tmp_path / "reset-stopped", stop=4)
    assert read_trainer_state(tmp_path / "reset-stopped" / "checkpoint")["progress"]["carried"] is None


def test_an_unknown_optimizer_state_is_refused() -> None:
    with pytest.raises(ConfigError, match="optimizer state must be one of reset, keep"):
        build_additive("mnemo-first", natural_tokens=4096, fraction=0.5, step_tokens=512, optimizer_state="warm")
    from hyperword.train import plan_from_dict

    with pytest.raises(ConfigError, match="optimizer must be one of reset, keep"):
        plan_from_dict({"stages": [{"mixture": {"natural": 1}, "tokens": 512, "optimizer": "warm"}]})
