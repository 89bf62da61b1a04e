"""hyperword.train on many processes: ``torchrun --nproc_per_node=2 -m hyperword.train`` with two
CPU processes on the gloo backend, on real token directories (the ``smoke`` preset, whose 512
tokens a step per rank make 1,024 a global step: 16 steps for the 16,384-token budget).

The ranks' own account of what they did comes from the debugging trace
(``HYPERWORD_TRAIN_TRACE``): every micro-batch's windows, and a hash of the weights when the
run returns.

The torchrun tests are ``slow`` (about 45 s together on 2 cores: four 2-process runs share one
module fixture, plus one that fails on purpose).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

pytest.importorskip("peft")

from _helpers import REPO  # noqa: E402
from test_train_data import Data, data  # noqa: E402,F401  (the session's token directories)

from hyperword import ConfigError  # noqa: E402
from hyperword.torch import TokenCorpus  # noqa: E402
from hyperword.train import PRESETS, RunResult, load_model, prepare_run, read_run, run_plan  # noqa: E402
from hyperword.train.distributed import TRACE_ENV, World  # noqa: E402
from hyperword.train.state import read_trainer_state  # noqa: E402

torch.set_num_threads(1)

PLAN = "mnemo-first-lora"  # a full stage (8 global steps), then a LoRA stage (8 more)
WORLD = 2


def torchrun(
    data: Data, out: Path, *args: str, trace: Path | None = None, corpus: dict[str, Path] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m torch.distributed.run --standalone --nproc_per_node=2 -m hyperword.train ...``."""
    corpora = corpus if corpus is not None else {r: data.corpora[r] for r in ("mnemo", "natural")}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={WORLD}",
        "-m",
        "hyperword.train",
    ]
    cmd += [
        "--plan",
        PLAN,
        "--preset",
        "smoke",
        "--seed",
        "0",
        "--out",
        str(out),
        "--no-progress",
        "--threads",
        "1",
        "--device",
        "cpu",
    ]
    cmd += (
        [f"--corpus={r}={p}" for r, p in corpora.items()]
        + [f"--val={n}={p}" for n, p in data.validation.items()]
        + list(args)
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
    env.pop(TRACE_ENV, None)
    if trace is not None:
        env[TRACE_ENV] = str(trace)
    return subprocess.run(
        cmd, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=300, cwd=REPO, env=env
    )


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-6000:]}"
    return proc


def events(trace: Path, rank: int, kind: str) -> list[dict[str, Any]]:
    lines = (trace / f"rank-{rank}.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == kind]


def windows(batches: list[dict[str, Any]], stage: int) -> list[tuple[str, int]]:
    return [(c, w) for b in batches if b["stage"] == stage for c, w in zip(b["corpus"], b["window"])]


@pytest.fixture(scope="module")
def runs(data: Data, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The plan uninterrupted on two processes, and the same run stopped after step 5 (mid
    full stage), resumed and stopped again after step 11 (mid LoRA stage), and resumed to the end."""
    base = tmp_path_factory.mktemp("ddp")
    out: dict[str, Any] = {"base": base}
    out["stdout"] = ok(torchrun(data, base / "whole", trace=base / "trace-whole")).stdout
    out["stopped"] = []
    for stop in ("5", "11"):
        ok(torchrun(data, base / "resumed", "--stop-after-steps", stop, trace=base / "trace-resumed"))
        out["stopped"].append((read_run(base / "resumed"), read_trainer_state(base / "resumed" / "checkpoint")))
    ok(torchrun(data, base / "resumed", trace=base / "trace-resumed"))
    return out


@pytest.mark.slow
def test_each_rank_trains_on_its_own_windows_and_the_budget_is_global(runs: dict[str, Any]) -> None:
    trace = runs["base"] / "trace-whole"
    batches = [events(trace, r, "batch") for r in range(WORLD)]
    for rank_batches in batches:
        assert [b["step"] for b in rank_batches] == list(range(16))  # 16 global steps of one micro-batch each
    for stage, corpus in ((0, "mnemo"), (1, "natural")):
        own = [windows(b, stage) for b in batches]
        assert all(len(w) == 8 * 8 and len(set(w)) == len(w) for w in own)  # 8 steps x batch 8, no window twice
        assert {c for w in own for c, _ in w} == {corpus}
        assert not set(own[0]) & set(own[1])  # the ranks' windows are disjoint
    whole = read_run(runs["base"] / "whole")
    assert whole is not None and whole.finished and whole.world_size == WORLD
    assert (whole.tokens, whole.steps) == (16_384, 16) and whole.served_tokens == {"mnemo": 8192, "natural": 8192}
    assert [(p.tokens, p.step) for p in whole.curve] == [(0, 0), (4096, 4), (8192, 8), (12288, 12), (16384, 16)]
    assert "16,384 tokens over 2 processes" in runs["stdout"] and runs["stdout"].count("run.json") == 1  # rank 0 prints


@pytest.mark.slow
def test_gradients_are_synchronised_so_every_rank_holds_the_same_model(runs: dict[str, Any]) -> None:
    for name in ("trace-whole", "trace-resumed"):
        hashes = [[(e["step"], e["sha256"]) for e in events(runs["base"] / name, r, "params")] for r in range(WORLD)]
        assert hashes[0] == hashes[1] and len(hashes[0]) == (1 if name == "trace-whole" else 3)
    # after steps 5, 11 and 16: three different models (training moved them), each the same on both ranks
    assert len({e["sha256"] for e in events(runs["base"] / "trace-resumed", 0, "params")}) == 3


@pytest.mark.slow
def test_two_processes_train_like_one_process_with_the_same_global_batch(
    runs: dict[str, Any], data: Data, tmp_path: Path
) -> None:
    """Rank r's batch j holds windows 16j + r, 16j + r + 2, ... of the epoch's order: both ranks
    together hold exactly the 16 windows a single process with batch 16 takes. Averaged
    gradients (and averaged losses) then make the same run, up to float reduction order."""
    corpora = {r: data.corpora[r] for r in ("mnemo", "natural")}
    one = run_plan(
        PLAN, corpora, data.validation, PRESETS["smoke"].replace(batch_size=16), 0, tmp_path / "one", progress=False
    )
    two = read_run(runs["base"] / "whole")
    assert two is not None and one.world_size == 1
    assert one.served_tokens == two.served_tokens and [p.tokens for p in one.curve] == [p.tokens for p in two.curve]
    for p, q in zip(one.curve, two.curve):
        assert p.eval == pytest.approx(q.eval, rel=1e-4, abs=1e-4)
        assert (p.train_loss is None) == (q.train_loss is None) and (
            p.train_loss is None or p.train_loss == pytest.approx(q.train_loss, rel=1e-4)
        )
    assert one.final_eval == pytest.approx(two.final_eval, rel=1e-4, abs=1e-4)


@pytest.mark.slow
def test_a_stopped_and_resumed_two_process_run_reproduces_the_uninterrupted_one(runs: dict[str, Any]) -> None:
    base = runs["base"]
    whole, resumed = read_run(base / "whole"), read_run(base / "resumed")
    assert isinstance(whole, RunResult) and isinstance(resumed, RunResult) and resumed.finished
    assert resumed.curve == whole.curve  # every float, bit for bit
    assert (
        resumed.stages == whole.stages and resumed.views == whole.views and resumed.served_tokens == whole.served_tokens
    )
    a, b = load_model(base / "whole" / "final"), load_model(base / "resumed" / "final")
    assert a.state_dict().keys() == b.state_dict().keys() and all(
        torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict()
    )
    for r in range(WORLD):  # each rank went on with exactly the batches it would have had
        assert events(base / "trace-resumed", r, "batch") == events(base / "trace-whole", r, "batch")
    for (partial, state), (step, in_stage) in zip(
        runs["stopped"], ((5, 5), (11, 3))
    ):  # the LoRA stage starts at step 8
        assert partial is not None and not partial.finished and partial.steps == step and partial.world_size == WORLD
        assert state["world_size"] == WORLD and state["progress"]["step"] == step
        assert [s["identity"]["rank"] for s in state["loader"]] == [0, 1]  # each rank's loader, by rank
        assert [s["identity"]["world_size"] for s in state["loader"]] == [WORLD, WORLD] and len(state["rng"]) == WORLD
        assert (
            sum(sum(s["served_tokens"].values()) for s in state["loader"]) == in_stage * 1024
        )  # the stage's steps, both ranks
    assert not (base / "resumed" / "checkpoint").exists()


@pytest.mark.slow
def test_the_token_ids_seen_are_united_over_the_ranks(runs: dict[str, Any], data: Data) -> None:
    """The checkpoint after step 5 records as seen exactly the ids of the windows either rank
    trained on (what ``embeddings: reinit-new`` keeps); rank 0 alone saw fewer."""
    mnemo = TokenCorpus.open(data.corpora["mnemo"])
    ids: list[set[int]] = []
    for r in range(WORLD):
        trained = windows([b for b in events(runs["base"] / "trace-whole", r, "batch") if b["step"] < 5], 0)
        ids.append({int(t) for _, w in trained for t in mnemo.window(w, 64)})
    seen = set(torch.nonzero(runs["stopped"][0][1]["progress"]["seen"]).flatten().tolist())
    assert ids[1] - ids[0] and seen == ids[0] | ids[1]


@pytest.mark.slow
def test_a_run_is_resumed_only_with_the_same_number_of_processes(runs: dict[str, Any], data: Data) -> None:
    corpora = {r: data.corpora[r] for r in ("mnemo", "natural")}
    with pytest.raises(ConfigError, match=r"trained by 2 process\(es\), this one has 1: resume it with as many"):
        run_plan(PLAN, corpora, data.validation, "smoke", 0, runs["base"] / "whole", progress=False)


@pytest.mark.slow
def test_an_error_on_rank_zero_is_reported_once(data: Data, tmp_path: Path) -> None:
    proc = torchrun(data, tmp_path / "bad", corpus={"mnemo": tmp_path / "missing", "natural": data.corpora["natural"]})
    assert proc.returncode != 0
    assert proc.stderr.count("hyperword train: error") == 1 and "(rank 0)" in proc.stderr and "missing" in proc.stderr


# --- without processes: what the number of processes changes in a run's set-up -------------------
def test_the_budget_is_global_and_must_be_whole_steps_over_all_processes(data: Data, tmp_path: Path) -> None:
    corpora = {"natural": data.corpora["natural"]}
    val = {"natural": data.validation["natural"]}
    one = prepare_run("natural-only", corpora, val, "smoke", 0, tmp_path / "a")
    two = prepare_run("natural-only", corpora, val, "smoke", 0, tmp_path / "a", world=World(1, 2))
    assert (one.step_tokens, two.step_tokens) == (512, 1024) and one.plan == two.plan  # the same global budget
    assert "world_size" not in one.identity and two.identity["world_size"] == 2 and one.fingerprint != two.fingerprint
    with pytest.raises(
        ConfigError,
        match=r"total_tokens 1536 is not a positive multiple of the 1024 tokens of an optimizer step \(512 tokens on each of 2 processes\)",
    ):
        prepare_run(
            "natural-only",
            corpora,
            val,
            PRESETS["smoke"].replace(tokens=1536, eval_every=512, checkpoint_every=512),
            0,
            tmp_path / "b",
            world=World(0, 2),
        )
    with pytest.raises(ConfigError, match=r"eval_every \(1536\) is not a multiple of the 1024 tokens"):
        prepare_run(
            "natural-only",
            corpora,
            val,
            PRESETS["smoke"].replace(eval_every=1536),
            0,
            tmp_path / "c",
            world=World(0, 2),
        )
