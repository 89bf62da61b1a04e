"""Reading ``manifest.json``, the self-description every corpus directory ends with."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperword._hyperword import check_entry_path
from hyperword.errors import CorruptCorpusError

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class ShardInfo:
    """One shard's manifest record. ``text_bytes``: UTF-8 bytes of its ``text`` column;
    ``bytes`` (also :attr:`file_bytes`): the size of its file on disk (compressed)."""

    index: int
    path: str
    rows: int
    words: int
    text_bytes: int
    bytes: int
    sha256: str

    @property
    def file_bytes(self) -> int:
        """The shard file's size on disk (the manifest's ``bytes``)."""
        return self.bytes


@dataclass(frozen=True)
class RunStats:
    """What one ``generate`` call did (not part of ``manifest.json``)."""

    generated_shards: int
    reused_shards: int


@dataclass(frozen=True)
class Manifest:
    """A corpus manifest: configuration, seed, lexicon hash, versions and every shard."""

    directory: Path
    format: str
    format_version: int
    kind: str
    versions: dict[str, str]
    fingerprint: str
    seed: int | None
    config: dict[str, Any]
    lexicon: dict[str, Any] | None
    shards: list[ShardInfo] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    run: RunStats | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], directory: str | os.PathLike[str]) -> Manifest:
        return cls(
            directory=Path(directory),
            format=data["format"],
            format_version=data["format_version"],
            kind=data["kind"],
            versions=data["versions"],
            fingerprint=data["fingerprint"],
            seed=data.get("seed"),
            config=data["config"],
            lexicon=data.get("lexicon"),
            shards=[ShardInfo(**s) for s in data["shards"]],
            raw=data,
        )

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    @property
    def words(self) -> int:
        return sum(s.words for s in self.shards)

    @property
    def file_bytes(self) -> int:
        """Bytes the shard files occupy on disk, all shards (compressed; the manifest's
        ``totals.bytes``). The manifest and run state are not counted."""
        return sum(s.bytes for s in self.shards)

    @property
    def bytes(self) -> int:
        """The same as :attr:`file_bytes` (the name of the manifest's field), kept as an alias."""
        return self.file_bytes

    @property
    def text_bytes(self) -> int:
        """UTF-8 bytes of the ``text`` column, all rows (uncompressed; ``totals.text_bytes``)."""
        return sum(s.text_bytes for s in self.shards)

    def shard_paths(self) -> list[Path]:
        return [self.directory / s.path for s in self.shards]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


def read_manifest(directory: str | os.PathLike[str]) -> Manifest:
    """Read ``DIR/manifest.json`` (present only once a corpus is complete).

    Raises ``FileNotFoundError`` when there is none and ``CorruptCorpusError`` when it is
    not a hyperword manifest or names a shard outside the directory (``../x.arrow``).
    """
    path = Path(directory) / MANIFEST_FILE
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
            if not isinstance(data, dict) or data.get("format") != "hyperword-corpus":
                raise ValueError("not a hyperword corpus manifest")
            m = Manifest.from_dict(data, directory)
        except (ValueError, KeyError, TypeError) as e:
            reason = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise CorruptCorpusError(f"{path}: {reason}") from None
    for shard in m.shards:
        check_entry_path(path, f"shard {shard.index}", shard.path)
    return m
