"""Typing: the stub of the compiled module matches it (stubtest), and the package type-checks."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import REPO

import hyperword
from hyperword import _hyperword

PACKAGE = Path(hyperword.__file__).resolve().parent

needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, PYTHONUTF8="1"),
    )


def test_package_is_marked_typed() -> None:
    assert (PACKAGE / "py.typed").is_file()
    assert (PACKAGE / "_hyperword.pyi").is_file()
    assert PACKAGE == REPO / "python" / "hyperword", "tests should run against the working tree (editable install)"


def test_stub_names_exist_at_runtime() -> None:
    """A cheap check that needs no mypy: every top-level name in the stub exists in the module."""
    tree = ast.parse((PACKAGE / "_hyperword.pyi").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    assert {"Lexicon", "BatchStream", "CorpusPlan", "stream", "sample", "__version__", "LexiconError"} <= names
    missing = sorted(n for n in names if not hasattr(_hyperword, n))
    assert not missing, missing
    assert "requested_schema" in inspect.signature(_hyperword.BatchStream.__arrow_c_stream__).parameters


@needs_mypy
def test_stubtest_passes() -> None:
    proc = _run("-m", "mypy.stubtest", "hyperword._hyperword")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_mypy
def test_mypy_strict_passes_on_the_package(tmp_path: Path) -> None:
    proc = _run(
        "-m",
        "mypy",
        "--cache-dir",
        str(tmp_path / "mypy-cache"),
        "--config-file",
        str(REPO / "pyproject.toml"),
        str(PACKAGE),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout
