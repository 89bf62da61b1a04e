"""Reading documents: the non-blank documents of one input, in order, in chunks.

Text (a document per line or per file) and JSONL are read in blocks of whole lines;
Parquet, Arrow IPC/Feather and saved Hugging Face datasets in record batches. Every
document is checked on the way (UTF-8, types, size); the first bad one raises
``ConfigError`` with ``FILE:LINE: reason`` or ``FILE: record N: reason``.
"""

from __future__ import annotations

import gzip
import json
import lzma
from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedIOBase
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

# The package, for the constants tests patch on it (``READ_BLOCK``), read at call time.
import hyperword.ingest as _package
from hyperword.errors import ConfigError
from hyperword.ingest.inputs import _Source
from hyperword.ingest.options import MAX_DOC_BYTES, _Options

#: Bytes of input read at a time (text and JSONL), cut at the last line break.
READ_BLOCK = 8 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass
class _Chunk:
    """Consecutive non-blank documents of one source: text, language, UTF-8 bytes of text."""

    texts: list[str]
    langs: list[str | None]
    sizes: list[int]

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, keep: list[int]) -> _Chunk:
        return _Chunk([self.texts[i] for i in keep], [self.langs[i] for i in keep], [self.sizes[i] for i in keep])


def _is_blank(text: str) -> bool:
    return not text or text.isspace()


def _open(src: _Source) -> BufferedIOBase:
    return src.opener(src.path) if src.opener is not None else open(src.path, "rb")


def _read_error(src: _Source, e: Exception) -> ConfigError:
    return ConfigError(f"{src.path}: cannot be read ({type(e).__name__}: {e})")


def _blocks(src: _Source, size: int) -> Iterator[tuple[int, bytes]]:
    """(number of the block's first line, block of whole lines), a leading BOM dropped and NUL
    bytes refused. ``size`` 0 reads the whole file as one block."""
    with _open(src) as f:
        lineno, rest, first = 1, b"", True
        try:
            while True:
                data = f.read(size) if size else f.read()
                if data:
                    data = rest + data
                    cut = data.rfind(b"\n") + 1 if size else len(data)
                    if cut == 0:
                        rest = data
                        continue
                    block, rest = data[:cut], data[cut:]
                else:
                    block, rest = rest, b""
                if first and block.startswith(_BOM):
                    block = block[3:]
                first = False
                nul = block.find(b"\0")
                if nul >= 0:
                    line = lineno + block.count(b"\n", 0, nul)
                    raise ConfigError(f"{src.path}:{line}: binary file (NUL byte): only UTF-8 text can be ingested")
                if block:
                    yield lineno, block
                if not data:
                    return
                lineno += block.count(b"\n")
        except (EOFError, lzma.LZMAError, gzip.BadGzipFile) as e:
            raise _read_error(src, e) from None
        except OSError as e:
            if src.opener is None:
                raise
            raise _read_error(src, e) from None


def _decode(src: _Source, lineno: int, block: bytes) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as e:
        line = lineno + block.count(b"\n", 0, e.start)
        column = e.start - (block.rfind(b"\n", 0, e.start) + 1) + 1
        raise ConfigError(
            f"{src.path}:{line}: invalid UTF-8 (byte 0x{block[e.start]:02x} at byte {column} of the line)"
        ) from None


def _split_lines(block: bytes, text: str) -> tuple[list[str], list[int]]:
    """The lines of a block (without ``\\n`` or ``\\r\\n``) and their UTF-8 sizes."""
    lines = text.split("\n")
    raw = block.split(b"\n")
    if block.endswith(b"\n"):
        lines.pop()
        raw.pop()
    if b"\r" not in block:
        return lines, list(map(len, raw))
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines, [len(r) - 1 if r.endswith(b"\r") else len(r) for r in raw]


def _too_large(where: str, size: int) -> ConfigError:
    return ConfigError(f"{where}: a document of {size:,} bytes is larger than Arrow's 2 GiB string limit")


def _text_chunks(src: _Source, opts: _Options) -> Iterator[_Chunk]:
    for lineno, block in _blocks(src, 0 if opts.doc_per == "file" else _package.READ_BLOCK):
        text = _decode(src, lineno, block)
        if opts.doc_per == "file":
            lines, sizes = [text], [len(block)]
        else:
            lines, sizes = _split_lines(block, text)
        if max(sizes, default=0) > MAX_DOC_BYTES:
            i = next(i for i, size in enumerate(sizes) if size > MAX_DOC_BYTES)
            raise _too_large(src.path if opts.doc_per == "file" else f"{src.path}:{lineno + i}", sizes[i])
        chunk = _Chunk(lines, [opts.lang] * len(lines), sizes)
        if not all(map(str.strip, lines)):  # some blank lines: drop them
            chunk = chunk.take([i for i, line in enumerate(lines) if line and not line.isspace()])
        if chunk.texts:
            yield chunk


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def _jsonl_chunks(src: _Source, opts: _Options) -> Iterator[_Chunk]:
    loads = json.loads
    for lineno, block in _blocks(src, _package.READ_BLOCK):
        lines, _ = _split_lines(block, _decode(src, lineno, block))
        chunk = _Chunk([], [], [])
        for i, line in enumerate(lines):
            if not line or line.isspace():
                continue
            where = f"{src.path}:{lineno + i}"
            try:
                record = loads(line)
            except json.JSONDecodeError as e:
                raise ConfigError(f"{where}: malformed JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(record, dict):
                raise ConfigError(f"{where}: expected a JSON object, got {_json_type(record)}")
            values: list[str | None] = []
            for key in (opts.field, opts.lang_field):
                if key is None:
                    values.append(None)
                    continue
                if key not in record:
                    fields = ", ".join(map(repr, record)) or "none"
                    raise ConfigError(f"{where}: no field {key!r} (fields: {fields})")
                value = record[key]
                if value is not None and not isinstance(value, str):
                    raise ConfigError(f"{where}: field {key!r} is {_json_type(value)}, not a string")
                values.append(value)
            text, lang = values
            if text is None or _is_blank(text):
                continue
            try:
                size = len(text.encode("utf-8"))
                if lang is not None:
                    lang.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigError(
                    f"{where}: a string holds an unpaired surrogate escape (\\ud800-\\udfff): not valid Unicode"
                ) from None
            if size > MAX_DOC_BYTES:
                raise _too_large(where, size)
            chunk.texts.append(text)
            chunk.langs.append(lang if lang is not None else opts.lang)
            chunk.sizes.append(size)
        if chunk.texts:
            yield chunk


def _record_batches(src: _Source, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The record batches of a Parquet or Arrow file, only ``columns`` (checked to exist)."""

    def check(schema: pa.Schema) -> None:
        for name in columns:
            if name not in schema.names:
                available = ", ".join(map(repr, schema.names)) or "none"
                raise ConfigError(f"{src.path}: no column {name!r} (columns: {available})")

    what = "a Parquet file" if src.kind == "parquet" else "an Arrow IPC file or stream"
    try:
        if src.kind == "parquet":
            try:
                pf = pq.ParquetFile(src.path)
            except pa.ArrowException as e:
                raise ConfigError(f"{src.path}: not {what} ({e})") from None
            check(pf.schema_arrow)
            yield from pf.iter_batches(batch_size=16384, columns=columns)
            return
        with open(src.path, "rb") as f:
            magic = f.read(8)
        if magic.startswith(b"FEA1"):  # Feather version 1
            table = feather.read_table(src.path)
            check(table.schema)
            yield from table.select(columns).to_batches()
            return
        with pa.memory_map(src.path) as source:
            try:
                reader: Any = ipc.open_file(source) if magic.startswith(b"ARROW1") else ipc.open_stream(source)
            except pa.ArrowException as e:
                raise ConfigError(f"{src.path}: not {what} ({e})") from None
            check(reader.schema)
            if magic.startswith(b"ARROW1"):
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i).select(columns)
            else:
                for batch in reader:
                    yield batch.select(columns)
    except pa.ArrowException as e:
        if isinstance(e, (FileNotFoundError, PermissionError)):
            raise
        raise ConfigError(f"{src.path}: not readable as {what} ({e})") from None


def _strings(src: _Source, name: str, array: pa.Array, first: int) -> pa.Array:
    """``array`` as a ``large_string`` array, or a clear error."""
    t = array.type
    if pa.types.is_dictionary(t):
        array = array.dictionary_decode()
        t = array.type
    if pa.types.is_null(t):
        return pa.nulls(len(array), pa.large_string())
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)):
        raise ConfigError(f"{src.path}: column {name!r} has type {t}, not a string type")
    array = array.cast(pa.large_string())
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        for i, value in enumerate(array.cast(pa.large_binary()).to_pylist()):
            try:
                if value is not None:
                    value.decode("utf-8")
            except UnicodeDecodeError:
                raise ConfigError(f"{src.path}: record {first + i + 1}: column {name!r} holds invalid UTF-8") from None
        raise
    return array


def _columnar_chunks(src: _Source, opts: _Options) -> Iterator[_Chunk]:
    columns = [opts.column] + (
        [opts.lang_column] if opts.lang_column is not None and opts.lang_column != opts.column else []
    )
    first = 0
    for batch in _record_batches(src, columns):
        array = _strings(src, opts.column, batch.column(opts.column), first)
        texts = array.to_pylist()
        sizes = pc.binary_length(array).to_pylist()
        langs = [opts.lang] * len(texts)
        if opts.lang_column is not None:
            own = _strings(src, opts.lang_column, batch.column(opts.lang_column), first).to_pylist()
            langs = [lang if lang is not None else opts.lang for lang in own]
        keep = [i for i, text in enumerate(texts) if text is not None and text and not text.isspace()]
        for i in keep:
            if sizes[i] > MAX_DOC_BYTES:
                raise _too_large(f"{src.path}: record {first + i + 1}", sizes[i])
        if keep:
            yield _Chunk(texts, langs, sizes).take(keep) if len(keep) < len(texts) else _Chunk(texts, langs, sizes)
        first += batch.num_rows


def _chunks(src: _Source, opts: _Options) -> Iterator[_Chunk]:
    """The non-blank documents of ``src``, in order, in chunks; ``ConfigError`` at the first bad one."""
    if src.kind == "text":
        return _text_chunks(src, opts)
    if src.kind == "jsonl":
        return _jsonl_chunks(src, opts)
    return _columnar_chunks(src, opts)
