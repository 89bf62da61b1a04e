"""``aligned`` mode: token shards of a mnemophrase corpus from token ids computed once per
lexicon word, so that every word boundary is a token boundary.

The Rust core re-draws the corpus from its configuration and seed (the shards' random
streams) and writes, per phrase, the first word's tokens as sentencepiece encodes a word that
opens a text (with its dummy prefix ``▁`` when the model adds one), then each later word's
tokens as inside a text (no prefix; the joiner's tokens before it), then the end-of-document
id. Before anything is written, the corpus is checked to be the one its configuration
re-draws (the lexicon's sha256, and the first phrases' texts); afterwards the regenerated
documents are checked shard by shard against the corpus manifest (rows and words), and
:func:`agreement` measures how often the result equals ``exact`` encoding of the same texts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from hyperword._hyperword import Lexicon, aligned_words, sample
from hyperword.encode.input_corpus import Source
from hyperword.errors import ConfigError, CorruptCorpusError

__all__ = ["AGREEMENT_DOCUMENTS", "TokenTable", "agreement", "corpus_lexicon", "token_table"]

#: documents of shard 0 compared with exact encoding (and phrases re-drawn before writing)
AGREEMENT_DOCUMENTS = 2000
CHECK_PHRASES = 64


@dataclass(frozen=True)
class TokenTable:
    """Per lexicon entry: token ids as the first word of a text and as a later word (flat ids
    with ``entries + 1`` offsets), and the joiner's ids."""

    first_ids: list[int]
    first_offsets: list[int]
    inner_ids: list[int]
    inner_offsets: list[int]
    joiner: list[int]


def _flatten(pieces: list[list[int]]) -> tuple[list[int], list[int]]:
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    return [t for p in pieces for t in p], offsets


def _without_dummy_prefix(model: bytes) -> spm.SentencePieceProcessor:
    """The same model, encoding a string as the inside of a text (no ``▁`` prepended)."""
    proto = sp_pb2.ModelProto()  # type: ignore[attr-defined]  # generated protobuf, no stub for it
    proto.ParseFromString(model)
    proto.normalizer_spec.add_dummy_prefix = False
    return spm.SentencePieceProcessor(model_proto=proto.SerializeToString())


def token_table(model: bytes, words: list[str], joiner: str) -> TokenTable:
    """Encode every entry's word once in both positions."""
    sp = spm.SentencePieceProcessor(model_proto=model)
    inner = _without_dummy_prefix(model)
    first_ids, first_offsets = _flatten(sp.encode(words))
    inner_ids, inner_offsets = _flatten(inner.encode(words))
    return TokenTable(first_ids, first_offsets, inner_ids, inner_offsets, list(inner.encode(joiner)) if joiner else [])


def corpus_lexicon(source: Source, lexicon: str | os.PathLike[str] | Lexicon | None) -> Lexicon:
    """The lexicon the corpus was generated from (the shipped one unless given), checked by
    content hash and by re-drawing the corpus's first phrases."""
    m = source.corpus.manifest
    if m.kind != "mnemo":
        raise ConfigError(
            f"corpus {str(source.path)!r} is a {m.kind} corpus; mode aligned needs a mnemophrase corpus (use --mode exact)"
        )
    if m.lexicon is None or m.seed is None:
        raise CorruptCorpusError(f"corpus {str(source.path)!r}: its manifest records no lexicon or seed")
    lex = lexicon if isinstance(lexicon, Lexicon) else Lexicon.default() if lexicon is None else Lexicon.load(lexicon)
    if lex.sha256 != m.lexicon["sha256"]:
        hint = (
            "pass the lexicon it was generated from with --lexicon"
            if lexicon is None
            else "it is not the lexicon the corpus was generated from"
        )
        raise ConfigError(
            f"corpus {str(source.path)!r} was generated from lexicon {m.lexicon.get('source', '?')!r} "
            f"(sha256 {m.lexicon['sha256'][:12]}...), not {lex.source!r} (sha256 {lex.sha256[:12]}...): {hint}"
        )
    if m.shards:
        want = sample(lex, json.dumps(m.config["fusion"]), int(m.seed), CHECK_PHRASES)
        got = source.corpus.head(CHECK_PHRASES).column("text").to_pylist()
        if want[: len(got)] != got:
            raise CorruptCorpusError(
                f"corpus {str(source.path)!r}: its texts are not what its configuration and seed draw (edited shards?)"
            )
    return lex


def words_and_joiner(lex: Lexicon, config: dict[str, Any]) -> tuple[list[str], str]:
    return aligned_words(lex, json.dumps(config))


def agreement(
    directory: Path, source: Source, model: bytes, eos: int, documents: int = AGREEMENT_DOCUMENTS
) -> dict[str, Any]:
    """Compare the first ``documents`` aligned documents of shard 0 with exact encoding."""
    if not source.shards:
        return {"documents": 0, "identical": 0, "share": None, "tokens_aligned": 0, "tokens_exact": 0}
    texts = source.corpus.head(documents).column("text").to_pylist()
    tokens = np.load(directory / "tokens-00000.npy", mmap_mode="r")
    ends = np.load(directory / "docs-00000.npy", mmap_mode="r")[: len(texts)]
    exact = spm.SentencePieceProcessor(model_proto=model).encode(texts)
    identical, start, aligned_total = 0, 0, 0
    for end, ids in zip(ends.tolist(), exact):
        doc = tokens[start : int(end) - 1].tolist()
        identical += doc == ids
        aligned_total += len(doc) + 1
        start = int(end)
    n = len(texts)
    return {
        "documents": n,
        "identical": identical,
        "share": identical / n if n else None,
        "tokens_aligned": aligned_total,
        "tokens_exact": sum(len(e) + 1 for e in exact),
        "note": "first documents of shard 0; identical = the same token ids as exact encoding of the text (eos included in token counts)",
    }
