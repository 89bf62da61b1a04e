"""``loss_curves.png``: what an experiment measured, in four panels.

1. natural validation loss against tokens trained (all stages), one line per arm and fraction
   (the mean over seeds, with the min–max band): an arm that starts higher and crosses later is
   seen as such;
2. the same for the mnemophrase validation loss;
3. the ``natural-only`` ladder: final full natural loss against natural tokens (log scale), each
   seed and the mean — the curve every exchange rate is read from;
4. the exchange rate (natural tokens bought per pre-stage token) against the pre-stage fraction,
   per arm, the mean with its 95% interval.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperword.experiment.results import REFERENCE_ARM, RunRecord

__all__ = ["plot_curves"]


def _mean_curve(runs: Sequence[RunRecord], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens and mean/min/max of ``key`` at the evaluation points all seeds share."""
    per_seed = [{p.tokens: p.eval[key] for p in r.curve if key in p.eval} for r in runs]
    common = sorted(set.intersection(*(set(d) for d in per_seed))) if per_seed else []
    values = np.array([[d[t] for t in common] for d in per_seed], dtype=float).reshape(len(per_seed), len(common))
    return np.array(common, dtype=float), values.mean(axis=0), values.min(axis=0), values.max(axis=0)


def _label(r: RunRecord) -> str:
    if r.ladder is not None:
        return f"{r.arm} x{r.ladder:g}"
    return r.arm if r.fraction == 0 else f"{r.arm} f={r.fraction:g}"


def plot_curves(
    runs: Sequence[RunRecord],
    path: str | os.PathLike[str],
    keys: Sequence[str] = ("natural", "mnemo"),
    summary: dict[str, Any] | None = None,
) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    shown = [r for r in runs if r.ladder in (None, 1.0)]
    labels = sorted({_label(r) for r in shown})
    colours = {label: plt.get_cmap("tab20")(i % 20) for i, label in enumerate(labels)}
    panels = len(keys) + (2 if summary else 0)
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for label in labels:
            tokens, mean, low, high = _mean_curve([r for r in shown if _label(r) == label], key)
            if tokens.size == 0:
                continue
            ax.plot(tokens, mean, label=label, linewidth=1.4, color=colours[label])
            ax.fill_between(tokens, low, high, color=colours[label], alpha=0.12, linewidth=0)
        ax.set_title(f"{key} validation loss (periodic)")
        ax.set_xlabel("tokens trained (all stages)")
        ax.set_ylabel("cross-entropy (nats/token)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    if summary:
        _plot_ladder(axes[0][len(keys)], summary)
        _plot_rates(axes[0][len(keys) + 1], summary)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_ladder(ax: Any, summary: dict[str, Any]) -> None:
    budgets = np.array([int(b) for b in summary["ladder"]], dtype=float)
    if budgets.size:
        losses = np.array([[np.nan if v is None else v for v in vs] for vs in summary["ladder"].values()], dtype=float)
        for j in range(len(summary["seeds"])):
            ax.plot(
                budgets,
                losses[:, j],
                color="grey",
                alpha=0.5,
                linewidth=0.8,
                marker=".",
                label="per seed" if j == 0 else None,
            )
        ax.plot(budgets, np.nanmean(losses, axis=1), color="black", marker="o", label=f"{REFERENCE_ARM} mean")
        ax.set_xscale("log")
    ax.set_title("natural-only ladder (full natural loss)")
    ax.set_xlabel("natural tokens (own schedule each)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def _plot_rates(ax: Any, summary: dict[str, Any]) -> None:
    arms: dict[str, list[tuple[float, float, list[float] | None]]] = {}
    for e in summary["arms"]:
        rate = e["exchange_rate"]
        if e["fraction"] > 0 and rate["mean"] is not None:
            arms.setdefault(e["arm"], []).append((e["fraction"], rate["mean"], rate["ci95"]))
    for arm, points in sorted(arms.items()):
        points.sort()
        x = np.array([p[0] for p in points])
        y = np.array([p[1] for p in points])
        err = np.array([[y[i] - p[2][0], p[2][1] - y[i]] if p[2] else [0.0, 0.0] for i, p in enumerate(points)]).T
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=arm)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xscale("log", base=2)
    ax.set_title("exchange rate (natural tokens per pre-stage token)")
    ax.set_xlabel("pre-stage fraction of N")
    ax.set_ylabel("(effective − N) / k, 95% CI")
    ax.grid(True, alpha=0.3)
    if arms:
        ax.legend(fontsize=7)
