"""``hyperword experiment``: every arm and seed of the mnemophrase question, one command.

    hyperword experiment --arms mnemo-first,joint,natural-only,unfused-first --seeds 3 \\
        --preset cpu --out exp/ [--natural FILE_OR_DIR ...] [--langs en,ru]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``experiment`` command to the ``hyperword`` subparsers."""
    from hyperword.experiment.runner import DEFAULT_ARMS

    p = sub.add_parser("experiment", help="run curriculum arms x seeds on one tokenizer; write results.json, results.md, loss_curves.png")
    p.add_argument("--arms", default=",".join(DEFAULT_ARMS), help=f"comma-separated built-in arms (default {','.join(DEFAULT_ARMS)})")
    p.add_argument("--seeds", type=int, default=3, metavar="K", help="seeds 0..K-1 per arm (default 3)")
    p.add_argument("--preset", default="cpu", help="smoke | cpu | gpu (model size, budget, batch, evaluation)")
    p.add_argument("--out", required=True, metavar="DIR", help="experiment directory (reused and resumed when run again)")
    p.add_argument("--natural", nargs="+", metavar="PATH", help="natural text files or directories of *.txt (default: ../shared/data/natural/{en,ru}.txt)")
    p.add_argument("--langs", default="en,ru", help="languages of the mnemophrases (default en,ru)")
    p.add_argument("--mnemo-fraction", type=float, default=0.5, help="share of the budget in the mnemo stage (default 0.5)")
    p.add_argument("--bridge", type=float, default=0.0, metavar="W", help="add bridge rows to every stage with weight W (default 0: none)")
    p.add_argument("--vocab-size", type=int, help="tokenizer vocabulary (default: 1000 smoke, 4000 cpu, 32000 gpu)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_experiment)


def _cmd_experiment(a: argparse.Namespace) -> None:
    from hyperword._hyperword import ConfigError
    from hyperword.experiment.data import natural_sources
    from hyperword.experiment.runner import Experiment, default_natural, run_experiment

    natural = natural_sources(a.natural) if a.natural else default_natural()
    if not natural:
        raise ConfigError("no natural text: pass --natural FILE_OR_DIR (../shared/data/natural/ was not found)")
    exp = Experiment(
        arms=tuple(x.strip() for x in a.arms.split(",") if x.strip()), seeds=a.seeds, preset=a.preset, out=Path(a.out),
        natural=natural, langs=tuple(x.strip() for x in a.langs.split(",") if x.strip()), mnemo_fraction=a.mnemo_fraction,
        bridge=a.bridge, vocab_size=a.vocab_size, device=a.device,
    )  # fmt: skip
    run_experiment(exp, progress=not a.no_progress)
    print(f"wrote {exp.out / 'results.json'}, {exp.out / 'results.md'}, {exp.out / 'loss_curves.png'}")
    print((exp.out / "results.md").read_text(encoding="utf-8"))
