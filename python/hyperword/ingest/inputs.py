"""Finding the inputs: the files that ``SRC`` arguments stand for, each with its kind.

A file's kind comes from its extension (or ``input_format``), compression from a ``.gz``,
``.bz2`` or ``.xz`` suffix; a directory stands for the files under it, or for the ``*.arrow``
files of a Hugging Face dataset saved with ``save_to_disk``. Options that no input uses are
refused here.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from io import BufferedIOBase
from pathlib import Path
from typing import Any

from hyperword.errors import ConfigError
from hyperword.ingest.options import PathArg, _Options

_EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".arrows": "arrow",
    ".ipc": "arrow",
    ".feather": "arrow",
    ".fea": "arrow",
}


def _gzip(path: str) -> BufferedIOBase:
    return gzip.GzipFile(path, "rb")


def _bz2(path: str) -> BufferedIOBase:
    return bz2.BZ2File(path, "rb")


def _xz(path: str) -> BufferedIOBase:
    return lzma.LZMAFile(path, "rb")


_COMPRESSED: dict[str, Callable[[str], BufferedIOBase]] = {".gz": _gzip, ".bz2": _bz2, ".xz": _xz}


@dataclass
class _Source:
    path: str  # as recorded in the manifest and named in errors
    kind: str  # text | jsonl | parquet | arrow
    named: bool  # named by the caller (not found in a directory): no documents is an error
    opener: Callable[[str], BufferedIOBase] | None = None  # decompression, for text and jsonl
    sha256: str = ""
    bytes: int = 0
    documents: dict[str | None, int] = dc_field(default_factory=dict)


def _kind_of(path: Path) -> tuple[str | None, Callable[[str], BufferedIOBase] | None]:
    suffixes = [s.lower() for s in path.suffixes]
    opener = None
    if suffixes and suffixes[-1] in _COMPRESSED:
        opener = _COMPRESSED[suffixes.pop()]
    return (_EXTENSIONS.get(suffixes[-1]) if suffixes else None), opener


def _is_hf(directory: Path) -> bool:
    return (directory / "state.json").is_file() or (directory / "dataset_dict.json").is_file()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid JSON ({e})") from None


def _hf_sources(directory: Path, opts: _Options) -> list[_Source]:
    """The ``*.arrow`` stream files of a saved dataset (of split ``hf_split`` of a DatasetDict)."""
    if (directory / "dataset_dict.json").is_file() and not (directory / "state.json").is_file():
        splits = _read_json(directory / "dataset_dict.json").get("splits")
        if not isinstance(splits, list):
            raise ConfigError(f"{directory / 'dataset_dict.json'}: no list of splits")
        if opts.hf_split not in splits:
            raise ConfigError(
                f"{directory}: no split {opts.hf_split!r} in this DatasetDict (splits: {', '.join(map(str, splits))}); choose one with --hf-split"
            )
        directory = directory / opts.hf_split
        if not (directory / "state.json").is_file():
            raise ConfigError(f"{directory}: no state.json: not a dataset saved with save_to_disk")
    state_path = directory / "state.json"
    state = _read_json(state_path)
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("filename"), str) for f in files
    ):
        raise ConfigError(f"{state_path}: no _data_files list: not a dataset saved with save_to_disk")
    if state.get("_indices_data_files"):
        raise ConfigError(
            f"{directory}: the dataset has an indices mapping; save it again with flatten_indices() first"
        )
    return [_Source(str(directory / f["filename"]), "arrow", named=False) for f in files]


def _sources(paths: Sequence[PathArg], out: Path, opts: _Options) -> list[_Source]:
    out_resolved = out.resolve()
    found: list[_Source] = []
    for arg in paths:
        path = Path(arg)
        st = path.stat()  # FileNotFoundError for a missing path (or a dangling link)
        if path.is_dir():
            if opts.input_format in (None, "hf") and _is_hf(path):
                found.extend(_hf_sources(path, opts))
                continue
            if opts.input_format == "hf":
                raise ConfigError(
                    f"{path}: not a Hugging Face dataset saved with save_to_disk (no state.json or dataset_dict.json)"
                )
            inside: list[_Source] = []
            for root, dirs, files in os.walk(path):
                root_path = Path(root)
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (root_path / d).resolve() != out_resolved)
                for name in sorted(files):
                    file = root_path / name
                    if name.startswith(".") or out_resolved in file.resolve().parents:
                        continue
                    kind, opener = _kind_of(file)
                    if opts.input_format is not None:
                        kind = opts.input_format
                    if kind is not None:
                        inside.append(
                            _Source(str(file), kind, named=False, opener=opener if kind in ("text", "jsonl") else None)
                        )
            if not inside:
                known = ", ".join(sorted(_EXTENSIONS))
                raise ConfigError(
                    f"{path}: no input files in this directory (known extensions: {known}; or pass --input-format)"
                )
            found.extend(inside)
            continue
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file or directory (mode {st.st_mode:o})")
        kind, opener = _kind_of(path)
        if opts.input_format == "hf":
            raise ConfigError(f"{path}: a Hugging Face dataset is a directory saved with save_to_disk, not a file")
        kind = opts.input_format or kind or "text"
        if opener is not None and kind not in ("text", "jsonl"):
            raise ConfigError(
                f"{path}: compressed {kind} files are not supported (only text and JSONL may be .gz/.bz2/.xz)"
            )
        found.append(_Source(str(path), kind, named=True, opener=opener))
    if not found:
        raise ConfigError("no input files given")
    kinds = {s.kind for s in found}
    uses = {
        "doc_per": ("text" in kinds, "--doc-per applies to text input"),
        "field": ("jsonl" in kinds, "--field applies to JSONL input (use --column for Parquet, Arrow and datasets)"),
        "lang_field": (
            "jsonl" in kinds,
            "--lang-field applies to JSONL input (use --lang-column for Parquet, Arrow and datasets)",
        ),
        "column": (
            bool(kinds & {"parquet", "arrow"}),
            "--column applies to Parquet, Arrow and dataset input (use --field for JSONL)",
        ),
        "lang_column": (
            bool(kinds & {"parquet", "arrow"}),
            "--lang-column applies to Parquet, Arrow and dataset input (use --lang-field for JSONL)",
        ),
    }
    for name, (used, message) in uses.items():
        if name in opts.explicit and not used:
            raise ConfigError(f"{message}; the input is {', '.join(sorted(kinds))}")
    return found
