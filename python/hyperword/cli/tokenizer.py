"""``hyperword tokenizer``: train a sentencepiece tokenizer on corpora, and report on it.

    hyperword tokenizer train --corpus DIR[:WEIGHT] ... --vocab-size V --model-type unigram|bpe --out DIR
                              [--max-sentences N] [--seed S] [--force] [--num-threads T] ...
    hyperword tokenizer report --tokenizer DIR --corpus DIR[:NAME] ... [--lexicon PATH]
                               [--max-rows N] [--json FILE]

Wired in by ``hyperword.cli.build_parser`` with ``register(sub)``. Handlers
raise ``HyperwordError`` or ``OSError`` on failure (the caller prints one line, exits 1).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from hyperword.cli.args import Subparsers, add_force, add_progress, count
from hyperword.progress import progress
from hyperword.tokenizer import TrainOptions, format_table, tokenizer_report, train_tokenizer
from hyperword.tokenizer.report import DEFAULT_MAX_ROWS
from hyperword.tokenizer.train import DEFAULT_MAX_SENTENCE_LENGTH, DEFAULT_MAX_SENTENCES

__all__ = ["register"]


def _symbols(text: str) -> tuple[str, ...]:
    return tuple(s for s in text.split(",") if s)


def register(sub: Subparsers[Any]) -> None:
    """Add the ``tokenizer`` command (``train``, ``report``) to the ``hyperword`` subparsers."""
    tok = sub.add_parser("tokenizer", help="train a sentencepiece tokenizer on corpora, and report on it")
    cmds = tok.add_subparsers(dest="tokenizer_command", required=True, metavar="COMMAND")

    tr = cmds.add_parser("train", help="train sentencepiece straight from corpus shards")
    tr.add_argument(
        "--corpus",
        action="append",
        required=True,
        metavar="DIR[:WEIGHT]",
        help="a corpus directory and its sampling weight (default 1); repeatable",
    )
    tr.add_argument("--vocab-size", type=count, required=True, metavar="V")
    tr.add_argument("--model-type", choices=["unigram", "bpe"], default="unigram")
    tr.add_argument("--out", required=True, metavar="DIR", help="the tokenizer directory to write")
    tr.add_argument(
        "--max-sentences",
        type=count,
        default=DEFAULT_MAX_SENTENCES,
        metavar="N",
        help=f"rows sampled across corpora at most (default {DEFAULT_MAX_SENTENCES})",
    )
    tr.add_argument("--seed", type=int, default=0, help="sampling and trainer seed (default 0)")
    tr.add_argument(
        "--split-by-unicode-script",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pieces never cross a script change (default on)",
    )
    tr.add_argument(
        "--byte-fallback",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="encode uncovered characters as UTF-8 byte pieces (default on)",
    )
    tr.add_argument(
        "--character-coverage",
        type=float,
        metavar="C",
        help="share of characters covered by pieces (default 0.9995 with byte fallback, else 1.0; lowered to fit a small --vocab-size)",
    )
    tr.add_argument(
        "--max-sentencepiece-length",
        type=int,
        default=16,
        metavar="L",
        help="longest piece, in characters (default 16)",
    )
    tr.add_argument(
        "--add-dummy-prefix",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="prepend a space (▁) to each text (default on)",
    )
    tr.add_argument("--user-defined-symbols", type=_symbols, default=(), metavar="A,B", help="pieces always kept whole")
    tr.add_argument(
        "--max-sentence-length",
        type=int,
        default=DEFAULT_MAX_SENTENCE_LENGTH,
        metavar="BYTES",
        help=f"rows longer than this (UTF-8 bytes) are counted and skipped (default {DEFAULT_MAX_SENTENCE_LENGTH})",
    )
    tr.add_argument(
        "--num-threads", type=int, default=1, metavar="T", help="trainer threads (default 1: byte-identical reruns)"
    )
    add_force(tr, "replace a non-empty --out directory")
    add_progress(tr, "say when training starts and ends (default: on a terminal only)")
    tr.set_defaults(func=_cmd_train)

    rp = cmds.add_parser("report", help="fertility, boundary alignment and script shares of a tokenizer on corpora")
    rp.add_argument("--tokenizer", required=True, metavar="DIR")
    rp.add_argument(
        "--corpus",
        action="append",
        required=True,
        metavar="DIR[:NAME]",
        help="a corpus directory and its display name; repeatable",
    )
    rp.add_argument(
        "--lexicon", metavar="PATH", help="compare each lexicon word tokenized alone and inside fused words"
    )
    rp.add_argument(
        "--max-rows",
        type=count,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"rows read per corpus (default {DEFAULT_MAX_ROWS})",
    )
    rp.add_argument("--json", metavar="FILE", help="also save the report as JSON")
    rp.set_defaults(func=_cmd_report)


def _cmd_train(a: argparse.Namespace) -> None:
    options = TrainOptions(
        vocab_size=a.vocab_size,
        model_type=a.model_type,
        max_sentences=a.max_sentences,
        seed=a.seed,
        split_by_unicode_script=a.split_by_unicode_script,
        byte_fallback=a.byte_fallback,
        character_coverage=a.character_coverage,
        max_sentencepiece_length=a.max_sentencepiece_length,
        add_dummy_prefix=a.add_dummy_prefix,
        user_defined_symbols=a.user_defined_symbols,
        max_sentence_length=a.max_sentence_length,
        num_threads=a.num_threads,
    )
    with progress("tokenizer train", show=a.progress):  # one stage: a line as it starts and ends, in a log
        r = train_tokenizer(a.corpus, a.out, options=options, force=a.force)
    for c in r.corpora:
        print(
            f"{c.path}: weight {c.weight:g}, {c.sampled} of {c.rows} rows sampled, {c.fed} fed, "
            f"{c.skipped_empty} empty and {c.skipped_long} longer than {options.max_sentence_length} bytes skipped"
        )
    if options.character_coverage is None and r.options.character_coverage is not None:
        print(
            f"character coverage lowered to {r.options.character_coverage:g} so that the sample's characters fit "
            f"--vocab-size {options.vocab_size} (rarer characters are byte-encoded)"
        )
    print(
        f"wrote {r.out} ({options.model_type}, vocab {r.vocab_size}, tokenizer.model sha256 {r.model_sha256[:16]}...)"
    )


def _cmd_report(a: argparse.Namespace) -> None:
    report = tokenizer_report(a.tokenizer, a.corpus, lexicon=a.lexicon, max_rows=a.max_rows)
    print(format_table(report))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(report.to_dict(), f, indent=2, ensure_ascii=False)
            f.write("\n")
