"""What the commands share: the parser class and the argument types and flags that more than
one command takes, each defined here once.

Argument types raise ``argparse.ArgumentTypeError``, so a bad value is a usage error (exit 2)
naming the flag, before the command runs.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from typing import Any, NoReturn, get_args

from hyperword.errors import ConfigError, HyperwordError
from hyperword.generation.config import Compression, Format, parse_count

__all__ = [
    "Parser",
    "Subparsers",
    "add_file_format",
    "add_force",
    "add_json",
    "add_progress",
    "comma_list",
    "count",
    "fraction",
    "named_path",
    "positive",
    "set_torch_threads",
]

Subparsers = argparse._SubParsersAction  # what ``add_subparsers`` returns; ``register(sub)`` takes it


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line pointing at the command's own ``--help``; a flag
    means exactly itself (no abbreviations), and an unknown flag names the closest known one.

    Every subcommand parser is a ``Parser`` (``add_subparsers`` passes the class down), so a
    leaf command (``hyperword generate``, ``hyperword lexicon import``) reports its own
    unknown flags, before argparse would complain about a required flag the typo hid.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _is_leaf(self) -> bool:
        return self._subparsers is None

    def _unknown(self, flags: Sequence[str]) -> str:
        known = sorted(self._option_string_actions)
        said = []
        for flag in flags:
            close = difflib.get_close_matches(flag.split("=", 1)[0], known, n=1, cutoff=0.6)
            said.append(f"{flag} (did you mean {close[0]}?)" if close else flag)
        return "unrecognized arguments: " + " ".join(said)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args is not None and self._is_leaf():
            flags = []
            for arg in args:
                if arg == "--":
                    break
                if arg.startswith("--") and arg.split("=", 1)[0] not in self._option_string_actions:
                    flags.append(arg)
            if flags:
                self.error(self._unknown(flags))
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and self._is_leaf():
            self.error(self._unknown(extras))
        assert parsed is not None
        return parsed, extras


# --- argument types ---------------------------------------------------------------------------


def count(text: str) -> int:
    """A positive count as the API takes it: ``1000``, ``10M``, ``2.5k``, ``1e9``."""
    try:
        return parse_count(text)
    except HyperwordError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def positive(text: str) -> int:
    """A positive integer, written out (``4``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"invalid fraction {text!r}: expected a number strictly between 0 and 1, e.g. 0.01"
        )
    return value


def comma_list(text: str) -> tuple[str, ...]:
    """``en, ru,,es`` → ``("en", "ru", "es")``: the items of a comma-separated list, stripped,
    empty ones dropped (a language list, built-in arms, user symbols)."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def named_path(text: str) -> tuple[str, str]:
    """``NAME=PATH`` → ``(NAME, PATH)``, both non-empty."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {text!r}")
    return name, path


# --- flags ------------------------------------------------------------------------------------

PROGRESS_HELP = "show progress: a bar on a terminal, a line every 30 s in a log (default: on a terminal only)"


def add_progress(group: Any, help: str = PROGRESS_HELP) -> None:
    """``--progress/--no-progress``; unset (``None``) means: on a terminal only."""
    group.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help=help)


def add_force(group: Any, help: str) -> None:
    """``--force``: replace what the command would otherwise refuse to overwrite (``help`` says what)."""
    group.add_argument("--force", action="store_true", help=help)


def add_json(group: Any, help: str = "print the report as JSON") -> None:
    group.add_argument("--json", action="store_true", help=help)


def add_file_format(group: Any) -> None:
    """``--compression``, ``--compression-level`` and ``--format`` of the corpus shards written."""
    group.add_argument("--compression", choices=list(get_args(Compression)), default="zstd")
    group.add_argument(
        "--compression-level", type=int, metavar="L", help="zstd level 1-22, or -1..-7 for the fast levels (default 1)"
    )
    group.add_argument("--format", choices=list(get_args(Format)), default="arrow")


def set_torch_threads(threads: int | None) -> None:
    """A ``--threads`` of the torch commands: torch's CPU threads, when given (positive)."""
    if threads is None:
        return
    if threads < 1:
        raise ConfigError(f"--threads must be positive, got {threads}")
    import torch

    torch.set_num_threads(threads)
