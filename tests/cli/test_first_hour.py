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
from _helpers import REPO, dir_bytes

import hyperword
from hyperword import _hyperword

# --- usage errors --------------------------------------------------------------------------------


def test_a_misspelt_flag_names_the_closest_one_before_complaining_of_a_required_flag(
    tmp_path: Path, run_cli: Any
) -> None:
    rc, out, err = run_cli("generate", "--wrods", "1M", "--out", tmp_path / "o")
    assert rc == 2 and out == ""
    assert (
        err
        == "hyperword generate: error: unrecognized arguments: --wrods (did you mean --words?) (see hyperword generate --help)\n"
    )
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
    assert (
        error_line(OSError(28, "out/shard-00000.arrow: No space left on device"))
        == "out/shard-00000.arrow: No space left on device"
    )
    assert error_line(hyperword.ConfigError("bad")) == "bad"


def test_rust_raises_file_not_found_with_its_filename(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as e:
        hyperword.Lexicon.load(tmp_path / "nope.tsv")
    assert e.value.filename == str(tmp_path / "nope.tsv")


# --- the Python API ------------------------------------------------------------------------------


def test_generate_and_stream_take_the_cli_count_strings(tmp_path: Path, lexicon_path: Path) -> None:
    a = hyperword.generate(tmp_path / "a", "10k", lexicon=lexicon_path, shard_words="4k")
    hyperword.generate(tmp_path / "b", 10_000, lexicon=lexicon_path, shard_words=4_000)
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


def test_a_second_writer_is_told_who_holds_the_directory_and_force_does_not_override(
    tmp_path: Path, lexicon_path: Path, run_cli: Any
) -> None:
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
    from hyperword.formats.corpus import CorpusRun

    run = CorpusRun.check(tmp_path / "c", "f" * 64)
    run.begin()
    with pytest.raises(hyperword.OutputLockedError):
        _hyperword.lock_output(tmp_path / "c")
    run.remove_temporaries()  # what a failed run calls
    _hyperword.lock_output(tmp_path / "c").release()
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [".hyperword"]


# --- manifests naming files outside their directory ----------------------------------------------


@pytest.mark.parametrize("bad", ["../victim.arrow", "/tmp/victim.arrow", "sub/shard-00000.arrow", ".."])
def test_a_shard_path_outside_the_corpus_is_refused_by_every_reader(
    tmp_path: Path, lexicon_path: Path, run_cli: Any, bad: str
) -> None:
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


# --- split corpora -------------------------------------------------------------------------------


@pytest.fixture
def split_corpus(tmp_path: Path) -> Path:
    src = tmp_path / "en.txt"
    src.write_text("".join(f"document number {i} about the river and the sea\n" for i in range(200)), encoding="utf-8")
    hyperword.ingest.ingest_all([src], tmp_path / "nat", lang="en", split=0.2)
    return tmp_path / "nat"


def test_inspect_and_verify_read_both_sides_of_a_split_corpus(split_corpus: Path, run_cli: Any) -> None:
    rc, out, err = run_cli("inspect", split_corpus, "--rows", "1")
    assert rc == 0, err
    assert out.startswith(f"{split_corpus}: a split corpus, train and validation\n")
    assert (
        f"{split_corpus / 'train'}: natural corpus" in out and f"{split_corpus / 'validation'}: natural corpus" in out
    )
    rc, out, err = run_cli("inspect", split_corpus, "--json")
    assert rc == 0 and sorted(json.loads(out)) == ["train", "validation"]
    rc, out, err = run_cli("verify", split_corpus)
    assert rc == 0, err
    assert out.splitlines() == [
        f"ok {split_corpus / 'train'}: hyperword-corpus, 1 shards intact",
        f"ok {split_corpus / 'validation'}: hyperword-corpus, 1 shards intact",
    ]


def test_readers_of_one_corpus_name_both_sides_of_a_split_one(split_corpus: Path, run_cli: Any) -> None:
    line = f"{split_corpus} is a split corpus: use {split_corpus / 'train'} or {split_corpus / 'validation'}"
    with pytest.raises(hyperword.ConfigError) as e:
        hyperword.open_corpus(split_corpus)
    assert str(e.value) == line
    from hyperword.encode.input_corpus import open_source  # what encode reads its corpus with

    with pytest.raises(hyperword.ConfigError) as e:
        open_source(split_corpus)
    assert str(e.value) == line
    rc, _, err = run_cli(
        "tokenizer", "train", "--corpus", split_corpus, "--vocab-size", "100", "--out", split_corpus.parent / "tok"
    )
    assert rc == 2 and err == f"hyperword: error: {line}\n"
    assert sorted(p.name for p in split_corpus.parent.iterdir()) == ["en.txt", "nat"]


# --- tokenizer: a coverage that fits the vocabulary ----------------------------------------------


@pytest.fixture(scope="module")
def many_scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scripts") / "c"
    hyperword.generate(out, 30_000, seed=3)  # the shipped lexicon: 12 languages, Han among them
    return out


def test_a_default_coverage_is_lowered_to_fit_a_small_vocabulary(
    many_scripts: Path, tmp_path: Path, run_cli: Any
) -> None:
    from hyperword.tokenizer import TrainOptions, train_tokenizer

    r = train_tokenizer(
        [str(many_scripts)], tmp_path / "tok", options=TrainOptions(vocab_size=1500, max_sentences=4000)
    )
    assert r.options.character_coverage is not None and 0.98 <= r.options.character_coverage < 0.9995
    assert r.vocab_size == 1500
    meta = json.loads((tmp_path / "tok" / "hyperword_tokenizer.json").read_text(encoding="utf-8"))
    assert meta["options"]["character_coverage"] == r.options.character_coverage
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "tok" / "tokenizer.model"))
    text = hyperword.open_corpus(many_scripts).head(50).column("text").to_pylist()
    assert [sp.decode(sp.encode(t)) for t in text] == text  # rarer characters byte-encode, exactly


def test_a_given_coverage_that_cannot_fit_names_our_flags(many_scripts: Path, tmp_path: Path, run_cli: Any) -> None:
    rc, _, err = run_cli(
        "tokenizer",
        "train",
        "--corpus",
        many_scripts,
        "--vocab-size",
        "800",
        "--max-sentences",
        "4000",
        "--character-coverage",
        "1.0",
        "--out",
        tmp_path / "tok",
    )
    assert rc == 2
    assert err.startswith(
        "hyperword: error: --vocab-size 800 is too small for this sample: its characters at --character-coverage 1 need "
    )
    assert (
        "pieces; use --vocab-size " in err
        and " with --character-coverage 0.98 (the lowest sentencepiece takes)\n" in err
    )
    assert "character_coverage" not in err
    assert not (tmp_path / "tok").exists()


# --- progress in a log ---------------------------------------------------------------------------


def test_progress_prints_lines_when_not_on_a_terminal() -> None:
    import io

    from hyperword.progress import Progress, progress

    log = io.StringIO()
    now = [0.0]
    p = Progress("generate", total=1000, unit="word", mode="lines", every=30.0, stream=log, clock=lambda: now[0])
    for done in range(0, 1001, 10):  # a hundred updates, 0.5 s apart: two lines, not a hundred
        now[0] = done / 20
        p.update_to(done)
    p.close()
    p.close()
    assert log.getvalue().splitlines() == [
        "hyperword: generate: started",
        "hyperword: generate: 600/1.0k words (60%), 30.0 s",
        "hyperword: generate: done, 1.0k/1.0k words (100%), 50.0 s",
    ]
    assert progress("x", stream=io.StringIO()).mode == "off"  # not a terminal, not asked for
    assert progress("x", stream=io.StringIO(), show=True).mode == "lines"


def test_generate_progress_in_a_log_is_lines_not_redraws(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    rc, _, err = run_cli("generate", "--words", "20k", "--out", tmp_path / "o", "--lexicon", lexicon_path, "--progress")
    assert rc == 0
    lines = err.splitlines()
    assert lines[0] == "hyperword: generate: started" and lines[-1].startswith(
        "hyperword: generate: done, 20.0k/20.0k words (100%)"
    )
    assert "\r" not in err


# --- what a rerun leaves, and what the manifest counts -------------------------------------------


def test_generate_names_a_foreign_shard_file_it_leaves_in_place(
    tmp_path: Path, lexicon_path: Path, run_cli: Any
) -> None:
    args = ("generate", "--words", "4k", "--out", tmp_path / "o", "--lexicon", lexicon_path, "--shard-words", "2k")
    assert run_cli(*args)[0] == 0
    (tmp_path / "o" / "shard-00001.arrow").write_bytes(b"damaged")
    (tmp_path / "o" / "shard-00007.arrow").write_bytes(b"not ours")
    rc, out, err = run_cli(*args)
    assert rc == 0 and "resumed: kept 1 verified shard(s), generated 1" in out
    assert err == (
        f"hyperword: note: {tmp_path / 'o' / 'shard-00007.arrow'} is not part of this corpus and left in place; "
        "`hyperword verify` reports it until removed\n"
    )
    assert (tmp_path / "o" / "shard-00007.arrow").read_bytes() == b"not ours"


def test_manifest_counts_text_bytes_and_file_bytes(tmp_path: Path, lexicon_path: Path) -> None:
    m = hyperword.generate(tmp_path / "o", 5_000, lexicon=lexicon_path, shard_words="2k")
    on_disk = sum((tmp_path / "o" / s.path).stat().st_size for s in m.shards)
    assert m.file_bytes == on_disk == m.bytes == m.raw["totals"]["bytes"]
    text = hyperword.open_corpus(tmp_path / "o").to_table().column("text").to_pylist()
    assert m.text_bytes == sum(len(t.encode("utf-8")) for t in text) == m.raw["totals"]["text_bytes"]
    assert [s.file_bytes for s in m.shards] == [s.bytes for s in m.shards]


def test_lexicon_import_lists_every_invalid_row_with_its_line(tmp_path: Path, run_cli: Any) -> None:
    src = tmp_path / "w.csv"
    src.write_text("word,lang\nwater,en\ntwo words,en\nfire,en\n,en\nsun,xx-bad!\n", encoding="utf-8")
    rc, out, err = run_cli("lexicon", "import", src, "--out", tmp_path / "o.tsv")
    assert rc == 1 and out == ""
    lines = err.splitlines()
    assert (
        lines[0]
        == f"hyperword: error: {src}: 3 invalid rows, nothing written (--skip-invalid, skip_invalid=True, drops and counts them):"
    )
    assert [x.split(": ", 1)[0] for x in lines[1:]] == [f"  {src}:3", f"  {src}:5", f"  {src}:6"]
    assert not (tmp_path / "o.tsv").exists()
    rc, out, _ = run_cli("lexicon", "import", src, "--out", tmp_path / "o.tsv", "--skip-invalid")
    assert rc == 0 and (tmp_path / "o.tsv").exists()


# --- tokenizer report on a text-only mnemophrase corpus ------------------------------------------


def test_report_redraws_the_words_of_a_text_only_corpus(tmp_path: Path, lexicon_path: Path) -> None:
    from hyperword.tokenizer import TrainOptions, train_tokenizer
    from hyperword.tokenizer.report import format_table, tokenizer_report

    hyperword.generate(tmp_path / "text", 20_000, lexicon=lexicon_path, seed=4)
    hyperword.generate(tmp_path / "words", 20_000, lexicon=lexicon_path, seed=4, columns="text,words,langs")
    train_tokenizer(
        [str(tmp_path / "text")], tmp_path / "tok", options=TrainOptions(vocab_size=500, max_sentences=2000)
    )
    r = tokenizer_report(
        tmp_path / "tok", [str(tmp_path / "text"), str(tmp_path / "words")], lexicon=lexicon_path, max_rows=500
    )
    text, words = (c.to_dict() for c in r.corpora)
    assert r.corpora[0].words_source == "re-drawn from the manifest (lexicon, configuration, seed)"
    assert text["boundary_alignment"] is not None and text["words"] > text["rows"]
    for key in ("words", "tokens", "boundaries", "aligned_boundaries", "fertility", "lang_share", "lang_fertility"):
        assert text[key] == words[key], key
    assert r.lexicon is not None and r.lexicon.occurrences > 0
    # Without the lexicon it was drawn from (not the shipped one): no word figures, and why.
    r = tokenizer_report(tmp_path / "tok", [str(tmp_path / "text")], max_rows=500)
    c = r.corpora[0]
    assert c.words == 0 and c.boundary_alignment is None
    assert c.words_source.startswith(
        "whitespace (a mnemophrase corpus with no words column: generate with --columns text,words,langs, or pass the lexicon it was drawn from"
    )
    table = format_table(r)
    assert "--columns text,words,langs" in table and f"{'-':>8}" in table.splitlines()[2]


# --- bridge translation without the pivot language -----------------------------------------------


def test_exclude_pivot_leaves_the_pivot_language_out_of_a_translate_bridge(
    tmp_path: Path, lexicon_path: Path, run_cli: Any
) -> None:
    common = (
        "--words",
        "3k",
        "--lexicon",
        lexicon_path,
        "--kind",
        "bridge",
        "--bridge",
        "translate",
        "--pivot",
        "en",
        "--columns",
        "text,langs",
    )
    rc, _, err = run_cli("generate", *common, "--out", tmp_path / "x", "--exclude-pivot")
    assert rc == 0, err
    table = hyperword.open_corpus(tmp_path / "x").to_table()
    langs = {lang for row in table.column("langs").to_pylist() for lang in row}
    assert "en" not in langs and len(langs) >= 3
    # the same corpus as naming every other language
    others = ",".join(lang for lang in hyperword.Lexicon.load(lexicon_path).langs if lang != "en")
    hyperword.generate(
        tmp_path / "y",
        3_000,
        lexicon=lexicon_path,
        kind="bridge",
        bridge="translate",
        pivot="en",
        columns="text,langs",
        langs=others,
    )
    assert dir_bytes(tmp_path / "x") == dir_bytes(tmp_path / "y")
    rc, _, err = run_cli(
        "generate", "--words", "3k", "--lexicon", lexicon_path, "--out", tmp_path / "z", "--exclude-pivot"
    )
    assert rc == 2 and "applies to translate bridges" in err and not (tmp_path / "z").exists()
    with pytest.raises(hyperword.ConfigError, match="leaves no language"):
        hyperword.sample(
            1, lexicon=lexicon_path, kind="bridge", bridge="translate", pivot="en", langs="en", exclude_pivot=True
        )


def test_encode_reports_progress_per_shard(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    from hyperword.encode import encode
    from hyperword.tokenizer import TrainOptions, train_tokenizer

    hyperword.generate(tmp_path / "c", 6_000, lexicon=lexicon_path, langs="en,ru", shard_words="2k")
    train_tokenizer([str(tmp_path / "c")], tmp_path / "tok", options=TrainOptions(vocab_size=400, max_sentences=2000))
    calls: list[tuple[int, int]] = []
    encode(
        tmp_path / "tok",
        tmp_path / "c",
        tmp_path / "exact",
        threads=1,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]
    calls.clear()
    encode(
        tmp_path / "tok",
        tmp_path / "c",
        tmp_path / "aligned",
        mode="aligned",
        lexicon=lexicon_path,
        threads=2,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(2, 3), (3, 3)]
    rc, _, err = run_cli(
        "encode",
        "--tokenizer",
        tmp_path / "tok",
        "--corpus",
        tmp_path / "c",
        "--out",
        tmp_path / "cli",
        "--threads",
        "1",
        "--progress",
    )
    assert rc == 0, err
    assert err.splitlines()[0] == "hyperword: encode: started" and err.splitlines()[-1].startswith(
        "hyperword: encode: done, 3/3 shards (100%)"
    )
