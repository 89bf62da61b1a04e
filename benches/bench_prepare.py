"""An experiment's data preparation (``hyperword.experiment.prepare``) from a script that
imported torch and transformers first, against the same from a script that did not.

    python benches/bench_prepare.py [--natural FILE ...] [--mnemo-tokens 16384] [--vocab 1000] [--repeats 3]

Each measurement is a fresh process running this file (so its ``__main__`` is a script that,
in the torch case, imported torch and transformers at the top before anything else, as a
training script does) that times ``prepare()`` alone into a new directory: ingest with a
validation split, the mnemo, unfused and validation corpora, the tokenizer, and six
``encode()`` calls with worker processes. Defaults are the ``smoke`` preset's data (16,384
mnemo tokens, a 1,000-piece vocabulary) over ``../shared/data/natural/{en,ru}.txt``. The two
cases alternate, so a noisy machine affects both alike; the table gives every repeat and the
medians' ratio (target: at most 1.2x), of wall seconds and of CPU seconds: those of the
process and of its worker processes, less what the process had spent before ``prepare()``
(starting, importing torch), which a machine shared with other work does not inflate.
"""

from __future__ import annotations

import sys

if "--import-torch" in sys.argv:  # the caller's heavy imports, at the top of its main module
    import torch  # noqa: F401
    import transformers  # noqa: F401

import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

NATURAL = [Path(__file__).resolve().parents[2] / "shared" / "data" / "natural" / f"{lang}.txt" for lang in ("en", "ru")]


def child(a: argparse.Namespace) -> None:
    from hyperword.experiment.data import DataSpec, prepare

    spec = DataSpec(tuple(a.natural), ("en", "ru"), mnemo_tokens=a.mnemo_tokens, vocab_size=a.vocab)
    before = time.process_time()  # start-up and imports, not prepare()'s
    started = time.perf_counter()
    prepare(a.out, spec, threads=a.threads)
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu_before": before, "torch": "torch" in sys.modules}))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # reaped children and their reaped descendants
    return r.ru_utime + r.ru_stime


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--natural",
        nargs="+",
        default=[str(f) for f in NATURAL],
        help="natural text files (default ../shared/data/natural/{en,ru}.txt)",
    )
    p.add_argument(
        "--mnemo-tokens", type=int, default=16_384, help="the mnemo corpus budget (default: the smoke preset's 16,384)"
    )
    p.add_argument("--vocab", type=int, default=1000, help="tokenizer vocabulary (default 1000, the smoke preset's)")
    p.add_argument("--threads", type=int, help="encode workers (default: all cores)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", help=argparse.SUPPRESS)  # a child's output directory
    p.add_argument("--import-torch", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.out is not None:
        child(a)
        return 0
    times: dict[str, list[float]] = {"without torch": [], "torch imported first": []}
    cpu: dict[str, list[float]] = {case: [] for case in times}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.repeats):
            for case, flags in (("without torch", []), ("torch imported first", ["--import-torch"])):
                argv = [
                    sys.executable,
                    __file__,
                    "--out",
                    f"{tmp}/{r}-{len(flags)}",
                    "--natural",
                    *a.natural,
                    "--mnemo-tokens",
                    str(a.mnemo_tokens),
                    "--vocab",
                    str(a.vocab),
                    *flags,
                ]
                if a.threads is not None:
                    argv += ["--threads", str(a.threads)]
                used = _children_cpu()
                out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
                used = _children_cpu() - used
                report = json.loads(out.strip().splitlines()[-1])
                times[case].append(report["seconds"])
                cpu[case].append(used - report["cpu_before"])
    print(
        "| caller | prepare() wall s, each repeat | median | vs without torch | CPU s, each repeat | median | vs without torch |"
    )
    print("|---|---|---|---|---|---|---|")
    plain, plain_cpu = statistics.median(times["without torch"]), statistics.median(cpu["without torch"])
    for case, values in times.items():
        median, median_cpu = statistics.median(values), statistics.median(cpu[case])
        print(
            f"| {case} | {', '.join(f'{v:.2f}' for v in values)} | {median:.2f} | {median / plain:.2f}x "
            f"| {', '.join(f'{v:.2f}' for v in cpu[case])} | {median_cpu:.2f} | {median_cpu / plain_cpu:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
