"""The trainer's optimizer step for several model sizes in one go, as a table
(``hyperword bench train`` once per size; see :mod:`hyperword.train.bench`).

    python benches/bench_train.py --sizes small,base --device cuda          # the GPU check
    python benches/bench_train.py --sizes tiny --device cpu --threads 2     # this machine

Each size runs at its default shape (tiny: vocab 4,000, seq 128, batch 16; small: 8,000, 512,
64; base: 32,000, 1,024, 32) unless ``--seq-len``/``--batch-size`` say otherwise.
"""

from __future__ import annotations

import argparse
import sys


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="tiny", help="comma-separated model sizes (default tiny)")
    p.add_argument("--seq-len", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--peak-tflops", type=float)
    p.add_argument("--threads", type=int)
    a = p.parse_args()
    import torch

    from hyperword.train.bench import bench_train

    if a.threads is not None:
        torch.set_num_threads(a.threads)
    print("| size | parameters | seq x batch | device | mode | ms/step | tokens/s | peak memory MiB | MFU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in a.sizes.split(","):
        r = bench_train(
            size,
            seq_len=a.seq_len,
            batch_size=a.batch_size,
            steps=a.steps,
            warmup=a.warmup,
            device=a.device,
            compile=a.compile,
            peak_tflops=a.peak_tflops,
        )
        where = r.device_name if r.device.startswith("cuda") else f"cpu, {r.threads} threads"
        mfu = f"{r.mfu:.1%}" if r.mfu is not None else "-"
        print(
            f"| {r.size} | {r.parameters / 1e6:.2f}M | {r.seq_len} x {r.batch_size} | {where} | {'compiled' if r.compiled else 'eager'} "
            f"| {r.step_seconds * 1000:.1f} | {r.tokens_per_second:,.0f} | {r.peak_memory_bytes / 2**20:,.0f} | {mfu} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
