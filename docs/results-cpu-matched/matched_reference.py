"""The compute-matched experiment of the first write-up (``results.json`` here: preset ``cpu``,
``--protocol matched``, 524,288 tokens per run, the pre-stage taking half, seeds 0-2), read
again against the schedule-matched reference.

The first write-up compared each two-stage arm's final natural loss with ``natural-only``
*halfway through its own cosine schedule* (learning rate still about 0.63 of peak). The right
reference for an arm that trained 262,144 natural tokens is a ``natural-only`` run of 262,144
tokens with its own warm-up and decay — which is exactly the first stage of ``natural-first``
(same seed, same model initialisation, natural text only, its own schedule), evaluated at its
end. Run from the repository root::

    python docs/results-cpu-matched/matched_reference.py

It prints, per arm, the per-seed differences ``arm − reference``, their mean and 95%
t-interval (the same arithmetic as ``hyperword.experiment.stats``). These losses are the
periodic evaluation of the time (8,192 fixed held-out tokens), not the full held-out text.
"""

from __future__ import annotations

import json
from pathlib import Path

from hyperword.experiment.stats import t_interval

HERE = Path(__file__).resolve().parent


def main() -> None:
    runs = json.loads((HERE / "results.json").read_text(encoding="utf-8"))["runs"]
    reference = {}
    for r in runs:
        if r["arm"] == "natural-first":
            end = [p for p in r["curve"] if p["tokens"] == r["tokens"]["natural"]]
            reference[r["seed"]] = end[0]["eval"]["natural"]
    seeds = sorted(reference)
    print(f"schedule-matched natural-only at 262,144 tokens: {', '.join(f'{reference[s]:.3f}' for s in seeds)}")
    print("| arm | final natural loss per seed | − reference per seed | mean [95% CI] |")
    print("|---|---|---|---|")
    for arm in dict.fromkeys(r["arm"] for r in runs):
        if arm in ("natural-first", "natural-only"):  # the reference itself; natural-only trained twice the natural text
            continue
        finals = {r["seed"]: r["final"]["natural"] for r in runs if r["arm"] == arm}
        diffs = [finals[s] - reference[s] for s in seeds]
        mean, ci = t_interval(diffs)
        ci_text = f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        print(
            f"| `{arm}` | {', '.join(f'{finals[s]:.3f}' for s in seeds)} | {', '.join(f'{d:+.3f}' for d in diffs)} | "
            f"{mean:+.3f} {ci_text} |"
        )
    fused = {r["seed"]: r["final"]["natural"] for r in runs if r["arm"] == "mnemo-first"}
    unfused = {r["seed"]: r["final"]["natural"] for r in runs if r["arm"] == "unfused-first"}
    diffs = [fused[s] - unfused[s] for s in seeds]
    mean, ci = t_interval(diffs)
    print(f"fused − unfused: {', '.join(f'{d:+.3f}' for d in diffs)}; mean {mean:+.3f}, 95% CI {ci}")


if __name__ == "__main__":
    main()
