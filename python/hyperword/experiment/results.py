"""What an experiment measured, summarised across seeds: ``results.json`` and ``results.md``.

Per arm (over its seeds): the final natural-language validation loss and perplexity (mean,
standard deviation, min, max), the final mnemophrase validation loss, the tokens the arm
needed to reach the reference arm's (``natural-only``) mean final natural loss (every token
trained on counts, all stages; linear interpolation between evaluation points; ``None`` when
never reached), adapter on/off differences, and the exact tokens of each kind consumed.
Nothing is judged by one early point: the full curves are in ``results.json`` and the plot.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CurvePoint", "RunRecord", "loss_at", "summarize", "to_markdown", "tokens_to_reach"]

REFERENCE_ARM = "natural-only"


@dataclass(frozen=True)
class CurvePoint:
    """After ``tokens`` trained tokens (all stages so far): the training loss and each
    validation set's loss."""

    tokens: int
    train_loss: float | None
    eval: dict[str, float]


@dataclass(frozen=True)
class RunRecord:
    arm: str
    seed: int
    curve: list[CurvePoint]
    final: dict[str, float]
    tokens: dict[str, int]
    hashes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        curve = [CurvePoint(int(p["tokens"]), p.get("train_loss"), {k: float(v) for k, v in p["eval"].items()}) for p in d["curve"]]
        return cls(d["arm"], int(d["seed"]), curve, dict(d["final"]), {k: int(v) for k, v in d["tokens"].items()}, dict(d.get("hashes", {})), float(d.get("seconds", 0.0)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stats(values: Sequence[float]) -> dict[str, float | int]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def tokens_to_reach(curve: Sequence[CurvePoint], key: str, target: float) -> float | None:
    """Tokens at which ``eval[key]`` first reaches ``target`` (interpolated linearly between
    the two evaluation points around the crossing); ``None`` if it never does."""
    prev: CurvePoint | None = None
    for p in curve:
        if key not in p.eval:
            continue
        if p.eval[key] <= target:
            if prev is None or prev.eval[key] == p.eval[key]:
                return float(p.tokens)
            frac = (prev.eval[key] - target) / (prev.eval[key] - p.eval[key])
            return prev.tokens + frac * (p.tokens - prev.tokens)
        prev = p
    return None


def loss_at(curve: Sequence[CurvePoint], key: str, tokens: float) -> float | None:
    """``eval[key]`` at ``tokens``, interpolated linearly between evaluation points; ``None``
    outside the curve."""
    points = [(p.tokens, p.eval[key]) for p in curve if key in p.eval]
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if t0 <= tokens <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (tokens - t0) / (t1 - t0)
    return None


def summarize(runs: Sequence[RunRecord], reference: str = REFERENCE_ARM) -> dict[str, Any]:
    """Per-arm statistics over seeds (see the module documentation)."""
    arms: dict[str, list[RunRecord]] = {}
    for r in runs:
        arms.setdefault(r.arm, []).append(r)
    ref = arms.get(reference)
    target = statistics.fmean(r.final["natural"] for r in ref) if ref else None
    out: dict[str, Any] = {"reference_arm": reference if ref else None, "reference_natural_loss": target, "arms": {}}
    for arm, rs in arms.items():
        finals = sorted({k for r in rs for k in r.final})
        entry: dict[str, Any] = {
            "seeds": sorted(r.seed for r in rs),
            "final": {k: _stats([r.final[k] for r in rs if k in r.final]) for k in finals},
            "tokens": {k: sorted({r.tokens.get(k, 0) for r in rs}) for k in sorted({k for r in rs for k in r.tokens})},
            "total_tokens": sorted({sum(r.tokens.values()) for r in rs}),
            "seconds": _stats([r.seconds for r in rs]),
        }
        if "natural" in entry["final"]:
            entry["natural_perplexity"] = _stats([math.exp(r.final["natural"]) for r in rs])
        if target is not None:
            reached = [tokens_to_reach(r.curve, "natural", target) for r in rs]
            entry["tokens_to_reference_loss"] = {
                "per_seed": reached,
                "mean_of_reached": statistics.fmean(x for x in reached if x is not None) if any(x is not None for x in reached) else None,
                "reached": sum(x is not None for x in reached),
            }
        if ref and arm != reference:
            # The same natural data: the reference arm's loss after as many natural tokens as
            # this arm trained on (its curve mean over seeds), against this arm's final loss.
            diffs = []
            for r in rs:
                at = [loss_at(x.curve, "natural", r.tokens.get("natural", 0)) for x in ref]
                if "natural" in r.final and all(v is not None for v in at):
                    diffs.append(r.final["natural"] - statistics.fmean(v for v in at if v is not None))
            if diffs:
                entry["minus_reference_at_same_natural_tokens"] = _stats(diffs)
        offs = [(r.final["natural"], r.final["natural_adapter_off"]) for r in rs if "natural_adapter_off" in r.final and "natural" in r.final]
        if offs:
            entry["adapter_off_minus_on"] = _stats([off - on for on, off in offs])
        out["arms"][arm] = entry
    return out


def _fmt(s: dict[str, Any] | None, digits: int = 3) -> str:
    if not s:
        return "–"
    return f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def to_markdown(summary: dict[str, Any], title: str = "Experiment results") -> str:
    """The summary as a Markdown table (mean ± standard deviation over seeds)."""
    lines = [f"# {title}", ""]
    ref, target = summary["reference_arm"], summary["reference_natural_loss"]
    if ref:
        lines += [f"Reference: `{ref}`, mean final natural validation loss {target:.4f}.", ""]
    lines += [
        "| arm | seeds | natural val loss | natural ppl | mnemo val loss | tokens to reference loss (reached/seeds) | − reference at the same natural tokens | adapter off − on | tokens by kind |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arm, e in summary["arms"].items():
        reach = e.get("tokens_to_reference_loss")
        reach_text = "–"
        if reach is not None:
            mean = reach["mean_of_reached"]
            reach_text = f"{mean:,.0f} ({reach['reached']}/{len(e['seeds'])})" if mean is not None else f"not reached (0/{len(e['seeds'])})"
        kinds = ", ".join(f"{k} {'/'.join(f'{v:,}' for v in vs)}" for k, vs in e["tokens"].items() if any(vs))
        lines.append(
            f"| `{arm}` | {len(e['seeds'])} | {_fmt(e['final'].get('natural'))} | {_fmt(e.get('natural_perplexity'), 1)} | "
            f"{_fmt(e['final'].get('mnemo'))} | {reach_text} | {_fmt(e.get('minus_reference_at_same_natural_tokens'))} | "
            f"{_fmt(e.get('adapter_off_minus_on'))} | {kinds} |"
        )
    lines += [
        "",
        "Losses are mean cross-entropy per token (nats) on held-out text; ± is the standard deviation over seeds. "
        "Tokens to reference loss: tokens trained (all stages, every kind) until the natural validation loss first reaches "
        "the reference arm's mean final loss, interpolated between evaluation points, averaged over the seeds that reach it "
        "(the reference arm itself reaches its own mean in about half its seeds). − reference at the same natural tokens: this arm's "
        "final natural loss minus the reference arm's (mean curve) after as many natural tokens as this arm trained on — "
        "negative means the non-natural tokens helped, per natural token. Adapter off − on: natural validation loss "
        "with the arm's final adapter disabled minus enabled.",
    ]
    return "\n".join(lines) + "\n"
