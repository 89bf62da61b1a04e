"""Nothing is lost under faults (issue 6, item 3): ``generate``, ``ingest`` and ``encode`` (exact
and aligned), run as the command line, survive

- ``kill -9`` at moments spread over a run (right after it starts, after the first shard,
  mid-run, near the end: polling for finished shards, then a delay from a seeded RNG), each
  kill landing on the rerun of the previous one: every file left visible is a complete
  shard equal to an uninterrupted run's (or its manifest, when killed just after writing
  it), an encode's worker processes end on their own, the shards a killed run had recorded
  are kept (not rewritten) by the next, and the last rerun leaves the output byte-identical
  to an uninterrupted run (every file, ``manifest.json`` included) and ``verify`` finds it
  intact;
- the two states a kill leaves that are too narrow to hit by timing (killed while the
  manifest was being written, and between its rename and the removal of the run state),
  made on disk: the rerun finishes the output exactly;
- Ctrl-C (SIGINT) of ``ingest`` and of ``encode`` with worker processes (sent to the
  process group, as a terminal does, also while the workers start, and to the main process
  alone): it stops within about a second with exit 130 and the one line
  ``hyperword: interrupted``, no temporary file, no half-written shard, no process left, and
  the rerun resumes (``generate``'s Ctrl-C is in test_corpus.py);
- a full disk, simulated with ``RLIMIT_FSIZE`` (``SIGXFSZ`` ignored, so writes fail with
  EFBIG) set between shard sizes so that it strikes mid-run: exit 1 with one line naming the
  file being written and saying it is too large, no temporary file, no partial shard, no
  manifest; the rerun without the limit is byte-identical to an uninterrupted run. The
  Python writers' failure paths (a buffered write, the final flush, the close in an abort)
  are also checked one by one, in this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _helpers import REPO

from hyperword.verify import verify

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals, rlimits and /proc")

spm = pytest.importorskip("sentencepiece")

# 30 shards each: enough moments to kill at, a few seconds of work in all. (Aligned token
# shards of 50k words are ~0.6 MB: a full disk strikes when the Rust writer flushes its buffer.)
GENERATE = [
    "generate",
    "--words",
    "1500k",
    "--shard-words",
    "50k",
    "--batch-words",
    "10k",
    "--langs",
    "en,ru,es",
    "--seed",
    "7",
    "--threads",
    "2",
    "--no-progress",
]
DOCS, SHARD_DOCS = 60_000, 2_000
WORDS = "water fire sun tree heart hand вода огонь солнце дерево сердце agua fuego sol árbol corazón".split()
ENV = dict(os.environ, PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
EFBIG_TEXT = os.strerror(27)  # "File too large"


# --- running the command line ---------------------------------------------------------------------


def _argv(args: list[Any]) -> list[str]:
    return [sys.executable, "-m", "hyperword", *(str(a) for a in args)]


def hw(*args: Any, preexec_fn: Callable[[], None] | None = None, timeout: float = 180) -> tuple[int, str, str]:
    """``python -m hyperword ARGS`` to completion: (returncode, stdout, stderr)."""
    p = subprocess.run(
        _argv(list(args)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        cwd=REPO,
        env=ENV,
        preexec_fn=preexec_fn,
    )
    return p.returncode, p.stdout, p.stderr


def start(args: list[Any]) -> subprocess.Popen[str]:
    """``python -m hyperword ARGS`` in the background, leading its own process group (so that
    its worker processes can be found, and signalled as a terminal's Ctrl-C signals them)."""
    return subprocess.Popen(
        _argv(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=REPO,
        env=ENV,
        start_new_session=True,
    )


def group_alive(pgid: int) -> list[str]:
    """The processes of group ``pgid`` still alive (zombies excluded), as ``PID STATE``."""
    alive = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(f"{d.name} {fields[0]}")
    return alive


def wait_group_gone(pgid: int, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while (alive := group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive


def stop_group(proc: subprocess.Popen[str]) -> None:
    """Whatever the test did: nothing of this process group outlives it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=30)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def wait_until(proc: subprocess.Popen[str], ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}: {out!r} {err!r}")
        assert time.monotonic() < deadline, f"not {what} after {timeout} s"
        time.sleep(0.001)


def full_disk(limit: int) -> Callable[[], None]:
    """A ``preexec_fn``: no file of the child may grow past ``limit`` bytes (writes fail with
    EFBIG, as on a full disk, instead of SIGXFSZ killing the process)."""

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_file_size


# --- looking at output directories ----------------------------------------------------------------


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden ones and subdirectories too): path -> bytes."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def assert_identical(out: Path, reference: Path) -> None:
    got, want = tree(out), tree(reference)
    assert sorted(got) == sorted(want), "the files differ from an uninterrupted run's"
    different = [name for name in want if got[name] != want[name]]
    assert not different, f"differ from an uninterrupted run: {different}"
    report = verify(out)
    assert report.ok, [str(p) for p in report.problems]


def temporaries(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.tmp"))


def assert_no_partial_shard(out: Path, reference: Path, *, finished: bool = False) -> None:
    """Every visible file is a complete shard file equal to the reference's; no manifest,
    unless ``finished`` may be (a run killed after writing it): then it is the reference's."""
    assert finished or not (out / "manifest.json").exists()
    for p in out.iterdir():
        if p.is_file() and not p.name.startswith("."):
            assert p.name in ref_files(reference), f"{p.name}: not a file of the finished output"
            assert p.read_bytes() == (reference / p.name).read_bytes(), (
                f"{p.name} left visible differs from an uninterrupted run's"
            )


def ref_files(reference: Path) -> set[str]:
    return {p.name for p in reference.iterdir()}


def shard_sizes(reference: Path) -> list[int]:
    """Each shard's largest file, from the reference manifest."""
    m = json.loads((reference / "manifest.json").read_text(encoding="utf-8"))
    return [s["bytes"] if "bytes" in s else max(s["tokens_bytes"], s["docs_bytes"]) for s in m["shards"]]


def recorded_files(out: Path) -> dict[str, int]:
    """The shard files the run state records as finished, with their inode numbers."""
    files = {}
    state = out / ".hyperword"
    for record in state.glob("[!.]*.json") if state.is_dir() else []:
        if record.name == "run.json":
            continue
        info = json.loads(record.read_bytes())
        for key in ("path", "tokens_path", "docs_path"):
            if key in info:
                files[info[key]] = (out / info[key]).stat().st_ino
    return files


# --- the inputs and the uninterrupted runs --------------------------------------------------------


class Kind:
    """One command under test: its arguments (without ``--out``), its uninterrupted output,
    the glob of its shard files, its shard count."""

    def __init__(self, name: str, args: list[Any], reference: Path, shard_glob: str) -> None:
        self.name, self.args, self.reference, self.shard_glob = name, args, reference, shard_glob
        self.shards = len(json.loads((reference / "manifest.json").read_text(encoding="utf-8"))["shards"])

    def finished(self, out: Path) -> int:
        return len(list(out.glob(self.shard_glob)))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


def _reference(base: Path, name: str, args: list[Any], shard_glob: str) -> Kind:
    out = base / f"{name}-reference"
    rc, _, err = hw(*args, "--out", out)
    assert rc == 0, err
    return Kind(name, args, out, shard_glob)


@pytest.fixture(scope="module")
def generate_kind(base: Path) -> Kind:
    """A mnemophrase corpus from the shipped lexicon (``encode --mode aligned`` needs one)."""
    return _reference(base, "generate", GENERATE, "shard-*.arrow")


@pytest.fixture(scope="module")
def ingest_kind(base: Path) -> Kind:
    """60k documents of growing length (2 to 41 words), so that later shards are larger."""
    rng = random.Random(6)
    src = base / "docs.txt"
    with open(src, "w", encoding="utf-8") as f:
        for i in range(DOCS):
            f.write(" ".join(rng.choice(WORDS) for _ in range(2 + i // 1500)) + "\n")
    return _reference(base, "ingest", ["ingest", src, "--shard-docs", SHARD_DOCS, "--no-progress"], "shard-*.arrow")


@pytest.fixture(scope="module")
def tokenizer(base: Path, generate_kind: Kind) -> Path:
    from hyperword.tokenizer import TrainOptions, train_tokenizer

    train_tokenizer(
        [str(generate_kind.reference)], base / "tok", options=TrainOptions(vocab_size=400, max_sentences=3000, seed=1)
    )
    return base / "tok"


@pytest.fixture(scope="module")
def encode_kind(base: Path, tokenizer: Path, ingest_kind: Kind) -> Kind:
    """Token shards of the ingested corpus (growing too), two worker processes."""
    args = ["encode", "--tokenizer", tokenizer, "--corpus", ingest_kind.reference, "--threads", 2]
    return _reference(base, "encode", args, "tokens-*.npy")


@pytest.fixture(scope="module")
def aligned_kind(base: Path, tokenizer: Path, generate_kind: Kind) -> Kind:
    args = [
        "encode",
        "--mode",
        "aligned",
        "--tokenizer",
        tokenizer,
        "--corpus",
        generate_kind.reference,
        "--threads",
        2,
    ]
    return _reference(base, "aligned", args, "tokens-*.npy")


#: every command under test (the aligned encoder is slow: its cases are marked so)
KINDS = ["generate", "ingest", "encode", pytest.param("aligned", marks=pytest.mark.slow)]


@pytest.fixture
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.getfixturevalue(f"{request.param}_kind")  # type: ignore[no-any-return]


# --- kill -9 --------------------------------------------------------------------------------------


def kill_points(kind: Kind, seed: int) -> Iterator[tuple[str, int]]:
    """Right at start (the run state written), then after 1, about half, and nearly all the
    shards; each point's exact moment shifted by a seeded random delay of up to 5 ms."""
    rng = random.Random(seed)
    n = kind.shards
    yield "start", 0
    for finished in (1, rng.randint(n // 3, 2 * n // 3), rng.randint(n - 7, n - 5)):
        yield f"{finished} shards", finished


@pytest.mark.parametrize(
    "kind",
    KINDS,
    indirect=True,
)
def test_kill_9_at_any_moment_then_the_rerun_is_byte_identical(tmp_path: Path, kind: Kind) -> None:
    out = tmp_path / "out"
    args = [*kind.args, "--out", out]
    rng = random.Random(f"kill-{kind.name}")
    kept: dict[str, int] = {}  # shard files recorded at some kill, with their inodes
    for what, finished in kill_points(kind, seed=rng.randrange(1 << 30)):
        proc = start(args)
        try:
            if what == "start":
                wait_until(proc, lambda: (out / ".hyperword" / "run.json").exists(), "the run state was written")
            else:
                wait_until(proc, lambda n=finished: kind.finished(out) >= n, f"{finished} shards were finished")
            time.sleep(rng.uniform(0, 0.005))
            proc.kill()
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL, f"{kind.name} finished before the kill at {what}"
            # Worker processes of an encode notice that their parent is gone and end.
            assert not wait_group_gone(proc.pid, timeout=10), f"processes left after kill -9 at {what}"
        finally:
            stop_group(proc)
        assert_no_partial_shard(out, kind.reference, finished=True)
        now = recorded_files(out)
        for name, inode in kept.items():  # what a killed rerun had kept is still the same file
            assert now.get(name) == inode, f"{name}, finished before an earlier kill, was rewritten (at {what})"
        kept.update(now)
    assert kept, "no shard was recorded before the last kill"

    rc, stdout, err = hw(*args)
    assert rc == 0, err
    assert re.search(r"kept|resumed", stdout), stdout
    assert_identical(out, kind.reference)
    for name, inode in kept.items():
        assert (out / name).stat().st_ino == inode, f"{name}, finished before a kill, was rewritten by the rerun"


@pytest.mark.parametrize("moment", ["writing the manifest", "manifest renamed, run state not yet removed"])
@pytest.mark.parametrize("kind", ["generate", "ingest", "encode"], indirect=True)
def test_killed_while_finishing_then_the_rerun_is_byte_identical(tmp_path: Path, kind: Kind, moment: str) -> None:
    """The last moments of a run, too narrow to hit with a timed kill, made on disk: every
    shard finished and recorded, and the manifest half written (``.manifest.json.tmp``), or
    renamed into place with the run state still there."""
    out = tmp_path / "out"
    shutil.copytree(kind.reference, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    state = out / ".hyperword"
    state.mkdir()
    (state / "run.json").write_text(
        json.dumps({"fingerprint": manifest["fingerprint"]}, separators=(",", ":")), encoding="utf-8"
    )
    for s in manifest["shards"]:
        name = s.get("path") or s["tokens_path"]
        (state / f"{name}.json").write_text(json.dumps(s, separators=(",", ":")), encoding="utf-8")
    if moment == "writing the manifest":
        text = (out / "manifest.json").read_bytes()
        (out / "manifest.json").unlink()
        (out / ".manifest.json.tmp").write_bytes(text[: len(text) // 2])
    inodes = {p.name: p.stat().st_ino for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}

    rc, stdout, err = hw(*kind.args, "--out", out)
    assert rc == 0, err
    assert_identical(out, kind.reference)
    for name, inode in inodes.items():
        if name != "manifest.json":
            assert (out / name).stat().st_ino == inode, f"{name} was rewritten though it was finished and recorded"


# --- Ctrl-C ---------------------------------------------------------------------------------------


def _interrupt(kind: Kind, out: Path, *, group: bool, after: int) -> tuple[str, str, float]:
    """Start ``kind``'s command into ``out``, SIGINT it once ``after`` shards are finished (0:
    just after the run state is written, while an encode's workers are starting); returns
    (stdout, stderr, seconds from the signal to the exit) once its processes are gone."""
    proc = start([*kind.args, "--out", out])
    try:
        if after:
            wait_until(proc, lambda: kind.finished(out) >= after, f"{after} shards were finished")
        else:
            wait_until(proc, lambda: (out / ".hyperword" / "run.json").exists(), "the run state was written")
            time.sleep(0.1)
        sent = time.monotonic()
        if group:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        else:
            proc.send_signal(signal.SIGINT)  # kill -INT PID
        stdout, stderr = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
        assert proc.returncode == 130, (proc.returncode, stderr)
        alive = wait_group_gone(proc.pid, timeout=2)
        assert not alive, f"processes left after Ctrl-C: {alive}"
    finally:
        stop_group(proc)
    return stdout, stderr, elapsed


@pytest.mark.parametrize(
    ("kind", "group", "after"),
    [
        ("ingest", True, 3),
        ("encode", True, 3),
        pytest.param("encode", True, 0, marks=pytest.mark.slow),
        pytest.param("encode", False, 3, marks=pytest.mark.slow),
    ],
    ids=["ingest", "encode-terminal", "encode-terminal-while-workers-start", "encode-main-process"],
    indirect=["kind"],
)
def test_ctrl_c_stops_within_a_second_cleanly_and_the_rerun_resumes(
    tmp_path: Path, kind: Kind, group: bool, after: int
) -> None:
    out = tmp_path / "out"
    stdout, stderr, elapsed = _interrupt(kind, out, group=group, after=after)
    assert "Traceback" not in stderr, stderr
    assert stderr.splitlines() == ["hyperword: interrupted"], stderr
    # (while workers start, stopping waits for them to finish importing: a little longer)
    assert elapsed < (1.5 if after else 2.5), f"took {elapsed:.2f} s to stop"
    assert not temporaries(out), temporaries(out)
    assert_no_partial_shard(out, kind.reference)
    finished = recorded_files(out)
    assert finished or not after, "no finished shard recorded"
    assert kind.finished(out) < kind.shards, "the run was not interrupted"

    rc, stdout, err = hw(*kind.args, "--out", out)
    assert rc == 0, err
    if after:
        assert re.search(r"kept", stdout), stdout
    assert_identical(out, kind.reference)
    for name, inode in finished.items():
        assert (out / name).stat().st_ino == inode, f"{name} was rewritten by the rerun"


# --- a full disk ----------------------------------------------------------------------------------


def limit_mid_run(sizes: list[int]) -> tuple[int, int]:
    """A file-size limit that the shards before some shard ``j`` fit and shard ``j`` does not:
    (limit, j), ``j`` as near a third of the way as the sizes allow."""
    candidates = [j for j in range(1, len(sizes)) if sizes[j] > max(sizes[:j])]
    assert candidates, f"no shard is larger than all before it: {sizes}"
    j = min(candidates, key=lambda j: abs(j - len(sizes) // 3))
    return max(sizes[:j]), j


SHARD_NAME = {
    "generate": r"shard-\d{5}\.arrow",
    "ingest": r"shard-\d{5}\.arrow",
    "encode": r"(tokens|docs)-\d{5}\.npy",
    "aligned": r"(tokens|docs)-\d{5}\.npy",
}


@pytest.mark.parametrize(
    "kind",
    KINDS,
    indirect=True,
)
def test_a_full_disk_fails_in_one_line_leaves_no_partial_shard_and_the_rerun_completes(
    tmp_path: Path, kind: Kind
) -> None:
    out = tmp_path / "out"
    limit, j = limit_mid_run(shard_sizes(kind.reference))
    rc, stdout, stderr = hw(*kind.args, "--out", out, preexec_fn=full_disk(limit))
    assert rc == 1, (rc, stdout, stderr)
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    # names the file being written (the shard, not a hidden temporary) and says what is wrong
    assert lines[0].startswith("hyperword: error: "), lines[0]
    assert EFBIG_TEXT in lines[0], lines[0]
    assert re.search(rf"{re.escape(str(out))}/{SHARD_NAME[kind.name]}\b(?!\.tmp)", lines[0]), lines[0]
    assert not temporaries(out), temporaries(out)
    assert_no_partial_shard(out, kind.reference)
    assert kind.finished(out) >= 1, "the limit struck before any shard was written"
    assert kind.finished(out) < kind.shards, f"nothing failed with a limit of {limit} bytes (shard {j})"

    rc, stdout, err = hw(*kind.args, "--out", out)
    assert rc == 0, err
    assert re.search(r"kept|resumed", stdout), stdout
    assert_identical(out, kind.reference)


# --- the writers' own failure paths ---------------------------------------------------------------


@contextlib.contextmanager
def small_file_limit() -> Iterator[int]:
    """No file of this process may grow past 4096 bytes (EFBIG: Python ignores SIGXFSZ), inside
    the ``with`` block only: pytest reports the test's outcome (to a log file that may already
    be larger) before fixtures are torn down, so a fixture would be too late to lift it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    limit = 4096
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield limit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_failed_write_names_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    """What the manifest, the run-state records and token files go through when the disk is
    full, whichever write fails: the buffered one, the flush at the end, or the close in abort."""
    import numpy as np

    from hyperword.formats.atomic import write_atomic
    from hyperword.formats.tokens import NpyWriter

    with small_file_limit() as limit:
        manifest = tmp_path / "manifest.json"
        with pytest.raises(OSError, match=rf"^\[Errno 27\] {re.escape(str(manifest))}: {EFBIG_TEXT}$"):
            write_atomic(manifest, b"{}" * limit)
        assert not list(tmp_path.iterdir())

        small = np.arange(1500, dtype="<u2")  # 3000 bytes: buffered, written when the buffer fills
        tokens = tmp_path / "tokens-00000.npy"
        w = NpyWriter(tokens, np.dtype("<u2"))
        with pytest.raises(OSError, match=rf"^\[Errno 27\] {re.escape(str(tokens))}: {EFBIG_TEXT}$"):
            for _ in range(10):
                w.write(small)  # the flush of a full buffer goes past the limit
        w.abort()  # closing flushes what is still buffered, which fails again: not raised
        assert not list(tmp_path.iterdir())

        w = NpyWriter(tokens, np.dtype("<u2"))
        w.write(small)
        w.write(small[:600])  # 4328 bytes with the header, all still in the buffer
        with pytest.raises(OSError, match=rf"^\[Errno 27\] {re.escape(str(tokens))}: {EFBIG_TEXT}$"):
            w.finish()  # flushed only now
        assert not list(tmp_path.iterdir())
