"""hyperword.experiment: the runner end to end on the ``smoke`` preset (every arm and seed in
the results, compute-matched arms, validation held out, reuse on a rerun), the summary's
arithmetic, and bad input failing before anything is made."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("peft")

from hyperword import ConfigError
from hyperword.cli import main
from hyperword.experiment import Experiment, run_experiment
from hyperword.experiment.results import CurvePoint, RunRecord, loss_at, summarize, to_markdown, tokens_to_reach

FIXTURE = Path(__file__).parent / "fixtures" / "natural"
NATURAL = (str(FIXTURE / "en.txt"), str(FIXTURE / "ru.txt"))
ARMS = ("mnemo-first", "natural-only", "mnemo-adapter")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Experiment, dict[str, object]]:
    exp = Experiment(ARMS, seeds=2, preset="smoke", out=tmp_path_factory.mktemp("exp"), natural=NATURAL)
    summary = run_experiment(exp, progress=False, log=lambda _: None)
    return exp, summary


def test_results_hold_every_arm_and_seed(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, _ = experiment
    results = json.loads((exp.out / "results.json").read_text(encoding="utf-8"))
    assert sorted((r["arm"], r["seed"]) for r in results["runs"]) == sorted((a, s) for a in ARMS for s in range(2))
    assert set(results["summary"]["arms"]) == set(ARMS)
    md = (exp.out / "results.md").read_text(encoding="utf-8")
    assert all(f"`{a}`" in md for a in ARMS)
    assert (exp.out / "loss_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for r in results["runs"]:
        assert r["curve"][0]["tokens"] == 0 and r["curve"][-1]["tokens"] == sum(r["tokens"].values())
        assert {"natural", "mnemo"} <= set(r["final"]) and all(math.isfinite(v) for v in r["final"].values())
        assert {"tokenizer_sha256", "lexicon_sha256", "mnemo_corpus", "natural_corpus", "run_fingerprint"} <= set(r["hashes"])


def test_arms_are_compute_matched_and_count_tokens_by_kind(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, _ = experiment
    runs = json.loads((exp.out / "results.json").read_text(encoding="utf-8"))["runs"]
    assert len({sum(r["tokens"].values()) for r in runs}) == 1
    by_arm = {r["arm"]: r["tokens"] for r in runs}
    assert by_arm["natural-only"].get("mnemo", 0) == 0 and by_arm["mnemo-first"]["mnemo"] == by_arm["mnemo-first"]["natural"]


def test_the_adapter_arm_reports_natural_loss_with_the_adapter_on_and_off(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, summary = experiment
    runs = json.loads((exp.out / "results.json").read_text(encoding="utf-8"))["runs"]
    for r in (r for r in runs if r["arm"] == "mnemo-adapter"):
        assert r["final"]["natural_adapter_off"] != r["final"]["natural"]
    assert "adapter_off_minus_on" in summary["arms"]["mnemo-adapter"]  # type: ignore[index]


def test_validation_text_is_never_trained_on(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, _ = experiment
    import hyperword

    train = set(hyperword.open_corpus(exp.out / "data" / "natural" / "train").to_table().column("text").to_pylist())
    held_out = hyperword.open_corpus(exp.out / "data" / "natural" / "validation").to_table().column("text").to_pylist()
    assert held_out and not train.intersection(held_out)


def test_a_rerun_reuses_data_and_finished_runs(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, summary = experiment
    before = (exp.out / "results.json").read_text(encoding="utf-8")
    logs: list[str] = []
    again = run_experiment(exp, progress=False, log=logs.append)
    assert again == summary
    after = json.loads((exp.out / "results.json").read_text(encoding="utf-8"))
    assert after["runs"] == json.loads(before)["runs"]


def test_bad_input_fails_before_anything_is_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exp"
    for argv, message in (
        (["--arms", "mnemo-first,nonsense"], "unknown arm"),
        (["--preset", "huge"], "unknown preset"),
        (["--seeds", "0"], "seeds must be a positive integer"),
        (["--natural", str(tmp_path / "missing.txt")], "no such file"),
    ):
        assert main(["experiment", "--out", str(out), "--natural", *NATURAL, *argv]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not (out / "data" / "mnemo").exists()
    with pytest.raises(ConfigError, match="mnemo fraction"):
        run_experiment(Experiment(ARMS, 1, "smoke", out, NATURAL, mnemo_fraction=1.5), progress=False)


def _run(arm: str, seed: int, points: list[tuple[int, float]], **final: float) -> RunRecord:
    curve = [CurvePoint(t, None, {"natural": loss}) for t, loss in points]
    return RunRecord(arm, seed, curve, {"natural": points[-1][1], **final}, {"natural": points[-1][0]})


def test_tokens_to_reach_interpolates_and_says_never() -> None:
    curve = [CurvePoint(0, None, {"natural": 8.0}), CurvePoint(100, None, {"natural": 6.0}), CurvePoint(200, None, {"natural": 4.0})]
    assert tokens_to_reach(curve, "natural", 5.0) == pytest.approx(150.0)
    assert tokens_to_reach(curve, "natural", 6.0) == pytest.approx(100.0)
    assert tokens_to_reach(curve, "natural", 3.9) is None


def test_summary_statistics_over_seeds() -> None:
    runs = [
        _run("natural-only", 0, [(0, 8.0), (100, 5.0)]),
        _run("natural-only", 1, [(0, 8.0), (100, 7.0)]),
        _run("mnemo-first", 0, [(0, 8.0), (50, 7.0), (100, 4.0)], natural_adapter_off=4.5),
        _run("mnemo-first", 1, [(0, 8.0), (100, 6.5)], natural_adapter_off=7.0),
    ]
    s = summarize(runs)
    assert s["reference_natural_loss"] == pytest.approx(6.0)
    nat = s["arms"]["natural-only"]["final"]["natural"]
    assert (nat["mean"], nat["std"], nat["min"], nat["max"]) == pytest.approx((6.0, math.sqrt(2.0), 5.0, 7.0))
    reach = s["arms"]["mnemo-first"]["tokens_to_reference_loss"]
    assert reach["per_seed"][0] == pytest.approx(50 + 50 / 3) and reach["per_seed"][1] is None and reach["reached"] == 1
    assert s["arms"]["mnemo-first"]["adapter_off_minus_on"]["mean"] == pytest.approx(0.5)
    assert s["arms"]["natural-only"]["natural_perplexity"]["mean"] == pytest.approx((math.exp(5) + math.exp(7)) / 2)
    # mnemo-first trained on 100 natural tokens; natural-only's mean curve there is (5+7)/2 = 6.
    same = s["arms"]["mnemo-first"]["minus_reference_at_same_natural_tokens"]
    assert same["mean"] == pytest.approx(((4.0 - 6.0) + (6.5 - 6.0)) / 2)
    assert loss_at(runs[0].curve, "natural", 50) == pytest.approx(6.5) and loss_at(runs[0].curve, "natural", 101) is None
    md = to_markdown(s)
    assert "`mnemo-first`" in md and "67 (1/2)" in md and "6.0000" in md
