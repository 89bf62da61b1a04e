"""``hyperword bench train``: the trainer's own optimizer step, timed on random tokens.

    hyperword bench train --size base --device cuda            # seq 1024, batch 32, compiled
    hyperword bench train --size tiny --device cpu --threads 2

It builds a model of a named size (:mod:`~hyperword.train.model`), makes the optimizer and
scheduler the trainer makes, and runs warm-up steps, then timed steps, of
:class:`~hyperword.train.trainer.TrainStep` -- the very step the trainer runs, seen-ids mask,
pinned copies, fused AdamW and ``torch.compile`` included -- on batches of uniformly random
token ids drawn up front on the host (as the loader hands them over). The clock stops after
the device has finished the last step.

FLOPs per trained token are ``6 N + 12 L h T`` (nanoGPT's and PaLM's count): ``N`` parameters
(the tied embedding counted once: it is the output projection's matrix product), and for
attention ``L`` layers of hidden size ``h`` over ``T`` positions (scores and weighted sum,
forward and backward, the causal mask not discounted). MFU is achieved FLOP/s over the device's
peak: dense bf16 tensor-core figures from the vendors' datasheets, looked up by GPU name
(:data:`PEAK_TFLOPS`), or ``--peak-tflops``; on the CPU there is no MFU without
``--peak-tflops``.
"""

from __future__ import annotations

import re
import resource
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

from hyperword.errors import ConfigError
from hyperword.train.model import build_model, get_size, parameter_count
from hyperword.train.presets import LRSchedule, Preset, make_scheduler
from hyperword.train.trainer import TrainStep, make_optimizer

__all__ = ["BenchResult", "PEAK_TFLOPS", "SIZE_DEFAULTS", "bench_train", "flops_per_token", "peak_tflops_of"]

#: per size: (vocabulary, seq_len, micro-batch) measured by default -- the shapes of the
#: ``cpu`` preset (tiny), the issue-11 measurement (small) and the ``gpu`` preset (base)
SIZE_DEFAULTS: dict[str, tuple[int, int, int]] = {
    "tiny": (4000, 128, 16),
    "small": (8000, 512, 64),
    "base": (32000, 1024, 32),
}

#: dense bf16 peak TFLOP/s by GPU name (first pattern that matches ``torch.cuda.get_device_name``)
PEAK_TFLOPS: tuple[tuple[str, float], ...] = (
    (r"H200 NVL|H100 NVL", 835.0),
    (r"H100 PCIe", 756.0),
    (r"H200|H100", 989.0),  # SXM
    (r"A100", 312.0),
    (r"\bL4\b", 121.0),
    (r"4090", 165.0),
)


def peak_tflops_of(name: str) -> float | None:
    """The dense bf16 peak of the GPU called ``name``, if it is one of :data:`PEAK_TFLOPS`."""
    for pattern, tflops in PEAK_TFLOPS:
        if re.search(pattern, name):
            return tflops
    return None


def flops_per_token(size: str, vocab_size: int, seq_len: int) -> tuple[int, int]:
    """(``6 N``, attention ``12 L h T``) FLOPs per trained token (see the module doc)."""
    s = get_size(size)
    return 6 * parameter_count(s, vocab_size), 12 * s.layers * s.hidden * seq_len


@dataclass(frozen=True)
class BenchResult:
    """What one ``bench train`` measured."""

    size: str
    parameters: int
    vocab_size: int
    seq_len: int
    batch_size: int
    device: str
    device_name: str
    threads: int
    compiled: bool
    warmup_steps: int
    steps: int
    seconds: float
    tokens_per_second: float
    step_seconds: float
    peak_memory_bytes: int
    peak_memory_kind: str  # "GPU allocated" or "process RSS"
    flops_per_token: int
    attention_flops_per_token: int
    peak_tflops: float | None
    mfu: float | None
    final_loss: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """The lines ``hyperword bench train`` prints."""
        where = (
            f"{self.device} ({self.device_name})" if self.device.startswith("cuda") else f"cpu ({self.threads} threads)"
        )
        mfu = (
            f"{self.mfu:.1%} of {self.peak_tflops:g} TFLOP/s"
            if self.mfu is not None
            else "- (unknown peak: give --peak-tflops)"
        )
        return "\n".join(
            [
                f"{self.size}: {self.parameters / 1e6:.2f}M parameters (vocab {self.vocab_size:,}), seq {self.seq_len} x batch {self.batch_size}, "
                f"{where}, {'compiled' if self.compiled else 'eager'}",
                f"  {self.steps} timed steps after {self.warmup_steps} warm-up: {self.step_seconds * 1000:.1f} ms/step, "
                f"{self.tokens_per_second:,.0f} tokens/s, peak memory {self.peak_memory_bytes / 2**20:,.0f} MiB ({self.peak_memory_kind})",
                f"  {self.flops_per_token / 1e6:,.1f}M FLOPs/token (attention {self.attention_flops_per_token / 1e6:,.1f}M), "
                f"{_rate(self.tokens_per_second * self.flops_per_token)}; MFU {mfu}",
            ]
        )


def _rate(flops: float) -> str:
    return f"{flops / 1e12:,.2f} TFLOP/s" if flops >= 1e12 else f"{flops / 1e9:,.2f} GFLOP/s"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_train(
    size: str = "tiny",
    *,
    seq_len: int | None = None,
    batch_size: int | None = None,
    vocab_size: int | None = None,
    steps: int = 10,
    warmup: int = 3,
    device: str | None = None,
    compile: bool | None = None,
    peak_tflops: float | None = None,
    seed: int = 0,
) -> BenchResult:
    """Time ``steps`` optimizer steps of the trainer (after ``warmup`` untimed ones) for a model
    of ``size``; unset shapes come from :data:`SIZE_DEFAULTS`, the device defaults to CUDA when
    there is one, ``compile`` to on with CUDA (the trainer's defaults)."""
    s = get_size(size)
    default_vocab, default_seq, default_batch = SIZE_DEFAULTS[s.name]
    vocab = vocab_size if vocab_size is not None else default_vocab
    seq = seq_len if seq_len is not None else default_seq
    batch = batch_size if batch_size is not None else default_batch
    for name, value in (("steps", steps), ("seq-len", seq), ("batch-size", batch), ("vocab", vocab)):
        if value < 1:
            raise ConfigError(f"--{name} must be positive, got {value}")
    if warmup < 0:
        raise ConfigError(f"--warmup must be 0 or more, got {warmup}")
    if peak_tflops is not None and not peak_tflops > 0:
        raise ConfigError(f"--peak-tflops must be positive, got {peak_tflops}")
    if device is not None and device.partition(":")[0] not in ("cpu", "cuda"):
        raise ConfigError(f"--device must be cpu or cuda, got {device!r}")
    dev = torch.device(device if device is not None else "cuda" if torch.cuda.is_available() else "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: this torch sees no CUDA device")
    compiled = dev.type == "cuda" if compile is None else compile
    total = warmup + steps
    # The optimizer settings of a preset (weight decay, betas, clipping) at this shape.
    preset = Preset(
        "bench",
        s.name,
        seq_len=seq,
        batch_size=batch,
        grad_accum=1,
        tokens=seq * batch * total,
        lr=6e-4,
        lora_lr=2e-3,
        eval_every=seq * batch,
        checkpoint_every=seq * batch,
    )

    model: torch.nn.Module = build_model(s, vocab, seed=seed)
    model.to(dev)
    model.train()
    named = list(model.named_parameters())
    optimizer = make_optimizer(named, preset, preset.lr, fused=dev.type == "cuda")
    scheduler = make_scheduler(optimizer, LRSchedule(preset.lr, preset.warmup, preset.min_lr_ratio), total)
    seen = torch.zeros(vocab, dtype=torch.bool, device=dev)
    step = TrainStep(
        model,
        [p for _, p in named],
        optimizer,
        scheduler,
        grad_clip=preset.grad_clip,
        device=dev,
        seen=seen,
        compile=compiled,
    )
    gen = torch.Generator().manual_seed(seed)
    batches = [torch.randint(0, vocab, (batch, seq + 1), generator=gen) for _ in range(min(total, 4))]

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    for i in range(warmup):
        step([batches[i % len(batches)]])
    _sync(dev)
    started = time.perf_counter()
    losses = [step([batches[(warmup + i) % len(batches)]]) for i in range(steps)]
    final = float(losses[-1][-1])  # waits for the device
    _sync(dev)
    seconds = time.perf_counter() - started

    if dev.type == "cuda":
        memory, kind, name = torch.cuda.max_memory_allocated(dev), "GPU allocated", torch.cuda.get_device_name(dev)
    else:
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
        memory, kind, name = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, "process RSS", "cpu"
    dense, attention = flops_per_token(s.name, vocab, seq)
    per_token = dense + attention
    tokens_per_second = steps * batch * seq / seconds
    peak = peak_tflops if peak_tflops is not None else peak_tflops_of(name) if dev.type == "cuda" else None
    return BenchResult(
        size=s.name,
        parameters=parameter_count(s, vocab),
        vocab_size=vocab,
        seq_len=seq,
        batch_size=batch,
        device=str(dev),
        device_name=name,
        threads=torch.get_num_threads(),
        compiled=step.compiled,
        warmup_steps=warmup,
        steps=steps,
        seconds=seconds,
        tokens_per_second=tokens_per_second,
        step_seconds=seconds / steps,
        peak_memory_bytes=int(memory),
        peak_memory_kind=kind,
        flops_per_token=per_token,
        attention_flops_per_token=attention,
        peak_tflops=peak,
        mfu=tokens_per_second * per_token / (peak * 1e12) if peak is not None else None,
        final_loss=final,
    )
