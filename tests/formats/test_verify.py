"""``hyperword verify``: every kind of damage to a corpus or token directory is named, file by
file, with a non-zero exit; intact directories pass."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import hyperword
from hyperword.cli import main
from hyperword.encode import encode
from hyperword.tokenizer import TrainOptions, train_tokenizer
from hyperword.verify import verify


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("verify")
    hyperword.generate(base / "corpus", 9_000, langs="en,ru", shard_words=3_000, seed=4)
    parquet = base / "parquet"
    hyperword.generate(parquet, 6_000, langs="en", shard_words=3_000, seed=4, format="parquet")
    train_tokenizer([str(base / "corpus")], base / "tok", options=TrainOptions(vocab_size=500, max_sentences=2000))
    encode(base / "tok", base / "corpus", base / "tokens", threads=1)
    return base / "corpus", parquet, base / "tokens"


def damaged(src: Path, tmp_path: Path) -> Path:
    out = tmp_path / src.name
    shutil.copytree(src, out)
    return out


def test_intact_directories_pass(dirs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    for d in dirs:
        report = verify(d)
        assert report.ok, report.problems
        assert report.shards >= 2
    assert main(["verify", *map(str, dirs)]) == 0
    assert capsys.readouterr().out.count("ok ") == 3


def test_corpus_damage_is_named_file_by_file(
    dirs: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = damaged(dirs[0], tmp_path)
    shards = sorted(d.glob("shard-*.arrow"))
    with open(shards[0], "r+b") as f:
        f.truncate(shards[0].stat().st_size // 2)
    data = bytearray(shards[1].read_bytes())
    data[len(data) // 2] ^= 0x55
    shards[1].write_bytes(bytes(data))
    shards[2].unlink()
    shutil.copy(dirs[0] / "shard-00000.arrow", d / "shard-00007.arrow")
    (d / ".shard-00003.arrow.123.tmp").write_bytes(b"half")
    reasons = {p.path.name: p.reason for p in verify(d).problems}
    assert "truncated" in reasons["shard-00000.arrow"]
    assert "corrupted" in reasons["shard-00001.arrow"]
    assert reasons["shard-00002.arrow"] == "missing"
    assert "extra file" in reasons["shard-00007.arrow"]
    assert "temporary" in reasons[".shard-00003.arrow.123.tmp"]
    assert len(reasons) == 5
    assert main(["verify", str(d)]) == 1
    err = capsys.readouterr().err
    assert all(name in err for name in reasons)


def test_a_shard_whose_checksum_matches_but_pyarrow_cannot_read_is_caught(
    dirs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    for src in dirs[:2]:
        d = damaged(src, tmp_path / src.name)
        m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        s = m["shards"][0]
        garbage = b"not an arrow or parquet file" * 100
        (d / s["path"]).write_bytes(garbage)
        s["bytes"], s["sha256"] = len(garbage), hashlib.sha256(garbage).hexdigest()
        m["totals"]["bytes"] = sum(x["bytes"] for x in m["shards"])
        (d / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
        [problem] = verify(d).problems
        assert problem.path.name == s["path"] and "not readable by pyarrow" in problem.reason


def test_row_counts_and_totals_are_checked(dirs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    d = damaged(dirs[0], tmp_path)
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    m["shards"][1]["rows"] += 1
    m["totals"]["words"] += 5
    (d / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    reasons = [str(p) for p in verify(d).problems]
    assert len(reasons) == 3, reasons
    assert any("shard-00001.arrow" in r and "rows, the manifest says" in r for r in reasons)
    assert any("totals.words" in r for r in reasons) and any("totals.rows" in r for r in reasons)


def test_token_shard_damage_is_named(dirs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    d = damaged(dirs[2], tmp_path)
    with open(d / "tokens-00000.npy", "r+b") as f:
        f.truncate(200)
    (d / "docs-00001.npy").unlink()
    (d / "tokens-00005.npy").write_bytes(b"")
    (d / ".hyperword").mkdir()
    reasons = {p.path.name: p.reason for p in verify(d).problems}
    assert "truncated" in reasons["tokens-00000.npy"]
    assert reasons["docs-00001.npy"] == "missing"
    assert "extra file" in reasons["tokens-00005.npy"]
    assert "unfinished run" in reasons[".hyperword"]


def test_not_a_hyperword_directory(tmp_path: Path) -> None:
    assert verify(tmp_path / "nope").problems[0].reason == "no such directory"
    assert "missing" in verify(tmp_path).problems[0].reason
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    assert "not a hyperword manifest" in verify(tmp_path).problems[0].reason
