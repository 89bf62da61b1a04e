"""Scoring a trained model on whole evaluation texts: every token of every held-out document,
as loss per token and bits per byte, per part (a natural text's languages).

The periodic evaluation of :mod:`hyperword.train.trainer` reads a fixed sample of batches so
that curves are cheap; an arm's *final* figure must not depend on which sample that was. Here
a text's token directory is read in full: its documents concatenated in order, each ending in
eos (as encoded), preceded by one eos so that the first token is predicted too. The stream is
cut into consecutive windows of ``seq_len`` predicted tokens (the last one shorter), each
scored from the context inside its window, so every token is predicted exactly once.

- ``loss``: summed next-token cross-entropy (nats) / predicted tokens;
- ``bpb``: the same sum in bits / the text's bytes, counted as the UTF-8 bytes of its documents
  plus one per document (the separator its eos stands for), so that texts tokenized
  differently, or by another tokenizer, compare.

A text made of several parts (the natural validation text of each language) reports each part
and the whole (sums over the parts).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported where a model is scored, not by `hyperword` commands that only name this module
    import torch

__all__ = ["Part", "score_part", "score_texts"]


@dataclass(frozen=True)
class Part:
    """One scored unit: a token directory and the bytes and documents of the text it encodes."""

    tokens: Path
    text_bytes: int
    documents: int

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": str(self.tokens), "text_bytes": self.text_bytes, "documents": self.documents}


def _stream(path: Path) -> np.ndarray[Any, Any]:
    """The token directory's tokens, in order, after one eos (read through the one token-directory
    reader, :class:`hyperword.torch.TokenCorpus`)."""
    from hyperword.batches.corpus import TokenCorpus

    corpus = TokenCorpus.open(path)
    return np.concatenate(
        [np.array([corpus.eos_id], dtype=np.int64), *(np.asarray(a, dtype=np.int64) for a in corpus.arrays)]
    )


def score_part(
    model: torch.nn.Module, part: Part, *, seq_len: int, batch_size: int, device: torch.device
) -> dict[str, float | int]:
    """``nats`` (summed), ``tokens`` (predicted), ``bytes``, ``loss`` and ``bpb`` of ``part``."""
    import torch

    with torch.no_grad():
        return _score(model, part, seq_len=seq_len, batch_size=batch_size, device=device)


def _score(
    model: torch.nn.Module, part: Part, *, seq_len: int, batch_size: int, device: torch.device
) -> dict[str, float | int]:
    import torch

    from hyperword.train.model import autocast, lm_loss

    stream = _stream(part.tokens)
    predicted = len(stream) - 1
    full = predicted // seq_len
    windows = [stream[i * seq_len : i * seq_len + seq_len + 1] for i in range(full)]
    was_training = model.training
    model.eval()
    nats = 0.0
    try:
        for start in range(0, full, batch_size):
            batch = torch.from_numpy(np.stack(windows[start : start + batch_size])).to(device)
            with autocast(device):
                nats += float(lm_loss(model, batch, reduction="sum"))
        if predicted % seq_len:
            tail = torch.from_numpy(stream[full * seq_len :][None, :].copy()).to(device)
            with autocast(device):
                nats += float(lm_loss(model, tail, reduction="sum"))
    finally:
        model.train(was_training)
    size = part.text_bytes + part.documents
    return {
        "nats": nats,
        "tokens": predicted,
        "bytes": size,
        "loss": nats / predicted if predicted else math.nan,
        "bpb": nats / math.log(2) / size if size else math.nan,
    }


def score_texts(
    model: torch.nn.Module,
    texts: Mapping[str, Mapping[str, Part]],
    *,
    seq_len: int,
    batch_size: int,
    device: torch.device,
) -> dict[str, dict[str, Any]]:
    """Every text (name -> its parts) scored: ``{name: {loss, bpb, tokens, bytes, parts: {part:
    {loss, bpb, tokens, bytes}}}}``, the whole summed over its parts."""
    out: dict[str, dict[str, Any]] = {}
    for name, parts in texts.items():
        scored = {
            p: score_part(model, part, seq_len=seq_len, batch_size=batch_size, device=device)
            for p, part in parts.items()
        }
        nats = sum(float(s["nats"]) for s in scored.values())
        tokens = sum(int(s["tokens"]) for s in scored.values())
        size = sum(int(s["bytes"]) for s in scored.values())
        out[name] = {
            "loss": nats / tokens if tokens else math.nan,
            "bpb": nats / math.log(2) / size if size else math.nan,
            "tokens": tokens,
            "bytes": size,
            "parts": {p: {k: s[k] for k in ("loss", "bpb", "tokens", "bytes")} for p, s in scored.items()},
        }
    return out


def part_of(corpus: str | os.PathLike[str], tokens: str | os.PathLike[str]) -> Part:
    """The :class:`Part` of a token directory encoding the corpus directory ``corpus``."""
    import hyperword

    m = hyperword.read_manifest(corpus)
    return Part(Path(tokens), int(m.text_bytes), int(m.rows))
