"""The resume state of a :class:`TokenLoader`: a plain JSON-able dict, checked on load.

    {"version": 1,
     "fingerprint": "<sha256 of identity>",
     "identity": {"seed", "seq_len", "batch_size", "rank", "world_size", "shuffle",
                  "corpora": [{"name", "fingerprint", "tokens"}], "weights", "schedule"},
     "batches": k,                          # batches delivered on this rank
     "served_windows": {name: C},           # windows served per corpus (= stream position)
     "served_tokens": {name: C * seq_len},  # target tokens served per corpus
     "targets": {name: T}}                  # cumulative slot targets (floats, exact in JSON)

``batches``, ``served_windows`` and ``targets`` are the whole :class:`MixState`; with them the
next batch is computed directly, without replaying the ``k`` before it. ``num_workers`` and
``max_batches`` are not part of the identity: a run may resume with other values of either.
"""

from __future__ import annotations

import math
from typing import Any

from hyperword.batches.plan import MixState
from hyperword.errors import ConfigError
from hyperword.torch.dataset import TokenDataset

__all__ = ["STATE_VERSION", "dump_state", "load_state"]

STATE_VERSION = 1


def dump_state(dataset: TokenDataset, state: MixState) -> dict[str, Any]:
    """The state dict of ``dataset`` standing at ``state``."""
    names = dataset.names
    return {
        "version": STATE_VERSION,
        "fingerprint": dataset.fingerprint,
        "identity": dataset.identity,
        "batches": state.batches,
        "served_windows": dict(zip(names, state.windows)),
        "served_tokens": {n: c * dataset.seq_len for n, c in zip(names, state.windows)},
        "targets": dict(zip(names, state.targets)),
    }


def _differences(saved: object, current: dict[str, Any]) -> str:
    if not isinstance(saved, dict):
        return "no identity recorded"
    keys = [k for k in current if saved.get(k) != current[k]]
    return "; ".join(f"{k}: saved {saved.get(k)!r}, now {current[k]!r}" for k in keys) or "identity differs"


def _per_corpus(state: dict[str, Any], key: str, names: list[str]) -> list[Any]:
    values = state.get(key)
    if not isinstance(values, dict) or sorted(values) != sorted(names):
        raise ConfigError(f"resume state: {key} must map each corpus ({', '.join(names)}) to a number")
    return [values[n] for n in names]


def load_state(dataset: TokenDataset, state: object) -> MixState:
    """The :class:`MixState` a state dict records, for ``dataset``. ``ConfigError`` when it is
    not a state dict of this version, when it was saved for another configuration (the message
    lists what differs), or when its counts are inconsistent."""
    if not isinstance(state, dict) or "version" not in state:
        raise ConfigError(f"not a TokenLoader state dict: {type(state).__name__}")
    if state["version"] != STATE_VERSION:
        raise ConfigError(f"resume state version {state['version']!r} is not supported (expected {STATE_VERSION})")
    if state.get("fingerprint") != dataset.fingerprint:
        raise ConfigError(
            f"resume state was saved for another dataset configuration: {_differences(state.get('identity'), dataset.identity)}"
        )
    names = dataset.names
    batches = state.get("batches")
    windows = _per_corpus(state, "served_windows", names)
    tokens = _per_corpus(state, "served_tokens", names)
    targets = _per_corpus(state, "targets", names)
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 0:
        raise ConfigError(f"resume state: batches must be a non-negative integer, got {batches!r}")
    if (
        any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in windows)
        or sum(windows) != batches * dataset.batch_size
    ):
        raise ConfigError(
            f"resume state: served_windows {windows} do not add up to {batches} batches of {dataset.batch_size}"
        )
    if tokens != [c * dataset.seq_len for c in windows]:
        raise ConfigError(f"resume state: served_tokens {tokens} are not served_windows x seq_len {dataset.seq_len}")
    if any(isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0 for t in targets):
        raise ConfigError(f"resume state: targets must be finite non-negative numbers, got {targets}")
    return MixState(batches, tuple(windows), tuple(float(t) for t in targets))
