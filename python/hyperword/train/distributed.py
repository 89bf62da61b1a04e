"""Training in many processes (``torchrun``): start-up and teardown of ``torch.distributed``,
the few collective steps the trainer takes, and a per-rank debugging trace (:class:`Trace`).

    torchrun --nproc_per_node=2 -m hyperword.train --plan joint --preset cpu --out runs/j ...

:func:`launched` (used by ``python -m hyperword.train``) initialises the default process group
when torchrun set ``WORLD_SIZE`` above 1: ``nccl`` with one GPU per process (``cuda:LOCAL_RANK``)
when CUDA is used, ``gloo`` on the CPU. :func:`~hyperword.train.trainer.run_plan` trains over
whatever process group is initialised (:func:`current`), so a script under torchrun that
initialises one itself can call it too.

What each process does (the trainer's side is in :mod:`~hyperword.train.trainer`):

- every rank reads its own part of each corpus (``TokenDataset`` with its rank and world size:
  disjoint windows within an epoch) and trains a :func:`data_parallel` wrapper of the model,
  rebuilt for every stage over exactly the parameters the stage trains; gradients are averaged
  once per optimizer step (the micro-batches before the last run under ``no_sync``);
- token budgets are **global**: an optimizer step trains ``seq_len x batch_size x grad_accum``
  target tokens on each rank, ``world_size`` times that in all, so a plan takes
  ``budget / (step tokens x world_size)`` steps and trains the same number of tokens with any
  number of processes (a budget that is not a whole number of such steps is an error);
- train losses are averaged over ranks (:func:`mean_each`), tokens served summed
  (:func:`sum_counts`), token ids seen united (:func:`union`); evaluation runs on rank 0 and
  its numbers are broadcast (:func:`from_main`), so every rank holds the same progress;
- only rank 0 writes (checkpoints, stage models, the final model, ``run.json``), followed by a
  barrier; a checkpoint holds each rank's loader and RNG state (lists indexed by rank, gathered
  with :func:`gather`) and is resumed with the same number of processes.

With one process every function here is the identity (or does nothing), and the trainer's
single-process path is exactly what it is without this module.

The trace: a record of what each training process did, for tests and for checking a
many-process run by hand.

With ``HYPERWORD_TRAIN_TRACE=DIR`` in the environment, each process (rank ``R``) appends JSON
lines to ``DIR/rank-R.jsonl``:

- ``{"event": "batch", "stage": i, "step": s, "corpus": [...], "window": [...]}`` for every
  micro-batch it trains on: optimizer step ``s`` of the run (0-based), and per row the corpus
  role and the window index within that corpus;
- ``{"event": "params", "step": s, "sha256": ...}`` when :func:`~hyperword.train.run_plan`
  returns: a hash of every tensor of the model's state (names included).

Without the variable nothing is written and nothing is computed.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from hyperword.errors import ConfigError

__all__ = [
    "PeerFailed",
    "SINGLE",
    "TRACE_ENV",
    "Trace",
    "World",
    "barrier",
    "current",
    "data_parallel",
    "from_main",
    "gather",
    "launched",
    "main_first",
    "mean_each",
    "mine",
    "no_sync",
    "state_hash",
    "sum_counts",
    "union",
]

T = TypeVar("T")

#: how long a rank waits for the others at a collective step: rank 0 alone prepares the run
#: (the random twin corpus of a large mnemo corpus takes a while), evaluates and writes
TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class World:
    """This process's rank among ``size`` training processes."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the one that writes."""
        return self.rank == 0


SINGLE = World()


class PeerFailed(ConfigError):
    """Raised on the other ranks when rank 0 failed in :func:`main_first` (rank 0 reports the error)."""


def current() -> World:
    """The initialised default process group's rank and size, else :data:`SINGLE`."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return SINGLE


@contextmanager
def launched(device: str | None) -> Iterator[tuple[World, str | None]]:
    """Inside the block, ``torch.distributed`` is initialised when torchrun started this process
    with ``WORLD_SIZE`` > 1 (and torn down on exit); yields the world and the device this
    process trains on (``cuda:LOCAL_RANK`` with CUDA, else ``device`` as given)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or (dist.is_available() and dist.is_initialized()):
        yield current(), device
        return
    if not dist.is_available():
        raise ConfigError(f"WORLD_SIZE is {size}, but this torch build has no torch.distributed")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device.startswith("cuda") if device is not None else torch.cuda.is_available()
    if cuda:
        if device not in (None, "cuda"):
            raise ConfigError(
                f"with many processes, each uses GPU LOCAL_RANK: give --device cuda (without an index), not {device!r}"
            )
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
        dist.init_process_group("nccl", device_id=torch.device("cuda", local), timeout=TIMEOUT)
    else:
        dist.init_process_group("gloo", timeout=TIMEOUT)
    try:
        yield current(), device
    finally:
        dist.destroy_process_group()


def _comm_device() -> torch.device:
    """Where tensors for collectives live: the process's GPU with nccl, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def barrier(world: World) -> None:
    """Wait for every rank (nothing with one process)."""
    if world.size > 1:
        dist.barrier()


def gather(value: T, world: World) -> list[T]:
    """Every rank's ``value`` (picklable), indexed by rank, on every rank."""
    if world.size == 1:
        return [value]
    out: list[Any] = [None] * world.size
    dist.all_gather_object(out, value)
    return out


def mine(values: Any, world: World) -> Any:
    """This rank's entry of a per-rank list from :func:`gather` (the value itself with one process)."""
    if world.size == 1:
        return values
    if not isinstance(values, list) or len(values) != world.size:
        raise ConfigError(f"the checkpoint holds no per-rank state for {world.size} processes")
    return values[world.rank]


def from_main(compute: Callable[[], T], world: World) -> T:
    """``compute()`` on rank 0, its (picklable) result on every rank."""
    if world.size == 1:
        return compute()
    box: list[Any] = [compute() if world.main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]  # type: ignore[no-any-return]


def main_first(compute: Callable[[], T], world: World) -> T:
    """``compute()`` on rank 0, then on the other ranks (for set-up that may write, such as the
    random twin corpus). When it fails on rank 0 the others raise :class:`PeerFailed`."""
    if world.size == 1:
        return compute()
    if world.main:
        try:
            value = compute()
        except Exception as e:
            dist.broadcast_object_list([f"{type(e).__name__}: {e}"], src=0)
            raise
        dist.broadcast_object_list([None], src=0)
        return value
    box: list[Any] = [None]
    dist.broadcast_object_list(box, src=0)
    if box[0] is not None:
        raise PeerFailed(f"rank 0 failed: {box[0]}")
    return compute()


def mean_each(values: list[float], world: World) -> list[float]:
    """Each of ``values`` averaged over the ranks (every rank passes as many)."""
    if world.size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return [v / world.size for v in t.tolist()]


def union(mask: torch.Tensor, world: World) -> torch.Tensor:
    """A boolean mask true where it is true on some rank."""
    if world.size == 1:
        return mask
    t = mask.to(device=_comm_device(), dtype=torch.int32)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.to(device=mask.device, dtype=torch.bool)


def sum_counts(counts: dict[str, int], world: World) -> dict[str, int]:
    """Integer counts by name, summed over the ranks (the keys of this rank's, in its order)."""
    if world.size == 1:
        return counts
    parts = gather(counts, world)
    return {k: sum(int(p.get(k, 0)) for p in parts) for k in counts}


def data_parallel(model: torch.nn.Module, device: torch.device, world: World) -> torch.nn.Module:
    """The module to train: ``model`` itself with one process, else a
    ``DistributedDataParallel`` wrapper over the parameters that require gradients *now*
    (build it after choosing what the stage trains; one per stage). Every trainable parameter
    takes part in every forward pass here, so unused-parameter search stays off. Keep no
    reference to a wrapper past its stage: it dies, with its gradient hooks, when the stage is
    over."""
    if world.size == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    gc.collect()  # an earlier stage's wrapper, if only reference cycles keep it, goes with its hooks
    ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=False)


def no_sync(net: torch.nn.Module, skip: bool) -> AbstractContextManager[object]:
    """No gradient averaging in the block when ``skip`` (micro-batches before a step's last)."""
    if skip and isinstance(net, torch.nn.parallel.DistributedDataParallel):
        return net.no_sync()
    return nullcontext()


# --- the trace ---------------------------------------------------------------------------------
TRACE_ENV = "HYPERWORD_TRAIN_TRACE"


def state_hash(model: torch.nn.Module) -> str:
    """sha256 over the names and exact bytes of every tensor in ``model.state_dict()``."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode("utf-8") + b"\0" + str(tensor.dtype).encode("ascii") + b"\0")
        h.update(tensor.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class Trace:
    """Appends this rank's events to ``DIR/rank-R.jsonl``."""

    def __init__(self, directory: str | os.PathLike[str], rank: int) -> None:
        self.path = Path(directory) / f"rank-{rank}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, rank: int) -> Trace | None:
        directory = os.environ.get(TRACE_ENV)
        return cls(directory, rank) if directory else None

    def _write(self, event: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")

    def batch(self, stage: int, step: int, names: list[str], batch: dict[str, torch.Tensor]) -> None:
        corpus = [names[i] for i in batch["corpus"].tolist()]
        self._write(
            {"event": "batch", "stage": stage, "step": step, "corpus": corpus, "window": batch["window"].tolist()}
        )

    def params(self, step: int, model: torch.nn.Module) -> None:
        self._write({"event": "params", "step": step, "sha256": state_hash(model)})
