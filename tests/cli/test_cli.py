"""The command line (python/hyperword/cli.py): `generate`, `sample`, `inspect`, and its errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _helpers import FIXTURES, REPO, dir_bytes, write_tsv

import hyperword
from hyperword import Lexicon

# --- generate ----------------------------------------------------------------------------------


def test_generate_accepts_every_count_form(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    outputs = {}
    for form in ("1e4", "10k", "10000", "10K", "0.01M"):
        out = tmp_path / f"out-{form}"
        rc, stdout, stderr = run_cli(
            "generate", "--words", form, "--out", out, "--lexicon", lexicon_path, "--shard-words", "4k"
        )
        assert rc == 0, stderr
        assert stderr == ""
        m = hyperword.read_manifest(out)
        assert m.config["words"] == 10_000 and m.config["shard_words"] == 4_000
        assert len(m.shards) == 3
        assert f"{m.words:,} words, {m.rows:,} phrases in 3 shard(s)" in stdout
        assert str(out) in stdout
        outputs[form] = dir_bytes(out)
    first = outputs.pop("1e4")
    assert all(o == first for o in outputs.values())


def test_generate_passes_every_option_through(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    rc, _, stderr = run_cli(
        "generate",
        "--words",
        "20k",
        "--out",
        tmp_path / "cli",
        "--lexicon",
        lexicon_path,
        "--langs",
        "en:2,ru,he",
        "--words-per-phrase",
        "2-4",
        "--phrase-dist",
        "weights:1,2,3",
        "--mix",
        "word",
        "--alpha",
        "0.5",
        "--coherence",
        "0.3",
        "--joiner",
        "·",
        "--case",
        "upper",
        "--seed",
        "17",
        "--threads",
        "2",
        "--shard-words",
        "6k",
        "--batch-words",
        "1k",
        "--compression",
        "lz4",
        "--columns",
        "text,langs",
        "--format",
        "parquet",
    )
    assert rc == 0, stderr
    hyperword.generate(
        tmp_path / "api",
        20_000,
        lexicon=lexicon_path,
        langs="en:2,ru,he",
        words_per_phrase=(2, 4),
        phrase_dist="weights:1,2,3",
        mix="word",
        alpha=0.5,
        coherence=0.3,
        joiner="·",
        case="upper",
        seed=17,
        shard_words=6_000,
        batch_words=1_000,
        compression="lz4",
        columns="text,langs",
        format="parquet",
    )
    cli, api = dir_bytes(tmp_path / "cli"), dir_bytes(tmp_path / "api")
    assert sorted(cli) == ["manifest.json", *(f"shard-{i:05d}.parquet" for i in range(4))]
    assert cli == api


def test_generate_compression_level_and_default_columns(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    rc, _, stderr = run_cli(
        "generate", "--words", "5000", "--out", tmp_path / "o", "--lexicon", lexicon_path, "--compression-level", "7"
    )
    assert rc == 0, stderr
    m = hyperword.read_manifest(tmp_path / "o")
    assert m.config["compression_level"] == 7 and m.config["columns"] == ["text"] and m.config["compression"] == "zstd"


def test_generate_rerun_says_there_is_nothing_to_do(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    args = ("generate", "--words", "10k", "--out", tmp_path / "o", "--lexicon", lexicon_path, "--shard-words", "5k")
    assert run_cli(*args)[0] == 0
    before = dir_bytes(tmp_path / "o")
    rc, stdout, stderr = run_cli(*args)
    assert rc == 0, stderr
    assert "already holds this corpus" in stdout
    assert dir_bytes(tmp_path / "o") == before
    (tmp_path / "o" / "shard-00001.arrow").unlink()
    rc, stdout, _ = run_cli(*args)
    assert rc == 0 and "resumed: kept 1 verified shard(s), generated 1" in stdout
    assert dir_bytes(tmp_path / "o") == before


def test_generate_with_the_default_lexicon(tmp_path: Path, run_cli: Any) -> None:
    rc, _, stderr = run_cli("generate", "--words", "5k", "--out", tmp_path / "o", "--langs", "ru")
    assert rc == 0, stderr
    m = hyperword.read_manifest(tmp_path / "o")
    assert m.lexicon["sha256"] == Lexicon.default().sha256


# --- sample ------------------------------------------------------------------------------------


def test_sample_prints_n_lines(lexicon_path: Path, run_cli: Any) -> None:
    rc, stdout, stderr = run_cli("sample", "-n", "5", "--lexicon", lexicon_path, "--seed", "3", "--joiner", "-")
    assert rc == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 5
    assert lines == hyperword.sample(5, lexicon=lexicon_path, seed=3, joiner="-")


def test_sample_options(lexicon_path: Path, run_cli: Any) -> None:
    rc, stdout, _ = run_cli(
        "sample",
        "-n",
        "40",
        "--lexicon",
        lexicon_path,
        "--langs",
        "ru",
        "--words-per-phrase",
        "2",
        "--case",
        "title",
        "--joiner",
        " ",
    )
    assert rc == 0
    ru_title = {w.capitalize() for w in Lexicon.load(lexicon_path).words("ru")}
    for line in stdout.splitlines():
        assert len(line.split(" ")) == 2 and set(line.split(" ")) <= ru_title, line


def test_sample_zero(lexicon_path: Path, run_cli: Any) -> None:
    assert run_cli("sample", "-n", "0", "--lexicon", lexicon_path)[:2] == (0, "")


def test_sample_from_a_word_list(run_cli: Any) -> None:
    rc, stdout, stderr = run_cli(
        "sample", "-n", "10", "--lexicon", FIXTURES / "words_ru.txt", "--lexicon-lang", "ru", "--words-per-phrase", "1"
    )
    assert rc == 0, stderr
    assert set(stdout.splitlines()) <= {"вода", "грусть", "плавность", "свет"}
    assert len(stdout.splitlines()) == 10


def test_version(run_cli: Any) -> None:
    rc, stdout, _ = run_cli("--version")
    assert rc == 0 and stdout.strip() == f"hyperword {hyperword.__version__}"


# --- inspect -----------------------------------------------------------------------------------


def test_inspect_shows_the_summary_and_rows(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    out = tmp_path / "corpus"
    m = hyperword.generate(
        out,
        12_000,
        lexicon=lexicon_path,
        shard_words=5_000,
        seed=9,
        langs="en:2,ru",
        columns="text,words,field",
        joiner="-",
    )
    rc, stdout, stderr = run_cli("inspect", out, "--rows", "3")
    assert rc == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].startswith(f"{out}: mnemo corpus, format v1, hyperword {hyperword.__version__}")
    assert f"{m.words:,} words, {m.rows:,} rows, 3 arrow shard(s), zstd" in lines[1]
    assert "seed 9" in lines[2] and "langs en:2,ru:1" in lines[2] and "words/phrase 2-6 (uniform)" in lines[2]
    assert m.lexicon["sha256"][:12] in lines[3] and "63 words" in lines[3]
    assert lines[4].strip() == "columns: text, words, field"
    rows = [json.loads(line) for line in lines[5:]]
    assert len(rows) == 3
    first = (
        hyperword.stream(
            12_000,
            lexicon=lexicon_path,
            shard_words=5_000,
            seed=9,
            langs="en:2,ru",
            columns="text,words,field",
            joiner="-",
        )
        .read_next_batch()
        .slice(0, 3)
        .to_pylist()
    )
    assert rows == first
    assert all(r["text"] == "-".join(r["words"]) for r in rows)


def test_inspect_json_prints_the_manifest(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    out = tmp_path / "corpus"
    hyperword.generate(out, 3_000, lexicon=lexicon_path)
    rc, stdout, _ = run_cli("inspect", out, "--json")
    assert rc == 0
    assert json.loads(stdout) == json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("make", ["missing", "empty", "garbage"])
def test_inspect_errors(tmp_path: Path, run_cli: Any, make: str) -> None:
    target = tmp_path / "corpus"
    if make != "missing":
        target.mkdir()
    if make == "garbage":
        (target / "manifest.json").write_text("[1, 2]")
    rc, stdout, stderr = run_cli("inspect", target)
    assert rc != 0 and stdout == ""
    assert_one_error_line(stderr)


# --- errors ------------------------------------------------------------------------------------

_ERROR_LINE = re.compile(r"^hyperword(?: (?:generate|sample|inspect))?: error: \S.*$")


def assert_one_error_line(stderr: str) -> str:
    """stderr holds exactly one error line (argparse may put its usage lines before it), no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    assert len(errors) == 1, stderr
    assert lines[-1] == errors[0], stderr
    if lines[0].startswith("usage: hyperword"):  # argparse: its usage lines, then the error
        assert all(line.startswith(("usage: ", " ")) for line in lines[:-1]), stderr
    else:
        assert lines == errors, f"hyperword's own errors are one line: {stderr!r}"
    return errors[0]


def _bad_lexicon(tmp_path: Path) -> Path:
    return write_tsv(tmp_path / "bad.tsv", [("en", "fine"), ("en", "two words")])


def _word_list(tmp_path: Path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text("cat\ndog\n", encoding="utf-8")
    return path


BAD_GENERATE: list[tuple[str, list[Any], str]] = [
    ("unknown-language", ["--langs", "xx"], 'unknown language "xx"'),
    ("zero-words", ["--words", "0"], "--words"),
    ("negative-words", ["--words", "-5"], "--words"),
    ("fractional-words", ["--words", "1.5"], "--words"),
    ("text-words", ["--words", "many"], "--words"),
    ("empty-range", ["--words-per-phrase", "5-2"], "5-2"),
    ("zero-per-phrase", ["--words-per-phrase", "0"], "at least 1"),
    ("bad-per-phrase", ["--words-per-phrase", "x"], "words per phrase"),
    ("missing-lexicon", ["--lexicon", "{tmp}/missing.tsv"], "missing.tsv"),
    ("word-list-without-lang", ["--lexicon", "{words}"], "--lexicon-lang"),
    ("lexicon-lang-without-lexicon", ["--lexicon-lang", "en"], "lexicon"),
    ("bad-lexicon-line", ["--lexicon", "{bad}"], "bad.tsv:3: "),
    ("coherence-too-high", ["--coherence", "1.5"], "coherence"),
    ("coherence-negative", ["--coherence", "-0.5"], "coherence"),
    ("coherence-text", ["--coherence", "high"], "--coherence"),
    ("negative-alpha", ["--alpha", "-1"], "alpha"),
    ("bad-phrase-dist", ["--phrase-dist", "poisson"], "poisson"),
    ("phrase-weights-count", ["--words-per-phrase", "2-4", "--phrase-dist", "weights:1,2"], "weights"),
    ("bad-column", ["--columns", "text,bogus"], "bogus"),
    ("bad-compression", ["--compression", "brotli"], "--compression"),
    ("lz4-level", ["--compression", "lz4", "--compression-level", "3"], "level"),
    ("bad-mix", ["--mix", "both"], "--mix"),
    ("bad-case", ["--case", "shout"], "--case"),
    ("control-joiner", ["--joiner", "\x01"], "joiner"),
    ("zero-shard-words", ["--shard-words", "0"], "--shard-words"),
    ("negative-threads", ["--threads", "-1"], "threads"),
    ("too-many-shards", ["--words", "1e12", "--shard-words", "1"], "shards"),
]


@pytest.mark.parametrize("args, needle", [c[1:] for c in BAD_GENERATE], ids=[c[0] for c in BAD_GENERATE])
def test_bad_generate_input_is_one_error_line_and_writes_nothing(
    tmp_path: Path, lexicon_path: Path, run_cli: Any, args: list[str], needle: str
) -> None:
    subs = {"{tmp}": str(tmp_path), "{words}": str(_word_list(tmp_path)), "{bad}": str(_bad_lexicon(tmp_path))}
    args = [subs.get(a, a.replace("{tmp}", str(tmp_path))) for a in args]
    out = tmp_path / "out" / "corpus"
    base = ["generate", "--out", out]
    if "--words" not in args:
        base += ["--words", "10k"]
    if "--lexicon" not in args and "--lexicon-lang" not in args:
        base += ["--lexicon", lexicon_path]
    rc, stdout, stderr = run_cli(*base, *args)
    assert rc != 0
    assert stdout == ""
    line = assert_one_error_line(stderr)
    assert needle in line, line
    assert not (tmp_path / "out").exists()


BAD_SAMPLE: list[tuple[str, list[str], str]] = [
    ("negative-n", ["-n", "-1"], "n must be"),
    ("text-n", ["-n", "five"], "-n"),
    ("unknown-language", ["--langs", "xx"], '"xx"'),
    ("coherence", ["--coherence", "1.5"], "coherence"),
    ("negative-seed", ["--seed", "-1"], "seed"),
]


@pytest.mark.parametrize("args, needle", [c[1:] for c in BAD_SAMPLE], ids=[c[0] for c in BAD_SAMPLE])
def test_bad_sample_input_is_one_error_line(lexicon_path: Path, run_cli: Any, args: list[str], needle: str) -> None:
    rc, stdout, stderr = run_cli("sample", "--lexicon", lexicon_path, *args)
    assert rc != 0 and stdout == ""
    assert needle in assert_one_error_line(stderr)


def test_an_existing_different_corpus_needs_force(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    out = tmp_path / "corpus"
    common = ("generate", "--words", "10k", "--out", out, "--lexicon", lexicon_path)
    assert run_cli(*common, "--seed", "1")[0] == 0
    before = dir_bytes(out)
    rc, stdout, stderr = run_cli(*common, "--seed", "2")
    assert rc != 0 and stdout == ""
    assert "--force" in assert_one_error_line(stderr)
    assert dir_bytes(out) == before
    rc, _, stderr = run_cli(*common, "--seed", "2", "--force")
    assert rc == 0, stderr
    assert hyperword.read_manifest(out).seed == 2


def test_a_foreign_directory_is_refused(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    rc, _, stderr = run_cli("generate", "--words", "10k", "--out", out, "--lexicon", lexicon_path)
    assert rc != 0
    assert "not empty" in assert_one_error_line(stderr)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_missing_subcommand_and_unknown_option(run_cli: Any) -> None:
    for args in ([], ["generate", "--words", "10", "--out", "x", "--bogus"], ["frobnicate"]):
        rc, _, stderr = run_cli(*args)
        assert rc == 2, (args, stderr)
        assert_one_error_line(stderr)


# --- counts, progress, pipes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("1000", 1000),
        ("10k", 10_000),
        ("10K", 10_000),
        ("2.5k", 2_500),
        ("1e4", 10_000),
        ("1E4", 10_000),
        ("10M", 10_000_000),
        ("1B", 10**9),
        ("1g", 10**9),
        ("2T", 2 * 10**12),
        (" 7 ", 7),
        ("0.01M", 10_000),
        (5, 5),
    ],
)
def test_parse_count(text: str | int, value: int) -> None:
    assert hyperword.parse_count(text) == value


@pytest.mark.parametrize(
    "text", ["0", "-1", "1.5", "2.5", "1e-3", "0x10", "1,000", "10MB", "nan", "inf", "", "k", "1e999", 0, -3]
)
def test_parse_count_rejects(text: str | int) -> None:
    with pytest.raises(hyperword.ConfigError):
        hyperword.parse_count(text)


@pytest.mark.parametrize("text", ["9007199254740993", "10000000000000001", "18446744073709551615"])
def test_parse_count_is_exact_for_large_integers(text: str) -> None:
    """Counts are integers: a float round-trip must not silently change them."""
    assert hyperword.parse_count(text) == int(text)


def test_parse_count_rejects_booleans() -> None:
    with pytest.raises(hyperword.ConfigError):
        hyperword.parse_count(True)


def test_progress_bar_on_request_and_silence_otherwise(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    rc, _, stderr = run_cli("generate", "--words", "10k", "--out", tmp_path / "quiet", "--lexicon", lexicon_path)
    assert rc == 0 and stderr == ""  # stderr is not a terminal: no bar by default
    rc, _, stderr = run_cli(
        "generate", "--words", "10k", "--out", tmp_path / "loud", "--lexicon", lexicon_path, "--progress"
    )
    assert rc == 0
    assert "word" in stderr and "10.0k" in stderr


def test_progress_bar_ends_at_the_total(tmp_path: Path, lexicon_path: Path, run_cli: Any) -> None:
    """A finished run's bar shows 100%, however fast the run was."""
    rc, _, stderr = run_cli(
        "generate", "--words", "10k", "--out", tmp_path / "o", "--lexicon", lexicon_path, "--progress"
    )
    assert rc == 0
    final = [s for s in stderr.replace("\r", "\n").splitlines() if s.strip()][-1]
    assert "100%" in final, stderr


def test_sample_into_a_closed_pipe_is_quiet(lexicon_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hyperword", "sample", "-n", "300000", "--lexicon", str(lexicon_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    assert first.strip()
    assert stderr == ""
