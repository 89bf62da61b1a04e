"""Token windows and the batch plan, without torch: :class:`TokenCorpus` opens one token
directory (``hyperword encode``) as a flat, memory-mapped token array cut into windows;
:mod:`~hyperword.batches.plan` decides which window of which corpus fills each row of each
batch on each rank (plain integers and numpy); :mod:`~hyperword.batches.synthetic` writes
valid token directories from arrays (tests, benchmarks). :mod:`hyperword.torch` serves them
as PyTorch batches (``TokenDataset``, ``TokenLoader``)."""

from __future__ import annotations

from hyperword.batches.corpus import TokenCorpus
from hyperword.batches.plan import BatchPlan, MixState, RankStream

__all__ = ["BatchPlan", "MixState", "RankStream", "TokenCorpus"]
