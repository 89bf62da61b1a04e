"""hyperword.experiment: the additive protocol end to end on the ``smoke`` preset (two fractions,
the ladder, a control, a held-out-language evaluation text), the results.json contract, reuse
on a rerun, the statistics on hand-computed values, and bad input failing before anything is
made."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _helpers import FIXTURES

pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("scipy")

from hyperword import ConfigError
from hyperword.cli import main
from hyperword.experiment import Experiment, run_experiment
from hyperword.experiment.results import CurvePoint, RunRecord, loss_at, summarize, to_markdown, tokens_to_reach
from hyperword.experiment.stats import effective_tokens, t_interval

FIXTURE = FIXTURES / "natural"
NATURAL = (str(FIXTURE / "en.txt"), str(FIXTURE / "ru.txt"))
ARMS = ("mnemo-first", "shuffled-first@0.25", "natural-only", "mnemo-adapter@0.5")
FRACTIONS = (0.25, 0.5)
LADDER = (0.5, 1.0, 1.5)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Experiment, dict[str, object]]:
    exp = Experiment(
        ARMS,
        seeds=2,
        preset="smoke",
        out=tmp_path_factory.mktemp("exp"),
        natural=NATURAL,
        langs=("en", "ru", "es"),
        fractions=FRACTIONS,
        ladder=LADDER,
        eval_texts=(("es", str(FIXTURE / "es.txt")),),
    )
    summary = run_experiment(exp, progress=False, log=lambda _: None)
    return exp, summary


def _results(exp: Experiment) -> dict[str, object]:
    return json.loads((exp.out / "results.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_every_run_of_the_sweep_is_there_with_its_folder(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, _ = experiment
    runs = _results(exp)["runs"]
    got = sorted((r["arm"], r["fraction"], r["ladder"], r["seed"]) for r in runs)  # type: ignore[union-attr, index]
    want = sorted(
        [("natural-only", 0.0, x, s) for x in LADDER for s in range(2)]
        + [("mnemo-first", f, None, s) for f in FRACTIONS for s in range(2)]
        + [("shuffled-first", 0.25, None, s) for s in range(2)]
        + [("mnemo-adapter", 0.5, None, s) for s in range(2)]
    )
    assert got == want
    assert (exp.out / "runs" / "mnemo-first" / "f-0.25" / "seed-1" / "run.json").is_file()
    assert (exp.out / "runs" / "natural-only" / "ladder-1.5" / "seed-0" / "run.json").is_file()
    assert (exp.out / "loss_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_additive_protocol_keeps_the_natural_stage_and_adds_the_pre_stage(
    experiment: tuple[Experiment, dict[str, object]],
) -> None:
    exp, _ = experiment
    n = exp.budget()
    assert n == 8192  # half the smoke budget
    for r in _results(exp)["runs"]:  # type: ignore[union-attr]
        natural = n if r["ladder"] is None else round(r["ladder"] * n)
        assert r["tokens"]["natural"] == natural
        pre = sum(v for k, v in r["tokens"].items() if k != "natural")
        assert pre == round(r["fraction"] * n)  # 0.25 N = 4 steps, 0.5 N = 8 steps of 512 tokens
        assert r["curve"][-1]["tokens"] == natural + pre
    # the same natural batches in every arm: the natural-only run and the natural stage after a
    # pre-stage start from the same data stream (the stage names the stream, not its index)
    plans = {s.arm: s.plan for s in exp.runs() if s.seed == 0 and s.ladder in (None, 1.0)}
    natural_stages = {arm: [st for st in plan.stages if st.name == "natural"][0] for arm, plan in plans.items()}
    assert {(st.tokens, st.stream, st.schedule) for st in natural_stages.values()} == {(n, "natural", None)}


def test_results_json_has_the_contract_fields(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, summary = experiment
    results = _results(exp)
    s = results["summary"]
    assert s == summary and s["protocol"] == "additive" and s["natural_budget"] == 8192  # type: ignore[index]
    assert set(s["ladder"]) == {"4096", "8192", "12288"} and all(len(v) == 2 for v in s["ladder"].values())  # type: ignore[index]
    arms = {(a["arm"], a["fraction"]): a for a in s["arms"]}  # type: ignore[index]
    assert set(arms) == {
        ("natural-only", 0.0),
        ("mnemo-first", 0.25),
        ("mnemo-first", 0.5),
        ("shuffled-first", 0.25),
        ("mnemo-adapter", 0.5),
    }
    for (arm, _), a in arms.items():
        assert set(a["final_full"]) == {"natural", "mnemo", "es"}
        assert set(a["final_full"]["natural"]) == {"loss", "bpb"} and a["final_full"]["natural"]["loss"]["n"] == 2
        assert set(a["final_full_parts"]["natural"]) == {"en", "ru"}
        assert len(a["effective_natural_tokens"]["per_seed"]) == 2 and "mean" in a["effective_natural_tokens"]
        rate = a["exchange_rate"]
        assert set(rate) >= {"mean", "ci95", "per_seed"}
        if arm == "natural-only":
            assert rate["mean"] is None
        else:
            assert (
                all(x is None or math.isfinite(x) for x in rate["per_seed"])
                and rate["ci95"] is None
                or len(rate["ci95"]) == 2
            )
        assert "tokens_to_reference" in a
    pairs = {(p["a"], p["b"], p["fraction"], p["metric"]) for p in s["pairs"]}  # type: ignore[index]
    assert ("mnemo-first", "shuffled-first", 0.25, "natural_loss") in pairs
    assert ("mnemo-first", "shuffled-first", 0.25, "exchange_rate") in pairs
    assert ("mnemo-first", "natural-only", 0.5, "es_loss") in pairs
    for p in s["pairs"]:  # type: ignore[union-attr]
        assert set(p) >= {"a", "b", "fraction", "metric", "diff_mean", "ci95", "per_seed"} and len(p["per_seed"]) == 2
    assert results["prepare_seconds"] > 0 and results["train_seconds"] > 0  # type: ignore[operator]
    assert results["experiment"]["preset_effective"]["schedule"] == "cosine"  # type: ignore[index]
    overlap = results["data"]["overlap"]  # type: ignore[index]
    assert set(overlap["word_initial_share"]) == {"natural", "mnemo", "unfused"}
    assert (
        overlap["word_initial_share"]["natural"] > overlap["word_initial_share"]["mnemo"]
    )  # fused words start one piece in a phrase
    md = (exp.out / "results.md").read_text(encoding="utf-8")
    assert "natural-only ladder" in md and "`shuffled-first`" in md and "Paired differences" in md


def test_the_ladder_reads_its_own_runs_back(experiment: tuple[Experiment, dict[str, object]]) -> None:
    """natural-only at N is a ladder point: its effective tokens are N (up to isotonic pooling)
    and its difference from itself is exactly 0."""
    exp, summary = experiment
    ref = [a for a in summary["arms"] if a["arm"] == "natural-only"][0]  # type: ignore[index, union-attr]
    assert ref["minus_natural_only"]["per_seed"] == [0.0, 0.0]
    ladder = summary["ladder"]  # type: ignore[index]
    for seed, eff in enumerate(ref["effective_natural_tokens"]["per_seed"]):
        losses = [ladder[b][seed] for b in ("4096", "8192", "12288")]
        if losses[0] > losses[1] > losses[2]:  # monotone: read back exactly
            assert eff == pytest.approx(8192)


def test_full_scores_cover_every_held_out_token(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, _ = experiment
    from hyperword.encode import read_token_manifest

    results = _results(exp)
    texts = results["data"]["texts"]  # type: ignore[index]
    run = results["runs"][0]  # type: ignore[index]
    for name, parts in texts.items():
        expected = sum(read_token_manifest(p["tokens"]).tokens for p in parts.values())
        assert run["final_full"][name]["tokens"] == expected
        assert run["final_full"][name]["bytes"] == sum(p["text_bytes"] + p["documents"] for p in parts.values())
    whole = run["final_full"]["natural"]
    by_part = whole["parts"]
    assert whole["loss"] == pytest.approx(sum(p["loss"] * p["tokens"] for p in by_part.values()) / whole["tokens"])


def test_the_adapter_arm_scores_with_the_adapter_on_and_off(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, summary = experiment
    runs = [r for r in _results(exp)["runs"] if r["arm"] == "mnemo-adapter"]  # type: ignore[union-attr, index]
    for r in runs:
        assert r["final_full_adapter_off"]["natural"]["loss"] != r["final_full"]["natural"]["loss"]
    entry = [a for a in summary["arms"] if a["arm"] == "mnemo-adapter"][0]  # type: ignore[index, union-attr]
    assert entry["adapter_off_minus_on"]["n"] == 2


def test_a_rerun_reuses_data_finished_runs_and_scores(experiment: tuple[Experiment, dict[str, object]]) -> None:
    exp, summary = experiment
    before = _results(exp)["runs"]
    again = run_experiment(exp, progress=False, log=lambda _: None)
    assert again == summary
    assert _results(exp)["runs"] == before


# --- statistics on hand-computed values ------------------------------------------------------
def test_t_interval_matches_the_textbook() -> None:
    # mean 2, sd 1, n 3: half-width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.484138
    mean, ci = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and ci == pytest.approx([2.0 - 2.484138, 2.0 + 2.484138], abs=1e-6)
    assert t_interval([5.0]) == (5.0, None)


def test_effective_tokens_interpolate_in_log_tokens_isotonic_and_flag_extrapolation() -> None:
    budgets, losses = [100, 200, 400], [3.0, 2.0, 1.0]
    e = effective_tokens(1.5, budgets, losses)
    assert e.tokens == pytest.approx(math.sqrt(200 * 400)) and not e.extrapolated  # halfway in log tokens
    e = effective_tokens(0.5, budgets, losses)  # past the end: along the last segment, one more half-octave
    assert e.tokens == pytest.approx(400 * math.sqrt(2)) and e.extrapolated
    e = effective_tokens(3.5, budgets, losses)
    assert e.tokens == pytest.approx(100 / math.sqrt(2)) and e.extrapolated
    # a ladder made non-increasing first: (3.0, 1.8, 2.0) pools to (3.0, 1.9, 1.9)
    assert effective_tokens(1.9, budgets, [3.0, 1.8, 2.0]).tokens == pytest.approx(200)
    assert effective_tokens(2.45, budgets, [3.0, 1.8, 2.0]).tokens == pytest.approx(math.sqrt(100 * 200))
    assert effective_tokens(1.0, budgets, [3.0, 1.8, 2.0]).tokens is None  # below a flat end: no finite equivalent


def _record(
    arm: str, seed: int, natural: int, pre: int, loss: float, *, fraction: float = 0.0, ladder: float | None = None
) -> RunRecord:
    tokens = {"natural": natural, **({"mnemo": pre} if pre else {})}
    curve = [CurvePoint(0, None, {"natural": 9.0}), CurvePoint(natural + pre, None, {"natural": loss})]
    return RunRecord(
        arm,
        seed,
        curve,
        {"natural": loss},
        tokens,
        fraction=fraction,
        ladder=ladder,
        final_full={"natural": {"loss": loss, "bpb": loss / 2}},
    )


def test_summary_exchange_rates_and_pairs_on_hand_computed_values() -> None:
    runs = []
    for seed, shift in ((0, 0.0), (1, 0.1)):
        for mult, loss in ((0.5, 3.0), (1.0, 2.0), (2.0, 1.0)):
            runs.append(_record("natural-only", seed, int(1000 * mult), 0, loss + shift, ladder=mult))
    # mnemo-first at fraction 0.25 (k = 250): 1.5 (+shift) -> effective sqrt(1000*2000) = 1414.2
    runs += [_record("mnemo-first", s, 1000, 250, 1.5 + sh, fraction=0.25) for s, sh in ((0, 0.0), (1, 0.1))]
    # unfused-first: 2.0 (+shift) -> effective 1000, rate 0
    runs += [_record("unfused-first", s, 1000, 250, 2.0 + sh, fraction=0.25) for s, sh in ((0, 0.0), (1, 0.1))]
    summary = summarize(runs, protocol="additive", natural_budget=1000)
    assert summary["ladder"] == {"500": [3.0, 3.1], "1000": [2.0, 2.1], "2000": [1.0, 1.1]}
    arms = {(a["arm"], a["fraction"]): a for a in summary["arms"]}
    rate = (math.sqrt(1000 * 2000) - 1000) / 250
    assert arms[("mnemo-first", 0.25)]["exchange_rate"]["per_seed"] == pytest.approx([rate, rate])
    assert arms[("mnemo-first", 0.25)]["exchange_rate"]["ci95"] == pytest.approx([rate, rate])  # no spread, zero width
    assert arms[("unfused-first", 0.25)]["exchange_rate"]["per_seed"] == pytest.approx([0.0, 0.0])
    assert arms[("mnemo-first", 0.25)]["minus_natural_only"]["per_seed"] == pytest.approx([-0.5, -0.5])
    pair = [
        p for p in summary["pairs"] if (p["a"], p["b"], p["metric"]) == ("mnemo-first", "unfused-first", "natural_loss")
    ][0]
    assert pair["per_seed"] == pytest.approx([-0.5, -0.5]) and pair["diff_mean"] == pytest.approx(-0.5)
    # tokens to reference: natural-only at N ends at 2.0 (+shift); mnemo-first's curve falls from 9.0
    # at 0 to 1.5 at 1250 tokens, so it crosses 2.0 at 1250 * 7/7.5
    reach = arms[("mnemo-first", 0.25)]["tokens_to_reference"]
    assert reach["per_seed"][0] == pytest.approx(1250 * 7.0 / 7.5) and reach["reached"] == 2
    assert "not established" in to_markdown(summary) or "established" in to_markdown(summary)


def test_tokens_to_reach_and_loss_at_interpolate() -> None:
    curve = [
        CurvePoint(0, None, {"natural": 8.0}),
        CurvePoint(100, 5.0, {"natural": 6.0}),
        CurvePoint(200, 4.0, {"natural": 4.0}),
    ]
    assert tokens_to_reach(curve, "natural", 5.0) == pytest.approx(150.0)
    assert tokens_to_reach(curve, "natural", 3.0) is None
    assert loss_at(curve, "natural", 50) == pytest.approx(7.0)
    assert loss_at(curve, "natural", 300) is None


# --- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (["--arms", "mnemo-last"], "unknown arm"),
        (["--seeds", "0"], "seeds must be a positive integer"),
        (["--pre-fractions", "0"], "outside (0, 4]"),
        (["--pre-fractions", "4.5"], "outside (0, 4]"),
        (["--protocol", "matched", "--pre-fractions", "1"], "outside (0, 1)"),
        (["--protocol", "sideways"], "unknown protocol"),
        (["--ladder", "0.5,1.5"], "must include the natural budget itself"),
        (["--schedule", "triangle"], "unknown learning-rate schedule 'triangle'"),
        (["--eval-text", f"zh={FIXTURE / 'es.txt'}"], "a language the tokenizer never sees"),
        (["--eval-text", "es"], "NAME=FILE"),
        (["--eval-text", "es=missing.txt"], "no such file"),
        (["--natural", "missing.txt"], "no such file"),
        (["--tokenizer-data", "web"], "tokenizer data must be one of"),
        (["--natural-budget", "1000"], "not a positive multiple"),
    ],
)
def test_bad_input_is_one_line_and_makes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "exp"
    base = ["experiment", "--preset", "smoke", "--out", str(out), "--natural", *NATURAL, "--no-progress"]
    if "--natural" in args:
        base = ["experiment", "--preset", "smoke", "--out", str(out), "--no-progress"]
    with pytest.raises(SystemExit) as stopped:
        main([*base, *args])
    code = stopped.value.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_an_unrepresentable_evaluation_text_is_refused_before_training(tmp_path: Path) -> None:
    text = tmp_path / "zz.txt"
    text.write_text(
        "\n".join("雨雪风霜" * 5 + str(i) for i in range(50)) + "\n", encoding="utf-8"
    )  # a script the tokenizer never saw
    exp = Experiment(
        ("natural-only",),
        seeds=1,
        preset="smoke",
        out=tmp_path / "exp",
        natural=NATURAL,
        ladder=(1.0, 1.5),
        eval_texts=(("zz", str(text)),),
    )
    with pytest.raises(ConfigError, match="tokens are unknown or byte pieces"):
        run_experiment(exp, progress=False, log=lambda _: None)
    assert not (tmp_path / "exp" / "runs").exists()


# --- the published anchor: Dyck and n-gram pre-stages ---------------------------------------
def test_dyck_and_ngram_arms_run_end_to_end_with_one_token_per_bracket(tmp_path: Path) -> None:
    import numpy as np
    import sentencepiece as spm

    import hyperword
    from hyperword.encode import read_token_manifest

    exp = Experiment(
        ("dyck-first@0.25", "ngram-first@0.25", "natural-only"),
        seeds=1,
        preset="smoke",
        out=tmp_path / "exp",
        natural=NATURAL,
        ladder=(1.0, 1.5),
        dyck_k=8,
        ngram_n=2,
    )
    summary = run_experiment(exp, progress=False, log=lambda _: None)
    arms = {(a["arm"], a["fraction"]) for a in summary["arms"]}
    assert arms == {("natural-only", 0.0), ("dyck-first", 0.25), ("ngram-first", 0.25)}
    runs = {r["arm"]: r for r in _results(exp)["runs"] if r["ladder"] is None}  # type: ignore[union-attr, index]
    assert runs["dyck-first"]["tokens"] == {"dyck": 2048, "natural": 8192} and runs["ngram-first"]["tokens"] == {
        "ngram": 2048,
        "natural": 8192,
    }
    data = exp.out / "data"
    assert (
        hyperword.read_manifest(data / "dyck").kind == "dyck"
        and hyperword.read_manifest(data / "ngram").kind == "ngram"
    )
    # every bracket of the Dyck corpus is exactly one token, and decoding gives the sequence back
    sp = spm.SentencePieceProcessor(model_file=str(data / "tokenizer" / "tokenizer.model"))
    m = read_token_manifest(data / "tokens" / "dyck")
    tokens = np.load(data / "tokens" / "dyck" / m.shards[0].tokens_path)
    ends = np.load(data / "tokens" / "dyck" / m.shards[0].docs_path)
    text = hyperword.open_corpus(data / "dyck").to_table().column("text").to_pylist()[0]
    first = [int(t) for t in tokens[: int(ends[0]) - 1]]  # without its eos
    brackets = [t for t in first if sp.id_to_piece(t) not in ("\u2581",)]
    assert len(brackets) == len(text) and sp.decode(first) == text


def test_dyck_and_ngram_settings_are_checked(tmp_path: Path) -> None:
    for kw, message in (({"dyck_k": 0}, "--dyck-k"), ({"ngram_n": 4}, "--ngram-n")):
        exp = Experiment(("dyck-first",), seeds=1, preset="smoke", out=tmp_path / "x", natural=NATURAL, **kw)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=message):
            exp.check()
