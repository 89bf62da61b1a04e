"""``hyperword inspect DIR``: summarise a corpus directory (both sides of a split one) and
show a few rows; ``--json`` prints the manifest."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hyperword.cli.args import Subparsers, add_json
from hyperword.formats.reader import Corpus, open_corpus, split_sides

__all__ = ["register"]


def register(sub: Subparsers[Any]) -> None:
    """Add the ``inspect`` command to the ``hyperword`` subparsers."""
    ins = sub.add_parser("inspect", help="summarise a corpus directory (both sides of a split one) and show a few rows")
    ins.add_argument("dir")
    ins.add_argument("--rows", type=int, default=5)
    add_json(ins, "print the manifest as JSON")
    ins.set_defaults(func=run)


def run(a: argparse.Namespace) -> None:
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
