"""A debugging trace of what each training process did, for tests and for checking a
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

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

__all__ = ["TRACE_ENV", "Trace", "state_hash"]

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
