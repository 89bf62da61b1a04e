"""hyperword.torch: token shards (``hyperword encode``) as packed, shuffled, mixed, resumable
PyTorch batches, identical for any number of DataLoader workers. The torch-free parts (the
token corpus reader, the batch plan, synthetic directories) live in :mod:`hyperword.batches`;
this package is the PyTorch side: ``TokenDataset``, ``TokenLoader`` and the loader's state.

    >>> from hyperword.torch import TokenDataset, TokenLoader                  # doctest: +SKIP
    >>> ds = TokenDataset({"mnemo": "tokens/", "web": "web-tokens/"},           # doctest: +SKIP
    ...                   seq_len=512, batch_size=64, weights={"mnemo": 0.3, "web": 0.7})
    >>> loader = TokenLoader(ds, num_workers=2)                                 # doctest: +SKIP
    >>> for batch in loader:                                                    # doctest: +SKIP
    ...     inputs, labels = batch["tokens"][:, :-1], batch["tokens"][:, 1:]
    >>> state = loader.state_dict()        # JSON-able; later: loader.load_state_dict(state)

**Corpora.** :class:`TokenCorpus` opens one token directory and checks it against its
manifest (files present with their recorded sizes, the recorded number of tokens of the
recorded dtype, the dtype the vocabulary size calls for; sha256 too with ``verify=True``):
``CorruptCorpusError`` naming the file otherwise. Its shards, read in order, are one flat
token array with an eos after every document, memory-mapped.

**Packing.** Window ``k`` is ``tokens[k*L : k*L + L + 1]`` for ``L = seq_len``: ``L + 1``
tokens, inputs ``[:-1]`` and labels ``[1:]``. Windows overlap by one token, so every token but
the first is a label exactly once per epoch; a window may cross a shard (and always crosses
document) boundaries. A corpus of ``N`` tokens holds ``(N - 1) // L`` windows.

**The remainder** (never served in an epoch, :meth:`TokenDataset.remainder`): the last
``(N - 1) % L`` tokens of each corpus (never a label), and ``windows % world_size`` windows per
epoch so that every rank serves the same number (those at the tail of the epoch's permutation:
the last ones without shuffle, other ones each epoch with it).

**Shuffle and ranks.** Corpus ``i`` in epoch ``e`` is served in the order
``numpy.random.default_rng([1, i, e, seed]).permutation(windows)`` (``arange`` with
``shuffle=False``); rank ``r`` of ``W`` takes ``perm[r::W][:windows // W]``: ranks are
disjoint and equally long within an epoch, and their union is every window but the
remainder. Each corpus rolls into its next epoch on its own when its rank stream runs out.
``rank``/``world_size`` default to ``torch.distributed`` when it is initialised, else 0/1.

**Mixing.** Batch ``j`` has ``batch_size`` slots, handed to corpora by the quota method on
cumulative targets (:mod:`hyperword.batches.plan`), with the weights of step ``j``: fixed
``weights`` (default: proportional to each corpus's windows per rank, so all corpora finish
their epochs together; a name left out weighs 0), or ``schedule(j)`` (a picklable callable
step -> weights, called for every batch in every process: keep it cheap). With fixed weights
the windows served per corpus stay within one window of ``weight * slots`` after every
batch; a corpus is never served in a batch whose weight for it is 0. Corpus ``i``'s slots
take the next positions of its rank stream; with ``shuffle`` the rows of a batch holding
several corpora are then permuted by ``default_rng([2, j % 2**32, j // 2**32, seed])``.

**Batches, not samples.** :class:`TokenDataset` is an ``IterableDataset`` of whole batches:
``{"tokens": int64 [batch_size, L + 1], "corpus": int64 [batch_size] (index into names),
"window": int64 [batch_size] (window index in that corpus)}``, three views of one buffer (a
worker sends one shared-memory block per batch). Every worker advances the plan through
every batch (integer bookkeeping) and gathers tokens (one vectorised gather from a strided
view of each memory map) only for batches ``j`` with ``j % num_workers == worker id``,
counted from where the iteration starts, which is the order in which a DataLoader polls its
workers: 0, 1 or 8 workers yield the same batches.

**Fail loudly** (``ConfigError``): ``seq_len``/``batch_size`` < 1; ``rank`` outside
``[0, world_size)``; corpora encoded with different tokenizers; a corpus with a positive
weight shorter than ``seq_len + 1`` tokens, or with fewer than ``batch_size`` windows per
rank (:class:`TokenLoader` asks ``batch_size * max(1, num_workers)``); negative, NaN or
all-zero weights, an unknown corpus name; a resume state saved for another configuration.

**Resume.** :meth:`TokenLoader.state_dict` is a plain dict (:mod:`hyperword.torch.state`):
``version``, ``fingerprint`` (sha256 of the identity: seed, seq_len, batch_size, rank,
world_size, shuffle, each corpus's name, manifest fingerprint and size, the weights or the
schedule's name), ``batches``, ``served_windows``, ``served_tokens`` (``seq_len`` per window,
exact) and the mixture's cumulative ``targets``. A new loader over an identical dataset that
loads it delivers exactly the batches an uninterrupted run would have delivered next, with
any number of workers.

**Tools.** :meth:`TokenCorpus.window`, :meth:`TokenCorpus.gather` (many windows at once) and
:meth:`TokenCorpus.span` read the flat array; :class:`TokenLoader` also reports
``served_windows`` and ``epochs`` per corpus; :mod:`hyperword.batches.synthetic` writes valid
token directories from arrays (tests, benchmarks).

**Fork safety.** DataLoader workers fork; hyperword's own Rust work in a forked child runs on
the calling thread (``hyperword._fork``), and shards are opened lazily in each process.
"""

from __future__ import annotations

from hyperword.batches.corpus import TokenCorpus
from hyperword.batches.plan import BatchPlan, MixState, RankStream
from hyperword.torch.dataset import TokenDataset
from hyperword.torch.loader import TokenLoader
from hyperword.torch.state import STATE_VERSION

__all__ = ["STATE_VERSION", "BatchPlan", "MixState", "RankStream", "TokenCorpus", "TokenDataset", "TokenLoader"]
