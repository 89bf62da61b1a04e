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
medians' ratio (target: at most 1.2x).
"""

from __future__ import annotations

import sys

if "--import-torch" in sys.argv:  # the caller's heavy imports, at the top of its main module
    import torch  # noqa: F401
    import transformers  # noqa: F401

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

NATURAL = [Path(__file__).resolve().parents[2] / "shared" / "data" / "natural" / f"{lang}.txt" for lang in ("en", "ru")]


def child(a: argparse.Namespace) -> None:
    from hyperword.experiment.data import DataSpec, prepare

    spec = DataSpec(tuple(a.natural), ("en", "ru"), mnemo_tokens=a.mnemo_tokens, vocab_size=a.vocab)
    started = time.perf_counter()
    prepare(a.out, spec, threads=a.threads)
    print(json.dumps({"seconds": time.perf_counter() - started, "torch": "torch" in sys.modules}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--natural", nargs="+", default=[str(f) for f in NATURAL], help="natural text files (default ../shared/data/natural/{en,ru}.txt)")
    p.add_argument("--mnemo-tokens", type=int, default=16_384, help="the mnemo corpus budget (default: the smoke preset's 16,384)")
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
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.repeats):
            for case, flags in (("without torch", []), ("torch imported first", ["--import-torch"])):
                argv = [sys.executable, __file__, "--out", f"{tmp}/{r}-{len(flags)}", "--natural", *a.natural, "--mnemo-tokens", str(a.mnemo_tokens), "--vocab", str(a.vocab), *flags]
                if a.threads is not None:
                    argv += ["--threads", str(a.threads)]
                out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
                times[case].append(json.loads(out.strip().splitlines()[-1])["seconds"])
    plain = statistics.median(times["without torch"])
    print("| caller | prepare() seconds, each repeat | median | vs without torch |")
    print("|---|---|---|---|")
    for case, values in times.items():
        median = statistics.median(values)
        print(f"| {case} | {', '.join(f'{v:.2f}' for v in values)} | {median:.2f} | {median / plain:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
