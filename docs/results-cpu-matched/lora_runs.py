"""The extra `mnemo-first-lora` runs of docs/results.md, over an experiment directory that
`hyperword experiment --preset cpu` made (its data/tokens are reused):

    python docs/results-cpu/lora_runs.py EXP_DIR OUT_DIR

1. without its own embedding rows (``lora_tokens="none"``), seeds 0-2;
2. LoRA rank x learning rate of the ``lang`` stage (alpha = 2 * rank), seed 0.

Runs already finished in OUT_DIR are reported, not retrained.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from hyperword.train import PRESETS, run_plan
from hyperword.train.adapters import LoraSpec
from hyperword.train.plans import Plan, build_arm


def main(exp: Path, out: Path) -> None:
    tokens = exp / "data" / "tokens"
    corpora = {"mnemo": tokens / "mnemo", "natural": tokens / "natural"}
    validation = {"natural": tokens / "natural-validation", "mnemo": tokens / "mnemo-validation"}
    preset = PRESETS["cpu"]

    def report(plan: Plan, seed: int, name: str) -> None:
        r = run_plan(plan, corpora, validation, preset=preset, seed=seed, out_dir=out / name, progress=False)
        print(f"{name}: natural {r.final_eval['natural']:.4f}, mnemo {r.final_eval['mnemo']:.4f}, rows {r.stages[-1].token_rows}", flush=True)

    no_rows = build_arm("mnemo-first-lora", total_tokens=preset.tokens, step_tokens=preset.step_tokens, lora_tokens="none")
    for seed in range(3):
        report(no_rows, seed, f"no-rows/seed-{seed}")
    arm = build_arm("mnemo-first-lora", total_tokens=preset.tokens, step_tokens=preset.step_tokens)
    for rank in (8, 32):
        for lr in (0.003, 0.01, 0.03):
            lang = dataclasses.replace(arm.stages[1], lora=LoraSpec(r=rank, alpha=2 * rank), lr=lr)
            report(Plan(f"lora-r{rank}-lr{lr}", (arm.stages[0], lang), arm.total_tokens), 0, f"sweep/r{rank}-lr{lr}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
