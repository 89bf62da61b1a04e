"""The statistics of an experiment's answer: t-intervals over seeds, and natural-token
equivalents read off a ladder of ``natural-only`` runs.

- :func:`t_interval`: the mean of per-seed values and its two-sided 95% Student-t interval
  (``mean ± t(0.975, n - 1) · sd / √n``); no interval from a single seed.
- :func:`effective_tokens`: a final loss converted to the natural tokens a ``natural-only`` run
  (each ladder budget trained with its own full schedule) would need to reach it. The ladder's
  losses are first made non-increasing in tokens (isotonic regression, so seed noise cannot
  make more data look worse), then interpolated linearly in (log tokens, loss). A loss outside
  the ladder's range is extrapolated along the nearest segment and flagged; one beyond a flat
  end segment has no finite equivalent (``None``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Effective", "effective_tokens", "t_interval"]


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, list[float] | None]:
    """``(mean, [lo, hi])`` over ``values`` (``None`` for the interval with fewer than two)."""
    from scipy import stats

    if not values:
        raise ValueError("no values")
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None
    half = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1)) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, [mean - half, mean + half]


@dataclass(frozen=True)
class Effective:
    """Natural tokens equivalent to a loss (``None``: none finite), and whether the ladder had to
    be extrapolated to find them."""

    tokens: float | None
    extrapolated: bool


def effective_tokens(loss: float, budgets: Sequence[int], losses: Sequence[float]) -> Effective:
    """The natural-token equivalent of ``loss`` on a ladder of (``budgets``, final ``losses``)
    (see the module documentation); at least two distinct budgets."""
    from scipy.optimize import isotonic_regression

    order = np.argsort(np.asarray(budgets, dtype=float))
    x = np.log(np.asarray(budgets, dtype=float)[order])
    if len(x) < 2 or len(set(x.tolist())) != len(x):
        raise ValueError(f"a ladder needs at least two distinct budgets, got {list(budgets)}")
    y = np.asarray(isotonic_regression(np.asarray(losses, dtype=float)[order], increasing=False).x, dtype=float)
    if y[-1] <= loss <= y[0]:
        for i in range(len(x) - 1):
            if y[i] >= loss >= y[i + 1]:
                if y[i] == y[i + 1]:
                    return Effective(float(math.exp(x[i])), False)  # a flat stretch: its smallest budget
                t = (y[i] - loss) / (y[i] - y[i + 1])
                return Effective(float(math.exp(x[i] + t * (x[i + 1] - x[i]))), False)
    # outside the ladder: along the end segment nearest to the loss
    i = 0 if loss > y[0] else len(x) - 2
    if y[i] == y[i + 1]:
        return Effective(None, True)
    slope = (x[i + 1] - x[i]) / (y[i + 1] - y[i])  # log tokens per unit of loss (negative)
    log_tokens = x[i] + (loss - y[i]) * slope
    return Effective(float(math.exp(log_tokens)) if log_tokens < 700 else None, True)
