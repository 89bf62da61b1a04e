"""``hyperword generate --words N --out DIR``: write a corpus of shards and a manifest.

The generation flags (``add_generation_args``, shared with ``hyperword sample``) are named as
the keyword arguments of :func:`hyperword.generate` they set, and ``generation_options`` passes
every one of them on by that name: a fusion option is its typed config field
(:mod:`hyperword.generation.config`) and its flag here, nothing more.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, cast, get_args

from hyperword.cli.args import Subparsers, add_file_format, add_force, add_progress, count
from hyperword.generation import generate
from hyperword.generation.config import (
    DEFAULT_BATCH_WORDS,
    DEFAULT_SHARD_WORDS,
    KINDS,
    BridgeMode,
    Case,
    Engine,
    GenerateOptions,
    Mix,
    option_names,
)
from hyperword.progress import progress
from hyperword.verify import foreign_files_note

__all__ = ["add_generation_args", "generation_options", "register"]


def add_generation_args(p: argparse.ArgumentParser) -> None:
    """The fusion and kind flags of ``generate`` and ``sample``."""
    g = p.add_argument_group("fusion")
    g.add_argument(
        "--lexicon",
        metavar="PATH",
        help="lexicon TSV, or a word list with --lexicon-lang (default: the shipped 12-language lexicon)",
    )
    g.add_argument("--lexicon-lang", metavar="L", help="language of a plain word-list lexicon")
    g.add_argument(
        "--langs", metavar="L[:W],...", help="languages and weights, e.g. en:2,ru,es (default: all, equally)"
    )
    g.add_argument("--words-per-phrase", default="2-6", metavar="N|MIN-MAX", help="words per phrase (default 2-6)")
    g.add_argument("--phrase-dist", default="uniform", help="uniform | geometric:P | weights:W1,W2,... over the range")
    g.add_argument("--mix", choices=list(get_args(Mix)), default="phrase", help="one language per phrase, or per word")
    g.add_argument("--alpha", type=float, default=0.0, help="draw words proportionally to weight^alpha (0 = uniform)")
    g.add_argument(
        "--coherence",
        type=float,
        default=0.0,
        metavar="P",
        help="probability the next word stays in the semantic field",
    )
    g.add_argument("--joiner", default="", metavar="J", help="string between words (default none)")
    g.add_argument("--case", choices=list(get_args(Case)), default="as-is")
    g.add_argument(
        "--kind",
        choices=list(KINDS),
        default="mnemo",
        help="mnemophrases; bridge rows pairing each with ordinary language; k-shuffle Dyck sequences; n-gram samples of a corpus",
    )
    g.add_argument(
        "--bridge",
        choices=list(get_args(BridgeMode)),
        help="bridge target: the words spaced out, or translated into --pivot (default segment)",
    )
    g.add_argument("--pivot", metavar="L", help="language of a translate bridge (default en)")
    g.add_argument(
        "--template", help='how a bridge row\'s text renders source and target (default "{source} = {target}")'
    )
    g.add_argument("--seed", type=int, default=0)
    k = p.add_argument_group("dyck and ngram kinds (--words counts brackets / words; a row is one sequence)")
    k.add_argument("--dyck-k", type=int, metavar="K", help="dyck: bracket types (default 64)")
    k.add_argument(
        "--p-open", type=float, metavar="P", help="dyck: probability of opening a bracket, in (0, 1) (default 0.51)"
    )
    k.add_argument(
        "--max-depth",
        type=int,
        metavar="D",
        help="dyck: most brackets open at once; at the limit one closes (default 16)",
    )
    k.add_argument(
        "--seq-len",
        type=int,
        metavar="L",
        help="dyck: brackets per sequence, even, all closed by its end; ngram: most words per document (default 2048)",
    )
    k.add_argument("--ngram-n", type=int, metavar="N", help="ngram: the model's order, 1, 2 or 3")
    k.add_argument(
        "--source",
        metavar="DIR",
        help="ngram: the corpus directory the model is estimated on (e.g. made by hyperword ingest)",
    )


def generation_options(a: argparse.Namespace, options_type: type) -> dict[str, Any]:
    """The keyword arguments of ``generate``/``stream``/``sample`` (``options_type``, one of
    the ``*Options`` typed dicts) that the parsed flags give: every flag named as one."""
    names = option_names(options_type)
    return {name: value for name, value in vars(a).items() if name in names}


def register(sub: Subparsers[Any]) -> None:
    """Add the ``generate`` command to the ``hyperword`` subparsers."""
    gen = sub.add_parser("generate", help="write a corpus of Arrow shards and a manifest")
    gen.add_argument("--words", type=count, required=True, metavar="N", help="words to generate: 1000, 10M, 1e9")
    gen.add_argument("--out", required=True, metavar="DIR", help="output directory")
    add_generation_args(gen)
    gen.add_argument(
        "--exclude-pivot",
        action="store_true",
        help="translate bridges: leave the pivot language out of the languages drawn (its rows would translate each word into itself)",
    )
    out = gen.add_argument_group("output")
    out.add_argument("--threads", type=int, help="worker threads (default: all cores; never changes the output)")
    out.add_argument(
        "--shard-words", type=count, default=DEFAULT_SHARD_WORDS, metavar="M", help="words per shard (default 10M)"
    )
    out.add_argument(
        "--batch-words", type=count, default=DEFAULT_BATCH_WORDS, metavar="B", help="words per record batch"
    )
    add_file_format(out)
    out.add_argument(
        "--columns",
        help="comma list of text,words,langs,concepts,field (bridges also source,target); default text (bridges: text,source,target)",
    )
    add_force(out, "overwrite an existing corpus")
    out.add_argument(
        "--engine",
        choices=list(get_args(Engine)),
        default="local",
        help="ray: every shard a Ray task; --out may then be a URI (s3://...)",
    )
    out.add_argument(
        "--ray-address",
        dest="address",
        metavar="ADDR",
        help="engine ray: the cluster to join (auto, HOST:6379; default: start a local one)",
    )
    add_progress(out)
    gen.set_defaults(func=run)


def run(a: argparse.Namespace) -> None:
    """The ``generate`` handler: the corpus, then a summary (and any foreign files noted)."""
    start = time.perf_counter()
    with progress("generate", total=a.words, unit="word", show=a.progress) as shown:
        options = {**generation_options(a, GenerateOptions), "progress": shown.update_to}
        m = generate(a.out, a.words, **cast(GenerateOptions, options))
    seconds = time.perf_counter() - start
    if m.run is not None and m.run.generated_shards == 0:
        print(f"{a.out} already holds this corpus, complete and verified: nothing to do (--force regenerates it)")
    elif m.run is not None and m.run.reused_shards:
        print(f"resumed: kept {m.run.reused_shards} verified shard(s), generated {m.run.generated_shards}")
    print(
        f"{m.words:,} words, {m.rows:,} phrases in {len(m.shards)} shard(s), {m.file_bytes / 1e6:,.1f} MB on disk: {a.out}"
    )
    if m.run is None or m.run.reused_shards == 0:
        print(
            f"{seconds:.2f} s, {m.words / seconds / 1e6:,.1f} M words/s, {m.text_bytes / seconds / 1e6:,.1f} MB/s of text"
        )
    note = foreign_files_note(m) if a.engine == "local" else None
    if note:
        print(f"hyperword: {note}", file=sys.stderr)
