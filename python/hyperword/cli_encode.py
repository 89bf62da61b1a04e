"""``hyperword encode``: a corpus's texts through a sentencepiece tokenizer into token shards.

    hyperword encode --tokenizer DIR --corpus DIR --out DIR --mode exact [--threads N] [--force]

Wired in by ``hyperword.cli.build_parser`` with ``cli_encode.register(sub)``. The handler
raises ``HyperwordError`` or ``OSError`` on failure (the caller prints one line, exits 1).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hyperword.encode import encode

__all__ = ["register"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``encode`` command to the ``hyperword`` subparsers."""
    p = sub.add_parser("encode", help="tokenize a corpus into token shards (tokens-*.npy, docs-*.npy, manifest.json)")
    p.add_argument("--tokenizer", required=True, metavar="DIR", help="a tokenizer directory (from `hyperword tokenizer train`)")
    p.add_argument("--corpus", required=True, metavar="DIR", help="a complete corpus directory (any kind; its text column is encoded)")
    p.add_argument("--out", required=True, metavar="DIR", help="the token directory to write (resumed when it holds this run's shards)")
    p.add_argument("--mode", default="exact", help="exact: every document's tokens then an eos (aligned: not available yet)")
    p.add_argument("--threads", type=_positive, metavar="N", help="worker processes (default: the usable cores)")
    p.add_argument("--force", action="store_true", help="overwrite token shards of another tokenizer, corpus or mode")
    p.set_defaults(func=_cmd_encode)


def _cmd_encode(a: argparse.Namespace) -> None:
    start = time.perf_counter()
    m = encode(a.tokenizer, a.corpus, a.out, mode=a.mode, threads=a.threads, force=a.force)
    elapsed = max(time.perf_counter() - start, 1e-9)
    run = m.run
    head = f"wrote {m.directory}: {m.documents} documents, {m.tokens} tokens ({m.dtype})"
    if run is not None and run.generated_shards == 0:
        print(f"{head}; all {run.reused_shards} shards already encoded and verified, nothing to do")
        return
    kept = f", {run.reused_shards} shards kept from an earlier run (counted in the rate)" if run and run.reused_shards else ""
    print(f"{head}, {m.tokens / elapsed:,.0f} tokens/s over {elapsed:.2f} s{kept}")
