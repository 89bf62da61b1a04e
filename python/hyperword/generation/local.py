"""``generate(..., engine="local")``: a corpus written on this machine, its shards in parallel.

The directory run (:class:`~hyperword.formats.corpus.GeneratedCorpusRun` over a
:class:`~hyperword.formats.run.LocalFolder`, the Ray engine's rules over another folder)
decides: it refuses what must not be touched, keeps every shard an earlier run left intact,
records each new shard as it lands and writes the manifest last. The Rust core writes the
missing shards on ``threads`` threads with the GIL released
(:meth:`hyperword._hyperword.CorpusPlan.write_shards`), handing each finished shard's record
back to this thread as it lands, so a killed run keeps what it finished.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from hyperword._hyperword import CorpusPlan, Lexicon
from hyperword.formats.corpus import GeneratedCorpusRun
from hyperword.formats.run import LocalFolder

__all__ = ["generate_local"]


def generate_local(
    out: str | os.PathLike[str],
    lex: Lexicon,
    config: str,
    *,
    threads: int | None = None,
    force: bool = False,
    progress: Callable[[int], object] | None = None,
) -> tuple[str, int, int]:
    """Generate the corpus ``config`` (JSON) into ``out``; returns (manifest JSON, shards
    written, shards kept)."""
    plan = CorpusPlan(lex, config)  # validated and compiled once (an n-gram model estimated)
    run = GeneratedCorpusRun.check(LocalFolder(out), plan.fingerprint, force=force)

    def write(missing: list[int], record: Callable[[str], None], kept_words: int) -> None:
        def counted(words: int) -> None:  # the kept shards' words count too
            if progress is not None:
                progress(kept_words + words)

        plan.write_shards(os.fspath(out), missing, record, threads=threads, progress=counted if progress else None)

    written = run.generate(plan.shard_count, write, plan.manifest, threads)
    if progress is not None and run.complete is not None:
        progress(0)  # the one count a run with nothing to do reports, as it always has
    return written
