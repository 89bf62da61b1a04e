"""The sources ``import_lexicon`` reads, as columns and raw rows.

Format detection, delimited text (TSV/CSV), plain word lists, Parquet/Arrow tables, and the
mapping of their columns to lexicon columns.
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import io
import os
from collections.abc import Iterator, Mapping
from typing import Any

from hyperword.errors import ConfigError, LexiconError
from hyperword.lexicon._io import COLUMNS, _lines, _trim

#: Input formats of :func:`import_lexicon` (``feather`` is read as ``arrow``).
FORMATS = ("tsv", "csv", "txt", "parquet", "arrow")
_EXTENSIONS = {
    ".tsv": "tsv",
    ".tab": "tsv",
    ".csv": "csv",
    ".txt": "txt",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}


@dataclasses.dataclass
class _Source:
    """A tabular source: column names and rows of raw cells, each with where it came from."""

    columns: list[str]
    #: (location "FILE:LINE", the row's cells, or the reason the row is unusable)
    rows: Iterator[tuple[str, list[object] | str]]


def _detect_format(src: str, fmt: str | None) -> str:
    if fmt is not None:
        fmt = fmt.lower()
        if fmt == "feather":
            fmt = "arrow"
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
        return fmt
    ext = os.path.splitext(src)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    try:
        with open(src, "rb") as f:
            magic = f.read(6)
    except IsADirectoryError:
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a lexicon file", src) from None
    if magic.startswith(b"PAR1"):
        return "parquet"
    if magic.startswith(b"ARROW1"):
        return "arrow"
    raise ConfigError(
        f"cannot tell the format of {src} from its extension {ext or '(none)'}: "
        f"give fmt= (--format) as one of {', '.join(FORMATS)}"
    )


def _delimited_source(src: str, text: str, fmt: str, delimiter: str) -> _Source:
    if fmt == "csv":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        records: Iterator[tuple[int, list[str]]]

        def csv_records() -> Iterator[tuple[int, list[str]]]:
            start = 1
            try:
                for record in reader:
                    yield start, record
                    start = reader.line_num + 1
            except csv.Error as e:
                raise LexiconError(f"{src}:{reader.line_num}: malformed CSV: {e}") from None

        records = csv_records()
    else:
        records = ((n, line.split(delimiter)) for n, line in _lines(text))
    header: list[str] | None = None
    for _n, cells in records:
        if all(_trim(c) == "" for c in cells):
            continue
        header = [_trim(c) for c in cells]
        break
    if header is None:
        raise LexiconError(f"{src}: empty file: no header row")
    width = len(header)

    def rows() -> Iterator[tuple[str, list[object] | str]]:
        for n, cells in records:
            if all(_trim(c) == "" for c in cells):
                continue
            if len(cells) != width:
                yield f"{src}:{n}", f"expected {width} fields separated by {delimiter!r}, found {len(cells)}"
            else:
                yield f"{src}:{n}", list(cells)

    return _Source(header, rows())


def _word_list_source(src: str, text: str) -> _Source:
    def rows() -> Iterator[tuple[str, list[object] | str]]:
        for n, line in _lines(text):
            if _trim(line):
                yield f"{src}:{n}", [line]

    return _Source(["word"], rows())


def _table_source(src: str, fmt: str) -> tuple[list[str], Any]:
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(src)
        else:
            try:
                with pa.memory_map(src) as mm:
                    table = pa.ipc.open_file(mm).read_all()
            except pa.ArrowInvalid:
                with pa.memory_map(src) as mm:
                    table = pa.ipc.open_stream(mm).read_all()
    except (pa.ArrowException, ValueError) as e:
        kind = "Parquet" if fmt == "parquet" else "Arrow IPC"
        raise LexiconError(f"{src}: not a readable {kind} file ({e})") from None
    return list(table.column_names), table


def _resolve_columns(src: str, available: list[str], columns: Mapping[str, str] | None) -> dict[str, int]:
    """target column -> index into the source's columns."""
    columns = dict(columns or {})
    for target in columns:
        if target not in COLUMNS:
            raise ConfigError(
                f"unknown target column {target!r} in the column mapping: expected one of {', '.join(COLUMNS)}"
            )
    shown = ", ".join(repr(c) for c in available)
    out: dict[str, int] = {}
    for target in COLUMNS:
        if target in columns:
            name = columns[target]
            matches = [i for i, c in enumerate(available) if c == name]
            if not matches:
                matches = [i for i, c in enumerate(available) if c.lower() == name.lower()]
            if not matches:
                raise ConfigError(
                    f"the column mapping {target}={name} names column {name!r}, which {src} does not have; its columns: {shown}"
                )
            if len(matches) > 1:
                raise ConfigError(f"{src} has several columns named {name!r}; its columns: {shown}")
            out[target] = matches[0]
        else:
            matches = [i for i, c in enumerate(available) if c.lower() == target]
            if len(matches) > 1:
                raise ConfigError(f"{src} has several {target!r} columns; map one with {target}=NAME (--column)")
            if matches:
                out[target] = matches[0]
    if "word" not in out:
        raise ConfigError(
            f"{src} has no 'word' column: map one with columns={{'word': NAME}} (--column word=NAME); its columns: {shown}"
        )
    return out
