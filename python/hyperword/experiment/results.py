"""What an experiment measured, summarised across seeds: ``results.json``'s ``summary`` and
``results.md``.

The reference is a *ladder* of ``natural-only`` runs: the natural budget ``N`` times each ladder
multiple, every one trained with its own full schedule on the same data stream and seeds. Per
arm and pre-stage fraction, over its seeds:

- ``final_full``: each evaluation text scored in full (:mod:`hyperword.experiment.scoring`),
  loss and bits per byte (mean, sd and per seed), with its parts (languages);
- ``effective_natural_tokens``: the arm's final full natural loss read off the *same seed's*
  ladder (:func:`~hyperword.experiment.stats.effective_tokens`);
- ``exchange_rate``: ``(effective − n) / k`` — natural tokens bought per pre-stage token, where
  ``n`` and ``k`` are the natural and other tokens the run trained on (``N`` and ``fraction·N``
  under the additive protocol) — with its mean, 95% t-interval and per-seed values;
- ``tokens_to_reference``: Hu et al.'s figure, the tokens (all stages) until the periodic natural
  loss first reaches the same seed's ``natural-only`` final periodic loss at ``N`` (interpolated
  between evaluation points), and the saving against ``N`` in percent;
- ``minus_natural_only``: the final full natural loss minus the same seed's ladder loss at the
  run's own natural tokens (schedule-matched: each ladder point has its own schedule; exact at a
  ladder budget, interpolated between), with its interval.

``pairs``: paired per-seed differences ``a − b`` with 95% intervals, for the comparisons the
write-up makes (:data:`COMPARISONS`, and every arm against ``natural-only``), on the final full
natural loss, the exchange rate and every other evaluation text's loss.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hyperword.experiment.stats import effective_tokens, t_interval

__all__ = [
    "COMPARISONS",
    "REFERENCE_ARM",
    "CurvePoint",
    "RunRecord",
    "loss_at",
    "summarize",
    "to_markdown",
    "tokens_to_reach",
]

REFERENCE_ARM = "natural-only"
#: the pairs ``(a, b)`` compared at every fraction where both ran (plus every arm against ``natural-only``)
COMPARISONS = (
    ("mnemo-first", "unfused-first"),
    ("mnemo-first", "shuffled-first"),
    ("mnemo-first", "unigram-first"),
    ("mnemo-first", "random-first"),
    ("mnemo-first", "joint"),
    ("mnemo-first", "dyck-first"),
    ("mnemo-first", "ngram-first"),
    ("mnemo-first-lora", "unfused-first-lora"),
    ("mnemo-first-lora", "random-lora"),
    ("mnemo-first-lora", "mnemo-first"),
)


@dataclass(frozen=True)
class CurvePoint:
    """After ``tokens`` trained tokens (all stages so far): the training loss and each
    validation set's loss (periodic evaluation on fixed batches)."""

    tokens: int
    train_loss: float | None
    eval: dict[str, float]


@dataclass(frozen=True)
class RunRecord:
    """One finished run: its arm, pre-stage ``fraction`` (0 for an arm without one), ``ladder``
    multiple (``natural-only`` runs only), the tokens it trained by kind, its curve, the periodic
    final losses (``final``), and each evaluation text scored in full (``final_full``, in the
    arm's final view; ``final_full_adapter_off`` with its adapter off, when it has one)."""

    arm: str
    seed: int
    curve: list[CurvePoint]
    final: dict[str, float]
    tokens: dict[str, int]
    hashes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    fraction: float = 0.0
    ladder: float | None = None
    final_full: dict[str, dict[str, Any]] = field(default_factory=dict)
    final_full_adapter_off: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def natural_tokens(self) -> int:
        return int(self.tokens.get("natural", 0))

    @property
    def pre_tokens(self) -> int:
        return sum(v for k, v in self.tokens.items() if k != "natural")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        curve = [
            CurvePoint(int(p["tokens"]), p.get("train_loss"), {k: float(v) for k, v in p["eval"].items()})
            for p in d["curve"]
        ]
        return cls(
            d["arm"],
            int(d["seed"]),
            curve,
            dict(d["final"]),
            {k: int(v) for k, v in d["tokens"].items()},
            dict(d.get("hashes", {})),
            float(d.get("seconds", 0.0)),
            float(d.get("fraction", 0.0)),
            d.get("ladder"),
            dict(d.get("final_full", {})),
            dict(d.get("final_full_adapter_off", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def _stats(values: Sequence[float]) -> dict[str, Any]:
    mean, ci = t_interval(values)
    return {
        "mean": mean,
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "ci95": ci,
        "per_seed": list(values),
        "n": len(values),
    }


def _interval(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean, 95% interval and per-seed values over the seeds that have a value."""
    have = [v for v in values if v is not None]
    mean, ci = t_interval(have) if have else (None, None)
    return {"mean": mean, "ci95": ci, "per_seed": list(values), "n": len(have)}


def _full_loss(r: RunRecord, text: str = "natural") -> float | None:
    entry = r.final_full.get(text)
    return None if entry is None else float(entry["loss"])


def _ladder(runs: Sequence[RunRecord]) -> dict[int, dict[int, float]]:
    """seed -> {natural tokens: final full natural loss} of the ``natural-only`` ladder runs."""
    out: dict[int, dict[int, float]] = {}
    for r in runs:
        loss = _full_loss(r)
        if r.arm == REFERENCE_ARM and r.ladder is not None and loss is not None:
            out.setdefault(r.seed, {})[r.natural_tokens] = loss
    return out


def _key(r: RunRecord) -> tuple[str, float]:
    return (r.arm, r.fraction)


def summarize(
    runs: Sequence[RunRecord], *, protocol: str = "additive", natural_budget: int | None = None
) -> dict[str, Any]:
    """The summary described in the module documentation."""
    ladder = _ladder(runs)
    seeds = sorted({r.seed for r in runs})
    budgets = sorted({t for per in ladder.values() for t in per})
    reference = {r.seed: r for r in runs if r.arm == REFERENCE_ARM and r.ladder == 1.0}
    groups: dict[tuple[str, float], list[RunRecord]] = {}
    for r in runs:
        if r.arm == REFERENCE_ARM and r.ladder not in (None, 1.0):
            continue  # ladder points other than N are the reference, not an arm
        groups.setdefault(_key(r), []).append(r)
    arms = [
        _arm_entry(rs, ladder, reference)
        for _, rs in sorted(groups.items(), key=lambda kv: (_order(kv[0][0]), kv[0][1]))
    ]
    return {
        "protocol": protocol,
        "natural_budget": natural_budget,
        "reference_arm": REFERENCE_ARM,
        "seeds": seeds,
        "ladder": {str(b): [ladder.get(s, {}).get(b) for s in seeds] for b in budgets},
        "arms": arms,
        "pairs": _pairs(groups, arms),
    }


def _order(arm: str) -> int:
    from hyperword.train.plans import ARMS

    return ARMS.index(arm) if arm in ARMS else len(ARMS)


def _arm_entry(
    rs: list[RunRecord], ladder: dict[int, dict[int, float]], reference: dict[int, RunRecord]
) -> dict[str, Any]:
    rs = sorted(rs, key=lambda r: r.seed)
    texts = sorted({t for r in rs for t in r.final_full})
    entry: dict[str, Any] = {
        "arm": rs[0].arm,
        "fraction": rs[0].fraction,
        "seeds": [r.seed for r in rs],
        "natural_tokens": sorted({r.natural_tokens for r in rs}),
        "pre_tokens": sorted({r.pre_tokens for r in rs}),
        "tokens": {k: sorted({r.tokens.get(k, 0) for r in rs}) for k in sorted({k for r in rs for k in r.tokens})},
        "final_full": {
            t: {m: _stats([float(r.final_full[t][m]) for r in rs if t in r.final_full]) for m in ("loss", "bpb")}
            for t in texts
        },
        "final_full_parts": {
            t: {
                p: {
                    m: _stats(
                        [
                            float(r.final_full[t]["parts"][p][m])
                            for r in rs
                            if p in r.final_full.get(t, {}).get("parts", {})
                        ]
                    )
                    for m in ("loss", "bpb")
                }
                for p in sorted({p for r in rs for p in r.final_full.get(t, {}).get("parts", {})})
            }
            for t in texts
        },
        "final": {
            k: _stats([r.final[k] for r in rs if k in r.final]) for k in sorted({k for r in rs for k in r.final})
        },
        "seconds": _stats([r.seconds for r in rs]),
    }
    effective: list[float | None] = []
    extrapolated: list[bool | None] = []
    rates: list[float | None] = []
    minus: list[float | None] = []
    for r in rs:
        per = ladder.get(r.seed, {})
        loss = _full_loss(r)
        if loss is None or len(per) < 2:  # no full score, or no ladder to read it off
            for values in (effective, extrapolated, rates, minus):
                values.append(None)
            continue
        eff = effective_tokens(loss, list(per), list(per.values()))
        effective.append(eff.tokens)
        extrapolated.append(eff.extrapolated)
        rates.append(
            None if eff.tokens is None or r.pre_tokens == 0 else (eff.tokens - r.natural_tokens) / r.pre_tokens
        )
        minus.append(loss - _ladder_loss_at(per, r.natural_tokens))
    entry["effective_natural_tokens"] = {**_interval(effective), "extrapolated": extrapolated}
    entry["exchange_rate"] = {**_interval(rates), "extrapolated": extrapolated}
    entry["minus_natural_only"] = _interval(minus)
    reached = []
    for r in rs:
        ref = reference.get(r.seed)
        target = None if ref is None else ref.final.get("natural")
        reached.append(None if target is None else tokens_to_reach(r.curve, "natural", target))
    budget = reference[rs[0].seed].natural_tokens if rs[0].seed in reference else None
    saving = [None if t is None or not budget else 100.0 * (1.0 - t / budget) for t in reached]
    entry["tokens_to_reference"] = {
        **_interval(reached),
        "reached": sum(t is not None for t in reached),
        "saving_percent": _interval(saving),
    }
    offs = [(_full_loss(r), (r.final_full_adapter_off.get("natural") or {}).get("loss")) for r in rs]
    if any(off is not None for _, off in offs):
        entry["adapter_off_minus_on"] = _interval(
            [None if on is None or off is None else float(off) - on for on, off in offs]
        )
    return entry


def _ladder_loss_at(per: dict[int, float], tokens: int) -> float:
    """The seed's ladder loss at ``tokens`` natural tokens (linear in log tokens between ladder
    budgets, the nearest end outside them)."""
    budgets = sorted(per)
    x = [math.log(b) for b in budgets]
    y = [per[b] for b in budgets]
    t = math.log(max(tokens, 1))
    if t <= x[0]:
        return y[0]
    for (x0, y0), (x1, y1) in zip(zip(x, y), zip(x[1:], y[1:])):
        if t <= x1:
            return y0 + (y1 - y0) * (t - x0) / (x1 - x0)
    return y[-1]


def _metric(r: RunRecord, entry: dict[str, Any], metric: str) -> float | None:
    if metric == "exchange_rate":
        rate = entry["exchange_rate"]["per_seed"][entry["seeds"].index(r.seed)]
        return None if rate is None else float(rate)
    text = metric.removesuffix("_loss")
    return _full_loss(r, text)


def _pairs(groups: dict[tuple[str, float], list[RunRecord]], arms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entries = {(e["arm"], e["fraction"]): e for e in arms}
    texts = sorted({t for e in arms for t in e["final_full"]})
    metrics = ["natural_loss", "exchange_rate", *(f"{t}_loss" for t in texts if t != "natural")]
    wanted = list(COMPARISONS) + [(a, REFERENCE_ARM) for a, _ in entries if a != REFERENCE_ARM]
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, float]] = set()
    for a, b in wanted:
        for (arm, fraction), ga in sorted(groups.items()):
            if arm != a or (a, b, fraction) in seen:
                continue
            # b at the same fraction, or b's one entry when it has no pre-stage (fraction 0)
            key_b = (b, fraction) if (b, fraction) in groups else (b, 0.0) if (b, 0.0) in groups else None
            if key_b is None:
                continue
            seen.add((a, b, fraction))
            gb = {r.seed: r for r in groups[key_b]}
            for metric in metrics:
                if metric == "exchange_rate" and (b == REFERENCE_ARM or key_b[1] == 0.0):
                    continue  # an arm without a pre-stage has no exchange rate
                diffs: list[float | None] = []
                seeds = []
                for ra in sorted(ga, key=lambda r: r.seed):
                    rb = gb.get(ra.seed)
                    if rb is None:
                        continue
                    va, vb = _metric(ra, entries[(a, fraction)], metric), _metric(rb, entries[key_b], metric)
                    seeds.append(ra.seed)
                    diffs.append(None if va is None or vb is None else va - vb)
                if not any(d is not None for d in diffs):
                    continue
                iv = _interval(diffs)
                out.append(
                    {
                        "a": a,
                        "b": b,
                        "fraction": fraction,
                        "metric": metric,
                        "diff_mean": iv["mean"],
                        "ci95": iv["ci95"],
                        "per_seed": diffs,
                        "seeds": seeds,
                    }
                )
    return out


def established(ci: list[float] | None) -> str:
    """How a 95% interval reads: ``a < b``/``a > b`` when it excludes zero, else not established."""
    if ci is None:
        return "not established (one seed)"
    lo, hi = ci
    if lo > 0:
        return "established: a > b"
    if hi < 0:
        return "established: a < b"
    return "not established (the interval covers 0)"


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _ci(iv: dict[str, Any], digits: int = 3) -> str:
    if iv.get("mean") is None:
        return "–"
    ci = iv.get("ci95")
    return (
        f"{iv['mean']:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
        if ci
        else f"{iv['mean']:.{digits}f} (one seed)"
    )


def _seeds(values: Sequence[float | None], digits: int = 3) -> str:
    return ", ".join(_num(v, digits) for v in values)


def to_markdown(summary: dict[str, Any], title: str = "Experiment results") -> str:
    """The summary as Markdown tables."""
    n = summary.get("natural_budget")
    lines = [
        f"# {title}",
        "",
        f"Protocol: **{summary['protocol']}**" + (f", natural budget N = {n:,} tokens." if n else "."),
        "",
    ]
    if summary["ladder"]:
        lines += [
            "## The natural-only ladder (final full natural validation loss, per seed)",
            "",
            "| natural tokens | " + " | ".join(f"seed {s}" for s in summary["seeds"]) + " | mean |",
            "|---|" + "---|" * (len(summary["seeds"]) + 1),
        ]
        for budget, losses in summary["ladder"].items():
            have = [v for v in losses if v is not None]
            lines.append(
                f"| {int(budget):,} | "
                + " | ".join(_num(v) for v in losses)
                + f" | {_num(statistics.fmean(have) if have else None)} |"
            )
        lines.append("")
    texts = sorted({t for e in summary["arms"] for t in e["final_full"]})
    lines += [
        "## Arms",
        "",
        "| arm | fraction | pre tokens | exchange rate, mean [95% CI] | per seed | effective natural tokens | tokens to reference (reached; saving %) | "
        + " | ".join(f"{t} loss (bpb)" for t in texts)
        + " | − natural-only, same natural tokens [95% CI] |",
        "|---|---|---|---|---|---|---|" + "---|" * len(texts) + "---|",
    ]
    for e in summary["arms"]:
        rate, eff, reach = e["exchange_rate"], e["effective_natural_tokens"], e["tokens_to_reference"]
        extra = " (extrapolated)" if any(eff.get("extrapolated") or []) else ""
        eff_text = "–" if eff["mean"] is None else f"{eff['mean']:,.0f}"
        reach_text = (
            f"{reach['mean']:,.0f} ({reach['reached']}/{len(e['seeds'])}; {_num(reach['saving_percent']['mean'], 1)}%)"
            if reach["mean"] is not None
            else f"not reached (0/{len(e['seeds'])})"
        )
        full = " | ".join(
            f"{_num(e['final_full'][t]['loss']['mean'])} ± {_num(e['final_full'][t]['loss']['std'])} ({_num(e['final_full'][t]['bpb']['mean'])})"
            if t in e["final_full"]
            else "–"
            for t in texts
        )
        lines.append(
            f"| `{e['arm']}` | {e['fraction']:g} | {'/'.join(f'{v:,}' for v in e['pre_tokens'])} | {_ci(rate)} | {_seeds(rate['per_seed'])} | "
            f"{eff_text}{extra} | {reach_text} | {full} | {_ci(e['minus_natural_only'])} |"
        )
    if summary["pairs"]:
        lines += [
            "",
            "## Paired differences (a − b, per seed, 95% t-interval)",
            "",
            "| a | b | fraction | metric | mean [95% CI] | per seed | reading |",
            "|---|---|---|---|---|---|---|",
        ]
        for p in summary["pairs"]:
            lines.append(
                f"| `{p['a']}` | `{p['b']}` | {p['fraction']:g} | {p['metric']} | {_ci({'mean': p['diff_mean'], 'ci95': p['ci95']})} | "
                f"{_seeds(p['per_seed'])} | {established(p['ci95'])} |"
            )
    lines += [
        "",
        "Losses: mean next-token cross-entropy (nats/token) over every token of the held-out text (± sd over seeds); bpb: bits per UTF-8 byte. "
        "Exchange rate: (effective natural tokens − natural tokens trained) / pre-stage tokens, the effective tokens read off the same seed's "
        "natural-only ladder (isotonic, linear in log tokens; 'extrapolated' when outside it). Tokens to reference: tokens trained (all stages) "
        "until the periodic natural loss reaches the same seed's natural-only final loss at N. − natural-only: the final natural loss minus the "
        "same seed's schedule-matched natural-only loss at the same natural tokens. A difference is established only when its interval excludes 0.",
    ]
    return "\n".join(lines) + "\n"
