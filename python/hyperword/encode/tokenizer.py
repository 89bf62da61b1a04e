"""The tokenizer an encode run uses: a directory with ``tokenizer.model`` (sentencepiece) and
``hyperword_tokenizer.json`` (what ``hyperword tokenizer train`` wrote), checked up front."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sentencepiece as spm

from hyperword.errors import ConfigError
from hyperword.tokenizer.train import META_FILE

__all__ = ["MODEL_FILE", "TokenizerInfo", "load_tokenizer"]

MODEL_FILE = "tokenizer.model"


@dataclass(frozen=True)
class TokenizerInfo:
    path: Path
    sha256: str
    vocab_size: int
    eos_id: int
    model_type: str
    model: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "vocab_size": self.vocab_size,
            "eos_id": self.eos_id,
            "model_type": self.model_type,
        }


def load_tokenizer(directory: str | os.PathLike[str]) -> TokenizerInfo:
    """Read and check a tokenizer directory; raise one clear ``ConfigError`` when it is not one."""
    path = Path(directory)
    name = f"tokenizer {str(path)!r}"
    if not path.is_dir():
        raise ConfigError(f"{name}: no such directory")
    if not (path / MODEL_FILE).is_file() or not (path / META_FILE).is_file():
        raise ConfigError(
            f"{name}: not a tokenizer directory (needs {MODEL_FILE} and {META_FILE}; see `hyperword tokenizer train`)"
        )
    model = (path / MODEL_FILE).read_bytes()
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        model_type = str(meta["options"]["model_type"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{name}: {META_FILE} is not a hyperword tokenizer description ({e})") from None
    try:
        sp = spm.SentencePieceProcessor(model_proto=model)
    except (RuntimeError, OSError) as e:
        raise ConfigError(
            f"{name}: {MODEL_FILE} is not a sentencepiece model ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
        ) from None
    eos = int(sp.eos_id())
    if eos < 0:
        raise ConfigError(
            f"{name}: the model has no end-of-document token (eos_id is -1); retrain it with an eos piece"
        )
    return TokenizerInfo(
        path.resolve(), hashlib.sha256(model).hexdigest(), int(sp.get_piece_size()), eos, model_type, model
    )
