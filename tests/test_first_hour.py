"""The mistakes a new user makes (issue 13): what the command line and the API say back, the
output directory's lock, and manifests that name files outside their directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hyperword
from hyperword import _hyperword

from _helpers import REPO, dir_bytes

# --- usage errors --------------------------------------------------------------------------------


def test_a_misspelt_flag_names_the_closest_one_before_complaining_of_a_required_flag(tmp_path: Path, run_cli: Any) -> None:
    rc, out, err = run_cli("generate", "--wrods", "1M", "--out", tmp_path / "o")
    assert rc == 2 and out == ""
    assert err == "hyperword generate: error: unrecognized arguments: --wrods (did you mean --words?) (see hyperword generate --help)\n"
    assert not (tmp_path / "o").exists()


def test_abbreviations_are_refused_and_point_at_the_full_flag(tmp_path: Path, run_cli: Any) -> None:
    rc, _, err = run_cli("generate", "--words", "1k", "--out", tmp_path / "o", "--thread", "2")
    assert rc == 2
    assert "--thread (did you mean --threads?)" in err and "(see hyperword generate --help)" in err
    assert not (tmp_path / "o").exists()
    rc, _, err = run_cli("generate", "--words", "1k", "--out=" + str(tmp_path / "o"), "--seed=3", "--thread=2")
    assert rc == 2 and "--thread=2 (did you mean --threads?)" in err


def test_unknown_flags_of_nested_commands_point_at_their_own_help(tmp_path: Path, run_cli: Any) -> None:
    rc, _, err = run_cli("lexicon", "import", "x.csv", "--out", tmp_path / "o.tsv", "--colum", "word=w")
    assert rc == 2
    assert "--colum (did you mean --column?)" in err and "(see hyperword lexicon import --help)" in err
    rc, _, err = run_cli("tokenizer", "train", "--corpus", "c", "--out", "t", "--vocab", "10")
    assert rc == 2 and "(see hyperword tokenizer train --help)" in err and "did you mean --vocab-size?" in err
    # a flag far from every known one is named alone
    rc, _, err = run_cli("inspect", "somewhere", "--zzzzzz")
    assert rc == 2 and "unrecognized arguments: --zzzzzz (see hyperword inspect --help)" in err


def test_a_missing_input_file_reads_the_same_in_every_command(tmp_path: Path, run_cli: Any) -> None:
    missing = tmp_path / "missing.txt"
    commands = [
        ("generate", "--words", "1k", "--out", tmp_path / "g", "--lexicon", missing, "--lexicon-lang", "ru"),
        ("sample", "-n", "1", "--lexicon", missing, "--lexicon-lang", "ru"),
        ("ingest", missing, "--out", tmp_path / "i"),
        ("lexicon", "import", missing, "--lang", "ru", "--out", tmp_path / "l.tsv"),
        ("lexicon", "info", missing),
    ]
    for args in commands:
        rc, _, err = run_cli(*args)
        assert rc == 1, (args, err)
        assert err == f"hyperword: error: {missing}: no such file\n", (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_error_line_gives_every_os_error_one_style() -> None:
    from hyperword.cli import error_line

    assert error_line(FileNotFoundError(2, "No such file or directory", "x.txt")) == "x.txt: no such file"
    assert error_line(PermissionError(13, "Permission denied", "y")) == "y: Permission denied"
    assert error_line(OSError(28, "out/shard-00000.arrow: No space left on device")) == "out/shard-00000.arrow: No space left on device"
    assert error_line(hyperword.ConfigError("bad")) == "bad"


def test_rust_raises_file_not_found_with_its_filename(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as e:
        hyperword.Lexicon.load(tmp_path / "nope.tsv")
    assert e.value.filename == str(tmp_path / "nope.tsv")


# --- the Python API ------------------------------------------------------------------------------


def test_generate_and_stream_take_the_cli_count_strings(tmp_path: Path, lexicon_path: Path) -> None:
    a = hyperword.generate(tmp_path / "a", "10k", lexicon=lexicon_path, shard_words="4k")
    b = hyperword.generate(tmp_path / "b", 10_000, lexicon=lexicon_path, shard_words=4_000)
    assert a.config["words"] == 10_000 and len(a.shards) == 3
    assert dir_bytes(tmp_path / "a") == dir_bytes(tmp_path / "b")
    assert sum(batch.num_rows for batch in hyperword.stream("2.5k", lexicon=lexicon_path)) > 0
    with pytest.raises(hyperword.ConfigError, match="invalid count 'lots'"):
        hyperword.generate(tmp_path / "c", "lots", lexicon=lexicon_path)
    assert not (tmp_path / "c").exists()


def test_documented_submodules_are_reachable_from_the_package_without_importing_torch() -> None:
    code = (
        "import sys, hyperword\n"
        "assert 'torch' not in sys.modules and 'hyperword.lexicon' not in sys.modules\n"
        "assert callable(hyperword.lexicon.check_lexicon) and callable(hyperword.lexicon.import_lexicon)\n"
        "assert callable(hyperword.verify.verify) and callable(hyperword.ingest.ingest_all)\n"
        "assert 'torch' not in sys.modules\n"
        "try:\n    hyperword.nonesuch\nexcept AttributeError as e:\n    print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "module 'hyperword' has no attribute 'nonesuch'\n"


def test_token_dataset_on_a_missing_directory_is_file_not_found(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from hyperword.torch import TokenDataset

    with pytest.raises(FileNotFoundError) as e:
        TokenDataset({"a": tmp_path / "absent"}, seq_len=8, batch_size=2)
    assert e.value.filename == str(tmp_path / "absent")


# --- one writer per output directory -------------------------------------------------------------

_HOLD = "import sys, time, hyperword._hyperword as h\nlock = h.lock_output(sys.argv[1])\nprint('held', flush=True)\ntime.sleep(600)\n"


def _holder(directory: Path) -> subprocess.Popen[str]:
    """A process holding the lock of ``directory`` until killed."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(directory)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_a_second_writer_is_told_who_holds_the_directory_and_force_does_not_override(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    out = tmp_path / "out"
    holder = _holder(out)
    try:
        for force in ((), ("--force",)):
            rc, stdout, err = run_cli("generate", "--words", "2k", "--out", out, "--lexicon", lexicon_path, *force)
            assert rc == 2 and stdout == ""
            assert err.startswith(f"hyperword: error: {out} is being written by process {holder.pid} (started 20"), err
            assert err.count("\n") == 1 and " UTC)" in err
        src = tmp_path / "en.txt"
        src.write_text("one document\nanother one\n", encoding="utf-8")
        rc, _, err = run_cli("ingest", src, "--out", out, "--force")
        assert rc == 2 and f"is being written by process {holder.pid}" in err
        with pytest.raises(hyperword.OutputLockedError, match=f"process {holder.pid}"):
            hyperword.generate(out, 2_000, lexicon=lexicon_path)
        assert sorted(p.name for p in out.iterdir()) == [".hyperword.lock"]  # nothing of theirs written
    finally:
        _kill(holder)
    # The lock a killed process left is taken over; a finished run leaves no lock behind.
    rc, _, err = run_cli("generate", "--words", "2k", "--out", out, "--lexicon", lexicon_path)
    assert rc == 0, err
    assert not (out / ".hyperword.lock").exists()
    assert hyperword.verify.verify(out).ok


def test_a_lock_left_by_a_killed_process_is_taken_over_by_ingest(tmp_path: Path, run_cli: Any) -> None:
    out = tmp_path / "nat"
    _kill(_holder(out))
    assert (out / ".hyperword.lock").exists()
    src = tmp_path / "en.txt"
    src.write_text("one document\nanother one\n", encoding="utf-8")
    rc, _, err = run_cli("ingest", src, "--out", out, "--lang", "en")
    assert rc == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "shard-00000.arrow"]


def test_the_lock_is_released_when_a_python_run_fails(tmp_path: Path) -> None:
    from hyperword.shards import CorpusRun

    run = CorpusRun.check(tmp_path / "c", "f" * 64)
    run.begin()
    with pytest.raises(hyperword.OutputLockedError):
        _hyperword.lock_output(tmp_path / "c")
    run.remove_temporaries()  # what a failed run calls
    _hyperword.lock_output(tmp_path / "c").release()
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [".hyperword"]


# --- manifests naming files outside their directory ----------------------------------------------


@pytest.mark.parametrize("bad", ["../victim.arrow", "/tmp/victim.arrow", "sub/shard-00000.arrow", ".."])
def test_a_shard_path_outside_the_corpus_is_refused_by_every_reader(tmp_path: Path, lexicon_path: Path, run_cli: Any, bad: str) -> None:
    out = tmp_path / "c"
    hyperword.generate(out, 2_000, lexicon=lexicon_path)
    victim = tmp_path / "victim.arrow"
    victim.write_bytes((out / "shard-00000.arrow").read_bytes())
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    data["shards"][0]["path"] = bad
    (out / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    line = f'{out / "manifest.json"}: shard 0: path "{bad}" is not a file inside the directory; refusing to read it'
    with pytest.raises(hyperword.CorruptCorpusError) as e:
        hyperword.read_manifest(out)
    assert str(e.value) == line
    rc, _, err = run_cli("inspect", out)
    assert rc == 1 and err == f"hyperword: error: {line}\n"
    rc, _, err = run_cli("verify", out)
    assert rc == 1 and f'{out / "manifest.json"}: shard 0: path "{bad}" is not a file inside the directory' in err
    rc, _, err = run_cli("generate", "--words", "2k", "--out", out, "--lexicon", lexicon_path)  # a resume reads it too
    assert rc == 1 and err == f"hyperword: error: {line}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "lexicon.tsv", "victim.arrow"]
    assert not any(p.name.endswith(".json") and p.name != "manifest.json" for p in out.rglob("*"))


def test_a_run_record_naming_a_file_outside_is_ignored_on_resume(tmp_path: Path, lexicon_path: Path) -> None:
    out = tmp_path / "c"
    m = hyperword.generate(out, 4_000, lexicon=lexicon_path, shard_words=2_000)
    state = out / ".hyperword"
    state.mkdir()
    (state / "run.json").write_text(json.dumps({"fingerprint": m.fingerprint}, separators=(",", ":")), encoding="utf-8")
    record = {**json.loads(json.dumps(m.raw["shards"][0])), "path": "../victim.arrow"}
    (state / "shard-00000.arrow.json").write_text(json.dumps(record), encoding="utf-8")
    (out / "manifest.json").unlink()
    again = hyperword.generate(out, 4_000, lexicon=lexicon_path, shard_words=2_000)
    assert again.run is not None and again.run.generated_shards == 2
    assert sorted(os.listdir(tmp_path)) == ["c", "lexicon.tsv"]
