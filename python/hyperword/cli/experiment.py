"""``hyperword experiment``: every arm, fraction and seed of the mnemophrase question, one command.

    hyperword experiment --arms mnemo-first,unfused-first@0.125,natural-only --seeds 5 \\
        --preset cpu --pre-fractions 0.03125,0.125,0.5 --out exp/ [--natural FILE_OR_DIR ...] \\
        [--langs en,ru,es] [--eval-text es=es.txt] [--protocol additive|matched]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hyperword.cli.args import Subparsers, comma_list, count

__all__ = ["register"]


def register(sub: Subparsers[Any]) -> None:
    """Add the ``experiment`` command to the ``hyperword`` subparsers."""
    from hyperword.experiment.runner import DEFAULT_ARMS, DEFAULT_LADDER

    p = sub.add_parser(
        "experiment",
        help="run curriculum arms x seeds on one tokenizer; write results.json, results.md, loss_curves.png",
    )
    p.add_argument(
        "--arms",
        default=",".join(DEFAULT_ARMS),
        help=f"comma-separated built-in arms, ARM@FRACTION for one fraction only, or .json/.yaml plan files (default {','.join(DEFAULT_ARMS)})",
    )
    p.add_argument("--seeds", type=int, default=3, metavar="K", help="seeds 0..K-1 per arm (default 3)")
    p.add_argument("--preset", default="cpu", help="smoke | cpu | gpu (model size, budget, batch, evaluation)")
    p.add_argument(
        "--out", required=True, metavar="DIR", help="experiment directory (reused and resumed when run again)"
    )
    p.add_argument(
        "--natural",
        nargs="+",
        metavar="PATH",
        help="natural text files or directories of *.txt (default: ../shared/data/natural/{en,ru}.txt)",
    )
    p.add_argument("--langs", default="en,ru", help="languages of the mnemophrases (default en,ru)")
    g = p.add_argument_group("protocol")
    g.add_argument(
        "--protocol",
        default="additive",
        help="additive (a pre-stage added before the same natural stage; default) | matched (one total carved)",
    )
    g.add_argument(
        "--pre-fractions",
        metavar="F,...",
        help="pre-stage sizes: additive, fractions of N in (0, 4] (default 0.125); matched, of the total in (0, 1)",
    )
    g.add_argument(
        "--natural-budget",
        type=count,
        metavar="N",
        help="natural tokens N (default: half the preset's budget under additive; the budget under matched)",
    )
    g.add_argument(
        "--ladder",
        default=",".join(f"{x:g}" for x in DEFAULT_LADDER),
        metavar="M,...",
        help="natural-only budgets as multiples of N, 1 among them (default 0.5,0.75,1,1.25,1.5)",
    )
    g.add_argument(
        "--mnemo-fraction",
        type=float,
        default=0.5,
        help="matched protocol: share of the budget in the pre-stage, when --pre-fractions is not given (default 0.5)",
    )
    g.add_argument(
        "--eval-text",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="also score FILE (one document per line, never trained on) as NAME; repeatable",
    )
    g.add_argument(
        "--optimizer-state",
        default="reset",
        help="reset (a fresh AdamW each stage; default) | keep (the pre-stage's moments carried into the natural stage)",
    )
    g.add_argument(
        "--dyck-k",
        type=int,
        default=64,
        metavar="K",
        help="bracket types of the dyck-first arm's k-shuffle Dyck corpus (default 64)",
    )
    g.add_argument(
        "--ngram-n",
        type=int,
        default=3,
        metavar="N",
        help="order of the ngram-first arm's n-gram model of the natural text (1-3, default 3)",
    )
    g.add_argument(
        "--tokenizer-data",
        default="mixed",
        help="mixed (natural, mnemo and unfused text; default) | natural (natural text alone)",
    )
    r = p.add_argument_group("run settings (on top of the preset)")
    r.add_argument("--size", help="model size: tiny | small | base")
    r.add_argument("--seq-len", type=int, metavar="L")
    r.add_argument("--batch-size", type=int, metavar="B")
    r.add_argument("--lr", type=float, help="peak learning rate of full stages")
    r.add_argument("--warmup", type=float, metavar="W", help="warm-up as a fraction of each stage")
    r.add_argument("--schedule", help="cosine (default) | wsd | constant")
    r.add_argument("--eval-every", type=count, metavar="T", help="periodic evaluation every T tokens")
    p.add_argument(
        "--bridge",
        type=float,
        default=0.0,
        metavar="W",
        help="add bridge rows to every stage with weight W (default 0: none)",
    )
    p.add_argument("--vocab-size", type=int, help="tokenizer vocabulary (default: 1000 smoke, 4000 cpu, 32000 gpu)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_experiment, parser=p)


def _numbers(flag: str, text: str) -> tuple[float, ...]:
    from hyperword._hyperword import ConfigError

    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"{flag}: expected comma-separated numbers, got {text!r}") from None


def _eval_texts(items: list[str]) -> tuple[tuple[str, str], ...]:
    from hyperword._hyperword import ConfigError

    out = []
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--eval-text takes NAME=FILE, got {item!r}")
        out.append((name, path))
    return tuple(out)


def _cmd_experiment(a: argparse.Namespace) -> None:
    from hyperword._hyperword import ConfigError
    from hyperword.experiment.runner import run_experiment

    try:
        exp = _experiment(a)
        exp.check()  # before anything is written: a bad value is a usage error (exit 2)
    except ConfigError as e:
        a.parser.error(str(e))
    run_experiment(exp, progress=not a.no_progress)
    print(f"wrote {exp.out / 'results.json'}, {exp.out / 'results.md'}, {exp.out / 'loss_curves.png'}")
    print((exp.out / "results.md").read_text(encoding="utf-8"))


def _experiment(a: argparse.Namespace) -> Any:
    from hyperword._hyperword import ConfigError
    from hyperword.experiment.data import natural_sources
    from hyperword.experiment.runner import Experiment, default_natural

    natural = natural_sources(a.natural) if a.natural else default_natural()
    if not natural:
        raise ConfigError("no natural text: pass --natural FILE_OR_DIR (../shared/data/natural/ was not found)")
    overrides = {
        k: v
        for k, v in {
            "size": a.size,
            "seq_len": a.seq_len,
            "batch_size": a.batch_size,
            "lr": a.lr,
            "warmup": a.warmup,
            "schedule": a.schedule,
            "eval_every": a.eval_every,
        }.items()
        if v is not None
    }
    return Experiment(
        arms=comma_list(a.arms),
        seeds=a.seeds,
        preset=a.preset,
        out=Path(a.out),
        natural=natural,
        langs=comma_list(a.langs),
        mnemo_fraction=a.mnemo_fraction,
        bridge=a.bridge,
        vocab_size=a.vocab_size,
        device=a.device,
        protocol=a.protocol,
        fractions=_numbers("--pre-fractions", a.pre_fractions) if a.pre_fractions else None,
        natural_budget=a.natural_budget,
        ladder=_numbers("--ladder", a.ladder),
        eval_texts=_eval_texts(a.eval_text),
        tokenizer_data=a.tokenizer_data,
        overrides=overrides,
        dyck_k=a.dyck_k,
        ngram_n=a.ngram_n,
        optimizer_state=a.optimizer_state,
    )
