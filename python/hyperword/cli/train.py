"""``hyperword train``: one run of a plan (a built-in arm or a plan file), the trainer of
:mod:`hyperword.train` as a command of the one CLI.

    hyperword train --plan mnemo-first --preset cpu --seed 0 --out runs/mf-0 \\
        --corpus mnemo=tok/mnemo --corpus natural=tok/natural --val natural=tok/natural-val

The same flags and behaviour as ``python -m hyperword.train``, which ``torchrun`` starts for
many processes (its parser and :func:`run` are these). A checkpoint in ``--out`` is resumed; a
finished run there is reported without training. Prints the final validation losses (every
adapter view) and where ``run.json`` is. ``--list`` prints the arms and presets. Bad input is
one line on stderr and exit status 1, before any training. torch is imported only when a run
starts, so the rest of the CLI does not pay for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from hyperword.cli.args import Subparsers, named_path, set_torch_threads

__all__ = ["add_arguments", "main", "register", "run", "standalone_parser"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The trainer's flags (``hyperword train`` and ``python -m hyperword.train`` alike)."""
    parser.add_argument("--plan", help="a built-in arm (see --list) or a .json/.yaml plan file")
    parser.add_argument("--preset", default="cpu", help="smoke, cpu or gpu (default: cpu)")
    parser.add_argument(
        "--corpus",
        action="append",
        type=named_path,
        default=[],
        metavar="ROLE=DIR",
        help="a corpus role's token directory (repeatable)",
    )
    parser.add_argument(
        "--val",
        action="append",
        type=named_path,
        default=[],
        metavar="NAME=DIR",
        help="a validation token directory (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="the run's directory (checkpoints, models, run.json)")
    parser.add_argument(
        "--mnemo-fraction",
        type=float,
        default=0.5,
        help="share of the budget on the mnemo side of built-in arms (default 0.5)",
    )
    parser.add_argument(
        "--bridge", type=float, default=0.0, help="weight of the 'bridge' corpus added to every stage (default 0)"
    )
    parser.add_argument("--tokenizer", help="the tokenizer directory, checked against the token directories")
    parser.add_argument(
        "--device", help="cpu or cuda (default: cuda when available; under torchrun each rank uses cuda:LOCAL_RANK)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (per process)")
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile the training step (default: on with CUDA, off on the CPU; a failure to compile warns and trains eagerly)",
    )
    parser.add_argument("--stop-after-steps", type=int, help="stop (checkpointed) after this many optimizer steps")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--list", action="store_true", help="print the built-in arms and presets, then exit")


def register(sub: Subparsers[Any]) -> None:
    """Add the ``train`` command to the ``hyperword`` subparsers."""
    p = sub.add_parser(
        "train", help="train a small model on token directories following a plan (torchrun: python -m hyperword.train)"
    )
    add_arguments(p)
    p.set_defaults(func=run)


def standalone_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m hyperword.train`` (what ``torchrun`` starts): these flags alone."""
    parser = argparse.ArgumentParser(
        prog="python -m hyperword.train",
        description="Train a small model on token directories following a curriculum plan.",
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hyperword.train``: the same run as ``hyperword train``; the exit status."""
    return run(standalone_parser().parse_args(argv))


def _list() -> None:
    from hyperword.train.plans import ARM_DESCRIPTIONS, ARMS
    from hyperword.train.presets import PRESETS

    print("arms:")
    for arm in ARMS:
        print(f"  {arm:18} {ARM_DESCRIPTIONS[arm]}")
    print("presets:")
    for p in PRESETS.values():
        print(
            f"  {p.name:6} {p.size:5} model, seq_len {p.seq_len}, batch {p.batch_size}x{p.grad_accum}, {p.tokens:,} tokens, lr {p.lr:g}"
        )


def run(args: argparse.Namespace) -> int:
    """One run from parsed :func:`add_arguments` flags; the exit status."""
    from hyperword._hyperword import ConfigError, HyperwordError
    from hyperword.train.distributed import PeerFailed, World, launched

    if args.list:
        _list()
        return 0
    world = World()
    try:
        if not args.plan or not args.out:
            raise ConfigError("--plan and --out are required (see --help)")
        for flag, pairs in (("--corpus", args.corpus), ("--val", args.val)):
            names = [n for n, _ in pairs]
            if len(set(names)) != len(names):
                raise ConfigError(f"{flag}: a name is given twice: {names}")
        set_torch_threads(args.threads)
        from hyperword.train.trainer import run_plan

        with launched(args.device) as (world, device):  # torch.distributed under torchrun
            result = run_plan(
                args.plan,
                dict(args.corpus),
                dict(args.val),
                args.preset,
                args.seed,
                args.out,
                mnemo_fraction=args.mnemo_fraction,
                bridge=args.bridge,
                tokenizer=args.tokenizer,
                device=device,
                progress=not args.no_progress and world.main,
                stop_after_steps=args.stop_after_steps,
                compile=args.compile,
            )
    except PeerFailed:
        return 1  # rank 0 reports the error
    except (HyperwordError, OSError) as e:
        rank = f" (rank {world.rank})" if world.size > 1 else ""
        print(f"hyperword train: error{rank}: {e}", file=sys.stderr)
        return 1
    if not world.main:
        return 0
    state = "finished" if result.finished else f"stopped after {result.steps} steps (run again to resume)"
    procs = f" over {result.world_size} processes" if result.world_size > 1 else ""
    print(
        f"{result.name} seed {result.seed}: {state}; {result.tokens:,} tokens{procs} at {result.tokens_per_second:,.0f} tokens/s"
    )
    for view, losses in result.views.items():
        print(f"  {view:10} " + "  ".join(f"{name} {loss:.4f}" for name, loss in losses.items()))
    print(f"  {result.out_dir}/run.json")
    return 0
