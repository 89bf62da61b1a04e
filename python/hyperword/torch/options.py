"""Checking and opening what :class:`TokenDataset` is given: corpora (paths, a list, a mapping
name -> path, or opened :class:`TokenCorpus` objects), integers, the rank topology, and a
stable name for a schedule (part of the resume fingerprint)."""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import pickle
import types
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from hyperword.batches.corpus import TokenCorpus
from hyperword.batches.plan import Schedule
from hyperword.errors import ConfigError

__all__ = ["CorporaArg", "CorpusArg", "check_schedule", "open_corpora", "positive", "schedule_name", "topology"]

CorpusArg = str | os.PathLike[str] | TokenCorpus
CorporaArg = CorpusArg | Sequence[CorpusArg] | Mapping[str, CorpusArg]


def positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _open(arg: CorpusArg, name: str | None, verify: bool) -> TokenCorpus:
    if isinstance(arg, TokenCorpus):
        if name is None or name == arg.name:
            return arg
        corpus = copy.copy(arg)
        corpus.name = name
        return corpus
    if not isinstance(arg, (str, os.PathLike)):
        raise ConfigError(f"a corpus is a token directory path or a TokenCorpus, got {type(arg).__name__}")
    return TokenCorpus.open(arg, verify=verify, name=name)


def open_corpora(corpora: CorporaArg, verify: bool = False) -> list[TokenCorpus]:
    """Open the ``corpora`` argument of :class:`TokenDataset`: checked, uniquely named, sharing one tokenizer."""
    if isinstance(corpora, Mapping):
        opened = [_open(arg, str(name), verify) for name, arg in corpora.items()]
    elif isinstance(corpora, (str, os.PathLike, TokenCorpus)):
        opened = [_open(corpora, None, verify)]
    else:
        opened = [_open(arg, None, verify) for arg in corpora]
    if not opened:
        raise ConfigError("no corpora given")
    names = [c.name for c in opened]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"corpus names must be unique, {', '.join(map(repr, twice))} appears twice; pass a mapping name -> path"
        )
    first = opened[0]
    for c in opened[1:]:
        if c.tokenizer_sha256 != first.tokenizer_sha256:
            raise ConfigError(
                f"corpora were encoded with different tokenizers: {first.name!r} ({first.path}) with sha256 {first.tokenizer_sha256[:12]}…, "
                f"{c.name!r} ({c.path}) with sha256 {c.tokenizer_sha256[:12]}…"
            )
    return opened


def topology(rank: int | None, world_size: int | None) -> tuple[int, int]:
    if rank is None and world_size is None:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return int(torch.distributed.get_rank()), int(torch.distributed.get_world_size())
        return 0, 1
    if rank is None or world_size is None:
        raise ConfigError(f"pass both rank and world_size or neither (got rank={rank!r}, world_size={world_size!r})")
    world = positive("world_size", world_size)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < world:
        raise ConfigError(f"rank must be in [0, {world}), got {rank!r}")
    return int(rank), world


def schedule_name(schedule: Schedule) -> str:
    """A stable name for a schedule (module.qualname, with a partial's arguments) for fingerprints."""
    if isinstance(schedule, functools.partial):
        args = ", ".join([*map(repr, schedule.args), *(f"{k}={v!r}" for k, v in sorted(schedule.keywords.items()))])
        return f"partial({schedule_name(schedule.func)}, {args})"
    if isinstance(schedule, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return f"{schedule.__module__}.{schedule.__qualname__}"
    # a callable object: its class, and its pickled state (its parameters)
    kind = type(schedule)
    return f"{kind.__module__}.{kind.__qualname__}#{hashlib.sha256(pickle.dumps(schedule)).hexdigest()[:16]}"


def check_schedule(schedule: object) -> None:
    """``ConfigError`` unless ``schedule`` is a picklable callable (workers may be spawned)."""
    if not callable(schedule):
        raise ConfigError(f"schedule must be a callable step -> weights, got {type(schedule).__name__}")
    try:
        pickle.dumps(schedule)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise ConfigError(
            f"schedule must be picklable (a module-level function or functools.partial of one): {e}"
        ) from None
