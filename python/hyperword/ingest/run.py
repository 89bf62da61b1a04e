"""The ingest run: ``ingest`` and ``ingest_all``.

Pass 1 hashes and reads every input in full (nothing is written if any is bad); then each
output corpus is checked (complete, resumable or refused) and pass 2 reads the inputs again
into the shards not already kept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hyperword._hyperword import __version__
from hyperword.errors import ConfigError, OutputExistsError
from hyperword.formats.atomic import file_digest
from hyperword.formats.corpus import FORMAT_VERSION, CorpusRun, Manifest, remove_corpus_files
from hyperword.formats.identity import fingerprint
from hyperword.ingest.inputs import _Source, _sources
from hyperword.ingest.options import DEFAULT_SHARD_DOCS, KIND, SPLIT_SIDES, PathArg, Progress, _options
from hyperword.ingest.readers import _chunks
from hyperword.ingest.split import _partition
from hyperword.ingest.writer import _SideWriter


def _sources_record(sources: list[_Source], side: str | None) -> list[dict[str, Any]]:
    return [
        {"path": s.path, "sha256": s.sha256, "bytes": s.bytes, "documents": s.documents.get(side, 0)} for s in sources
    ]


def _run(
    sources: PathArg | Sequence[PathArg],
    out: PathArg,
    *,
    force: bool,
    progress: Progress | None,
    **kw: Any,
) -> dict[str, Manifest]:
    opts = _options(**kw)
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    out_dir = Path(out)
    srcs = _sources(list(sources), out_dir, opts)

    # Pass 1: hash and read every source in full; nothing is written if any is bad.
    sides: list[str | None] = list(SPLIT_SIDES) if opts.split is not None else [None]
    for src in srcs:
        src.bytes, src.sha256 = file_digest(Path(src.path))  # OSError (unreadable) first
        counts: dict[str | None, int] = {side: 0 for side in sides}
        for chunk in _chunks(src, opts):
            for side, part in _partition(chunk, opts.split).items():
                counts[side] += len(part)
        src.documents = counts
        if src.named and sum(counts.values()) == 0:
            raise ConfigError(f"{src.path}: no documents (empty, or blank lines or null values only)")
    totals = {side: sum(s.documents[side] for s in srcs) for side in sides}
    if sum(totals.values()) == 0:
        raise ConfigError(f"no documents in the input ({len(srcs)} file(s), all empty or blank)")
    for side, count in totals.items():
        if count == 0:
            raise ConfigError(
                f"--split {opts.split} leaves the {side} side empty ({sum(totals.values())} document(s) in all); choose another fraction"
            )

    # Where each corpus goes, refusing before anything is touched.
    identity_sources = [{"sha256": s.sha256, "bytes": s.bytes} for s in srcs]
    runs: dict[str | None, CorpusRun] = {}
    if opts.split is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise OutputExistsError(f"{out_dir} exists and is not a directory")
        if out_dir.is_dir() and not force:
            others = sorted(p.name for p in out_dir.iterdir() if p.name not in SPLIT_SIDES)
            if others:
                raise OutputExistsError(
                    f"{out_dir} holds {', '.join(others[:3])}{' ...' if len(others) > 3 else ''}, not only a train/validation split; "
                    "choose another directory or pass --force (force=True)"
                )
    for side in sides:
        directory = out_dir if side is None else out_dir / side
        identity = {
            "format_version": FORMAT_VERSION,
            "hyperword": __version__,
            "config": opts.config(side),
            "sources": identity_sources,
        }
        runs[side] = CorpusRun.check(directory, fingerprint(identity), force=force)

    result: dict[str | None, Manifest] = {}
    pending = {side: run for side, run in runs.items() if run.complete is None}
    for side, run in runs.items():
        if run.complete is not None:
            result[side] = run.finish()
    if pending:
        if opts.split is not None and force and out_dir.is_dir():
            remove_corpus_files(out_dir)
        for run in pending.values():
            run.begin()
        writers = {side: _SideWriter(run, opts, totals[side]) for side, run in pending.items()}
        # Pass 2: the same documents again, into the shards not already kept.
        done, grand_total = 0, sum(totals[s] for s in pending)
        try:
            for src in srcs:
                seen: dict[str | None, int] = {side: 0 for side in sides}
                for chunk in _chunks(src, opts):
                    for side, part in _partition(chunk, opts.split).items():
                        seen[side] += len(part)
                        w = writers.get(side)
                        if w is None or not part:
                            continue
                        if w.pos + len(part) > w.total:
                            raise ConfigError(f"{src.path}: changed while it was being ingested; run again")
                        w.add(part)
                        done += len(part)
                    if progress is not None:
                        progress(done, grand_total)
                if seen != src.documents:
                    raise ConfigError(f"{src.path}: changed while it was being ingested; run again")
        except BaseException:
            for w in writers.values():
                w.abort()
            for run in pending.values():
                run.remove_temporaries()
            raise
        if progress is not None:
            progress(done, grand_total)
        for side, run in pending.items():
            result[side] = run.finish(
                run.manifest(kind=KIND, config=opts.config(side), extra={"sources": _sources_record(srcs, side)})
            )
    return {
        ("all" if side is None else side): m for side, m in sorted(result.items(), key=lambda kv: sides.index(kv[0]))
    }


_DOC = """
    Options (keyword-only; see the module docstring for the input kinds):
        input_format: ``text``, ``jsonl``, ``parquet``, ``arrow`` or ``hf`` for every
            source (default: from each file's extension).
        doc_per: ``line`` (default) or ``file``: text documents per line or per file.
        field / lang_field: the JSONL keys of the text (default ``text``) and language.
        column / lang_column: the Parquet/Arrow/dataset columns of the same.
        hf_split: the split of a saved ``DatasetDict`` (default ``train``).
        lang: the language of every document (of those whose own is null, with a
            lang field or column); adds the ``lang`` column.
        shard_docs: documents per shard (default 100000).
        split: a fraction in (0, 1): write ``out/train`` and ``out/validation``.
        format, compression, compression_level: as for ``generate``.
        force: replace a corpus of another configuration or input (or unrelated files).
        progress: called as ``progress(documents_written, documents_to_write)``.
"""


def ingest_all(
    sources: PathArg | Sequence[PathArg],
    out: PathArg,
    *,
    input_format: str | None = None,
    doc_per: str | None = None,
    field: str | None = None,
    lang_field: str | None = None,
    column: str | None = None,
    lang_column: str | None = None,
    hf_split: str | None = None,
    lang: str | None = None,
    shard_docs: int = DEFAULT_SHARD_DOCS,
    split: float | None = None,
    format: str = "arrow",
    compression: str = "zstd",
    compression_level: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Manifest]:
    """:func:`ingest`, returning every corpus written: ``{"all": m}``, or with ``split``
    ``{"train": m, "validation": m}``."""
    return _run(
        sources,
        out,
        force=force,
        progress=progress,
        input_format=input_format,
        doc_per=doc_per,
        field=field,
        lang_field=lang_field,
        column=column,
        lang_column=lang_column,
        hf_split=hf_split,
        lang=lang,
        shard_docs=shard_docs,
        split=split,
        format=format,
        compression=compression,
        compression_level=compression_level,
    )


def ingest(
    sources: PathArg | Sequence[PathArg],
    out: PathArg,
    *,
    input_format: str | None = None,
    doc_per: str | None = None,
    field: str | None = None,
    lang_field: str | None = None,
    column: str | None = None,
    lang_column: str | None = None,
    hf_split: str | None = None,
    lang: str | None = None,
    shard_docs: int = DEFAULT_SHARD_DOCS,
    split: float | None = None,
    format: str = "arrow",
    compression: str = "zstd",
    compression_level: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Manifest:
    """Ingest the documents of ``sources`` into the corpus directory ``out``; return its manifest.

    With ``split``, two corpora are written (``out/train``, ``out/validation``) and the train
    side's manifest is returned (:func:`ingest_all` returns both). Rerunning over an
    unfinished output resumes it; over the same complete corpus it verifies and does nothing
    (``manifest.run`` says what was written and kept); another corpus is refused with
    ``OutputExistsError`` unless ``force``.
    """
    manifests = ingest_all(
        sources,
        out,
        input_format=input_format,
        doc_per=doc_per,
        field=field,
        lang_field=lang_field,
        column=column,
        lang_column=lang_column,
        hf_split=hf_split,
        lang=lang,
        shard_docs=shard_docs,
        split=split,
        format=format,
        compression=compression,
        compression_level=compression_level,
        force=force,
        progress=progress,
    )
    return manifests["train" if split is not None else "all"]


ingest.__doc__ = (ingest.__doc__ or "") + _DOC
