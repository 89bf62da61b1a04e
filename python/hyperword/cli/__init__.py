"""The ``hyperword`` command line: one module per command (``generate``, ``sample``,
``inspect``, ``lexicon``, ``ingest``, ``tokenizer``, ``encode``, ``verify``, ``experiment``,
``train``, ``bench``), each with a ``register(sub)`` that adds it to the parser; the argument
types and flags several of them take are in :mod:`hyperword.cli.args`.

Every failure is one line on stderr (``hyperword: error: ...``) and a non-zero exit, never
a traceback; nothing is written when the input is bad.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hyperword._hyperword import __version__
from hyperword.cli.args import Parser
from hyperword.errors import ConfigError, HyperwordError, OutputLockedError

__all__ = ["build_parser", "error_line", "main"]

# The commands in the order ``hyperword --help`` lists them.
COMMANDS = (
    "generate",
    "sample",
    "inspect",
    "lexicon",
    "ingest",
    "tokenizer",
    "encode",
    "verify",
    "experiment",
    "train",
    "bench",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = Parser(prog="hyperword", description="Generate corpora of fused multilingual mnemophrases.")
    parser.add_argument("--version", action="version", version=f"hyperword {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        importlib.import_module(f"hyperword.cli.{command}").register(sub)
    return parser


def error_line(e: BaseException) -> str:
    """The one line an error prints as, in one style whatever raised it: a missing file is
    ``PATH: no such file`` (never ``[Errno 2] ...: 'PATH'`` or ``(os error 2)``), another OS
    error ``PATH: reason``."""
    if isinstance(e, KeyError):
        return f"missing field {e} in the manifest"
    if isinstance(e, OSError) and e.filename is not None:
        name = os.fsdecode(e.filename)
        return f"{name}: no such file" if isinstance(e, FileNotFoundError) else f"{name}: {e.strerror or e}"
    if isinstance(e, OSError) and e.errno is not None and e.strerror:
        return e.strerror  # "PATH: No space left on device", as shards.naming words it
    return str(e)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        print("hyperword: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `hyperword sample | head`
        sys.stdout = None  # nothing more can be written
        return 0
    except (
        OutputLockedError,
        ConfigError,
    ) as e:  # bad input, or another run writes there: a usage problem, not a failure
        print(f"hyperword: error: {error_line(e)}", file=sys.stderr)
        return 2
    except (HyperwordError, OSError, ValueError, KeyError) as e:
        print(f"hyperword: error: {error_line(e)}", file=sys.stderr)
        return 1
    return rc if isinstance(rc, int) else 0
