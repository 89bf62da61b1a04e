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

from hyperword._hyperword import __version__
from hyperword.encode.manifest import DTYPE_RULE, FORMAT, FORMAT_VERSION, KIND, docs_file_name, tokens_file_name
from hyperword.encode.npy import dtype_for_vocab
from hyperword.errors import ConfigError
from hyperword.formats.atomic import file_digest, write_atomic
from hyperword.formats.identity import fingerprint, manifest_json
from hyperword.manifest import MANIFEST_FILE

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
    records: list[dict[str, Any]] = []
    for i, shard in enumerate(shards):
        tokens = np.asarray(shard)
        if tokens.ndim != 1 or (tokens.size and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab_size)):
            raise ConfigError(f"shard {i}: expected a flat array of ids in [0, {vocab_size})")
        if tokens.size and tokens[-1] != eos_id:
            raise ConfigError(f"shard {i}: must end with the eos id {eos_id}")
        tokens = tokens.astype(dtype, copy=False)
        ends = (np.flatnonzero(tokens == eos_id) + 1).astype("<i8")
        np.save(path / tokens_file_name(i), tokens)
        np.save(path / docs_file_name(i), ends)
        tokens_bytes, tokens_sha = file_digest(path / tokens_file_name(i))
        docs_bytes, docs_sha = file_digest(path / docs_file_name(i))
        records.append(
            {
                "index": i,
                "tokens_path": tokens_file_name(i),
                "docs_path": docs_file_name(i),
                "documents": int(ends.shape[0]),
                "tokens": int(tokens.shape[0]),
                "tokens_bytes": tokens_bytes,
                "docs_bytes": docs_bytes,
                "tokens_sha256": tokens_sha,
                "docs_sha256": docs_sha,
            }
        )
    tokenizer = {
        "path": "synthetic",
        "sha256": tokenizer_sha256,
        "vocab_size": vocab_size,
        "eos_id": eos_id,
        "model_type": "synthetic",
    }
    identity = {"synthetic": True, "tokenizer": tokenizer, "shards": [r["tokens_sha256"] for r in records]}
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "mode": "synthetic",
        "versions": {"hyperword": __version__, "numpy": np.__version__},
        "fingerprint": fingerprint(identity),
        "tokenizer": tokenizer,
        "source": {"path": "synthetic", "kind": "synthetic"},
        "dtype": dtype.name,
        "dtype_rule": DTYPE_RULE,
        "eos_after_every_document": True,
        "totals": {
            "shards": len(records),
            "documents": sum(int(r["documents"]) for r in records),
            "tokens": sum(int(r["tokens"]) for r in records),
        },
        "shards": records,
    }
    write_atomic(path / MANIFEST_FILE, manifest_json(data).encode("utf-8"))
    return path
