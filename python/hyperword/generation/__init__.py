"""Generation: the entry points ``generate`` (a corpus on disk), ``stream`` (Arrow batches)
and ``sample`` (a few phrases) in :mod:`.api`, and the engine's configuration they build,
the typed dicts ``FusionConfig`` and ``CorpusConfig`` with the keyword arguments that make
them, in :mod:`.config`; the two engines ``generate`` runs, :mod:`.local` (threads on this
machine) and :mod:`.ray` (Ray tasks). ``hyperword.generate``, ``stream`` and ``sample`` are
these."""

from hyperword.generation.api import MAX_SAMPLE, MAX_THREADS, generate, sample, stream
from hyperword.generation.config import (
    DEFAULT_BATCH_WORDS,
    DEFAULT_SHARD_WORDS,
    KINDS,
    CorpusConfig,
    FusionConfig,
    GenerateOptions,
    SampleOptions,
    StreamOptions,
    parse_count,
)

__all__ = [
    "DEFAULT_BATCH_WORDS",
    "DEFAULT_SHARD_WORDS",
    "KINDS",
    "MAX_SAMPLE",
    "MAX_THREADS",
    "CorpusConfig",
    "FusionConfig",
    "GenerateOptions",
    "SampleOptions",
    "StreamOptions",
    "generate",
    "parse_count",
    "sample",
    "stream",
]
