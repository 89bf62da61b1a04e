"""Token-shard encoding, side by side in one go (ratios, since this machine is noisy):

- baseline: single-thread sentencepiece on the same texts, nanoGPT ``prepare.py`` style
  (read every shard's texts, ``sp.encode(texts, num_threads=1)`` in chunks, flatten into one
  numpy array with an eos after each document; nothing written);
- ``hyperword encode --mode exact`` with 1 and with 2 workers (files written, hashed, synced);
- ``hyperword encode --mode aligned`` with 1 and 2 threads on a larger corpus.

    python benches/bench_encode.py [--words 20M] [--aligned-words 200M] [--vocab 8000] [--dir DIR]

Corpora and the tokenizer are built once under ``--dir`` (default: a temporary directory)
and reused by later runs; encoding outputs are removed after each measurement.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from itertools import chain
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import sentencepiece as spm

import hyperword
from hyperword.encode import encode
from hyperword.generation import parse_count
from hyperword.tokenizer import TrainOptions, train_tokenizer

LANGS = "en,ru,es,fr,fi,pl"


def corpus(base: Path, name: str, words: int) -> Path:
    out = base / name
    if not (out / "manifest.json").is_file():
        hyperword.generate(out, words=words, langs=LANGS, mix="word", seed=11, threads=2, force=True)
    return out


def tokenizer(base: Path, source: Path, vocab: int) -> Path:
    out = base / f"tok-{vocab}"
    if not (out / "tokenizer.model").is_file():
        train_tokenizer(
            [str(source)], out, options=TrainOptions(vocab_size=vocab, max_sentences=200_000, seed=1), force=True
        )
    return out


def baseline(source: Path, tok: Path) -> tuple[int, float]:
    """Single-thread sentencepiece over the same texts; returns (tokens, seconds)."""
    start = time.perf_counter()
    sp = spm.SentencePieceProcessor(model_file=str(tok / "tokenizer.model"))
    eos, parts = sp.eos_id(), []
    for path in sorted(source.glob("shard-*.arrow")):
        with pa.memory_map(str(path)) as f:
            texts = ipc.open_file(f).read_all().column("text").to_pylist()
        for i in range(0, len(texts), 4096):
            ids = sp.encode(texts[i : i + 4096], out_type=int, num_threads=1)
            parts.append(np.fromiter(chain.from_iterable(x + [eos] for x in ids), dtype=np.uint16))
    tokens = int(sum(p.shape[0] for p in parts))
    return tokens, time.perf_counter() - start


def hyperword_encode(tok: Path, source: Path, out: Path, mode: str, threads: int) -> tuple[int, float]:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    m = encode(tok, source, out, mode=mode, threads=threads)
    elapsed = time.perf_counter() - start
    shutil.rmtree(out, ignore_errors=True)
    return m.tokens, elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--words", type=parse_count, default=20_000_000, help="words of the exact-mode corpus (default 20M)")
    p.add_argument(
        "--aligned-words", type=parse_count, default=200_000_000, help="words of the aligned-mode corpus (default 200M)"
    )
    p.add_argument("--vocab", type=int, default=8000)
    p.add_argument("--dir", type=Path, help="keep corpora and tokenizer here between runs")
    a = p.parse_args(argv)
    base = a.dir or Path(tempfile.mkdtemp(prefix="hyperword-bench-encode-"))
    base.mkdir(parents=True, exist_ok=True)
    small = corpus(base, f"corpus-{a.words}", a.words)
    big = corpus(base, f"corpus-{a.aligned_words}", a.aligned_words)
    tok = tokenizer(base, small, a.vocab)
    out = base / "out"
    rows: list[tuple[str, int, float]] = []

    def report(name: str, tokens: int, seconds: float) -> None:
        rows.append((name, tokens, seconds))
        print(f"{name:<40} {tokens:>13,} tokens {seconds:8.2f} s {tokens / seconds / 1e6:9.2f} M tokens/s", flush=True)

    print(f"exact: {small.name}; aligned: {big.name}; tokenizer vocab {a.vocab}; {sys.platform}")
    report("sentencepiece, 1 thread (baseline)", *baseline(small, tok))
    report("hyperword exact, 1 worker", *hyperword_encode(tok, small, out, "exact", 1))
    report("hyperword exact, 2 workers", *hyperword_encode(tok, small, out, "exact", 2))
    report("hyperword aligned, 1 thread", *hyperword_encode(tok, big, out, "aligned", 1))
    report("hyperword aligned, 2 threads", *hyperword_encode(tok, big, out, "aligned", 2))
    rate = {name: tokens / seconds for name, tokens, seconds in rows}
    base_rate = rate["sentencepiece, 1 thread (baseline)"]
    print(
        f"exact 2 workers / sentencepiece 1 thread: {rate['hyperword exact, 2 workers'] / base_rate:.2f}x (target >= 1.8x)"
    )
    print(
        f"aligned 2 threads: {rate['hyperword aligned, 2 threads'] / 1e6:.1f} M tokens/s (target >= 100), {rate['hyperword aligned, 2 threads'] / base_rate:.1f}x the baseline"
    )
    if a.dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
