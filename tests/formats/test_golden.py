"""Byte-for-byte pins of the files the commands write: a fixed set of corpora of every kind and
format, a tokenizer, and token shards in both encode modes, made through the CLI and hashed
(sha256 of every file, manifests included). A restructuring that changes no behaviour leaves
every hash as it is; a change of a format shows here first (then update the pins on purpose,
with the reason in the commit message).

The pins were taken before the restructuring of issue 12 (the ``formats`` layer, the ``cli``
package, typed configurations) and held unchanged through it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from _helpers import FIXTURES

#: sha256 of every file each step writes (paths relative to its output directory)
PINNED: dict[str, dict[str, str]] = json.loads((FIXTURES / "golden.json").read_text(encoding="utf-8"))


#: the build's own record in a manifest: the arrow-rs version (read from Cargo.lock by
#: rust/core/build.rs, "unknown" when a build could not read it) says how the package was built,
#: not what the corpus is
_ARROW_VERSION = re.compile(rb'"arrow_rs": "[^"]*"')


def digests(directory: Path, base: Path) -> dict[str, str]:
    """sha256 of every file under ``directory``; in JSON files the absolute path of the run's
    directory (token manifests record where their inputs were) reads ``<base>`` and the
    arrow-rs version ``<arrow>``."""

    def content(p: Path) -> bytes:
        data = p.read_bytes()
        if p.suffix != ".json":
            return data
        return _ARROW_VERSION.sub(b'"arrow_rs": "<arrow>"', data.replace(str(base.resolve()).encode(), b"<base>"))

    return {
        str(p.relative_to(directory)): hashlib.sha256(content(p)).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def prepare(base: Path) -> None:
    """The inputs the steps read, copied into the run directory (relative paths in every manifest)."""
    (base / "texts").mkdir()
    for name in ("en.txt", "ru.txt"):
        shutil.copyfile(FIXTURES / "natural" / name, base / "texts" / name)


def steps(lexicon: Path) -> list[tuple[str, list[object]]]:
    """(name, CLI arguments) in order, run in one directory; each writes the directory ``name``."""
    natural = Path("texts")  # copies of tests/fixtures/natural (ingest records its inputs' paths)
    out = {
        name: Path(name)
        for name in (
            "mnemo",
            "mnemo-parquet",
            "bridge",
            "translate",
            "dyck",
            "natural",
            "ngram",
            "tokenizer",
            "tokens-exact",
            "tokens-aligned",
            "tokens-natural",
        )
    }
    gen = ["generate", "--lexicon", lexicon, "--threads", "2"]
    return [
        (
            "mnemo",
            [
                *gen,
                "--words",
                "5000",
                "--shard-words",
                "2000",
                "--seed",
                "3",
                "--columns",
                "text,words,langs,concepts,field",
                "--out",
                out["mnemo"],
            ],
        ),
        (
            "mnemo-parquet",
            [
                *gen,
                "--words",
                "3000",
                "--shard-words",
                "2000",
                "--seed",
                "4",
                "--mix",
                "word",
                "--joiner",
                "·",
                "--case",
                "title",
                "--format",
                "parquet",
                "--compression",
                "lz4",
                "--langs",
                "en:2,ru,zh",
                "--coherence",
                "0.5",
                "--out",
                out["mnemo-parquet"],
            ],
        ),
        ("bridge", [*gen, "--kind", "bridge", "--words", "2000", "--seed", "5", "--out", out["bridge"]]),
        (
            "translate",
            [
                *gen,
                "--kind",
                "bridge",
                "--bridge",
                "translate",
                "--pivot",
                "en",
                "--exclude-pivot",
                "--words",
                "2000",
                "--seed",
                "6",
                "--out",
                out["translate"],
            ],
        ),
        (
            "dyck",
            [
                "generate",
                "--kind",
                "dyck",
                "--words",
                "4000",
                "--seq-len",
                "64",
                "--dyck-k",
                "8",
                "--seed",
                "7",
                "--compression",
                "none",
                "--out",
                out["dyck"],
            ],
        ),
        (
            "natural",
            [
                "ingest",
                natural / "en.txt",
                natural / "ru.txt",
                "--split",
                "0.1",
                "--shard-docs",
                "500",
                "--out",
                out["natural"],
            ],
        ),
        (
            "ngram",
            [
                "generate",
                "--kind",
                "ngram",
                "--ngram-n",
                "2",
                "--source",
                out["natural"] / "train",
                "--words",
                "3000",
                "--seq-len",
                "40",
                "--seed",
                "8",
                "--out",
                out["ngram"],
            ],
        ),
        (
            "tokenizer",
            [
                "tokenizer",
                "train",
                "--corpus",
                out["mnemo"],
                "--corpus",
                f"{out['natural'] / 'train'}:2",
                "--vocab-size",
                "700",
                "--num-threads",
                "1",
                "--out",
                out["tokenizer"],
            ],
        ),
        (
            "tokens-exact",
            [
                "encode",
                "--tokenizer",
                out["tokenizer"],
                "--corpus",
                out["mnemo"],
                "--threads",
                "1",
                "--out",
                out["tokens-exact"],
            ],
        ),
        (
            "tokens-aligned",
            [
                "encode",
                "--tokenizer",
                out["tokenizer"],
                "--corpus",
                out["mnemo"],
                "--mode",
                "aligned",
                "--lexicon",
                lexicon,
                "--threads",
                "1",
                "--out",
                out["tokens-aligned"],
            ],
        ),
        (
            "tokens-natural",
            [
                "encode",
                "--tokenizer",
                out["tokenizer"],
                "--corpus",
                out["natural"] / "validation",
                "--dtype",
                "uint32",
                "--threads",
                "2",
                "--out",
                out["tokens-natural"],
            ],
        ),
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    from _helpers import lexicon_tsv_text
    from conftest import _run_cli

    base = tmp_path_factory.mktemp("golden")
    lexicon = base / "lexicon.tsv"
    lexicon.write_text(lexicon_tsv_text(), encoding="utf-8")
    prepare(base)
    result: dict[str, dict[str, str]] = {}
    for name, args in steps(Path("lexicon.tsv")):
        rc, _, err = _run_cli(*args, "--no-progress", timeout=300, cwd=base)
        assert rc == 0, f"{name}: {err}"
        result[name] = digests(base / name, base)
    return result


@pytest.mark.parametrize("name", list(PINNED))
def test_every_file_is_byte_for_byte_what_it_was(written: dict[str, dict[str, str]], name: str) -> None:
    assert written[name] == PINNED[name]


def test_the_pins_cover_every_step(written: dict[str, Any]) -> None:
    assert set(written) == set(PINNED)


if __name__ == "__main__":  # regenerate the pins: PYTHONPATH=tests python tests/formats/test_golden.py
    import tempfile

    from _helpers import lexicon_tsv_text
    from conftest import _run_cli

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        lexicon = base / "lexicon.tsv"
        lexicon.write_text(lexicon_tsv_text(), encoding="utf-8")
        prepare(base)
        pins = {}
        for name, args in steps(Path("lexicon.tsv")):
            rc, _, err = _run_cli(*args, "--no-progress", timeout=300, cwd=base)
            assert rc == 0, f"{name}: {err}"
            pins[name] = digests(base / name, base)
    (FIXTURES / "golden.json").write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURES / 'golden.json'}: {sum(map(len, pins.values()))} files")
