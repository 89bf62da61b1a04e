"""``TokenLoader``: a :class:`TokenDataset` through ``torch.utils.data.DataLoader``, iterated
persistently, counting what it delivered, saving and restoring where it stands.

The loader keeps one DataLoader iterator alive across ``for`` loops: breaking out of a loop and
starting another continues with the next batch (batches the DataLoader had prefetched are not
lost). Alongside, it advances the dataset's batch plan by one batch per batch delivered (cheap
integer arithmetic), so that :meth:`state_dict` is exact at any point and ``load_state_dict``
restarts the workers at that point, wherever they had prefetched to.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader

from hyperword.errors import ConfigError, InternalError
from hyperword.torch.dataset import Batch, TokenDataset
from hyperword.torch.state import dump_state, load_state

__all__ = ["TokenLoader"]


class TokenLoader:
    """Batches of ``dataset`` from ``num_workers`` DataLoader workers (0: in this process), in
    the same order for any number of workers. ``multiprocessing_context`` and ``timeout`` go to
    the DataLoader as they are. ``ConfigError`` when a corpus has fewer than ``batch_size *
    max(1, num_workers)`` windows per rank (a worker would repeat data within an epoch)."""

    def __init__(
        self,
        dataset: TokenDataset,
        num_workers: int = 0,
        pin_memory: bool = False,
        prefetch_factor: int | None = None,
        *,
        multiprocessing_context: Any = None,
        timeout: float = 0.0,
    ) -> None:
        if not isinstance(dataset, TokenDataset):
            raise ConfigError(f"TokenLoader needs a TokenDataset, got {type(dataset).__name__}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ConfigError(f"num_workers must be a non-negative integer, got {num_workers!r}")
        if prefetch_factor is not None and num_workers == 0:
            raise ConfigError("prefetch_factor needs num_workers >= 1")
        dataset.check_workers(num_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.prefetch_factor = prefetch_factor
        self.multiprocessing_context = multiprocessing_context
        self.timeout = timeout
        self._state = dataset.start
        self._iterator: Iterator[Batch] | None = None

    def __repr__(self) -> str:
        return f"TokenLoader({self.dataset!r}, num_workers={self.num_workers}, batches={self.batches})"

    @property
    def batches(self) -> int:
        """Batches delivered so far on this rank (counting those before a resume)."""
        return self._state.batches

    @property
    def served_windows(self) -> dict[str, int]:
        """Windows delivered so far, per corpus name."""
        return dict(zip(self.dataset.names, self._state.windows))

    @property
    def served_tokens(self) -> dict[str, int]:
        """Target tokens delivered so far, per corpus name: ``seq_len`` per window, exactly."""
        return {n: c * self.dataset.seq_len for n, c in zip(self.dataset.names, self._state.windows)}

    @property
    def epochs(self) -> dict[str, float]:
        """Epochs served so far per corpus: windows delivered over windows per rank."""
        return {
            n: c / p if p else 0.0
            for n, c, p in zip(self.dataset.names, self._state.windows, self.dataset.windows_per_rank)
        }

    def _open(self) -> Iterator[Batch]:
        workers = self.num_workers
        loader = DataLoader(
            self.dataset.resumed(self._state),
            batch_size=None,
            num_workers=workers,
            pin_memory=self.pin_memory,
            prefetch_factor=self.prefetch_factor,
            multiprocessing_context=self.multiprocessing_context if workers else None,
            timeout=self.timeout if workers else 0.0,
        )
        return iter(loader)

    def __iter__(self) -> Iterator[Batch]:
        limit = self.dataset.max_batches
        while limit is None or self._state.batches < limit:
            if self._iterator is None:
                self._iterator = self._open()
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                raise InternalError(
                    f"the DataLoader stopped after {self._state.batches} batches, before max_batches {limit}"
                ) from None
            except BaseException:
                self.close()  # a worker failed (or Ctrl-C): the next iteration starts afresh here
                raise
            slots, after = self.dataset.plan.advance(self._state)
            counts = torch.bincount(batch["corpus"], minlength=len(self.dataset.names)).tolist()
            if counts != [slots.count(i) for i in range(len(self.dataset.names))]:
                raise InternalError(f"batch {self._state.batches} does not match the plan (corpus counts {counts})")
            self._state = after
            yield batch
        self.close()

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands, as a plain JSON-able dict (format: :mod:`hyperword.torch.state`)."""
        return dump_state(self.dataset, self._state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``: the next batches are those an uninterrupted run would have
        delivered after it. ``ConfigError`` when it was saved for another configuration."""
        restored = load_state(self.dataset, state)
        self.close()
        self._state = restored

    def close(self) -> None:
        """Stop the workers (if any); the next iteration starts them again where it stands."""
        iterator, self._iterator = self._iterator, None
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if callable(shutdown):
            shutdown()

    def __enter__(self) -> TokenLoader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
