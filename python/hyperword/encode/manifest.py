"""``manifest.json`` of a token directory (format ``hyperword-tokens``): what it records, and
reading it back. Written last, like a corpus manifest: present means complete."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperword._hyperword import check_entry_path
from hyperword.errors import CorruptCorpusError
from hyperword.manifest import MANIFEST_FILE, RunStats

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "KIND",
    "TokenManifest",
    "TokenShard",
    "docs_file_name",
    "read_token_manifest",
    "tokens_file_name",
]

FORMAT = "hyperword-tokens"
FORMAT_VERSION = 1
KIND = "tokens"
DTYPE_RULE = "dtype justified by the vocabulary size: uint16 when vocab_size <= 65536, else uint32"


def tokens_file_name(index: int) -> str:
    return f"tokens-{index:05d}.npy"


def docs_file_name(index: int) -> str:
    return f"docs-{index:05d}.npy"


@dataclass(frozen=True)
class TokenShard:
    """One source shard encoded: ``tokens`` (flat, an eos after each document) and ``docs``
    (int64 end offsets: document k is ``tokens[ends[k-1]:ends[k]]``, eos included)."""

    index: int
    tokens_path: str
    docs_path: str
    documents: int
    tokens: int
    tokens_bytes: int
    docs_bytes: int
    tokens_sha256: str
    docs_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TokenManifest:
    directory: Path
    fingerprint: str
    mode: str
    dtype: str
    tokenizer: dict[str, Any]
    source: dict[str, Any]
    shards: list[TokenShard] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    run: RunStats | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], directory: str | Path) -> TokenManifest:
        return cls(
            directory=Path(directory),
            fingerprint=data["fingerprint"],
            mode=data["mode"],
            dtype=data["dtype"],
            tokenizer=data["tokenizer"],
            source=data["source"],
            shards=[TokenShard(**s) for s in data["shards"]],
            raw=data,
        )

    @property
    def documents(self) -> int:
        return sum(s.documents for s in self.shards)

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.shards)

    def tokens_paths(self) -> list[Path]:
        return [self.directory / s.tokens_path for s in self.shards]

    def docs_paths(self) -> list[Path]:
        return [self.directory / s.docs_path for s in self.shards]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


def read_token_manifest(directory: str | Path) -> TokenManifest:
    """Read ``DIR/manifest.json`` of a token directory (``FileNotFoundError`` when absent)."""
    path = Path(directory) / MANIFEST_FILE
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} manifest")
            m = TokenManifest.from_dict(data, directory)
        except (ValueError, KeyError, TypeError) as e:
            reason = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise CorruptCorpusError(f"{path}: {reason}") from None
    for shard in m.shards:
        check_entry_path(path, f"shard {shard.index}", shard.tokens_path)
        check_entry_path(path, f"shard {shard.index}", shard.docs_path)
    return m
