"""``hyperword sample [-n N]``: print phrases, one per line (the first rows of the corpus that
``hyperword generate`` with the same flags writes)."""

from __future__ import annotations

import argparse
from typing import Any, cast

from hyperword.cli.args import Subparsers
from hyperword.cli.generate import add_generation_args, generation_options
from hyperword.generation import sample
from hyperword.generation.config import SampleOptions

__all__ = ["register"]


def register(sub: Subparsers[Any]) -> None:
    """Add the ``sample`` command to the ``hyperword`` subparsers."""
    smp = sub.add_parser("sample", help="print phrases, one per line")
    smp.add_argument("-n", type=int, default=10, help="how many (default 10)")
    add_generation_args(smp)
    smp.set_defaults(func=run)


def run(a: argparse.Namespace) -> None:
    for phrase in sample(a.n, **cast(SampleOptions, generation_options(a, SampleOptions))):
        print(phrase)
