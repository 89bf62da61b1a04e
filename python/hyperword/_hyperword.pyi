"""Type stubs for the compiled module (checked against it by ``mypy.stubtest``)."""

from collections.abc import Callable, Sequence
from os import PathLike
from typing import final

from typing_extensions import CapsuleType

__all__ = [
    "__version__",
    "ARROW_RS_VERSION",
    "FORMAT_VERSION",
    "LIMITS",
    "KIND_LIMITS",
    "Lexicon",
    "BatchStream",
    "generate",
    "stream",
    "sample",
    "validate_word",
    "write_shard",
    "shard_count",
    "check_shard_compression",
    "DEFAULT_ZSTD_LEVEL",
    "corpus_manifest",
    "check_entry_path",
    "lock_output",
    "check_unlocked",
    "OutputLock",
    "dyck_symbols",
    "aligned_words",
    "encode_aligned",
    "_mark_forked",
    "_is_forked",
    "HyperwordError",
    "LexiconError",
    "ConfigError",
    "OutputExistsError",
    "OutputLockedError",
    "CorruptCorpusError",
    "ArrowWriteError",
    "InternalError",
]

__version__: str
ARROW_RS_VERSION: str
FORMAT_VERSION: int
DEFAULT_ZSTD_LEVEL: int
LIMITS: dict[str, int]
KIND_LIMITS: dict[str, int]

class HyperwordError(Exception): ...
class LexiconError(HyperwordError): ...
class ConfigError(HyperwordError): ...
class OutputExistsError(HyperwordError): ...
class OutputLockedError(HyperwordError): ...
class CorruptCorpusError(HyperwordError): ...
class ArrowWriteError(HyperwordError): ...
class InternalError(HyperwordError): ...

@final
class Lexicon:
    @staticmethod
    def load(path: str | PathLike[str], lang: str | None = None, strict_nfc: bool = False) -> Lexicon: ...
    @staticmethod
    def default() -> Lexicon: ...
    @property
    def source(self) -> str: ...
    @property
    def langs(self) -> list[str]: ...
    @property
    def fields(self) -> list[str]: ...
    @property
    def sha256(self) -> str: ...
    @property
    def normalized(self) -> int: ...
    def counts(self) -> dict[str, int]: ...
    def words(self, lang: str) -> list[str]: ...
    def __len__(self) -> int: ...

@final
class BatchStream:
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> CapsuleType: ...

def generate(
    out: str | PathLike[str],
    lexicon: Lexicon,
    config: str,
    threads: int | None = None,
    force: bool = False,
    progress: Callable[[int], object] | None = None,
) -> tuple[str, int, int]: ...
def stream(lexicon: Lexicon, config: str) -> BatchStream: ...
def sample(lexicon: Lexicon, fusion: str, seed: int, n: int) -> list[str]: ...
def write_shard(dir: str | PathLike[str], lexicon: Lexicon, config: str, index: int) -> str: ...
def corpus_manifest(lexicon: Lexicon, config: str, shards: str) -> str: ...
def shard_count(config: str) -> int: ...
def check_shard_compression(compression: str, level: object = None) -> None: ...
def check_entry_path(manifest: str | PathLike[str], entry: str, name: str) -> None: ...

@final
class OutputLock:
    def release(self) -> None: ...
    def __enter__(self) -> OutputLock: ...
    def __exit__(self, *_args: object) -> None: ...

def lock_output(dir: str | PathLike[str]) -> OutputLock: ...
def check_unlocked(dir: str | PathLike[str]) -> None: ...
def dyck_symbols(k: int) -> list[str]: ...
def aligned_words(lexicon: Lexicon, config: str) -> tuple[list[str], str]: ...
def encode_aligned(
    out: str | PathLike[str],
    lexicon: Lexicon,
    config: str,
    first_ids: Sequence[int],
    first_offsets: Sequence[int],
    inner_ids: Sequence[int],
    inner_offsets: Sequence[int],
    joiner: Sequence[int],
    eos: int,
    vocab_size: int,
    dtype: str,
    shards: Sequence[int],
    threads: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> str: ...
def validate_word(word: str, strict_nfc: bool = False) -> str: ...
def _mark_forked() -> None: ...
def _is_forked() -> bool: ...
