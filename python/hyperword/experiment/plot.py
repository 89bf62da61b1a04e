"""``loss_curves.png``: validation loss against tokens trained, one line per arm (the mean over
seeds, with the min–max band), one panel per validation set. Full curves, so that an arm
that starts higher and crosses later is seen as such."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from hyperword.experiment.results import RunRecord

__all__ = ["plot_curves"]


def _mean_curve(runs: Sequence[RunRecord], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens and mean/min/max of ``key`` at the evaluation points all seeds share."""
    per_seed = [{p.tokens: p.eval[key] for p in r.curve if key in p.eval} for r in runs]
    common = sorted(set.intersection(*(set(d) for d in per_seed))) if per_seed else []
    values = np.array([[d[t] for t in common] for d in per_seed], dtype=float).reshape(len(per_seed), len(common))
    return np.array(common, dtype=float), values.mean(axis=0), values.min(axis=0), values.max(axis=0)


def plot_curves(runs: Sequence[RunRecord], path: str | os.PathLike[str], keys: Sequence[str] = ("natural", "mnemo")) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    arms = sorted({r.arm for r in runs})
    fig, axes = plt.subplots(1, len(keys), figsize=(6.5 * len(keys), 4.5), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for arm in arms:
            tokens, mean, low, high = _mean_curve([r for r in runs if r.arm == arm], key)
            if tokens.size == 0:
                continue
            (line,) = ax.plot(tokens, mean, label=arm, linewidth=1.6)
            ax.fill_between(tokens, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.set_title(f"{key} validation loss")
        ax.set_xlabel("tokens trained (all stages)")
        ax.set_ylabel("cross-entropy (nats/token)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
