"""The one directory run (``hyperword.formats.run``) on both folders it serves: a local directory
(fsync, the output lock) and a pyarrow filesystem (the Ray engine's output), without Ray.

The same run, written through either folder, leaves the same files; a rerun keeps what is
intact, rewrites what is not, refuses another run's output, and ``force`` removes only the
files of its own kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from hyperword.errors import OutputExistsError
from hyperword.formats.corpus import CorpusRun, GeneratedCorpusRun, ShardOptions
from hyperword.formats.run import STATE_DIR, ArrowFolder, Folder, LocalFolder, own_file_pattern

SCHEMA = pa.schema([("text", pa.string())])
Make = Callable[[Path], Folder]
FOLDERS: dict[str, Make] = {
    "local": LocalFolder,
    "arrow": lambda p: ArrowFolder(pafs.LocalFileSystem(), str(p)),
}


def files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def write(run: CorpusRun, shards: int, skip: int | None = None) -> None:
    """Shards ``0..shards`` (``skip``: stop before writing that one, as a killed run does)."""
    for i in range(shards):
        if i == skip:
            return
        if run.kept(i) is None:
            texts = [f"document {i} {j}" for j in range(3)]
            batch = pa.RecordBatch.from_arrays([pa.array(texts)], schema=SCHEMA)
            with run.open_shard(i, SCHEMA, ShardOptions()) as w:
                w.write(batch, 3 * len(texts), sum(map(len, texts)))
                run.record(w.finish())


def complete(make: Make, d: Path, fp: str = "a" * 64, *, force: bool = False, shards: int = 3) -> CorpusRun:
    run = CorpusRun.check(make(d), fp, force=force)
    if run.complete is None:
        run.begin()
        write(run, shards)
        run.finish(run.manifest(kind="natural", config={"n": shards}))
    return run


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_a_run_is_the_same_through_either_folder(tmp_path: Path, folder: str) -> None:
    complete(LocalFolder, tmp_path / "reference")
    complete(FOLDERS[folder], tmp_path / "out")
    assert files(tmp_path / "out") == files(tmp_path / "reference")
    again = CorpusRun.check(FOLDERS[folder](tmp_path / "out"), "a" * 64)
    assert again.complete is not None
    m = again.finish()
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (0, 3)


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_an_unfinished_run_resumes_keeping_what_is_intact(tmp_path: Path, folder: str) -> None:
    make, d = FOLDERS[folder], tmp_path / "out"
    complete(LocalFolder, tmp_path / "reference")
    run = CorpusRun.check(make(d), "a" * 64)
    run.begin()
    write(run, 3, skip=2)  # killed before shard 2
    run.remove_temporaries()
    assert sorted(p.name for p in (d / STATE_DIR).iterdir()) == [
        "run.json",
        "shard-00000.arrow.json",
        "shard-00001.arrow.json",
    ]
    (d / "shard-00001.arrow").write_bytes(b"damaged")
    (d / ".shard-00002.arrow.tmp").write_bytes(b"left by a killed writer")
    with pytest.raises(OutputExistsError, match="unfinished corpus with a different configuration or input"):
        CorpusRun.check(make(d), "b" * 64)
    rerun = CorpusRun.check(make(d), "a" * 64)
    rerun.begin()
    write(rerun, 3)
    m = rerun.finish(rerun.manifest(kind="natural", config={"n": 3}))
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (2, 1)
    assert files(d) == files(tmp_path / "reference")


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_another_output_is_refused_and_force_removes_only_its_own_files(tmp_path: Path, folder: str) -> None:
    make, d = FOLDERS[folder], tmp_path / "out"
    complete(make, d)
    with pytest.raises(OutputExistsError, match="complete corpus with a different configuration or input"):
        CorpusRun.check(make(d), "b" * 64)
    with pytest.raises(OutputExistsError, match="complete corpus with a different configuration or lexicon"):
        GeneratedCorpusRun.check(make(d), "b" * 64)
    (d / "notes.txt").write_text("mine", encoding="utf-8")
    complete(make, d, "b" * 64, force=True, shards=1)
    assert sorted(p.name for p in d.iterdir()) == ["manifest.json", "notes.txt", "shard-00000.arrow"]
    assert json.loads((d / "manifest.json").read_text(encoding="utf-8"))["fingerprint"] == "b" * 64
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "x").write_text("x", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="is not empty and holds no hyperword corpus"):
        CorpusRun.check(make(foreign), "a" * 64)


def test_the_state_left_by_a_run_killed_while_finishing_is_removed(tmp_path: Path) -> None:
    d = tmp_path / "out"
    complete(LocalFolder, d)
    (d / STATE_DIR).mkdir()
    (d / STATE_DIR / "run.json").write_text(json.dumps({"fingerprint": "a" * 64}), encoding="utf-8")
    run = CorpusRun.check(d, "a" * 64)
    assert run.complete is not None
    run.finish()
    assert not (d / STATE_DIR).exists()


def test_the_file_patterns_of_verify() -> None:
    pattern = own_file_pattern(r"shard-\d+\.(arrow|parquet)", r"tokens-\d+\.npy")
    for name in ("shard-00000.arrow", ".shard-00001.parquet.tmp", ".shard-00002.arrow.ray.tmp", "tokens-00003.npy"):
        assert pattern.match(name), name
    for name in ("shard-x.arrow", "manifest.json", "notes.txt", "docs-00000.npy"):
        assert not pattern.match(name), name
