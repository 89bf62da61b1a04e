"""The options of an ingest run: checked, defaulted, and recorded in the manifest.

Also the constants of the input kinds, the output layout and the split that the other
modules share, and the ``PathArg`` and ``Progress`` types of the public functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import pyarrow as pa

# The package, for the constants tests patch on it (``BATCH_TEXT_BYTES``), read at call time.
import hyperword.ingest as _package
from hyperword.errors import ConfigError
from hyperword.formats.corpus import ShardOptions
from hyperword.formats.reader import SPLIT_SIDES as SPLIT_SIDES

KIND = "natural"
INPUT_FORMATS = ("text", "jsonl", "parquet", "arrow", "hf")
DOC_PER = ("line", "file")
DEFAULT_SHARD_DOCS = 100_000
#: A record batch ends before the document that would take its text past this many bytes.
BATCH_TEXT_BYTES = 64 << 20
#: Arrow's ``string`` holds at most 2 GiB per array, so no document can be larger.
MAX_DOC_BYTES = (1 << 31) - 1
SPLIT_RULE = "validation when sha256(text)[:8] as a big-endian integer / 2**64 < fraction"

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
            "batch_text_bytes": _package.BATCH_TEXT_BYTES,
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
    for name, value in (
        ("--field", field),
        ("--lang-field", lang_field),
        ("--column", column),
        ("--lang-column", lang_column),
        ("--hf-split", hf_split),
    ):
        _check_name(name, value)
    if lang is not None and (
        not isinstance(lang, str) or not lang or lang != lang.strip() or any(c.isspace() for c in lang)
    ):
        raise ConfigError(f"--lang must be a language code without spaces, got {lang!r}")
    if isinstance(shard_docs, bool) or not isinstance(shard_docs, int) or not 1 <= shard_docs < 2**64:
        raise ConfigError(f"shard_docs must be a positive whole number, got {shard_docs!r}")
    if split is not None:
        if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
            raise ConfigError(f"--split must be a fraction strictly between 0 and 1 (e.g. 0.01), got {split!r}")
        split = float(split)
    given = {
        "doc_per": doc_per,
        "field": field,
        "lang_field": lang_field,
        "column": column,
        "lang_column": lang_column,
        "hf_split": hf_split,
    }
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
