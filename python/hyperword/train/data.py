"""The data a run reads: token directories (described from their manifests, checked to share
one tokenizer), the twin control corpora made when a plan needs them, the batches of a stage,
and the fixed validation batches (:class:`EvalSets`).

Twin controls
-------------
Three control roles are *twins* of the ``mnemo`` corpus (unless the caller maps the role to a
directory of its own), written once under the run's directory: token directories with exactly
the ``mnemo`` corpus's shards, document lengths and token count, every document still ending in
eos, and every other token (seeded by the run's seed)

- ``random``: drawn uniformly from the tokenizer's vocabulary without its special ids
  (sentencepiece control, unknown and unused pieces: ``<unk>``, ``<s>``, ``</s>``, padding);
- ``shuffled``: the ``mnemo`` corpus's own non-eos tokens, permuted across the whole corpus
  (the same unigram counts exactly, no word or phrase structure);
- ``unigram``: drawn independently from the ``mnemo`` corpus's non-eos token frequencies (the
  same unigram distribution in expectation).

They are read like any other corpus, so mixtures, exact token accounting and resume work the
same, and their sequences have the same length (``seq_len``) as every other stage's.

Batches
-------
A batch is ``{"tokens": int64 [B, seq_len + 1], "corpus": int64 [B], ...}``: inputs are
``tokens[:, :-1]``, targets ``tokens[:, 1:]`` (already shifted: :func:`~hyperword.train.model.lm_loss`).

Loaders are single-process (``num_workers=0``): the trainer's batches cost little next to a
training step on these model sizes, and the loader's ``state_dict`` is then exactly where the
trainer stands. The rank and world size are always given explicitly (``hyperword.torch`` would
otherwise take them from an initialised ``torch.distributed``): a training rank reads its own
part of each corpus, while validation batches are the same whole set on every rank.

Validation batches are a fixed number of fixed batches of each held-out token directory, the
same for every run, arm and seed (drawn with the constant :data:`EVAL_SEED`), held in memory.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hyperword.errors import ConfigError, HyperwordError
from hyperword.formats.identity import fingerprint
from hyperword.formats.run import MANIFEST_FILE
from hyperword.formats.tokens import read_token_manifest, write_token_dir, write_token_shard
from hyperword.torch import TokenDataset, TokenLoader
from hyperword.train.model import derive_seed
from hyperword.train.plans import MixtureSchedule, Stage

__all__ = [
    "EVAL_SEED",
    "TWINS",
    "EvalSets",
    "TokenDir",
    "check_tokenizer",
    "describe",
    "eval_batches",
    "make_loader",
    "random_twin",
    "special_ids",
    "stage_loader",
    "stream_key",
    "twin",
]

# --- token directories and the twin controls ----------------------------------------------------
#: the control roles made as twins of the ``mnemo`` corpus (see the module documentation)
TWINS = ("random", "shuffled", "unigram")

MODEL_FILE = "tokenizer.model"


@dataclass(frozen=True)
class TokenDir:
    """What a run needs to know about one token directory (from its manifest)."""

    name: str
    path: Path
    fingerprint: str
    tokens: int
    documents: int
    tokenizer_sha256: str
    vocab_size: int
    eos_id: int
    tokenizer_path: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def describe(name: str, path: str | os.PathLike[str]) -> TokenDir:
    """Read ``path``'s token manifest; ``ConfigError`` when it is not a finished token directory."""
    p = Path(path)
    if not p.is_dir():
        raise ConfigError(f"corpus {name!r}: {str(p)!r} is not a directory")
    try:
        m = read_token_manifest(p)
    except FileNotFoundError:
        raise ConfigError(
            f"corpus {name!r}: {str(p)!r} is not a token directory (no {MANIFEST_FILE}; make one with `hyperword encode`)"
        ) from None
    tok = m.tokenizer
    try:
        return TokenDir(
            name,
            p,
            m.fingerprint,
            m.tokens,
            m.documents,
            str(tok["sha256"]),
            int(tok["vocab_size"]),
            int(tok["eos_id"]),
            str(tok.get("path", "")),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"corpus {name!r}: {str(p)!r}: the manifest's tokenizer record is incomplete ({e})") from None


def _model_file(tokenizer: str | os.PathLike[str]) -> Path:
    p = Path(tokenizer)
    return p / MODEL_FILE if p.is_dir() else p


def check_tokenizer(dirs: Iterable[TokenDir], tokenizer: str | os.PathLike[str] | None = None) -> TokenDir:
    """Every directory made with one tokenizer (and with ``tokenizer`` — a tokenizer directory
    or ``tokenizer.model`` — when given); returns one of them as the reference."""
    dirs = list(dirs)
    if not dirs:
        raise ConfigError("no token directories given")
    shas = {d.tokenizer_sha256 for d in dirs}
    if len(shas) > 1:
        listing = "; ".join(f"{d.name} ({d.path}): {d.tokenizer_sha256[:12]}" for d in dirs)
        raise ConfigError(
            f"token directories were made with different tokenizers (sha256 of tokenizer.model): {listing}"
        )
    ref = dirs[0]
    if tokenizer is not None:
        model = _model_file(tokenizer)
        try:
            sha = hashlib.sha256(model.read_bytes()).hexdigest()
        except OSError as e:
            raise ConfigError(f"tokenizer {str(tokenizer)!r}: cannot read {model.name}: {e}") from None
        if sha != ref.tokenizer_sha256:
            raise ConfigError(
                f"tokenizer {str(tokenizer)!r} (sha256 {sha[:12]}) is not the one the token shards were made with ({ref.tokenizer_sha256[:12]})"
            )
    return ref


def special_ids(ref: TokenDir, tokenizer: str | os.PathLike[str] | None = None) -> list[int]:
    """The ids of sentencepiece's control, unknown and unused pieces, from ``tokenizer`` or else
    the tokenizer path the manifest records (its sha256 checked against the manifest)."""
    import sentencepiece as spm

    candidates = (
        [_model_file(tokenizer)]
        if tokenizer is not None
        else [_model_file(ref.tokenizer_path)]
        if ref.tokenizer_path
        else []
    )
    for model in candidates:
        try:
            data = model.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != ref.tokenizer_sha256:
            raise ConfigError(
                f"tokenizer {str(model)!r} is not the one the token shards were made with (sha256 differs)"
            )
        sp = spm.SentencePieceProcessor(model_proto=data)
        if int(sp.get_piece_size()) != ref.vocab_size:
            raise ConfigError(
                f"tokenizer {str(model)!r} has {sp.get_piece_size()} pieces, the manifest says {ref.vocab_size}"
            )
        return [i for i in range(ref.vocab_size) if sp.is_control(i) or sp.is_unknown(i) or sp.is_unused(i)]
    raise ConfigError(
        f"the random corpus needs the tokenizer (to leave out its special ids), and {ref.tokenizer_path or 'no path'!r} recorded in "
        f"{ref.path}'s manifest is not readable; pass the tokenizer directory"
    )


def random_twin(
    like: TokenDir, out: str | os.PathLike[str], *, seed: int, tokenizer: str | os.PathLike[str] | None = None
) -> TokenDir:
    """The ``random`` twin of ``like`` in ``out`` (see :func:`twin`)."""
    return twin("random", like, out, seed=seed, tokenizer=tokenizer)


def twin(
    role: str,
    like: TokenDir,
    out: str | os.PathLike[str],
    *,
    seed: int,
    tokenizer: str | os.PathLike[str] | None = None,
) -> TokenDir:
    """The ``role`` twin (one of :data:`TWINS`) of ``like`` in ``out`` (see the module doc),
    reused when ``out`` holds one made from the same corpus, tokenizer and seed."""
    if role not in TWINS:
        raise ConfigError(f"no twin corpus {role!r}: expected one of {', '.join(TWINS)}")
    out = Path(out)
    source = read_token_manifest(like.path)
    identity: dict[str, Any] = {
        "kind": f"{role}-twin",
        "like": like.fingerprint,
        "seed": seed,
        "tokenizer_sha256": like.tokenizer_sha256,
    }
    if role == "random":
        special = special_ids(like, tokenizer)
        identity["excluded"] = special
    fp = fingerprint(identity)
    try:
        if read_token_manifest(out).fingerprint == fp:
            return describe(role, out)
    except (OSError, HyperwordError):  # absent or broken: made afresh below
        pass
    ends = [np.asarray(np.load(like.path / shard.docs_path, mmap_mode="r"), dtype=np.int64) for shard in source.shards]
    draw = _drawer(role, like, source, ends, identity, seed)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    dtype = np.dtype(source.dtype).newbyteorder("<")
    shards = []
    for shard, shard_ends in zip(source.shards, ends):
        tokens = draw(shard.tokens, shard_ends).astype(dtype)
        shards.append(write_token_shard(tmp, shard.index, tokens, shard_ends.astype("<i8")))
    write_token_dir(
        tmp,
        shards,
        fingerprint=fp,
        mode=role,
        tokenizer=source.tokenizer,
        source={
            "kind": role,
            "like": {"path": str(like.path), "fingerprint": like.fingerprint},
            "seed": seed,
            **({"excluded_ids": identity["excluded"]} if role == "random" else {}),
        },
        dtype=dtype,
    )
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return describe(role, out)


def _drawer(
    role: str, like: TokenDir, source: Any, ends: list[np.ndarray[Any, Any]], identity: dict[str, Any], seed: int
) -> Any:
    """A function ``(n, ends) -> n token ids`` giving the twin's tokens shard by shard, in order,
    eos at the document ends. ``shuffled`` permutes the source's non-eos tokens once and hands them
    out in order: each twin shard has its source shard's documents, so every source token is used
    exactly once."""
    rng = np.random.default_rng([seed, 0x72616E64] if role == "random" else [seed, 0x7477696E, TWINS.index(role)])
    if role == "random":
        allowed = np.setdiff1d(
            np.arange(like.vocab_size, dtype=np.int64), np.asarray(identity["excluded"] + [like.eos_id], dtype=np.int64)
        )

        def uniform(n: int, shard_ends: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            tokens = allowed[rng.integers(0, len(allowed), size=n)]
            tokens[shard_ends - 1] = like.eos_id
            return tokens

        return uniform
    parts = []
    for shard, shard_ends in zip(source.shards, ends):
        tokens = np.asarray(np.load(like.path / shard.tokens_path, mmap_mode="r"), dtype=np.int64)
        parts.append(np.delete(tokens, shard_ends - 1))
    body = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    p = np.bincount(body, minlength=like.vocab_size).astype(np.float64)
    p /= max(1.0, p.sum())
    pool, used = rng.permutation(body) if role == "shuffled" else body, [0]

    def draw(n: int) -> np.ndarray[Any, Any]:
        if role == "unigram":
            return np.asarray(rng.choice(like.vocab_size, size=n, p=p), dtype=np.int64)
        used[0] += n
        return pool[used[0] - n : used[0]]

    def with_eos(n: int, shard_ends: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        tokens = np.full(n, like.eos_id, dtype=np.int64)
        body_at = np.ones(n, dtype=bool)
        body_at[shard_ends - 1] = False
        tokens[body_at] = draw(int(body_at.sum()))
        return tokens

    return with_eos


# --- batches -----------------------------------------------------------------------------------
#: the sampling seed of validation batches: a constant, so every run sees the same batches
EVAL_SEED = 20_240_601


def make_loader(
    corpora: Mapping[str, str | os.PathLike[str]],
    *,
    seq_len: int,
    batch_size: int,
    seed: int,
    weights: Mapping[str, float] | None = None,
    schedule: Callable[[int], Mapping[str, float]] | None = None,
    max_batches: int | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> TokenLoader:
    """A loader over ``corpora`` (name -> token directory) for ``rank`` of ``world_size``: fixed
    ``weights``, or a ``schedule`` (batch index -> weights), which then replaces them."""
    with torch.random.fork_rng(devices=[]):  # whatever set-up draws, the training RNG stream is untouched
        dataset = TokenDataset(
            {name: str(path) for name, path in corpora.items()},
            seq_len=seq_len,
            batch_size=batch_size,
            seed=seed,
            weights=None if weights is None or schedule is not None else dict(weights),
            schedule=schedule,
            max_batches=max_batches,
            rank=rank,
            world_size=world_size,
        )
        return TokenLoader(dataset, num_workers=0)


def stage_loader(
    stage: Stage,
    index: int,
    corpora: Mapping[str, str | os.PathLike[str]],
    *,
    seq_len: int,
    batch_size: int,
    seed: int,
    batches: int,
    rank: int = 0,
    world_size: int = 1,
) -> TokenLoader:
    """The loader of stage ``index`` of a run seeded ``seed`` on ``rank`` of ``world_size``: its
    mixture (or its schedule from ``mixture`` to ``mixture_end``) over the roles it names,
    ``batches`` micro-batches (on this rank), in an order seeded by (``seed``, ``index``), or by
    (``seed``, the stage's ``stream``) when it names one."""
    roles = stage.roles
    schedule = None if stage.mixture_end is None else MixtureSchedule(stage.mixture, stage.mixture_end, batches)
    where = index if stage.stream is None else stream_key(stage.stream)
    return make_loader(
        {role: corpora[role] for role in roles},
        seq_len=seq_len,
        batch_size=batch_size,
        seed=derive_seed(seed, where, 0xDA7A),
        weights={r: stage.mixture.get(r, 0.0) for r in roles},
        schedule=schedule,
        max_batches=batches,
        rank=rank,
        world_size=world_size,
    )


def stream_key(name: str) -> int:
    """A data stream's name as a seed word (the first 8 bytes of its sha256, so it is the same on
    every machine; stage indices are small, so a name never collides with one in practice)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") | (1 << 63)


def eval_batches(
    path: str | os.PathLike[str], *, seq_len: int, batch_size: int, batches: int, seed: int
) -> list[torch.Tensor]:
    """``batches`` fixed token batches of one validation directory: the same for every run,
    arm and seed of the experiment (``seed`` is a constant of the trainer, not the run's)."""
    loader = make_loader({"validation": path}, seq_len=seq_len, batch_size=batch_size, seed=seed, max_batches=batches)
    out = [batch["tokens"].to(torch.int64) for batch in itertools.islice(iter(loader), batches)]
    if len(out) != batches:
        raise ConfigError(f"validation corpus {str(path)!r} gave {len(out)} batches, {batches} were asked for")
    return out


class EvalSets:
    """The fixed validation batches of each validation set, held in memory (CPU)."""

    def __init__(self, batches: Mapping[str, Sequence[torch.Tensor]]) -> None:
        self.batches = {name: list(b) for name, b in batches.items()}

    @classmethod
    def load(
        cls, validation: Mapping[str, str | os.PathLike[str]], *, seq_len: int, batch_size: int, batches: int
    ) -> EvalSets:
        return cls(
            {
                name: eval_batches(path, seq_len=seq_len, batch_size=batch_size, batches=batches, seed=EVAL_SEED)
                for name, path in validation.items()
            }
        )

    @property
    def names(self) -> list[str]:
        return list(self.batches)
