"""``hyperword experiment``: every arm and seed on the same data, one tokenizer, one report.

1. Everything is checked first (arms, preset, natural text, languages), so a typo fails
   before any corpus is generated or any step is trained.
2. The data (:mod:`hyperword.experiment.data`) is made once under ``OUT/data`` and reused.
3. Each (arm, seed) trains into ``OUT/runs/ARM/seed-K`` with :func:`hyperword.train.run_plan`;
   a finished run is kept, an interrupted one resumes from its checkpoint.
4. ``OUT/results.json`` (every run's curve, finals, tokens and hashes, plus the summary),
   ``OUT/results.md`` (the table) and ``OUT/loss_curves.png`` (the curves).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperword._hyperword import ConfigError, __version__
from hyperword.experiment.data import DataSpec, Prepared, prepare
from hyperword.experiment.plot import plot_curves
from hyperword.experiment.results import CurvePoint, RunRecord, summarize, to_markdown
from hyperword.shards import write_atomic

__all__ = ["DEFAULT_ARMS", "VOCAB_SIZES", "Experiment", "run_experiment"]

DEFAULT_ARMS = ("mnemo-first", "joint", "natural-only", "unfused-first")
#: tokenizer vocabulary per preset (the tiny CPU model spends most parameters on embeddings)
VOCAB_SIZES = {"smoke": 1000, "cpu": 4000, "gpu": 32000}


@dataclass(frozen=True)
class Experiment:
    arms: tuple[str, ...]
    seeds: int
    preset: str
    out: Path
    natural: tuple[str, ...]
    langs: tuple[str, ...] = ("en", "ru")
    mnemo_fraction: float = 0.5
    bridge: float = 0.0
    vocab_size: int | None = None
    device: str | None = None

    def check(self) -> None:
        """Every input that can be wrong, before anything is made."""
        from hyperword.train import ARMS, get_preset

        get_preset(self.preset)
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown:
            raise ConfigError(f"unknown arm(s) {', '.join(map(repr, unknown))}: expected some of {', '.join(ARMS)}")
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ConfigError(f"arms must be a non-empty list without repeats, got {list(self.arms)}")
        if isinstance(self.seeds, bool) or self.seeds < 1:
            raise ConfigError(f"seeds must be a positive integer, got {self.seeds!r}")
        if not 0 < self.mnemo_fraction < 1 or not 0 <= self.bridge < 1:
            raise ConfigError(f"mnemo fraction must be in (0, 1) and bridge weight in [0, 1), got {self.mnemo_fraction} and {self.bridge}")

    def data_spec(self) -> DataSpec:
        from hyperword.train import get_preset

        vocab = self.vocab_size or VOCAB_SIZES.get(self.preset, 8000)
        # At least one token per word, so this many words cover any mnemo stage without repeats.
        return DataSpec(self.natural, self.langs, mnemo_tokens=get_preset(self.preset).tokens, vocab_size=vocab, bridge=self.bridge > 0)


def record(arm: str, result: Any, data: Prepared) -> RunRecord:
    """A trainer ``RunResult`` as the experiment's per-run record. ``final`` holds the final
    losses in the arm's final view, and ``natural_adapter_off`` (etc.) with the adapter off."""
    final = dict(result.final_eval)
    base = result.views.get("base")
    if result.final_view not in (None, "base") and base:
        final.update({f"{k}_adapter_off": v for k, v in base.items()})
    curve = [CurvePoint(p.tokens, p.train_loss, dict(p.eval)) for p in result.curve]
    hashes = {**data.hashes, "run_fingerprint": result.fingerprint, "tokenizer_sha256": result.tokenizer_sha256, "hyperword": __version__}
    return RunRecord(arm, result.seed, curve, final, dict(result.served_tokens), hashes, float(result.train_seconds))


def run_experiment(exp: Experiment, *, progress: bool = True, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run it all (see the module documentation); returns the summary."""
    from hyperword.train import resolve_plan, get_preset, run_plan

    exp.check()
    preset = get_preset(exp.preset)
    for arm in exp.arms:  # plans built (and validated) before any data is made
        resolve_plan(arm, preset, mnemo_fraction=exp.mnemo_fraction, bridge=exp.bridge)
    exp.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = prepare(exp.out, exp.data_spec())
    log(f"data ready in {time.perf_counter() - start:.1f} s: {', '.join(f'{k} {v}' for k, v in data.corpora.items())}")
    records: list[RunRecord] = []
    for seed in range(exp.seeds):
        for arm in exp.arms:
            t0 = time.perf_counter()
            result = run_plan(
                arm, data.corpora, data.validation, preset, seed, exp.out / "runs" / arm / f"seed-{seed}",
                mnemo_fraction=exp.mnemo_fraction, bridge=exp.bridge, tokenizer=data.tokenizer, device=exp.device, progress=progress,
            )  # fmt: skip
            records.append(record(arm, result, data))
            losses = ", ".join(f"{k} {v:.4f}" for k, v in sorted(records[-1].final.items()))
            log(f"{arm} seed {seed}: {losses} ({time.perf_counter() - t0:.0f} s)")
    return write_results(exp, records, data, seconds=time.perf_counter() - start)


def write_results(exp: Experiment, records: Sequence[RunRecord], data: Prepared, *, seconds: float) -> dict[str, Any]:
    summary = summarize(records)
    payload = {
        "format": "hyperword-experiment",
        "experiment": {
            "arms": list(exp.arms), "seeds": exp.seeds, "preset": exp.preset, "natural": list(exp.natural), "langs": list(exp.langs),
            "mnemo_fraction": exp.mnemo_fraction, "bridge": exp.bridge, "vocab_size": exp.data_spec().vocab_size,
        },
        "data": data.to_dict(),
        "summary": summary,
        "runs": [r.to_dict() for r in records],
        "wall_seconds": seconds,
    }  # fmt: skip
    write_atomic(exp.out / "results.json", (json.dumps(payload, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    title = f"Experiment: preset {exp.preset}, {exp.seeds} seed(s), arms {', '.join(exp.arms)}"
    write_atomic(exp.out / "results.md", to_markdown(summary, title).encode("utf-8"))
    plot_curves(records, exp.out / "loss_curves.png")
    return summary


def default_natural() -> tuple[str, ...]:
    """``../shared/data/natural/{en,ru}.txt`` beside the working directory or the repository, if present."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        d = root.parent / "shared" / "data" / "natural"
        if (d / "en.txt").is_file() and (d / "ru.txt").is_file():
            return (str(d / "en.txt"), str(d / "ru.txt"))
    return ()

