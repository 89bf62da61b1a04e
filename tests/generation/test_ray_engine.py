"""``generate(engine="ray")``: shards as Ray tasks on a local Ray instance started here
(``ray.init(num_cpus=2)``), written through pyarrow's filesystem layer; the corpus is
byte-identical to local generation, resumes a local run's state and is resumed by it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import hyperword
from hyperword import OutputExistsError
from hyperword.cli import main
from hyperword.verify import verify

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow

KW = dict(langs="en,ru,es", shard_words=20_000, batch_words=5_000, seed=9, columns="text,words")


def files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_corpus_is_byte_identical_to_local(cluster: None, tmp_path: Path) -> None:
    local = hyperword.generate(tmp_path / "local", 100_000, threads=2, **KW)
    on_ray = hyperword.generate(tmp_path / "ray", 100_000, engine="ray", **KW)
    assert on_ray.run is not None and (on_ray.run.generated_shards, on_ray.run.reused_shards) == (5, 0)
    assert files(tmp_path / "ray") == files(tmp_path / "local")
    assert on_ray.fingerprint == local.fingerprint
    again = hyperword.generate(tmp_path / "ray", 100_000, engine="ray", **KW)
    assert again.run is not None and again.run.generated_shards == 0


def test_through_a_filesystem_uri_with_a_lexicon_file(cluster: None, tmp_path: Path, lexicon_path: Path) -> None:
    kw = dict(KW, langs=None, lexicon=lexicon_path)
    hyperword.generate(tmp_path / "local", 50_000, **kw)
    hyperword.generate(f"file://{tmp_path / 'uri'}", 50_000, engine="ray", **kw)
    assert files(tmp_path / "uri") == files(tmp_path / "local")


def test_resume_across_engines(cluster: None, tmp_path: Path) -> None:
    hyperword.generate(tmp_path / "reference", 100_000, **KW)
    # An unfinished local run (its manifest gone, its state back, two shards lost) resumed on Ray ...
    d = tmp_path / "mixed"
    shutil.copytree(tmp_path / "reference", d)
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    (d / "manifest.json").unlink()
    (d / ".hyperword").mkdir()
    (d / ".hyperword" / "run.json").write_text(
        json.dumps({"fingerprint": manifest["fingerprint"]}, separators=(",", ":"))
    )
    for s in manifest["shards"]:
        (d / ".hyperword" / f"{s['path']}.json").write_text(json.dumps(s, separators=(",", ":")))
    (d / "shard-00001.arrow").unlink()
    (d / "shard-00003.arrow").write_bytes(b"damaged")
    m = hyperword.generate(d, 100_000, engine="ray", **KW)
    assert m.run is not None and (m.run.generated_shards, m.run.reused_shards) == (2, 3)
    assert files(d) == files(tmp_path / "reference")
    # ... and a finished Ray corpus is confirmed by the local engine.
    local = hyperword.generate(d, 100_000, **KW)
    assert local.run is not None and local.run.generated_shards == 0


def test_another_corpus_is_refused_without_force(cluster: None, tmp_path: Path) -> None:
    hyperword.generate(tmp_path / "c", 40_000, engine="ray", **KW)
    with pytest.raises(OutputExistsError, match="different configuration"):
        hyperword.generate(tmp_path / "c", 40_000, engine="ray", **dict(KW, seed=10))
    m = hyperword.generate(tmp_path / "c", 40_000, engine="ray", force=True, **dict(KW, seed=10))
    assert m.seed == 10 and verify(tmp_path / "c").ok


def test_cli_engine_ray(cluster: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["generate", "--words", "40k", "--shard-words", "20k", "--langs", "en", "--seed", "1", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "a"), "--engine", "ray"]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert files(tmp_path / "a") == files(tmp_path / "b")
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--out", str(tmp_path / "c"), "--engine", "spark"])
    assert exit_info.value.code == 2 and "invalid choice: 'spark'" in capsys.readouterr().err
    with pytest.raises(hyperword.ConfigError, match="unknown engine"):
        hyperword.generate(tmp_path / "d", 1000, engine="spark")
