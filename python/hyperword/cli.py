"""The ``hyperword`` command line: ``generate``, ``sample``, ``inspect`` here; ``lexicon``,
``ingest``, ``tokenizer`` and ``encode`` registered from their own ``cli_*`` modules.

Every failure is one line on stderr (``hyperword: error: ...``) and a non-zero exit, never
a traceback; nothing is written when the input is bad.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from hyperword import (
    __version__,
    cli_bench,
    cli_encode,
    cli_experiment,
    cli_ingest,
    cli_lexicon,
    cli_tokenizer,
    cli_train,
    cli_verify,
)
from hyperword.config import KINDS, parse_count
from hyperword.corpus import DEFAULT_BATCH_WORDS, DEFAULT_SHARD_WORDS, generate, sample
from hyperword.errors import ConfigError, HyperwordError, OutputLockedError
from hyperword.progress import progress
from hyperword.reader import Corpus, open_corpus, split_sides
from hyperword.verify import foreign_files_note


def _count(text: str) -> int:
    try:
        return parse_count(text)
    except HyperwordError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _add_fusion_args(p: argparse.ArgumentParser) -> None:
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
    g.add_argument("--mix", choices=["phrase", "word"], default="phrase", help="one language per phrase, or per word")
    g.add_argument("--alpha", type=float, default=0.0, help="draw words proportionally to weight^alpha (0 = uniform)")
    g.add_argument(
        "--coherence",
        type=float,
        default=0.0,
        metavar="P",
        help="probability the next word stays in the semantic field",
    )
    g.add_argument("--joiner", default="", metavar="J", help="string between words (default none)")
    g.add_argument("--case", choices=["as-is", "lower", "title", "upper"], default="as-is")
    g.add_argument(
        "--kind",
        choices=list(KINDS),
        default="mnemo",
        help="mnemophrases; bridge rows pairing each with ordinary language; k-shuffle Dyck sequences; n-gram samples of a corpus",
    )
    g.add_argument(
        "--bridge",
        choices=["segment", "translate"],
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


def _fusion_kwargs(a: argparse.Namespace) -> dict[str, Any]:
    return {
        "lexicon": a.lexicon,
        "lexicon_lang": a.lexicon_lang,
        "langs": a.langs,
        "words_per_phrase": a.words_per_phrase,
        "phrase_dist": a.phrase_dist,
        "mix": a.mix,
        "alpha": a.alpha,
        "coherence": a.coherence,
        "joiner": a.joiner,
        "case": a.case,
        "seed": a.seed,
        "kind": a.kind,
        "bridge": a.bridge,
        "pivot": a.pivot,
        "template": a.template,
        "dyck_k": a.dyck_k,
        "p_open": a.p_open,
        "max_depth": a.max_depth,
        "seq_len": a.seq_len,
        "ngram_n": a.ngram_n,
        "source": a.source,
    }


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line pointing at the command's own ``--help``; a flag
    means exactly itself (no abbreviations), and an unknown flag names the closest known one.

    Every subcommand parser is a ``_Parser`` (``add_subparsers`` passes the class down), so a
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hyperword", description="Generate corpora of fused multilingual mnemophrases.")
    parser.add_argument("--version", action="version", version=f"hyperword {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="write a corpus of Arrow shards and a manifest")
    gen.add_argument("--words", type=_count, required=True, metavar="N", help="words to generate: 1000, 10M, 1e9")
    gen.add_argument("--out", required=True, metavar="DIR", help="output directory")
    _add_fusion_args(gen)
    gen.add_argument(
        "--exclude-pivot",
        action="store_true",
        help="translate bridges: leave the pivot language out of the languages drawn (its rows would translate each word into itself)",
    )
    out = gen.add_argument_group("output")
    out.add_argument("--threads", type=int, help="worker threads (default: all cores; never changes the output)")
    out.add_argument(
        "--shard-words", type=_count, default=DEFAULT_SHARD_WORDS, metavar="M", help="words per shard (default 10M)"
    )
    out.add_argument(
        "--batch-words", type=_count, default=DEFAULT_BATCH_WORDS, metavar="B", help="words per record batch"
    )
    out.add_argument("--compression", choices=["zstd", "lz4", "none"], default="zstd")
    out.add_argument(
        "--compression-level", type=int, metavar="L", help="zstd level 1-22, or -1..-7 for the fast levels (default 1)"
    )
    out.add_argument("--format", choices=["arrow", "parquet"], default="arrow")
    out.add_argument(
        "--columns",
        help="comma list of text,words,langs,concepts,field (bridges also source,target); default text (bridges: text,source,target)",
    )
    out.add_argument("--force", action="store_true", help="overwrite an existing corpus")
    out.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="ray: every shard a Ray task; --out may then be a URI (s3://...)",
    )
    out.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="engine ray: the cluster to join (auto, HOST:6379; default: start a local one)",
    )
    out.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress: a bar on a terminal, a line every 30 s in a log (default: on a terminal only)",
    )

    smp = sub.add_parser("sample", help="print phrases, one per line")
    smp.add_argument("-n", type=int, default=10, help="how many (default 10)")
    _add_fusion_args(smp)

    ins = sub.add_parser("inspect", help="summarise a corpus directory (both sides of a split one) and show a few rows")
    ins.add_argument("dir")
    ins.add_argument("--rows", type=int, default=5)
    ins.add_argument("--json", action="store_true", help="print the manifest as JSON")
    for name, run in (("generate", _cmd_generate), ("sample", _cmd_sample), ("inspect", _cmd_inspect)):
        sub.choices[name].set_defaults(func=run)
    cli_lexicon.register(sub)
    cli_ingest.register(sub)
    cli_tokenizer.register(sub)
    cli_encode.register(sub)
    cli_verify.register(sub)
    cli_experiment.register(sub)
    cli_train.register(sub)
    cli_bench.register(sub)
    return parser


def _cmd_generate(a: argparse.Namespace) -> None:
    start = time.perf_counter()
    with progress("generate", total=a.words, unit="word", show=a.progress) as shown:
        m = generate(
            a.out,
            a.words,
            **_fusion_kwargs(a),
            threads=a.threads,
            shard_words=a.shard_words,
            batch_words=a.batch_words,
            compression=a.compression,
            compression_level=a.compression_level,
            format=a.format,
            columns=a.columns,
            force=a.force,
            progress=shown.update_to,
            engine=a.engine,
            address=a.ray_address,
            exclude_pivot=a.exclude_pivot,
        )
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


def _cmd_sample(a: argparse.Namespace) -> None:
    for phrase in sample(a.n, **_fusion_kwargs(a)):
        print(phrase)


def _cmd_inspect(a: argparse.Namespace) -> None:
    sides = split_sides(a.dir)
    if not sides:
        _inspect_one(open_corpus(a.dir), a.rows, a.json)
    elif a.json:  # a split corpus (ingest --split): both manifests, by side
        print(
            json.dumps(
                {side.name: open_corpus(side).manifest.to_dict() for side in sides}, indent=2, ensure_ascii=False
            )
        )
    else:
        print(f"{a.dir}: a split corpus, {' and '.join(side.name for side in sides)}")
        for side in sides:
            _inspect_one(open_corpus(side), a.rows, False)


def _inspect_one(corpus: Corpus, rows: int, as_json: bool) -> None:
    m = corpus.manifest
    if as_json:
        print(json.dumps(m.to_dict(), indent=2, ensure_ascii=False))
        return
    cfg = m.config
    print(f"{m.directory}: {m.kind} corpus, format v{m.format_version}, hyperword {m.versions['hyperword']}")
    print(
        f"  {m.words:,} words, {m.rows:,} rows, {len(m.shards)} {cfg.get('format', 'arrow')} shard(s), {cfg.get('compression', '?')}, {m.file_bytes / 1e6:,.1f} MB of files, {m.text_bytes / 1e6:,.1f} MB of text"
    )
    if "fusion" in cfg:
        fusion = cfg["fusion"]
        wpp = fusion["words_per_phrase"]
        langs = ",".join(f"{x['lang']}:{x['weight']:g}" for x in fusion["langs"]) or "all"
        print(
            f"  seed {m.seed}; words/phrase {wpp['min']}-{wpp['max']} ({wpp['dist']}); langs {langs}; mix {fusion['mix']}"
        )
    if m.lexicon is not None:
        print(f"  lexicon {m.lexicon['source']} ({m.lexicon['entries']:,} words, sha256 {m.lexicon['sha256'][:12]})")
    print(f"  columns: {', '.join(corpus.schema().names)}")
    table = corpus.head(rows)
    for row in table.to_pylist():
        print("  " + json.dumps(row, ensure_ascii=False))


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
