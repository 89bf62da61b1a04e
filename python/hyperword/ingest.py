"""Natural text ingestion: documents from text, JSONL, Parquet, Arrow or a saved Hugging Face
dataset, written as a corpus directory with the generator's layout (``kind`` ``"natural"``).

    >>> from hyperword.ingest import ingest
    >>> m = ingest(["ru.txt"], "ru-corpus/", lang="ru")           # doctest: +SKIP
    >>> m.rows, m.words, m.raw["sources"]                          # doctest: +SKIP

Inputs (each ``SRC`` a file or a directory; the kind comes from the extension, or from
``input_format`` for all of them):

- ``text`` (``.txt``, ``.text``, ``.md``, and any other named file): UTF-8, one document per
  line (``doc_per="line"``: the line without its ``\\n`` or ``\\r\\n``) or per file
  (``doc_per="file"``: the whole file, exactly); a leading BOM is dropped.
- ``jsonl`` (``.jsonl``, ``.ndjson``, ``.json``): one JSON object per line, the document in
  ``field`` (default ``text``), optionally its language in ``lang_field``.
- ``parquet`` (``.parquet``, ``.pq``) and ``arrow`` (``.arrow``, ``.arrows``, ``.ipc``,
  ``.feather``: Arrow IPC file or stream format, or Feather v1): the documents in ``column``
  (default ``text``), optionally languages in ``lang_column``.
- ``hf``: a directory written by ``datasets``' ``save_to_disk`` (``state.json`` and its
  ``*.arrow`` stream files, read with pyarrow), or a ``DatasetDict`` directory
  (``dataset_dict.json``), of which the split ``hf_split`` (default ``train``) is read.

Text and JSONL files may be compressed (``.gz``, ``.bz2``, ``.xz``). A directory that is not a
Hugging Face dataset stands for the files under it with a known extension (every file, with
``input_format``), in sorted order, hidden files and the output directory excluded.

Blank documents (empty, whitespace only, or null) are skipped. Every input is read and
checked in full before anything is written: a bad one raises ``ConfigError`` with
``FILE:LINE: reason`` (``FILE: record N: reason`` for columnar inputs), a missing one
``FileNotFoundError``; ``OSError`` comes through as it is.

Output: shards of ``shard_docs`` documents (the last one shorter), so shard boundaries are a
pure function of the input; columns ``text`` (string, non-null) and, when a language is known
(``lang`` for all documents, or ``lang_field``/``lang_column`` per document, ``lang`` then
filling in the nulls), ``lang`` (string); record batches of at most 64 MiB of text. With
``split=F``, each document goes to ``validation`` when the first 8 bytes of sha256(its UTF-8
text), read as a big-endian integer, divided by 2**64 are below ``F``, else to ``train``:
``OUT/train/`` and ``OUT/validation/`` are then two complete corpora. The manifest has the
generator's schema with ``kind`` ``"natural"``, ``config`` = these options and ``sources`` =
``[{path, sha256, bytes, documents}]``; the fingerprint covers the format version, the
hyperword version, the configuration and the sha256 and size of every source file (not its
path). Runs are atomic, resumable and reproducible exactly like ``generate``.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import math
import os
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from fractions import Fraction
from io import BufferedIOBase
from itertools import accumulate
from pathlib import Path
from typing import Any, Union

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from hyperword._hyperword import ConfigError, OutputExistsError, __version__
from hyperword.manifest import Manifest
from hyperword.shards import (
    FORMAT_VERSION,
    CorpusRun,
    ShardOptions,
    ShardWriter,
    file_digest,
    fingerprint,
    remove_corpus_files,
)

KIND = "natural"
INPUT_FORMATS = ("text", "jsonl", "parquet", "arrow", "hf")
DOC_PER = ("line", "file")
DEFAULT_SHARD_DOCS = 100_000
#: A record batch ends before the document that would take its text past this many bytes.
BATCH_TEXT_BYTES = 64 << 20
#: Arrow's ``string`` holds at most 2 GiB per array, so no document can be larger.
MAX_DOC_BYTES = (1 << 31) - 1
SPLIT_SIDES = ("train", "validation")
SPLIT_RULE = "validation when sha256(text)[:8] as a big-endian integer / 2**64 < fraction"

_EXTENSIONS = {
    ".txt": "text", ".text": "text", ".md": "text",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
    ".arrow": "arrow", ".arrows": "arrow", ".ipc": "arrow", ".feather": "arrow", ".fea": "arrow",
}  # fmt: skip


def _gzip(path: str) -> BufferedIOBase:
    return gzip.GzipFile(path, "rb")


def _bz2(path: str) -> BufferedIOBase:
    return bz2.BZ2File(path, "rb")


def _xz(path: str) -> BufferedIOBase:
    return lzma.LZMAFile(path, "rb")


_COMPRESSED: dict[str, Callable[[str], BufferedIOBase]] = {".gz": _gzip, ".bz2": _bz2, ".xz": _xz}
_BOM = b"\xef\xbb\xbf"

PathArg = Union[str, "os.PathLike[str]"]
Progress = Callable[[int, int], object]


@dataclass(frozen=True)
class _Options:
    input_format: str | None
    doc_per: str
    field: str
    lang_field: str | None
    column: str
    lang_column: str | None
    hf_split: str
    lang: str | None
    shard_docs: int
    split: float | None
    output: ShardOptions
    explicit: frozenset[str]

    @property
    def has_lang(self) -> bool:
        return self.lang is not None or self.lang_field is not None or self.lang_column is not None

    def config(self, side: str | None) -> dict[str, Any]:
        """The ingest options as recorded in the manifest (and hashed into the fingerprint)."""
        cfg: dict[str, Any] = {
            "input_format": self.input_format or "auto",
            "doc_per": self.doc_per,
            "field": self.field,
            "lang_field": self.lang_field,
            "column": self.column,
            "lang_column": self.lang_column,
            "hf_split": self.hf_split,
            "lang": self.lang,
            "shard_docs": self.shard_docs,
            "batch_text_bytes": BATCH_TEXT_BYTES,
            "columns": ["text", "lang"] if self.has_lang else ["text"],
            "split": None if side is None else {"fraction": self.split, "side": side, "rule": SPLIT_RULE},
            **self.output.config(),
        }
        return cfg

    def schema(self) -> pa.Schema:
        fields = [pa.field("text", pa.string(), nullable=False)]
        if self.has_lang:
            fields.append(pa.field("lang", pa.string(), nullable=True))
        return pa.schema(fields)


@dataclass
class _Source:
    path: str  # as recorded in the manifest and named in errors
    kind: str  # text | jsonl | parquet | arrow
    named: bool  # named by the caller (not found in a directory): no documents is an error
    opener: Callable[[str], BufferedIOBase] | None = None  # decompression, for text and jsonl
    sha256: str = ""
    bytes: int = 0
    documents: dict[str | None, int] = dc_field(default_factory=dict)


# --- options -------------------------------------------------------------------------------------


def _check_name(option: str, value: object, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{option} must be a non-empty string, got {value!r}")


def _options(
    *,
    input_format: str | None,
    doc_per: str | None,
    field: str | None,
    lang_field: str | None,
    column: str | None,
    lang_column: str | None,
    hf_split: str | None,
    lang: str | None,
    shard_docs: int,
    split: float | None,
    format: str,
    compression: str,
    compression_level: int | None,
) -> _Options:
    if input_format is not None and input_format not in INPUT_FORMATS:
        raise ConfigError(f"unknown input format {input_format!r}: expected one of {', '.join(INPUT_FORMATS)}")
    if doc_per is not None and doc_per not in DOC_PER:
        raise ConfigError(f"unknown --doc-per {doc_per!r}: expected line or file")
    for name, value in (("--field", field), ("--lang-field", lang_field), ("--column", column), ("--lang-column", lang_column), ("--hf-split", hf_split)):
        _check_name(name, value)
    if lang is not None and (not isinstance(lang, str) or not lang or lang != lang.strip() or any(c.isspace() for c in lang)):
        raise ConfigError(f"--lang must be a language code without spaces, got {lang!r}")
    if isinstance(shard_docs, bool) or not isinstance(shard_docs, int) or not 1 <= shard_docs < 2**64:
        raise ConfigError(f"shard_docs must be a positive whole number, got {shard_docs!r}")
    if split is not None:
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
            raise ConfigError(f"--split must be a fraction strictly between 0 and 1 (e.g. 0.01), got {split!r}")
        split = float(split)
    given = {"doc_per": doc_per, "field": field, "lang_field": lang_field, "column": column, "lang_column": lang_column, "hf_split": hf_split}
    return _Options(
        input_format=input_format,
        doc_per=doc_per or "line",
        field=field or "text",
        lang_field=lang_field,
        column=column or "text",
        lang_column=lang_column,
        hf_split=hf_split or "train",
        lang=lang,
        shard_docs=shard_docs,
        split=split,
        output=ShardOptions(format=format, compression=compression, compression_level=compression_level),
        explicit=frozenset(k for k, v in given.items() if v is not None),
    )


# --- finding the sources -------------------------------------------------------------------------


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
            raise ConfigError(f"{directory}: no split {opts.hf_split!r} in this DatasetDict (splits: {', '.join(map(str, splits))}); choose one with --hf-split")
        directory = directory / opts.hf_split
        if not (directory / "state.json").is_file():
            raise ConfigError(f"{directory}: no state.json: not a dataset saved with save_to_disk")
    state_path = directory / "state.json"
    state = _read_json(state_path)
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("filename"), str) for f in files):
        raise ConfigError(f"{state_path}: no _data_files list: not a dataset saved with save_to_disk")
    if state.get("_indices_data_files"):
        raise ConfigError(f"{directory}: the dataset has an indices mapping; save it again with flatten_indices() first")
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
                raise ConfigError(f"{path}: not a Hugging Face dataset saved with save_to_disk (no state.json or dataset_dict.json)")
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
                        inside.append(_Source(str(file), kind, named=False, opener=opener if kind in ("text", "jsonl") else None))
            if not inside:
                known = ", ".join(sorted(_EXTENSIONS))
                raise ConfigError(f"{path}: no input files in this directory (known extensions: {known}; or pass --input-format)")
            found.extend(inside)
            continue
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file or directory (mode {st.st_mode:o})")
        kind, opener = _kind_of(path)
        if opts.input_format == "hf":
            raise ConfigError(f"{path}: a Hugging Face dataset is a directory saved with save_to_disk, not a file")
        kind = opts.input_format or kind or "text"
        if opener is not None and kind not in ("text", "jsonl"):
            raise ConfigError(f"{path}: compressed {kind} files are not supported (only text and JSONL may be .gz/.bz2/.xz)")
        found.append(_Source(str(path), kind, named=True, opener=opener))
    if not found:
        raise ConfigError("no input files given")
    kinds = {s.kind for s in found}
    uses = {
        "doc_per": ("text" in kinds, "--doc-per applies to text input"),
        "field": ("jsonl" in kinds, "--field applies to JSONL input (use --column for Parquet, Arrow and datasets)"),
        "lang_field": ("jsonl" in kinds, "--lang-field applies to JSONL input (use --lang-column for Parquet, Arrow and datasets)"),
        "column": (bool(kinds & {"parquet", "arrow"}), "--column applies to Parquet, Arrow and dataset input (use --field for JSONL)"),
        "lang_column": (bool(kinds & {"parquet", "arrow"}), "--lang-column applies to Parquet, Arrow and dataset input (use --lang-field for JSONL)"),
    }
    for name, (used, message) in uses.items():
        if name in opts.explicit and not used:
            raise ConfigError(f"{message}; the input is {', '.join(sorted(kinds))}")
    return found


# --- reading documents ---------------------------------------------------------------------------

#: Bytes of input read at a time (text and JSONL), cut at the last line break.
READ_BLOCK = 8 << 20


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


def _blocks(src: _Source, size: int = READ_BLOCK) -> Iterator[tuple[int, bytes]]:
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
        raise ConfigError(f"{src.path}:{line}: invalid UTF-8 (byte 0x{block[e.start]:02x} at byte {column} of the line)") from None


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
    for lineno, block in _blocks(src, 0 if opts.doc_per == "file" else READ_BLOCK):
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
    for lineno, block in _blocks(src):
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
                raise ConfigError(f"{where}: a string holds an unpaired surrogate escape (\\ud800-\\udfff): not valid Unicode") from None
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
    columns = [opts.column] + ([opts.lang_column] if opts.lang_column is not None and opts.lang_column != opts.column else [])
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


# --- splitting -----------------------------------------------------------------------------------


def _split_threshold(fraction: float) -> int:
    """The integer h below which a document (h = its hash's first 8 bytes) is validation."""
    return math.ceil(Fraction(fraction) * 2**64)


def split_side(text: str, fraction: float) -> str:
    """``"validation"`` or ``"train"``: the side ``split=fraction`` puts this document on."""
    h = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    return "validation" if h < _split_threshold(fraction) else "train"


def _partition(chunk: _Chunk, fraction: float | None) -> dict[str | None, _Chunk]:
    """The chunk's documents by side: ``{None: chunk}`` without a split."""
    if fraction is None:
        return {None: chunk}
    threshold = _split_threshold(fraction)
    sha256 = hashlib.sha256
    validation = [int.from_bytes(sha256(t.encode("utf-8")).digest()[:8], "big") < threshold for t in chunk.texts]
    return {
        "train": chunk.take([i for i, v in enumerate(validation) if not v]),
        "validation": chunk.take([i for i, v in enumerate(validation) if v]),
    }


# --- writing -------------------------------------------------------------------------------------


class _SideWriter:
    """The shards of one output corpus, fed chunks of documents in order."""

    def __init__(self, run: CorpusRun, opts: _Options, total: int) -> None:
        self.run = run
        self.opts = opts
        self.total = total
        self.schema = opts.schema()
        self.pos = 0  # documents fed so far
        self.writer: ShardWriter | None = None  # None while in a kept shard
        self.texts: list[str] = []
        self.langs: list[str | None] = []
        self.buffered = 0  # UTF-8 bytes of self.texts

    def add(self, chunk: _Chunk) -> None:
        n, i = self.opts.shard_docs, 0
        while i < len(chunk):
            if self.pos % n == 0:
                index = self.pos // n
                if self.run.kept(index, self.opts.output.format) is None:
                    self.writer = self.run.open_shard(index, self.schema, self.opts.output)
            take = min(len(chunk) - i, n - self.pos % n)
            if self.writer is not None:
                self._buffer(chunk, i, i + take)
            i += take
            self.pos += take
            if self.pos % n == 0 or self.pos == self.total:
                self._end_shard()

    def _buffer(self, chunk: _Chunk, start: int, stop: int) -> None:
        """Append documents ``start:stop``, flushing a batch before any document that would
        take it past ``BATCH_TEXT_BYTES`` (a larger document goes alone)."""
        limit = BATCH_TEXT_BYTES
        cumulative = list(accumulate(chunk.sizes[start:stop], initial=0))
        j = 0  # relative to start
        while j < stop - start:
            room = limit - self.buffered
            k = bisect_right(cumulative, cumulative[j] + room, lo=j) - 1  # documents j:k fit
            if k <= j:
                if self.texts:
                    self._flush()
                    continue
                k = j + 1  # a document larger than a batch: alone
            self.texts.extend(chunk.texts[start + j : start + k])
            self.langs.extend(chunk.langs[start + j : start + k])
            self.buffered += cumulative[k] - cumulative[j]
            j = k
            if j < stop - start:
                self._flush()

    def _flush(self) -> None:
        assert self.writer is not None
        arrays = [pa.array(self.texts, pa.string())]
        if self.opts.has_lang:
            arrays.append(pa.array(self.langs, pa.string()))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        words = sum(map(len, map(str.split, self.texts)))
        self.writer.write(batch, words, self.buffered)
        self.texts, self.langs, self.buffered = [], [], 0

    def _end_shard(self) -> None:
        if self.writer is None:
            return
        if self.texts:
            self._flush()
        info = self.writer.finish()
        self.writer = None
        self.run.add_shard(info)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
            self.writer = None


def _sources_record(sources: list[_Source], side: str | None) -> list[dict[str, Any]]:
    return [{"path": s.path, "sha256": s.sha256, "bytes": s.bytes, "documents": s.documents.get(side, 0)} for s in sources]


def _run(
    sources: PathArg | Sequence[PathArg],
    out: PathArg,
    *,
    force: bool,
    progress: Progress | None,
    **kw: Any,
) -> dict[str, Manifest]:
    opts = _options(**kw)
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    out_dir = Path(out)
    srcs = _sources(list(sources), out_dir, opts)

    # Pass 1: hash and read every source in full; nothing is written if any is bad.
    sides: list[str | None] = list(SPLIT_SIDES) if opts.split is not None else [None]
    for src in srcs:
        src.bytes, src.sha256 = file_digest(Path(src.path))  # OSError (unreadable) first
        counts: dict[str | None, int] = {side: 0 for side in sides}
        for chunk in _chunks(src, opts):
            for side, part in _partition(chunk, opts.split).items():
                counts[side] += len(part)
        src.documents = counts
        if src.named and sum(counts.values()) == 0:
            raise ConfigError(f"{src.path}: no documents (empty, or blank lines or null values only)")
    totals = {side: sum(s.documents[side] for s in srcs) for side in sides}
    if sum(totals.values()) == 0:
        raise ConfigError(f"no documents in the input ({len(srcs)} file(s), all empty or blank)")
    for side, count in totals.items():
        if count == 0:
            raise ConfigError(
                f"--split {opts.split} leaves the {side} side empty ({sum(totals.values())} document(s) in all); choose another fraction"
            )

    # Where each corpus goes, refusing before anything is touched.
    identity_sources = [{"sha256": s.sha256, "bytes": s.bytes} for s in srcs]
    runs: dict[str | None, CorpusRun] = {}
    if opts.split is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise OutputExistsError(f"{out_dir} exists and is not a directory")
        if out_dir.is_dir() and not force:
            others = sorted(p.name for p in out_dir.iterdir() if p.name not in SPLIT_SIDES)
            if others:
                raise OutputExistsError(
                    f"{out_dir} holds {', '.join(others[:3])}{' ...' if len(others) > 3 else ''}, not only a train/validation split; "
                    "choose another directory or pass --force (force=True)"
                )
    for side in sides:
        directory = out_dir if side is None else out_dir / side
        identity = {"format_version": FORMAT_VERSION, "hyperword": __version__, "config": opts.config(side), "sources": identity_sources}
        runs[side] = CorpusRun.check(directory, fingerprint(identity), force=force)

    result: dict[str | None, Manifest] = {}
    pending = {side: run for side, run in runs.items() if run.complete is None}
    for side, run in runs.items():
        if run.complete is not None:
            result[side] = run.confirmed()
    if pending:
        if opts.split is not None and force and out_dir.is_dir():
            remove_corpus_files(out_dir)
        for run in pending.values():
            run.begin()
        writers = {side: _SideWriter(run, opts, totals[side]) for side, run in pending.items()}
        # Pass 2: the same documents again, into the shards not already kept.
        done, grand_total = 0, sum(totals[s] for s in pending)
        try:
            for src in srcs:
                seen: dict[str | None, int] = {side: 0 for side in sides}
                for chunk in _chunks(src, opts):
                    for side, part in _partition(chunk, opts.split).items():
                        seen[side] += len(part)
                        w = writers.get(side)
                        if w is None or not part:
                            continue
                        if w.pos + len(part) > w.total:
                            raise ConfigError(f"{src.path}: changed while it was being ingested; run again")
                        w.add(part)
                        done += len(part)
                    if progress is not None:
                        progress(done, grand_total)
                if seen != src.documents:
                    raise ConfigError(f"{src.path}: changed while it was being ingested; run again")
        except BaseException:
            for w in writers.values():
                w.abort()
            raise
        if progress is not None:
            progress(done, grand_total)
        for side, run in pending.items():
            result[side] = run.finish(kind=KIND, config=opts.config(side), extra={"sources": _sources_record(srcs, side)})
    return {("all" if side is None else side): m for side, m in sorted(result.items(), key=lambda kv: sides.index(kv[0]))}


_DOC = """
    Options (keyword-only; see the module docstring for the input kinds):
        input_format: ``text``, ``jsonl``, ``parquet``, ``arrow`` or ``hf`` for every
            source (default: from each file's extension).
        doc_per: ``line`` (default) or ``file``: text documents per line or per file.
        field / lang_field: the JSONL keys of the text (default ``text``) and language.
        column / lang_column: the Parquet/Arrow/dataset columns of the same.
        hf_split: the split of a saved ``DatasetDict`` (default ``train``).
        lang: the language of every document (of those whose own is null, with a
            lang field or column); adds the ``lang`` column.
        shard_docs: documents per shard (default 100000).
        split: a fraction in (0, 1): write ``out/train`` and ``out/validation``.
        format, compression, compression_level: as for ``generate``.
        force: replace a corpus of another configuration or input (or unrelated files).
        progress: called as ``progress(documents_written, documents_to_write)``.
"""


def ingest_all(
    sources: PathArg | Sequence[PathArg],
    out: PathArg,
    *,
    input_format: str | None = None,
    doc_per: str | None = None,
    field: str | None = None,
    lang_field: str | None = None,
    column: str | None = None,
    lang_column: str | None = None,
    hf_split: str | None = None,
    lang: str | None = None,
    shard_docs: int = DEFAULT_SHARD_DOCS,
    split: float | None = None,
    format: str = "arrow",
    compression: str = "zstd",
    compression_level: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Manifest]:
    """:func:`ingest`, returning every corpus written: ``{"all": m}``, or with ``split``
    ``{"train": m, "validation": m}``."""
    return _run(
        sources, out, force=force, progress=progress, input_format=input_format, doc_per=doc_per, field=field,
        lang_field=lang_field, column=column, lang_column=lang_column, hf_split=hf_split, lang=lang,
        shard_docs=shard_docs, split=split, format=format, compression=compression, compression_level=compression_level,
    )  # fmt: skip


def ingest(
    sources: PathArg | Sequence[PathArg],
    out: PathArg,
    *,
    input_format: str | None = None,
    doc_per: str | None = None,
    field: str | None = None,
    lang_field: str | None = None,
    column: str | None = None,
    lang_column: str | None = None,
    hf_split: str | None = None,
    lang: str | None = None,
    shard_docs: int = DEFAULT_SHARD_DOCS,
    split: float | None = None,
    format: str = "arrow",
    compression: str = "zstd",
    compression_level: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Manifest:
    """Ingest the documents of ``sources`` into the corpus directory ``out``; return its manifest.

    With ``split``, two corpora are written (``out/train``, ``out/validation``) and the train
    side's manifest is returned (:func:`ingest_all` returns both). Rerunning over an
    unfinished output resumes it; over the same complete corpus it verifies and does nothing
    (``manifest.run`` says what was written and kept); another corpus is refused with
    ``OutputExistsError`` unless ``force``.
    """
    manifests = ingest_all(
        sources, out, input_format=input_format, doc_per=doc_per, field=field, lang_field=lang_field, column=column,
        lang_column=lang_column, hf_split=hf_split, lang=lang, shard_docs=shard_docs, split=split, format=format,
        compression=compression, compression_level=compression_level, force=force, progress=progress,
    )  # fmt: skip
    return manifests["train" if split is not None else "all"]


ingest.__doc__ = (ingest.__doc__ or "") + _DOC
__all__ = ["DEFAULT_SHARD_DOCS", "INPUT_FORMATS", "ingest", "ingest_all", "split_side"]
