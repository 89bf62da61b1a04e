"""Export a trained sentencepiece model as a Hugging Face fast tokenizer that encodes
identically: ``tokenizer.json`` + ``tokenizer_config.json`` + ``special_tokens_map.json``,
loadable offline with ``transformers.AutoTokenizer.from_pretrained(DIR)``.

The ``tokenizers`` pipeline mirrors what sentencepiece does at encode time for the models
``train_tokenizer`` writes (identity normalisation, no whitespace squeezing):

- normaliser: prepend ``▁`` (when ``add_dummy_prefix``), then every ``" "`` → ``▁``;
- no pre-tokeniser (sentencepiece runs its lattice over the whole normalised string);
- model: ``Unigram`` (pieces and scores) or ``BPE`` (merges derived from the vocabulary,
  ranked by the merged piece's id, as sentencepiece ranks merges by score), byte fallback;
- user-defined symbols: added tokens (matched on the normalised text, never split);
- decoder: ``▁`` → space, byte fallback, fuse, and strip the dummy-prefix space.

No BOS/EOS is added, as ``SentencePieceProcessor.encode`` adds none.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sentencepiece import sentencepiece_model_pb2 as sp_pb2
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers

__all__ = ["export_hf", "load_model_proto"]

_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED, _UNUSED, _BYTE = 1, 2, 3, 4, 5, 6


def load_model_proto(model_bytes: bytes) -> Any:
    proto = sp_pb2.ModelProto()  # type: ignore[attr-defined]  # generated protobuf, no stub for it
    proto.ParseFromString(model_bytes)
    return proto


def _bpe_merges(vocab: dict[str, int]) -> list[tuple[str, str]]:
    """Every (left, right) with left, right and left+right in the vocabulary, ordered by the
    merged piece's id, then the left and right pieces' ids."""
    merges: list[tuple[int, int, int, str, str]] = []
    for piece, rank in vocab.items():
        for i in range(1, len(piece)):
            left, right = piece[:i], piece[i:]
            if left in vocab and right in vocab:
                merges.append((rank, vocab[left], vocab[right], left, right))
    merges.sort()
    return [(m[3], m[4]) for m in merges]


def _build(proto: Any) -> Tokenizer:
    trainer, norm = proto.trainer_spec, proto.normalizer_spec
    pieces = list(proto.pieces)
    unk_id = next(i for i, p in enumerate(pieces) if p.type == _UNKNOWN)
    byte_fallback = bool(trainer.byte_fallback)
    if trainer.model_type == 1:  # UNIGRAM
        vocab = [(p.piece, float(p.score)) for p in pieces]
        tok = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=byte_fallback))
    elif trainer.model_type == 2:  # BPE
        ids = {p.piece: i for i, p in enumerate(pieces)}
        mergeable = {p.piece: i for i, p in enumerate(pieces) if p.type in (_NORMAL, _USER_DEFINED)}
        tok = Tokenizer(
            models.BPE(
                ids, _bpe_merges(mergeable), unk_token=pieces[unk_id].piece, fuse_unk=True, byte_fallback=byte_fallback
            )
        )
    else:
        raise ValueError(f"cannot export sentencepiece model type {trainer.model_type} to Hugging Face")
    steps: list[Any] = []
    if norm.add_dummy_prefix:
        steps.append(normalizers.Prepend("▁"))
    steps.append(normalizers.Replace(Regex(" "), "▁"))
    tok.normalizer = normalizers.Sequence(steps)
    decode: list[Any] = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
    if norm.add_dummy_prefix:
        decode.append(decoders.Strip(" ", 1, 0))
    tok.decoder = decoders.Sequence(decode)
    tok.add_special_tokens(
        [
            AddedToken(p.piece, special=True, normalized=False)
            for p in pieces
            if p.type == _CONTROL or p.type == _UNKNOWN
        ]
    )
    return tok


def export_hf(model_bytes: bytes, out: Path) -> list[str]:
    """Write the Hugging Face files for ``model_bytes`` into ``out``; return their names."""
    proto = load_model_proto(model_bytes)
    tok = _build(proto)
    tok.save(str(out / "tokenizer.json"))
    trainer = proto.trainer_spec
    special: dict[str, str] = {}
    for key, idx in (
        ("unk_token", trainer.unk_id),
        ("bos_token", trainer.bos_id),
        ("eos_token", trainer.eos_id),
        ("pad_token", trainer.pad_id),
    ):
        if 0 <= idx < len(proto.pieces):
            special[key] = proto.pieces[idx].piece
    config: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "clean_up_tokenization_spaces": False,
        "model_max_length": 1_000_000_000_000,
        "add_bos_token": False,
        "add_eos_token": False,
        **special,
    }
    (out / "tokenizer_config.json").write_text(
        json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "special_tokens_map.json").write_text(
        json.dumps(special, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
