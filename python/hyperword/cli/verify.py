"""``hyperword verify DIR...``: check corpora and token shards against their manifests.

Prints one line per bad file (``PATH: reason``) and a summary per directory; exits 1 when any
directory has a problem, 0 when all are intact.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hyperword.cli.args import Subparsers
from hyperword.formats.reader import split_sides
from hyperword.verify import verify

__all__ = ["register"]


def register(sub: Subparsers[Any]) -> None:
    """Add the ``verify`` command to the ``hyperword`` subparsers."""
    p = sub.add_parser(
        "verify", help="check corpus or token directories against their manifests (sizes, sha256, counts, readability)"
    )
    p.add_argument(
        "dirs", nargs="+", metavar="DIR", help="corpus or token-shard directories (a split corpus: both sides)"
    )
    p.set_defaults(func=_cmd_verify)


def _cmd_verify(a: argparse.Namespace) -> int:
    bad = 0
    for d in [side for given in a.dirs for side in (split_sides(given) or [given])]:  # a split corpus: both sides
        report = verify(d)
        for problem in report.problems:
            print(problem, file=sys.stderr)
        if report.ok:
            print(f"ok {report.directory}: {report.kind}, {report.shards} shards intact")
        else:
            bad += 1
            print(f"BAD {report.directory}: {len(report.problems)} problem(s)")
    return 1 if bad else 0
