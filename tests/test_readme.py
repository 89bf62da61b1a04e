"""README.md, run: every ``sh`` and ``python`` block in order, in a temporary directory, scaled
down, so an example that drifts from the code fails here.

A block preceded by ``<!-- readme-test: skip (why) -->`` is not run (installs, builds, GPU or
cluster commands, hours of training); every other block must pass. The temporary directory
holds links to the repository's ``examples/`` and ``lexicons/``, as a fresh clone would.

Scaling: ``HYPERWORD_README_SCALE`` (default ``1e-4``; ``1`` runs the README at full size)
multiplies every count the README writes (``--words``, ``--max-sentences``, ``--top``,
``--shard-words``, and Python integer literals written with ``_`` separators or as count
strings such as ``"100M"``), with a floor so each stays usable; below 1 it also shrinks
vocabulary sizes, sequence lengths and batch sizes, which the tiny data could not fill.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from _helpers import REPO

from hyperword.generation import parse_count

SCALE = float(os.environ.get("HYPERWORD_README_SCALE", "1e-4"))
_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b[^>]*-->")
#: Smallest count each scaled flag keeps (a corpus too small for a tokenizer helps nobody).
_FLOORS = {"--words": 5_000, "--max-sentences": 2_000, "--top": 500, "--shard-words": 1_000}
_SMALL = {"--vocab-size": 1_500, "seq_len": 16, "batch_size": 4}


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    code: str
    skip: str | None


def readme_blocks(text: str) -> list[Block]:
    """Fenced ``sh``/``python`` blocks with their first line number and skip mark."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or not m.group(2):
            i += 1
            continue
        indent, lang, start = m.group(1), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not _FENCE.match(lines[i]):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        before = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        mark = _SKIP.search(before)
        if lang in ("sh", "python"):
            blocks.append(Block(start + 1, lang, "\n".join(body) + "\n", mark.group(0) if mark else None))
    return blocks


def _scaled(n: int, floor: int) -> int:
    return n if SCALE >= 1 else max(floor, min(n, math.ceil(n * SCALE)))


def scale(code: str) -> str:
    """``code`` with its counts (and, below scale 1, its model sizes) scaled down."""

    def flag(m: re.Match[str]) -> str:
        return f"{m.group(1)} {_scaled(parse_count(m.group(2)), _FLOORS[m.group(1)])}"

    code = re.sub(r"(--words|--max-sentences|--top|--shard-words)[ =](\S+)", flag, code)
    code = re.sub(
        r"\b\d{1,3}(?:_\d{3})+\b", lambda m: str(_scaled(int(m.group(0).replace("_", "")), _FLOORS["--words"])), code
    )
    code = re.sub(
        r'"(\d+(?:\.\d+)?[kKMGB]|\d+e\d+)"', lambda m: f'"{_scaled(parse_count(m.group(1)), _FLOORS["--words"])}"', code
    )
    if SCALE < 1:
        code = re.sub(
            r"--vocab-size (\d+)", lambda m: f"--vocab-size {min(int(m.group(1)), _SMALL['--vocab-size'])}", code
        )
        for name in ("seq_len", "batch_size"):
            code = re.sub(rf"\b{name}=(\d+)", lambda m, name=name: f"{name}={min(int(m.group(1)), _SMALL[name])}", code)
        code = re.sub(r"--preset (cpu|gpu)", "--preset smoke", code)
    return code


def test_blocks_are_found_and_marked_skips_are_explained() -> None:
    blocks = readme_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    run = [b for b in blocks if b.skip is None]
    assert len(run) >= 6 and {b.lang for b in run} == {"sh", "python"}
    for b in blocks:
        if b.skip is not None:
            assert re.search(r"skip \(.+\)", b.skip), f"README.md:{b.line}: say why the block is skipped"


def test_scale_shrinks_counts_and_sizes() -> None:
    if SCALE != 1e-4:
        pytest.skip("checks the default scale")
    assert (
        scale("hyperword generate --words 1e9 --out c/ --shard-words 10M")
        == "hyperword generate --words 100000 --out c/ --shard-words 1000"
    )
    assert scale('generate("c/", "100M", x=2)  # or 100_000_000') == 'generate("c/", "10000", x=2)  # or 10000'
    assert scale("--vocab-size 8000 --max-sentences 1M") == "--vocab-size 1500 --max-sentences 2000"
    assert scale("TokenDataset(d, seq_len=512, batch_size=64)") == "TokenDataset(d, seq_len=16, batch_size=4)"


def test_readme_runs_in_order(tmp_path: Path) -> None:
    for name in ("examples", "lexicons"):
        (tmp_path / name).symlink_to(REPO / name, target_is_directory=True)
    env = dict(
        os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONUTF8="1"
    )
    env.pop("HYPERWORD_README_SCALE", None)
    for block in readme_blocks((REPO / "README.md").read_text(encoding="utf-8")):
        if block.skip is not None:
            continue
        code = scale(block.code)
        argv = ["bash", "-euo", "pipefail", "-c", code] if block.lang == "sh" else [sys.executable, "-c", code]
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, (
            f"README.md:{block.line} ({block.lang}) failed:\n{code}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        )
