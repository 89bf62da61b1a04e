#!/usr/bin/env python3
"""Corpus generation throughput: pure Python vs numpy vs hyperword, side by side.

    python benches/bench_generate.py --words 1e9 --threads 1,2
    python benches/bench_generate.py --words 5M --only pure,numpy --check
    python benches/bench_generate.py --kind dyck --words 50M --pure-words 1M --threads 1

``--kind dyck`` measures k-shuffle Dyck corpora instead (``--dyck-k``, ``--p-open``,
``--max-depth``, ``--seq-len``; "words" are brackets): hyperword against a pure-Python
generator in the style of the anchor's own (Hu et al. 2025; ``baselines.shuffle_dyck``),
both writing the same zstd Arrow IPC shards; there is no numpy baseline.

All three write the same corpus kind (zstd Arrow IPC shards of mnemophrases, see
``benches/baselines.py``) from the same lexicon and phrase lengths. Each run is a separate
process (this script re-invoked with ``--worker NAME``), so its peak RSS is its own; the
worker times the generation call alone (lexicon loading included, imports excluded) and
prints one JSON line. The slow baselines run on fewer words by default; words/s is a rate,
so the comparison stays fair.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LEXICON = REPO / "lexicons" / "multisimlex.tsv"
GENERATORS = ("pure", "numpy", "hyperword")
KINDS = ("mnemo", "dyck")
DEFAULT_PURE_WORDS = 2_000_000
DEFAULT_NUMPY_WORDS = 20_000_000

_COUNT = re.compile(r"(\d+(?:\.\d*)?(?:e\+?\d+)?)([kmgbt]?)", re.IGNORECASE)
_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9, "t": 10**12}


def parse_count(text: str) -> int:
    """A positive whole count: ``5000000``, ``5_000_000``, ``10M``, ``2.5k``, ``1e9``, ``1B``."""
    match = _COUNT.fullmatch(text.strip().replace("_", "").replace(",", ""))
    if not match:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected e.g. 1000000, 10M, 1e9")
    value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if not math.isfinite(value) or value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected a positive whole number")
    return int(value)


def parse_threads(text: str) -> list[int]:
    try:
        threads = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        threads = []
    if not threads or min(threads) < 1:
        raise argparse.ArgumentTypeError(f"invalid thread counts {text!r}: expected e.g. 1,2")
    return threads


def parse_only(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(GENERATORS))
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"invalid --only {text!r}: choose from {','.join(GENERATORS)}")
    return [n for n in GENERATORS if n in names]


def parse_phrase_length(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid words per phrase {text!r}: expected N or MIN-MAX, e.g. 2-6")
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    if not 1 <= low <= high:
        raise argparse.ArgumentTypeError(f"invalid words per phrase {text!r}: need 1 <= MIN <= MAX")
    return low, high


# ---------------------------------------------------------------------------------------
# The hyperword adapter: the one place that knows hyperword's Python API.


def generate_hyperword(
    out_dir: Path,
    words: int,
    *,
    lexicon: Path,
    threads: int,
    seed: int,
    words_per_phrase: tuple[int, int],
    shard_words: int,
    dyck: Mapping[str, Any] | None = None,
) -> dict[str, int | None]:
    """Generate with hyperword (a Dyck corpus with the options ``dyck``); return words, text
    bytes and shards (``None``: unknown, the worker then counts them from the shards,
    outside the timed section)."""
    import hyperword

    if dyck is not None:
        m = hyperword.generate(
            os.fspath(out_dir),
            words,
            kind="dyck",
            threads=threads,
            seed=seed,
            shard_words=shard_words,
            compression="zstd",
            **dyck,
        )
    else:
        m = hyperword.generate(
            os.fspath(out_dir),
            words,
            lexicon=os.fspath(lexicon),
            threads=threads,
            seed=seed,
            words_per_phrase=words_per_phrase,
            shard_words=shard_words,
            compression="zstd",
            langs=None,
            mix="phrase",
        )

    def get(name: str) -> Any:
        return m.get(name) if isinstance(m, Mapping) else getattr(m, name, None)

    if getattr(get("run"), "reused_shards", 0):  # a resumed corpus would fake the throughput
        raise RuntimeError(f"hyperword reused existing shards in {out_dir}: benchmark into an empty directory")

    # Manifest.text_bytes is the UTF-8 size of the text column (Manifest.bytes: bytes on disk).
    text_bytes, shards = get("text_bytes"), get("shards")
    return {
        "words": int(get("words")),
        "bytes": None if text_bytes is None else int(text_bytes),
        "shards": None if shards is None else len(shards),
    }


# ---------------------------------------------------------------------------------------
# Worker: one generator, one process


def run_worker(args: argparse.Namespace) -> None:
    """Run one generator, timing the generation call alone; print one JSON line."""
    name: str = args.worker
    out_dir = Path(args.out_dir)
    common: dict[str, Any] = dict(seed=args.seed, words_per_phrase=args.words_per_phrase, shard_words=args.shard_words)
    dyck = dyck_options(args) if args.kind == "dyck" else None
    # Import before the clock starts, and only what this generator needs (RSS is measured).
    if name == "hyperword":
        importlib.import_module("hyperword")
    else:
        import baselines

        baseline = baselines.generate_pure_python if name == "pure" else baselines.generate_numpy

    cpu_start, start = _cpu_seconds(), time.perf_counter()
    if name == "hyperword":
        counts = generate_hyperword(
            out_dir, args.words, lexicon=args.lexicon, threads=args.threads[0], dyck=dyck, **common
        )
    elif dyck is not None:
        done = baselines.generate_dyck_pure_python(
            out_dir, args.words, seed=args.seed, shard_words=args.shard_words, **dyck
        )
        counts = {"words": done["words"], "bytes": done["bytes"], "shards": done["shards"]}
    else:
        done = baseline(args.lexicon, out_dir, args.words, **common)
        counts = {"words": done["words"], "bytes": done["bytes"], "shards": done["shards"]}
    seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # ru_maxrss: KiB on Linux

    if counts["bytes"] is None or counts["shards"] is None:  # not in hyperword's manifest: read the shards
        import baselines

        paths = baselines.shard_paths(out_dir)
        counts["bytes"] = sum(baselines.shard_text_bytes(p) for p in paths)
        counts["shards"] = len(paths)
    result = {**counts, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mb": peak_rss_mb}
    print(json.dumps(result), flush=True)


def dyck_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Dyck language measured, as ``hyperword.generate`` keywords (the baseline's too)."""
    return {"dyck_k": args.dyck_k, "p_open": args.p_open, "max_depth": args.max_depth, "seq_len": args.seq_len}


def _cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------
# Driver


@dataclass
class Run:
    name: str
    threads: int | None
    requested_words: int
    words: int = 0
    bytes: int = 0
    shards: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    disk_bytes: int = 0
    words_per_s: float = 0.0
    mb_per_s: float = 0.0
    vs_numpy: float | None = None
    vs_pure: float | None = None
    vs_pure_cpu: float | None = None
    vs_1_thread: float | None = None
    check: dict[str, Any] | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        return self.name if self.threads is None else f"{self.name}-t{self.threads}"


def plan(args: argparse.Namespace) -> list[Run]:
    runs: list[Run] = []
    if "pure" in args.only:
        runs.append(Run("pure", None, min(args.words, args.pure_words)))
    if "numpy" in args.only:
        runs.append(Run("numpy", None, min(args.words, args.numpy_words)))
    if "hyperword" in args.only:
        runs.extend(Run("hyperword", t, args.words) for t in args.threads)
    return runs


def execute(run: Run, run_dir: Path, args: argparse.Namespace) -> None:
    command = [
        sys.executable,
        os.fspath(Path(__file__).resolve()),
        "--worker",
        run.name,
        "--words",
        str(run.requested_words),
        "--lexicon",
        os.fspath(args.lexicon),
        "--seed",
        str(args.seed),
        "--shard-words",
        str(args.shard_words),
        "--words-per-phrase",
        "{}-{}".format(*args.words_per_phrase),
        "--out-dir",
        os.fspath(run_dir),
        "--threads",
        str(run.threads or 1),
        "--kind",
        args.kind,
        "--dyck-k",
        str(args.dyck_k),
        "--p-open",
        repr(args.p_open),
        "--max-depth",
        str(args.max_depth),
        "--seq-len",
        str(args.seq_len),
    ]
    print(f"[{run.label}] {run.requested_words:,} words ...", file=sys.stderr, flush=True)
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        run.error = f"worker exited with status {proc.returncode}"
        print(f"[{run.label}] failed: {run.error}", file=sys.stderr)
        return
    result = json.loads(lines[-1])
    run.words, run.bytes, run.shards = result["words"], result["bytes"], result["shards"]
    run.seconds, run.cpu_seconds, run.peak_rss_mb = result["seconds"], result["cpu_seconds"], result["peak_rss_mb"]
    run.words_per_s = run.words / run.seconds
    run.mb_per_s = run.bytes / run.seconds / 1e6
    run.disk_bytes = sum(p.stat().st_size for p in run_dir.glob("shard-*.arrow"))
    print(
        f"[{run.label}] {run.seconds:.2f} s ({run.cpu_seconds / run.seconds:.2f} cores busy), "
        f"{run.words_per_s / 1e6:.2f} Mwords/s",
        file=sys.stderr,
        flush=True,
    )
    if args.check:
        run.check = check_run(run, run_dir, args)


def check_run(run: Run, run_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Verify every shard (``check_shard``) and the totals against the worker's report."""
    import baselines

    paths = baselines.shard_paths(run_dir)
    start = time.perf_counter()
    try:
        if args.kind == "dyck":
            checks = [
                baselines.check_dyck_shard(
                    p, k=args.dyck_k, max_depth=args.max_depth, seq_len=args.seq_len, max_rows=args.check_rows
                )
                for p in paths
            ]
            longest_row = args.seq_len
        else:
            lexicon = baselines.load_lexicon(args.lexicon)
            checks = [
                baselines.check_shard(p, lexicon, words_per_phrase=args.words_per_phrase, max_rows=args.check_rows)
                for p in paths
            ]
            longest_row = args.words_per_phrase[1]
        expected_shards = len(baselines.shard_targets(run.requested_words, args.shard_words))
        overshoot = expected_shards * (longest_row - 1)
        problems = [
            f"{what}: {got} != {want}"
            for what, got, want in [
                ("shards", len(paths), expected_shards),
                ("reported shards", run.shards, expected_shards),
                ("text bytes", sum(c["bytes"] for c in checks), run.bytes),
            ]
            if got != want
        ]
        if not run.requested_words <= run.words <= run.requested_words + overshoot:
            problems.append(f"words {run.words} outside [{run.requested_words}, {run.requested_words + overshoot}]")
        if problems:
            raise ValueError("; ".join(problems))
    except ValueError as e:
        print(f"[{run.label}] CHECK FAILED: {e}", file=sys.stderr)
        return {"ok": False, "error": str(e)}
    rows = sum(c["rows"] for c in checks)
    seconds = time.perf_counter() - start
    print(f"[{run.label}] check ok: {len(paths)} shards, {rows:,} rows ({seconds:.1f} s)", file=sys.stderr)
    return {"ok": True, "shards": len(paths), "rows": rows, "seconds": seconds}


def add_ratios(runs: Sequence[Run]) -> None:
    done = [r for r in runs if r.error is None]
    numpy_rate = next((r.words_per_s for r in done if r.name == "numpy"), None)
    pure_rate = next((r.words_per_s for r in done if r.name == "pure"), None)
    pure_cpu_rate = next((r.words / r.cpu_seconds for r in done if r.name == "pure" and r.cpu_seconds > 0), None)
    hyper = sorted((r for r in done if r.name == "hyperword"), key=lambda r: r.threads or 0)
    for r in done:
        if numpy_rate:
            r.vs_numpy = r.words_per_s / numpy_rate
        if pure_rate:
            r.vs_pure = r.words_per_s / pure_rate
        if pure_cpu_rate and r.cpu_seconds > 0:
            r.vs_pure_cpu = r.words / r.cpu_seconds / pure_cpu_rate
        if r.name == "hyperword" and hyper:
            r.vs_1_thread = r.words_per_s / hyper[0].words_per_s


def print_table(runs: Sequence[Run], args: argparse.Namespace) -> None:
    def ratio(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}x"

    dyck = args.kind == "dyck"
    unit = "brackets" if dyck else "words"
    head: tuple[str, ...] = (
        "generator",
        "threads",
        unit,
        "seconds",
        f"M{unit}/s",
        "MB/s",
        "peak RSS MB",
        "vs pure" if dyck else "vs numpy",
        "vs 1 thread",
    )
    if dyck:  # per CPU-second too: on a shared machine, wall time also counts waiting for a core
        head += ("CPU s", f"M{unit}/CPU-s", "vs pure (CPU)")
    rows = []
    for r in runs:
        if r.error:
            rows.append((r.name, str(r.threads or 1), f"{r.requested_words:,}", "FAILED", *["-"] * (len(head) - 4)))
            continue
        row: tuple[str, ...] = (
            r.name,
            str(r.threads or 1),
            f"{r.words:,}",
            f"{r.seconds:.2f}",
            f"{r.words_per_s / 1e6:.2f}",
            f"{r.mb_per_s:.1f}",
            f"{r.peak_rss_mb:.0f}",
            ratio(r.vs_pure if dyck else r.vs_numpy),
            ratio(r.vs_1_thread),
        )
        if dyck:
            row += (f"{r.cpu_seconds:.2f}", f"{r.words / max(r.cpu_seconds, 1e-9) / 1e6:.2f}", ratio(r.vs_pure_cpu))
        rows.append(row)
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    if dyck:
        print(
            f"\nk-shuffle Dyck: k {args.dyck_k}, p_open {args.p_open}, max depth {args.max_depth}, sequences of "
            f"{args.seq_len} brackets; shards of {args.shard_words:,} brackets, zstd Arrow IPC, seed {args.seed}, {os.cpu_count()} CPUs."
        )
    else:
        print(
            f"\nwords/phrase {args.words_per_phrase[0]}-{args.words_per_phrase[1]}, shards of {args.shard_words:,} words, "
            f"zstd Arrow IPC, lexicon {args.lexicon}, seed {args.seed}, {os.cpu_count()} CPUs."
        )
    capped = [f"{r.name} on {r.requested_words:,}" for r in runs if r.requested_words < args.words]
    if capped:
        print(
            f"Fewer words for the slow baselines ({', '.join(capped)} of {args.words:,}; --pure-words, "
            "--numpy-words): words/s is a rate, so the ratios stay fair."
        )
    print("MB/s: UTF-8 text bytes generated per second. Peak RSS: each generator's own process.")
    if "hyperword" in args.only and 1 not in args.threads:
        print(f"vs 1 thread: relative to hyperword at {min(args.threads)} threads (no 1-thread run).")
    for r in runs:
        if r.error:
            print(f"{r.label} FAILED: {r.error} (its traceback is above)")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for module in ("numpy", "pyarrow", "hyperword"):
        try:
            out[module] = importlib.import_module(module).__version__
        except Exception:  # noqa: BLE001 - a missing or broken module only loses its version
            out[module] = "unavailable"
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = p.add_argument
    add("--words", type=parse_count, default=parse_count("100M"), help="words to generate: 1e9, 10M (default 100M)")
    add("--lexicon", type=Path, default=DEFAULT_LEXICON, help="lexicon TSV, columns lang and word (default: shipped)")
    add("--threads", type=parse_threads, default=[1, 2], help="hyperword thread counts (default 1,2)")
    add("--only", type=parse_only, default=list(GENERATORS), help="generators to run (default pure,numpy,hyperword)")
    add("--shard-words", type=parse_count, default=parse_count("10M"), help="words per shard (default 10M)")
    add("--words-per-phrase", type=parse_phrase_length, default=(2, 6), help="MIN-MAX (default 2-6)")
    add("--pure-words", type=parse_count, default=DEFAULT_PURE_WORDS, help="word cap for pure Python (default 2M)")
    add("--numpy-words", type=parse_count, default=DEFAULT_NUMPY_WORDS, help="word cap for numpy (default 20M)")
    add("--out-dir", type=Path, help="keep the corpora here (default: a temp dir, removed)")
    add("--seed", type=int, default=0, help="random seed (default 0)")
    add("--check", action="store_true", help="verify every written shard (slow: pure-Python check)")
    add("--check-rows", type=parse_count, help="with --check: segment only this many rows per shard")
    add("--json", type=Path, help="save the configuration and results to this file")
    add(
        "--kind",
        choices=KINDS,
        default="mnemo",
        help="corpus kind measured: mnemo, or dyck (pure vs hyperword; default mnemo)",
    )
    add("--dyck-k", type=int, default=64, help="dyck: bracket types (default 64, the anchor's)")
    add("--p-open", type=float, default=0.51, help="dyck: probability of opening (default 0.51)")
    add("--max-depth", type=int, default=16, help="dyck: depth bound (default 16)")
    add("--seq-len", type=int, default=2048, help="dyck: brackets per sequence (default 2048)")
    add("--worker", choices=GENERATORS, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.worker:
        run_worker(args)
        return 0
    if args.kind == "dyck":
        if "numpy" in args.only and args.only != list(GENERATORS):
            print("--kind dyck has no numpy baseline: --only pure,hyperword", file=sys.stderr)
            return 2
        args.only = [n for n in args.only if n != "numpy"]
    if not args.lexicon.is_file():
        print(f"lexicon not found: {args.lexicon}", file=sys.stderr)
        return 2

    runs = plan(args)
    keep = args.out_dir is not None
    root = args.out_dir if keep else Path(tempfile.mkdtemp(prefix="hyperword-bench-"))
    try:
        for run in runs:
            run_dir = root / run.label
            if run_dir.exists() and any(run_dir.iterdir()):
                print(f"{run_dir} is not empty: choose another --out-dir", file=sys.stderr)
                return 2
            execute(run, run_dir, args)
            if not keep:
                shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)

    add_ratios(runs)
    print()
    print_table(runs, args)
    if args.json:
        config = {k: (os.fspath(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "worker"}
        report = {
            "benchmark": "generate",
            "config": config,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "versions": versions()},
            "results": [{"label": r.label, **asdict(r)} for r in runs],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    failed = any(r.error or (r.check and not r.check["ok"]) for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
