"""Synthetic token directories, for tests and benchmarks: a valid ``hyperword-tokens``
directory (manifest, ``tokens-0000i.npy``, ``docs-0000i.npy``) from arrays of token ids,
without a tokenizer or a source corpus. :class:`hyperword.torch.TokenCorpus` opens it like
the output of ``hyperword encode``; the manifest's tokenizer and source records say
``synthetic``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hyperword.errors import ConfigError
from hyperword.formats import tokens as token_format
from hyperword.formats.identity import fingerprint
from hyperword.formats.run import MANIFEST_FILE
from hyperword.formats.tokens import TokenShard, dtype_for_vocab, write_token_shard

__all__ = ["random_documents", "write_token_dir"]


def random_documents(
    tokens: int, *, vocab_size: int, eos_id: int, mean_length: int = 64, seed: int = 0
) -> npt.NDArray[np.unsignedinteger[Any]]:
    """``tokens`` random ids (never ``eos_id``) cut into documents of random lengths (geometric,
    mean ``mean_length``) by an eos after each; the last token is an eos. Vectorised: fast
    enough for hundreds of millions of tokens."""
    if tokens < 1 or not 0 <= eos_id < vocab_size or vocab_size < 2:
        raise ConfigError(f"need tokens >= 1 and 0 <= eos_id < vocab_size >= 2, got {tokens}, {eos_id}, {vocab_size}")
    dtype = dtype_for_vocab(vocab_size)
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab_size - 1, size=tokens, dtype=np.int64 if dtype.itemsize > 2 else np.uint16).astype(
        dtype, copy=False
    )
    ids[ids >= eos_id] += 1  # skip the eos id
    ends = np.cumsum(rng.geometric(1.0 / max(1, mean_length), size=tokens // max(1, mean_length) + 16)) - 1
    ids[ends[ends < tokens]] = eos_id
    ids[-1] = eos_id
    return ids


def write_token_dir(
    out: str | os.PathLike[str],
    shards: Sequence[npt.NDArray[np.integer[Any]]],
    *,
    vocab_size: int,
    eos_id: int,
    tokenizer_sha256: str = "0" * 64,
) -> Path:
    """Write ``shards`` (flat token arrays, each ending with ``eos_id``) as a token directory
    ``out`` (created; must not hold a manifest yet) and return its path. Document ends are where
    ``eos_id`` is; ids must lie in ``[0, vocab_size)``; the dtype follows the vocabulary size."""
    path = Path(out)
    if (path / MANIFEST_FILE).exists():
        raise ConfigError(f"{path} already holds a {MANIFEST_FILE}")
    path.mkdir(parents=True, exist_ok=True)
    dtype = dtype_for_vocab(vocab_size)
    records: list[TokenShard] = []
    for i, shard in enumerate(shards):
        tokens = np.asarray(shard)
        if tokens.ndim != 1 or (tokens.size and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab_size)):
            raise ConfigError(f"shard {i}: expected a flat array of ids in [0, {vocab_size})")
        if tokens.size and tokens[-1] != eos_id:
            raise ConfigError(f"shard {i}: must end with the eos id {eos_id}")
        tokens = tokens.astype(dtype, copy=False)
        ends = (np.flatnonzero(tokens == eos_id) + 1).astype("<i8")
        records.append(write_token_shard(path, i, tokens, ends))
    tokenizer = {
        "path": "synthetic",
        "sha256": tokenizer_sha256,
        "vocab_size": vocab_size,
        "eos_id": eos_id,
        "model_type": "synthetic",
    }
    identity = {"synthetic": True, "tokenizer": tokenizer, "shards": [r.tokens_sha256 for r in records]}
    token_format.write_token_dir(
        path,
        records,
        fingerprint=fingerprint(identity),
        mode="synthetic",
        tokenizer=tokenizer,
        source={"path": "synthetic", "kind": "synthetic"},
        dtype=dtype,
    )
    return path
