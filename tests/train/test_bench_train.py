"""``hyperword bench train`` (issue 11): the trainer's own step, timed; FLOPs, MFU, the peak table,
the compile fallback, and the command line."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

pytest.importorskip("torch")

import torch  # noqa: E402

from hyperword import ConfigError  # noqa: E402
from hyperword.cli import main as hw  # noqa: E402
from hyperword.train import trainer  # noqa: E402
from hyperword.train.bench import BenchResult, bench_train, flops_per_token, peak_tflops_of  # noqa: E402

torch.set_num_threads(1)


def tiny(**kw: Any) -> BenchResult:
    """A bench of the tiny size on the CPU at a small shape."""
    args: dict[str, Any] = {"device": "cpu", "vocab_size": 300, "seq_len": 16, "batch_size": 2, **kw}
    return bench_train(args.pop("size", "tiny"), **args)


def test_flops_per_token_are_6n_plus_attention() -> None:
    """The figures of issue 11: small at 8,000 ids has 24,549,888 parameters, base at 32,000 137,841,408."""
    assert flops_per_token("small", 8000, 512) == (6 * 24_549_888, 12 * 6 * 512 * 512)
    assert flops_per_token("base", 32000, 1024) == (6 * 137_841_408, 12 * 12 * 768 * 1024)


@pytest.mark.parametrize(
    ("name", "peak"),
    [
        ("NVIDIA H200", 989.0),
        ("NVIDIA H100 80GB HBM3", 989.0),
        ("NVIDIA H100 PCIe", 756.0),
        ("NVIDIA H100 NVL", 835.0),
        ("NVIDIA A100-SXM4-80GB", 312.0),
        ("NVIDIA L4", 121.0),
        ("NVIDIA GeForce RTX 4090", 165.0),
        ("NVIDIA L40S", None),
        ("Tesla T4", None),
    ],
)
def test_the_peak_is_looked_up_by_gpu_name(name: str, peak: float | None) -> None:
    assert peak_tflops_of(name) == peak


def test_a_cpu_bench_runs_the_trainer_step_and_reports_mfu_only_with_a_given_peak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    step = trainer.TrainStep.__call__

    def counted(self: trainer.TrainStep, batches: list[torch.Tensor]) -> torch.Tensor:
        calls.append(len(batches))
        return step(self, batches)

    monkeypatch.setattr(trainer.TrainStep, "__call__", counted)
    r = tiny(steps=3, warmup=2)
    assert calls == [1] * 5  # the trainer's TrainStep, warm-up and timed steps
    assert (r.size, r.device, r.compiled, r.steps, r.warmup_steps) == ("tiny", "cpu", False, 3, 2)
    assert r.tokens_per_second == pytest.approx(3 * 2 * 16 / r.seconds) and r.step_seconds == pytest.approx(
        r.seconds / 3
    )
    assert r.peak_memory_bytes > 0 and r.peak_memory_kind == "process RSS" and math.isfinite(r.final_loss)
    assert r.mfu is None and r.peak_tflops is None and "give --peak-tflops" in r.describe()
    given = tiny(steps=1, warmup=0, peak_tflops=0.5)
    assert given.mfu == pytest.approx(given.tokens_per_second * given.flops_per_token / 0.5e12)


def test_a_failing_compiler_is_one_warning_line_and_the_same_losses_as_eager(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    eager = tiny(steps=2, warmup=1, compile=False)

    def failing(fn: object, **kw: object) -> object:
        def run(*a: object, **k: object) -> object:
            raise RuntimeError("no working C++ compiler\nmore detail")

        return run

    monkeypatch.setattr(torch, "compile", failing)
    capsys.readouterr()
    fallen = tiny(steps=2, warmup=1, compile=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and "torch.compile failed (RuntimeError: no working C++ compiler)" in err[0] and "eager" in err[0]
    )
    assert not fallen.compiled and fallen.final_loss == eager.final_loss  # the failed step ran again, eagerly


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": "huge"}, "unknown model size"),
        ({"steps": 0}, "--steps"),
        ({"device": "tpu"}, "cpu or cuda"),
        ({"peak_tflops": -1.0}, "--peak-tflops"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        tiny(**kwargs)


def test_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "bench",
        "train",
        "--size",
        "tiny",
        "--device",
        "cpu",
        "--steps",
        "1",
        "--warmup",
        "0",
        "--vocab",
        "300",
        "--seq-len",
        "16",
        "--batch-size",
        "2",
    ]
    assert hw(args) == 0
    out = capsys.readouterr().out
    assert "tiny:" in out and "tokens/s" in out and "MFU" in out
    assert hw([*args, "--json", "--peak-tflops", "1"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["size"] == "tiny" and figures["mfu"] > 0 and figures["seq_len"] == 16
    assert hw([*args, "--device", "tpu"]) == 2  # input the command refuses
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cpu or cuda" in err[0]


def test_attention_is_sdpa_with_the_causal_flag_and_no_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flash path: scaled_dot_product_attention, is_causal, no materialised mask."""
    from hyperword.train.model import build_model

    model = build_model("tiny", 300, seed=0)
    assert model.config._attn_implementation == "sdpa"
    calls: list[tuple[bool, bool]] = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def spy(*args: Any, **kwargs: Any) -> torch.Tensor:
        calls.append((kwargs.get("attn_mask") is None, bool(kwargs.get("is_causal"))))
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
    model(input_ids=torch.zeros(2, 16, dtype=torch.long))
    assert calls == [(True, True)] * 4  # every layer of the tiny model
