"""Shared fixtures: hypothesis profiles, a tiny multilingual lexicon, and a CLI runner.

Hypothesis profile: HYPOTHESIS_PROFILE=dev (default, 25 examples) or ci (100); neither has a deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _helpers import REPO, lexicon_tsv_text
from hypothesis import settings

import hyperword

# No wall-clock deadline in any profile: most property tests write files, and a loaded
# machine (CI, a laptop compiling) must not turn a slow example into a failure.
settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

RunCli = Callable[..., "tuple[int, str, str]"]


@pytest.fixture
def lexicon_path(tmp_path: Path) -> Path:
    """The tiny multilingual lexicon TSV (7 languages, 3 fields, concept ids, a gloss column)."""
    path = tmp_path / "lexicon.tsv"
    path.write_text(lexicon_tsv_text(), encoding="utf-8")
    return path


@pytest.fixture
def lexicon(lexicon_path: Path) -> hyperword.Lexicon:
    return hyperword.Lexicon.load(lexicon_path)


@pytest.fixture(scope="session")
def session_lexicon_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lexicon") / "lexicon.tsv"
    path.write_text(lexicon_tsv_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def session_lexicon(session_lexicon_path: Path) -> hyperword.Lexicon:
    """The same lexicon, loaded once (for hypothesis tests, which cannot use function fixtures)."""
    return hyperword.Lexicon.load(session_lexicon_path)


def _run_cli(*args: object, cwd: str | os.PathLike[str] | None = None, timeout: float = 120) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "hyperword", *(str(a) for a in args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        cwd=cwd or REPO,
        env=env,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def run_cli() -> RunCli:
    """`run_cli(*args)` runs `python -m hyperword ARGS` (stdin closed): (returncode, stdout, stderr)."""
    return _run_cli
