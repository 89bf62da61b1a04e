"""``hyperword verify DIR``: check a corpus or token directory against its manifest and name
every bad file.

For a corpus (``hyperword-corpus``): every shard exists with the recorded size and sha256, is
readable by pyarrow, and holds the recorded rows and text bytes. For token shards
(``hyperword-tokens``): both files of every shard exist with the recorded sizes and sha256s,
open as ``.npy`` arrays of the recorded dtype and lengths, the document ends rise to the
token count, and every document ends with the end-of-document id. For both: the totals are
the sums of the shards, and no shard-like file is present that the manifest does not list
(an extra shard, a leftover temporary file, the run state of an unfinished run).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyperword._hyperword import check_entry_path
from hyperword.errors import CorruptCorpusError
from hyperword.formats import corpus as corpus_format
from hyperword.formats import tokens as token_format
from hyperword.formats.atomic import file_digest
from hyperword.formats.corpus import MANIFEST_FILE, Manifest
from hyperword.formats.run import STATE_DIR, own_file_pattern

__all__ = ["Problem", "Report", "extra_files", "foreign_files_note", "verify"]

#: shard files of either format, and their temporaries
_OWN_FILE = own_file_pattern(corpus_format.SHARD_NAME, *token_format.SHARD_NAMES)


@dataclass(frozen=True)
class Problem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class Report:
    directory: Path
    kind: str = "unknown"
    shards: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, path: Path, reason: str) -> None:
        self.problems.append(Problem(path, reason))


def _file_ok(report: Report, path: Path, size: int, sha256: str) -> bool:
    """Exists with this size and sha256 (one problem recorded otherwise)."""
    if not path.is_file():
        report.add(path, "missing")
        return False
    actual = path.stat().st_size
    if actual != size:
        report.add(path, f"{actual} bytes, the manifest says {size} ({'truncated' if actual < size else 'too long'})")
        return False
    if file_digest(path)[1] != sha256:
        report.add(path, "sha256 differs from the manifest (corrupted)")
        return False
    return True


def _corpus_shard(report: Report, path: Path, s: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path, columns=["text"])
        else:
            with pa.memory_map(str(path)) as f:
                table = ipc.open_file(f).read_all().select(["text"])
    except (pa.ArrowException, OSError, KeyError, ValueError) as e:
        report.add(path, f"not readable by pyarrow ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
        return
    if table.num_rows != s["rows"]:
        report.add(path, f"{table.num_rows} rows, the manifest says {s['rows']}")
    text_bytes = int(pc.sum(pc.binary_length(table.column("text"))).as_py() or 0)
    if "text_bytes" in s and text_bytes != s["text_bytes"]:
        report.add(path, f"{text_bytes} bytes of text, the manifest says {s['text_bytes']}")


def _token_shard(report: Report, directory: Path, s: dict[str, Any], dtype: str, eos: int) -> None:
    tokens_path, docs_path = directory / s["tokens_path"], directory / s["docs_path"]
    ok = _file_ok(report, tokens_path, s["tokens_bytes"], s["tokens_sha256"])
    ok = _file_ok(report, docs_path, s["docs_bytes"], s["docs_sha256"]) and ok
    if not ok:
        return
    try:
        tokens = np.load(tokens_path, mmap_mode="r")
        ends = np.load(docs_path)
    except (ValueError, OSError) as e:
        report.add(tokens_path, f"not a readable .npy pair ({e})")
        return
    if tokens.dtype != np.dtype(dtype) or tokens.shape != (s["tokens"],):
        report.add(tokens_path, f"{tokens.dtype} x {tokens.shape}, the manifest says {dtype} x ({s['tokens']},)")
    elif ends.dtype != np.int64 or ends.shape != (s["documents"],):
        report.add(docs_path, f"{ends.dtype} x {ends.shape}, the manifest says int64 x ({s['documents']},)")
    elif ends.size and (np.any(np.diff(ends) < 1) or ends[0] < 1 or int(ends[-1]) != s["tokens"]):
        report.add(docs_path, "document ends do not rise to the token count")
    elif ends.size and np.any(tokens[ends - 1] != eos):
        report.add(tokens_path, "a document does not end with the end-of-document id")


def _outside_entries(d: Path, kind: str, shards: list[dict[str, Any]]) -> list[Problem]:
    """One problem per file name the manifest lists that is not a file inside ``d``."""
    keys = {corpus_format.FORMAT: ("path",), token_format.FORMAT: ("tokens_path", "docs_path")}.get(kind, ())
    problems = []
    for i, s in enumerate(shards):
        for key in keys:
            try:
                check_entry_path(d / MANIFEST_FILE, f"shard {s.get('index', i)}", str(s[key]))
            except CorruptCorpusError as e:
                problems.append(Problem(d / MANIFEST_FILE, str(e).split(": ", 1)[1]))
    return problems


def verify(directory: str | os.PathLike[str]) -> Report:
    """Check ``directory`` (a corpus or token shards); see the module documentation."""
    d = Path(directory)
    report = Report(d)
    if not d.is_dir():
        report.add(d, "no such directory")
        return report
    try:
        manifest = json.loads((d / MANIFEST_FILE).read_text(encoding="utf-8"))
        kind, shards = manifest["format"], manifest["shards"]
    except FileNotFoundError:
        report.add(d / MANIFEST_FILE, "missing (an unfinished or foreign directory)")
        return report
    except (ValueError, KeyError, TypeError) as e:
        report.add(d / MANIFEST_FILE, f"not a hyperword manifest ({e})")
        return report
    report.kind, report.shards = kind, len(shards)
    outside = _outside_entries(d, kind, shards)
    if outside:  # never read a file the manifest places outside the directory
        report.problems.extend(outside)
        return report
    listed: set[str] = set()
    if kind == corpus_format.FORMAT:
        for s in shards:
            listed.add(s["path"])
            if _file_ok(report, d / s["path"], s["bytes"], s["sha256"]):
                _corpus_shard(report, d / s["path"], s)
        sums = {k: sum(s[k] for s in shards) for k in ("rows", "words", "bytes")}
        totals = manifest.get("totals", {})
        for k, v in sums.items():
            if k in totals and totals[k] != v:
                report.add(d / MANIFEST_FILE, f"totals.{k} is {totals[k]}, the shards sum to {v}")
    elif kind == token_format.FORMAT:
        eos = int(manifest["tokenizer"]["eos_id"])
        for s in shards:
            listed.update((s["tokens_path"], s["docs_path"]))
            _token_shard(report, d, s, manifest["dtype"], eos)
        totals = manifest.get("totals", {})
        for k in ("documents", "tokens"):
            if k in totals and totals[k] != sum(s[k] for s in shards):
                report.add(
                    d / MANIFEST_FILE, f"totals.{k} is {totals[k]}, the shards sum to {sum(s[k] for s in shards)}"
                )
    else:
        report.add(d / MANIFEST_FILE, f"unknown format {kind!r}")
        return report
    for p in sorted(d.iterdir()):
        if p.name == STATE_DIR:
            report.add(p, "run state of an unfinished run is present")
    for p in extra_files(d, listed):
        report.add(
            p,
            "extra file: not listed in the manifest"
            + (" (a leftover temporary file)" if p.name.startswith(".") else ""),
        )
    return report


def extra_files(directory: Path, listed: set[str]) -> list[Path]:
    """Files of ``directory`` named like shards or their temporaries that its manifest does not
    list (``listed``): what ``verify`` reports and a rerun never deletes (it did not write them)."""
    return [p for p in sorted(directory.iterdir()) if _OWN_FILE.match(p.name) and p.name not in listed]


def foreign_files_note(manifest: Manifest) -> str | None:
    """One line naming the files a finished run left in place that ``verify`` will report, or
    ``None`` when there are none."""
    extra = extra_files(manifest.directory, {s.path for s in manifest.shards})
    if not extra:
        return None
    names = ", ".join(str(p) for p in extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
    return f"note: {names} {'is' if len(extra) == 1 else 'are'} not part of this corpus and left in place; `hyperword verify` reports {'it' if len(extra) == 1 else 'them'} until removed"
