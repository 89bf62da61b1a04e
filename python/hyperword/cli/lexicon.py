"""``hyperword lexicon``: import, build, check and summarise lexicons (see ``hyperword.lexicon``).

    hyperword lexicon import SRC --out FILE.tsv [--lang L] [--column word=lemma ...]
                             [--format tsv|csv|txt|parquet|arrow] [--delimiter D] [--skip-invalid]
    hyperword lexicon build --source wordfreq --lang ru --top 50000 --out FILE.tsv [--wordlist best|large|small]
    hyperword lexicon build --source wordfreq --add-weights SRC.tsv --out FILE.tsv
    hyperword lexicon check FILE [--lang L] [--json]
    hyperword lexicon info FILE [--lang L] [--json]

Wired in by ``hyperword.cli.build_parser`` with ``register(sub)``. Each handler
raises ``HyperwordError`` or ``OSError`` on failure (the caller prints one line and exits
1); ``check`` prints its report and exits 1 when the lexicon would be rejected at load.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hyperword.cli.args import Subparsers, add_json, count
from hyperword.errors import ConfigError
from hyperword.lexicon import (
    FORMATS,
    WORDLISTS,
    add_wordfreq_weights,
    build_wordfreq,
    check_lexicon,
    import_lexicon,
    lexicon_info,
)

__all__ = ["register"]

_DESCRIPTION = "Import, build, check and summarise lexicons (the TSV format is in README.md, 'The lexicon format')."
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def _mapping(text: str) -> tuple[str, str]:
    target, sep, source = text.partition("=")
    if not sep or not target.strip() or not source.strip():
        raise argparse.ArgumentTypeError(f"invalid column mapping {text!r}: expected TARGET=SOURCE, e.g. word=lemma")
    return target.strip(), source.strip()


def register(sub: Subparsers[Any]) -> None:
    """Add the ``lexicon`` command (and its subcommands) to the ``hyperword`` subparsers ``sub``."""
    lex = sub.add_parser("lexicon", help="import, build, check and summarise lexicons", description=_DESCRIPTION)
    cmds = lex.add_subparsers(dest="lexicon_command", required=True, metavar="COMMAND")

    imp = cmds.add_parser("import", help="convert CSV/TSV, a word list, Parquet or Arrow into a lexicon TSV")
    imp.add_argument("src", metavar="SRC", help="the source file")
    imp.add_argument("--out", required=True, metavar="FILE.tsv", help="the lexicon to write (atomically)")
    imp.add_argument("--lang", metavar="L", help="language of a word list, or of a table without a lang column")
    imp.add_argument(
        "--column",
        action="append",
        type=_mapping,
        default=[],
        metavar="TARGET=SOURCE",
        help="take lexicon column TARGET (lang, word, concept, field, pos, weight) from source column SOURCE; repeatable",
    )
    imp.add_argument("--format", choices=FORMATS, help="input format (default: from the extension)")
    imp.add_argument(
        "--delimiter", metavar="D", help="cell delimiter of a tsv/csv source (one character, or tab, comma, ...)"
    )
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="drop and count invalid rows instead of failing (without it, every invalid row is listed with its line and nothing is written)",
    )
    imp.add_argument(
        "--no-normalize",
        dest="normalize",
        action="store_false",
        help="reject words not in NFC instead of normalising them",
    )
    add_json(imp)
    imp.set_defaults(func=_cmd_import)

    bld = cmds.add_parser("build", help="build a frequency-weighted lexicon, or add frequency weights to one")
    bld.add_argument("--source", required=True, choices=["wordfreq"], help="where the words and frequencies come from")
    bld.add_argument("--lang", metavar="L", help="the language of the lexicon to build")
    bld.add_argument("--top", type=count, metavar="N", help="how many of the most frequent words (default 50000)")
    bld.add_argument(
        "--min-zipf",
        type=float,
        metavar="Z",
        help="stop at words below this Zipf frequency (3 = once per million words)",
    )
    bld.add_argument(
        "--add-weights", metavar="SRC.tsv", help="instead: add (or replace) frequency weights on this lexicon"
    )
    bld.add_argument(
        "--floor",
        type=float,
        metavar="W",
        help="with --add-weights: weight of words wordfreq lacks (default: per language, its smallest frequency / 10)",
    )
    bld.add_argument(
        "--skip-missing-langs",
        action="store_true",
        help="with --add-weights: leave languages wordfreq lacks unweighted instead of failing",
    )
    bld.add_argument("--wordlist", choices=WORDLISTS, default="best", help="wordfreq word list (default best)")
    bld.add_argument("--out", required=True, metavar="FILE.tsv", help="the lexicon to write (atomically)")
    add_json(bld)
    bld.set_defaults(func=_cmd_build)

    chk = cmds.add_parser("check", help="report every problem of a lexicon, with counts per language, field and script")
    chk.add_argument("file", metavar="FILE")
    chk.add_argument("--lang", metavar="L", help="read FILE as a plain word list in this language")
    add_json(chk)
    chk.set_defaults(func=_cmd_check)

    inf = cmds.add_parser("info", help="summarise a lexicon: languages, fields, concepts, weights, content hash")
    inf.add_argument("file", metavar="FILE")
    inf.add_argument("--lang", metavar="L", help="read FILE as a plain word list in this language")
    add_json(inf)
    inf.set_defaults(func=_cmd_info)


def _print(report: Any, as_json: bool) -> None:
    print(report.to_json() if as_json else report.format_table())


def _cmd_import(a: argparse.Namespace) -> None:
    columns: dict[str, str] = {}
    for target, source in a.column:
        if target in columns and columns[target] != source:
            raise ConfigError(f"--column {target}= given twice ({columns[target]!r} and {source!r})")
        columns[target] = source
    delimiter = a.delimiter
    if delimiter is not None:
        delimiter = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
    report = import_lexicon(
        a.src,
        a.out,
        lang=a.lang,
        columns=columns or None,
        fmt=a.format,
        delimiter=delimiter,
        normalize=a.normalize,
        skip_invalid=a.skip_invalid,
    )
    _print(report, a.json)


def _cmd_build(a: argparse.Namespace) -> None:
    if a.add_weights is not None:
        for flag, value in (("--lang", a.lang), ("--top", a.top), ("--min-zipf", a.min_zipf)):
            if value is not None:
                raise ConfigError(f"{flag} builds a new lexicon; it does not apply with --add-weights")
        report: Any = add_wordfreq_weights(
            a.add_weights, a.out, wordlist=a.wordlist, floor=a.floor, skip_missing_langs=a.skip_missing_langs
        )
    else:
        if a.lang is None:
            raise ConfigError("lexicon build needs --lang L (or --add-weights SRC.tsv to weight an existing lexicon)")
        for flag, value in (("--floor", a.floor), ("--skip-missing-langs", a.skip_missing_langs or None)):
            if value is not None:
                raise ConfigError(f"{flag} applies with --add-weights only")
        top = 50_000 if a.top is None else a.top
        report = build_wordfreq(a.out, lang=a.lang, top=top, wordlist=a.wordlist, min_zipf=a.min_zipf)
    _print(report, a.json)


def _cmd_check(a: argparse.Namespace) -> None:
    report = check_lexicon(a.file, lang=a.lang)
    _print(report, a.json)
    if not report.ok:
        sys.stdout.flush()
        print(f"hyperword: error: {a.file}: {len(report.problems)} problems (see report)", file=sys.stderr)
        raise SystemExit(1)


def _cmd_info(a: argparse.Namespace) -> None:
    _print(lexicon_info(a.file, lang=a.lang), a.json)
