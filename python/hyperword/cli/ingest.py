"""``hyperword ingest SRC... --out DIR``: natural text into a corpus directory.

``register(sub)`` adds the subcommand to the ``hyperword`` parser's subparsers; its handler
raises ``HyperwordError`` or ``OSError``, which ``hyperword.cli.main`` prints as one line.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from hyperword.cli.args import Subparsers, add_file_format, add_force, add_progress, count, fraction
from hyperword.formats.corpus import Manifest
from hyperword.ingest import DEFAULT_SHARD_DOCS, INPUT_FORMATS, ingest_all
from hyperword.progress import progress


def register(sub: Subparsers[Any]) -> None:
    """Add ``ingest`` to ``sub`` (what ``ArgumentParser.add_subparsers`` returned)."""
    p = sub.add_parser(
        "ingest",
        help="write natural text (text, JSONL, Parquet, Arrow, a saved HF dataset) as a corpus",
        description="Read documents from text, JSONL, Parquet, Arrow/Feather files or a Hugging Face dataset saved "
        "with save_to_disk, and write them as a corpus directory of Arrow shards and a manifest. Inputs are "
        "checked in full before anything is written.",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="input files or directories")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    inp = p.add_argument_group("input")
    inp.add_argument(
        "--input-format", choices=INPUT_FORMATS, help="kind of every input (default: from each file's extension)"
    )
    inp.add_argument(
        "--doc-per", choices=["line", "file"], help="text input: one document per line (default) or per file"
    )
    inp.add_argument("--field", metavar="NAME", help="JSONL: the key holding the text (default text)")
    inp.add_argument("--lang-field", metavar="NAME", help="JSONL: the key holding each document's language")
    inp.add_argument("--column", metavar="NAME", help="Parquet/Arrow/dataset: the text column (default text)")
    inp.add_argument("--lang-column", metavar="NAME", help="Parquet/Arrow/dataset: the language column")
    inp.add_argument("--hf-split", metavar="NAME", help="the split of a saved DatasetDict (default train)")
    inp.add_argument(
        "--lang", metavar="L", help="language of every document (fills in nulls of --lang-field/--lang-column)"
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--shard-docs", type=count, default=DEFAULT_SHARD_DOCS, metavar="N", help="documents per shard (default 100k)"
    )
    out.add_argument(
        "--split",
        type=fraction,
        metavar="FRACTION",
        help="hold out this fraction (by document hash) in DIR/validation, the rest in DIR/train",
    )
    add_file_format(out)
    add_force(out, "replace a corpus of another configuration or input (or write into a non-empty directory)")
    add_progress(out)
    p.set_defaults(func=run)


def _summary(name: str, m: Manifest, seconds: float) -> list[str]:
    lines = []
    if m.run is not None and m.run.generated_shards == 0:
        lines.append(f"{name} already holds this corpus, complete and verified: nothing to do (--force rewrites it)")
    elif m.run is not None and m.run.reused_shards:
        lines.append(f"resumed {name}: kept {m.run.reused_shards} verified shard(s), wrote {m.run.generated_shards}")
    lines.append(
        f"{m.rows:,} documents, {m.words:,} words in {len(m.shards)} shard(s), {m.file_bytes / 1e6:,.1f} MB on disk: {name}"
    )
    return lines


def run(a: argparse.Namespace) -> None:
    """The ``ingest`` handler."""
    start = time.perf_counter()
    with progress("ingest", unit="doc", show=a.progress) as shown:
        manifests = ingest_all(
            a.sources,
            a.out,
            input_format=a.input_format,
            doc_per=a.doc_per,
            field=a.field,
            lang_field=a.lang_field,
            column=a.column,
            lang_column=a.lang_column,
            hf_split=a.hf_split,
            lang=a.lang,
            shard_docs=a.shard_docs,
            split=a.split,
            format=a.format,
            compression=a.compression,
            compression_level=a.compression_level,
            force=a.force,
            progress=shown.update_to if shown.mode != "off" else None,
        )
    seconds = time.perf_counter() - start
    for side, m in manifests.items():
        name = a.out if side == "all" else f"{str(a.out).rstrip('/')}/{side}"
        for line in _summary(name, m, seconds):
            print(line)
    docs = sum(m.rows for m in manifests.values())
    text = sum(m.text_bytes for m in manifests.values())
    if any(m.run is None or m.run.generated_shards for m in manifests.values()):
        print(f"{seconds:.2f} s, {docs / seconds:,.0f} documents/s, {text / seconds / 1e6:,.1f} MB/s of text")
