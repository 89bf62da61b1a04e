"""``hyperword bench``: measurements a user can rerun on their own machine.

    hyperword bench train --size small --device cuda [--seq-len 512] [--batch-size 64] [--steps 20]

``bench train`` times the trainer's own optimizer step on random tokens and prints tokens/s,
step time, peak memory and MFU (:mod:`hyperword.train.bench`; ``--json`` prints the figures as
one JSON object). torch is imported only when a benchmark runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from hyperword.cli.args import Subparsers, set_torch_threads

__all__ = ["register"]


def register(sub: Subparsers[Any]) -> None:
    """Add the ``bench`` command (and its ``train`` benchmark) to the ``hyperword`` subparsers."""
    bench = sub.add_parser("bench", help="benchmarks: bench train (the trainer's optimizer step, tokens/s and MFU)")
    kinds = bench.add_subparsers(dest="benchmark", required=True)
    p = kinds.add_parser(
        "train", help="time the trainer's optimizer step on random tokens: tokens/s, step time, peak memory, MFU"
    )
    p.add_argument("--size", default="tiny", help="model size: tiny | small | base (default tiny)")
    p.add_argument("--seq-len", type=int, metavar="L", help="sequence length (default: tiny 128, small 512, base 1024)")
    p.add_argument(
        "--batch-size", type=int, metavar="B", help="sequences per step (default: tiny 16, small 64, base 32)"
    )
    p.add_argument(
        "--vocab", type=int, metavar="V", help="vocabulary size (default: tiny 4000, small 8000, base 32000)"
    )
    p.add_argument("--steps", type=int, default=10, metavar="S", help="timed optimizer steps (default 10)")
    p.add_argument(
        "--warmup", type=int, default=3, metavar="W", help="untimed steps first (compilation happens there; default 3)"
    )
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile the step (default: on with CUDA, off on the CPU)",
    )
    p.add_argument(
        "--peak-tflops",
        type=float,
        metavar="X",
        help="the device's peak TFLOP/s for MFU (default: looked up by GPU name)",
    )
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.set_defaults(func=_cmd_train)


def _cmd_train(a: argparse.Namespace) -> int:
    set_torch_threads(a.threads)
    from hyperword.train.bench import bench_train

    result = bench_train(
        a.size,
        seq_len=a.seq_len,
        batch_size=a.batch_size,
        vocab_size=a.vocab,
        steps=a.steps,
        warmup=a.warmup,
        device=a.device,
        compile=a.compile,
        peak_tflops=a.peak_tflops,
    )
    print(json.dumps(result.to_dict()) if a.json else result.describe())
    return 0
