"""``hyperword encode``: a corpus's texts through a sentencepiece tokenizer into token shards.

    hyperword encode --tokenizer DIR --corpus DIR --out DIR --mode exact|aligned [--threads N]
                     [--dtype uint16|uint32] [--lexicon FILE] [--force]

Wired in by ``hyperword.cli.build_parser`` with ``register(sub)``. The handler
raises ``HyperwordError`` or ``OSError`` on failure (the caller prints one line, exits 1).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hyperword.cli.args import Subparsers, add_force, add_progress, positive
from hyperword.encode import encode
from hyperword.encode.run import DTYPES, MODES
from hyperword.progress import progress

__all__ = ["register"]


def register(sub: Subparsers[Any]) -> None:
    """Add the ``encode`` command to the ``hyperword`` subparsers."""
    p = sub.add_parser("encode", help="tokenize a corpus into token shards (tokens-*.npy, docs-*.npy, manifest.json)")
    p.add_argument(
        "--tokenizer", required=True, metavar="DIR", help="a tokenizer directory (from `hyperword tokenizer train`)"
    )
    p.add_argument(
        "--corpus",
        required=True,
        metavar="DIR",
        help="a complete corpus directory (any kind; its text column is encoded)",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="the token directory to write (resumed when it holds this run's shards)",
    )
    p.add_argument(
        "--mode",
        default="exact",
        choices=MODES,
        help="exact: sentencepiece on every text; aligned (mnemophrase corpora): per-word token ids concatenated, "
        "so word boundaries are token boundaries (agreement with exact is reported)",
    )
    p.add_argument(
        "--dtype", choices=DTYPES, help="token dtype (default: uint16 when the vocabulary fits, else uint32)"
    )
    p.add_argument(
        "--lexicon",
        metavar="FILE",
        help="aligned: the lexicon the corpus was generated from (default: the shipped one)",
    )
    p.add_argument("--threads", type=positive, metavar="N", help="worker processes (default: the usable cores)")
    add_force(p, "overwrite token shards of another tokenizer, corpus or mode")
    add_progress(p)
    p.set_defaults(func=_cmd_encode)


def _cmd_encode(a: argparse.Namespace) -> None:
    start = time.perf_counter()
    with progress("encode", unit="shard", show=a.progress) as shown:
        m = encode(
            a.tokenizer,
            a.corpus,
            a.out,
            mode=a.mode,
            threads=a.threads,
            force=a.force,
            dtype=a.dtype,
            lexicon=a.lexicon,
            progress=shown.update_to if shown.mode != "off" else None,
        )
    elapsed = max(time.perf_counter() - start, 1e-9)
    run = m.run
    head = f"wrote {m.directory}: {m.documents} documents, {m.tokens} tokens ({m.dtype})"
    if run is not None and run.generated_shards == 0:
        print(f"{head}; all {run.reused_shards} shards already encoded and verified, nothing to do")
        _print_agreement(m.raw.get("aligned_agreement"))
        return
    kept = (
        f", {run.reused_shards} shards kept from an earlier run (counted in the rate)"
        if run and run.reused_shards
        else ""
    )
    print(f"{head}, {m.tokens / elapsed:,.0f} tokens/s over {elapsed:.2f} s{kept}")
    _print_agreement(m.raw.get("aligned_agreement"))


def _print_agreement(agreement: dict[str, Any] | None) -> None:
    if agreement and agreement["documents"]:
        print(
            f"aligned vs exact on the first {agreement['documents']} documents: {agreement['identical']} identical "
            f"({agreement['share']:.1%}); tokens {agreement['tokens_aligned']} aligned vs {agreement['tokens_exact']} exact"
        )
