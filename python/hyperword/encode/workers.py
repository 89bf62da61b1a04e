"""Encoding chunks of texts into flat token arrays, on this thread or in worker processes.

sentencepiece's own ``encode(list, num_threads=N)`` scales poorly: its C++ pool segments in
parallel, but building the Python lists of ids holds the GIL (measured on 2 cores, 250k rows
in 4096-row calls: 0.55 s with 1 thread, 0.41 s with 2; its default, -1, means all cores).
Each call here passes ``num_threads=1`` so that ``threads`` means what it says.

``threads > 1`` runs tasks on a pool of ``threads`` worker processes, **one pool per process**,
started by the first ``encode()`` that needs it and reused by every later one (an experiment
encodes five or six corpora in a row). Workers are spawned (no inherited locks or thread
pools) **without re-importing the caller's main module**: ``spawn`` would otherwise run the
caller's script's imports -- torch, transformers -- in every worker before it does anything
(measured: 10.4 s of data preparation became 25.9 s on 2 cores when the script had imported
torch first). Nothing a worker runs comes from ``__main__``: the task function is this
module's, its arguments are plain data. A task names rows of a shard file and the tokenizer
(its model bytes and a key; a worker keeps the last model it loaded); the worker memory-maps
the shard and reads the rows itself, so only the resulting numpy arrays (2 or 4 bytes a token)
cross processes. Results come back in submission order with at most ``2 * threads`` tasks in
flight, so memory stays bounded whatever the corpus size. Output is independent of the thread
count: each task is encoded alone, then concatenated.

Idle workers wait for the next ``encode()`` and end with the process (or with
:func:`shutdown`); an ``encode()`` with another thread count replaces the pool; a forked child
starts its own.

Faults: workers are started with SIGINT blocked, so that Ctrl-C in a terminal (sent to the
whole process group) interrupts only the main process, which stops the pool (an ``encode()``
that fails or is interrupted shuts the pool down, its workers included), instead of printing a
traceback per worker; a worker whose parent is killed (``kill -9``, the OOM killer), which
cannot stop the pool, notices within ``PARENT_POLL`` seconds and exits.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import sentencepiece as spm

from hyperword.encode.input_corpus import Task, TaskReader

__all__ = ["Encoded", "WorkerPool", "encode_chunk", "pools_started", "shutdown"]

#: (flat tokens, an eos after every document; token count of each document, eos included)
Encoded = tuple[npt.NDArray[np.generic], npt.NDArray[np.int64]]

#: rows per ``sp.encode`` call (its result is Python lists: ~36 bytes an id)
CHUNK_ROWS = 4096

#: seconds between a worker's checks that the process that started it is alive
PARENT_POLL = 0.25


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


# --- the worker side --------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What every task of one ``encode()`` call shares: the tokenizer (``model`` bytes, sent with
    each task since any worker may take it; ``key`` names it) and the call (``call``: a worker
    starts a fresh reader for each call, so it keeps no file of an earlier one open)."""

    key: str
    model: bytes
    eos: int
    dtype: str
    call: int


#: in a worker: (model key, processor), (call, reader)
_MODEL: tuple[str, spm.SentencePieceProcessor] | None = None
_READER: tuple[int, TaskReader] | None = None


def _watch_parent(parent: int) -> None:
    """Exit once the parent is gone (the worker is then re-parented)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _init(parent: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), name="hyperword-parent-watch", daemon=True).start()


def _work(job: Job, task: Task) -> Encoded:
    global _MODEL, _READER
    if _MODEL is None or _MODEL[0] != job.key:
        _MODEL = (job.key, spm.SentencePieceProcessor(model_proto=job.model))
    if _READER is None or _READER[0] != job.call:
        _READER = (job.call, TaskReader())
    return encode_task(_MODEL[1], job.eos, job.dtype, _READER[1], task)


# --- the pool: one per process ----------------------------------------------------------------


@contextmanager
def _main_hidden() -> Iterator[None]:
    """While a worker is launched, ``__main__`` is an empty module, so that the spawned child does
    not import the caller's main script (multiprocessing re-runs it, as ``__mp_main__``, when the
    launching process's ``__main__`` has a file). Only the launch itself sees the stand-in."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        with _main_hidden():
            return multiprocessing.context.SpawnProcess._Popen(process_obj)


class _WorkerContext(multiprocessing.context.SpawnContext):
    """``spawn``, with workers that do not import the caller's main module."""

    Process = _WorkerProcess


@dataclass
class _Shared:
    executor: ProcessPoolExecutor
    threads: int
    owner: int  # the pid that started it (a forked child must not use its parent's pool)


_LOCK = threading.Lock()
_SHARED: _Shared | None = None
_STARTED = 0
_CALLS = itertools.count()


def pools_started() -> int:
    """How many worker pools this process has started (one, however many ``encode()`` calls,
    while the thread count stays the same and nothing fails)."""
    return _STARTED


def _executor(threads: int) -> ProcessPoolExecutor:
    """The process's pool of ``threads`` workers, started (or replaced) if need be."""
    global _SHARED, _STARTED
    with _LOCK:
        shared = _SHARED
        if shared is not None and shared.owner == os.getpid() and shared.threads == threads:
            return shared.executor
        if shared is not None and shared.owner == os.getpid():
            shared.executor.shutdown(wait=True, cancel_futures=True)
        executor = ProcessPoolExecutor(threads, mp_context=_WorkerContext(), initializer=_init, initargs=(os.getpid(),))
        _SHARED = _Shared(executor, threads, os.getpid())
        _STARTED += 1
        return executor


def shutdown() -> None:
    """Stop this process's worker pool (waiting for tasks under way; queued ones are cancelled).
    The next ``encode()`` with workers starts a new one."""
    global _SHARED
    with _LOCK:
        shared, _SHARED = _SHARED, None
    if shared is not None and shared.owner == os.getpid():
        shared.executor.shutdown(wait=True, cancel_futures=True)


class WorkerPool:
    """The encoder of one ``encode()`` call: on this thread (``threads <= 1``) or on the process's
    shared worker pool. Leaving it with an exception (Ctrl-C included) shuts the pool down."""

    def __init__(self, model: bytes, eos: int, dtype: str, threads: int) -> None:
        self.threads = threads
        self._job = Job(hashlib.sha256(model).hexdigest(), model, eos, dtype, next(_CALLS))
        self._sp = spm.SentencePieceProcessor(model_proto=model) if threads <= 1 else None
        self._reader = TaskReader()

    def map(self, tasks: Iterable[Task]) -> Iterator[Encoded]:
        """Each task's encoding, in order."""
        if self._sp is not None:
            for task in tasks:
                yield encode_task(self._sp, self._job.eos, self._job.dtype, self._reader, task)
            return
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
        try:
            return self._submit_to(_executor(self.threads), task)
        except BrokenProcessPool:  # a worker of the idle pool died (killed) since the last call
            shutdown()
            return self._submit_to(_executor(self.threads), task)

    def _submit_to(self, executor: ProcessPoolExecutor, task: Task) -> Future[Encoded]:
        """Submit ``task`` with SIGINT blocked: a worker process this starts inherits the mask
        (a SIGINT arriving meanwhile reaches this process as soon as it is unblocked). The
        executor is made before, unmasked: making it may start multiprocessing's resource
        tracker, which unblocks SIGINT when it has started."""
        if not hasattr(signal, "pthread_sigmask"):
            return executor.submit(_work, self._job, task)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return executor.submit(_work, self._job, task)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and self._sp is None:
            shutdown()
