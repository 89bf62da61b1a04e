"""Encoding chunks of texts into flat token arrays, on this thread or in worker processes.

sentencepiece's own ``encode(list, num_threads=N)`` scales poorly: its C++ pool segments in
parallel, but building the Python lists of ids holds the GIL (measured on 2 cores, 250k rows
in 4096-row calls: 0.55 s with 1 thread, 0.41 s with 2; its default, -1, means all cores).
Each call here passes ``num_threads=1`` so that ``threads`` means what it says.

``threads > 1`` runs a pool of ``threads`` processes (``spawn``: no inherited locks or thread
pools; each worker loads the model once in its initializer). A task names rows of a shard
file; the worker memory-maps the shard and reads them itself, so only the resulting numpy
arrays (2 or 4 bytes a token) cross processes. Results come back in submission order with at
most ``2 * threads`` tasks in flight, so memory stays bounded whatever the corpus size.
Output is independent of the thread count: each task is encoded alone, then concatenated.

Faults: workers are started with SIGINT blocked, so that Ctrl-C in a terminal (sent to the
whole process group) interrupts only the main process, which stops the pool, instead of
printing a traceback per worker; a worker whose parent is killed (``kill -9``, the OOM
killer), which cannot stop the pool, notices within ``PARENT_POLL`` seconds and exits.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain

import numpy as np
import numpy.typing as npt
import sentencepiece as spm

from hyperword.encode.source import Task, TaskReader

__all__ = ["Encoded", "WorkerPool", "encode_chunk"]

#: (flat tokens, an eos after every document; token count of each document, eos included)
Encoded = tuple[npt.NDArray[np.generic], npt.NDArray[np.int64]]

#: rows per ``sp.encode`` call (its result is Python lists: ~36 bytes an id)
CHUNK_ROWS = 4096

#: seconds between a worker's checks that the process that started it is alive
PARENT_POLL = 0.25

_WORKER: tuple[spm.SentencePieceProcessor, int, str, TaskReader] | None = None


def encode_chunk(sp: spm.SentencePieceProcessor, eos: int, dtype: str, texts: list[str]) -> Encoded:
    ids: list[list[int]] = sp.encode(texts, out_type=int, num_threads=1)  # parallelism is processes
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter(chain.from_iterable(ids), dtype=dtype, count=int(lengths.sum()))
    with_eos = np.insert(flat, np.cumsum(lengths), np.array(eos, dtype=dtype))
    return with_eos, lengths + 1


def encode_task(sp: spm.SentencePieceProcessor, eos: int, dtype: str, reader: TaskReader, task: Task) -> Encoded:
    """A task's rows, encoded ``CHUNK_ROWS`` at a time (bounding the Python id lists)."""
    texts = reader.texts(task)
    parts = [encode_chunk(sp, eos, dtype, texts[i : i + CHUNK_ROWS]) for i in range(0, len(texts), CHUNK_ROWS)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _watch_parent(parent: int) -> None:
    """Exit once the parent is gone (the worker is then re-parented)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _init(model: bytes, eos: int, dtype: str, parent: int) -> None:
    global _WORKER
    threading.Thread(target=_watch_parent, args=(parent,), name="hyperword-parent-watch", daemon=True).start()
    _WORKER = (spm.SentencePieceProcessor(model_proto=model), eos, dtype, TaskReader())


def _work(task: Task) -> Encoded:
    assert _WORKER is not None, "worker not initialised"
    return encode_task(*_WORKER, task)


class WorkerPool:
    """One process pool kept across shards (starting ``spawn`` workers costs ~0.1-0.5 s each)."""

    def __init__(self, model: bytes, eos: int, dtype: str, threads: int) -> None:
        self.model, self.eos, self.dtype, self.threads = model, eos, dtype, threads
        self._sp = spm.SentencePieceProcessor(model_proto=model) if threads <= 1 else None
        self._reader = TaskReader()
        self._pool: ProcessPoolExecutor | None = None

    def map(self, tasks: Iterable[Task]) -> Iterator[Encoded]:
        """Each task's encoding, in order."""
        if self._sp is not None:
            for task in tasks:
                yield encode_task(self._sp, self.eos, self.dtype, self._reader, task)
            return
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            initargs = (self.model, self.eos, self.dtype, os.getpid())
            self._pool = ProcessPoolExecutor(self.threads, mp_context=ctx, initializer=_init, initargs=initargs)
        pending: deque[Future[Encoded]] = deque()
        try:
            for task in tasks:
                pending.append(self._submit(task))
                if len(pending) >= 2 * self.threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()

    def _submit(self, task: Task) -> Future[Encoded]:
        """Submit ``task`` with SIGINT blocked: a worker process this starts inherits the mask
        (a SIGINT arriving meanwhile reaches this process as soon as it is unblocked)."""
        assert self._pool is not None
        if not hasattr(signal, "pthread_sigmask"):
            return self._pool.submit(_work, task)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return self._pool.submit(_work, task)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
