"""The data of an experiment, made once and shared by every arm and seed.

Under ``OUT/data/``:

- ``natural/{train,validation}``: the natural text, ingested with a held-out split (by a hash
  of each document, so validation text is never trained on);
- ``mnemo``: mnemophrases in the natural text's languages, enough for the mnemo stages
  without repeating a phrase (at least one token per word, so ``words = tokens`` suffices);
  ``mnemo-validation``: other phrases (another seed) for the mnemophrase validation loss;
- ``unfused``: the control, the same draws as ``mnemo`` (same configuration and seed) with a
  space between the words;
- ``bridge`` (when a plan uses it): segment-bridge rows in the same languages;
- ``tokenizer``: one sentencepiece model for all arms, trained on natural, mnemo and unfused
  text together;
- ``tokens/ROLE``: every corpus encoded (``exact``) with that tokenizer.

Every step resumes or confirms what an earlier run wrote (the tools' own rules); the
tokenizer is retrained only when ``prepared.json`` records other data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import hyperword
from hyperword._hyperword import ConfigError
from hyperword.encode import encode, read_token_manifest
from hyperword.ingest import ingest_all
from hyperword.shards import canonical_json, fingerprint
from hyperword.tokenizer import TrainOptions, train_tokenizer

__all__ = ["DataSpec", "Prepared", "prepare"]

PREPARED_FILE = "prepared.json"
MNEMO_VALIDATION_WORDS = 40_000


@dataclass(frozen=True)
class DataSpec:
    """What an experiment's data is made of (its fingerprint decides what is reused)."""

    natural: tuple[str, ...]
    langs: tuple[str, ...]
    mnemo_tokens: int
    vocab_size: int
    validation_fraction: float = 0.1
    seed: int = 0
    words_per_phrase: tuple[int, int] = (2, 6)
    bridge: bool = False
    tokenizer_sentences: int = 200_000

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["natural"] = [str(Path(p).resolve()) for p in self.natural]
        return d


@dataclass(frozen=True)
class Prepared:
    """Token directories by role (``natural``, ``mnemo``, ``unfused``, ``bridge``), validation
    token directories by name, the tokenizer directory, and the hashes every run records."""

    root: Path
    tokenizer: Path
    corpora: dict[str, Path]
    validation: dict[str, Path]
    hashes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "tokenizer": str(self.tokenizer),
            "corpora": {k: str(v) for k, v in self.corpora.items()},
            "validation": {k: str(v) for k, v in self.validation.items()},
            "hashes": self.hashes,
        }


def _check(spec: DataSpec) -> None:
    if not spec.natural:
        raise ConfigError("no natural text given (--natural FILE_OR_DIR ...)")
    for p in spec.natural:
        if not Path(p).exists():
            raise ConfigError(f"natural text {str(p)!r}: no such file or directory")
    if not 0 < spec.validation_fraction < 1:
        raise ConfigError(f"validation fraction must be in (0, 1), got {spec.validation_fraction}")
    if spec.mnemo_tokens < 1 or spec.vocab_size < 100:
        raise ConfigError(f"mnemo_tokens must be >= 1 and vocab_size >= 100, got {spec.mnemo_tokens} and {spec.vocab_size}")


def _generate(out: Path, spec: DataSpec, words: int, seed: int, **kind: Any) -> Path:
    hyperword.generate(out, max(words, 1000), langs=",".join(spec.langs), words_per_phrase=spec.words_per_phrase, seed=seed, threads=None, **kind)
    return out


def prepare(out: str | os.PathLike[str], spec: DataSpec, *, threads: int | None = None) -> Prepared:
    """Make (or reuse) everything under ``out/data``; see the module documentation."""
    _check(spec)
    root = Path(out) / "data"
    root.mkdir(parents=True, exist_ok=True)
    splits = ingest_all(list(spec.natural), root / "natural", split=spec.validation_fraction)
    if splits["validation"].rows == 0 or splits["train"].rows == 0:
        raise ConfigError(f"the natural text has too few documents for a {spec.validation_fraction:.0%} validation split")
    corpora = {
        "natural": root / "natural" / "train",
        "mnemo": _generate(root / "mnemo", spec, spec.mnemo_tokens, spec.seed),
        "unfused": _generate(root / "unfused", spec, spec.mnemo_tokens, spec.seed, joiner=" "),
    }
    if spec.bridge:
        corpora["bridge"] = _generate(root / "bridge", spec, spec.mnemo_tokens, spec.seed, kind="bridge", bridge="segment")
    validation = {"natural": root / "natural" / "validation", "mnemo": _generate(root / "mnemo-validation", spec, MNEMO_VALIDATION_WORDS, spec.seed + 1)}

    identity = fingerprint({"spec": spec.to_dict(), "hyperword": hyperword.__version__})
    tok = root / "tokenizer"
    recorded = root / PREPARED_FILE
    same = recorded.is_file() and json.loads(recorded.read_text(encoding="utf-8")).get("fingerprint") == identity
    if not same or not (tok / "tokenizer.model").is_file():
        sources = [f"{corpora['natural']}:2", f"{corpora['mnemo']}:1", f"{corpora['unfused']}:1"]
        options = TrainOptions(vocab_size=spec.vocab_size, max_sentences=spec.tokenizer_sentences, seed=spec.seed)
        train_tokenizer(sources, tok, options=options, force=True)

    def tokens(name: str, corpus: Path) -> Path:
        target = root / "tokens" / name
        encode(tok, corpus, target, mode="exact", threads=threads, force=not same)
        return target

    prepared = Prepared(
        root=root,
        tokenizer=tok,
        corpora={role: tokens(role, path) for role, path in corpora.items()},
        validation={name: tokens(f"{name}-validation", path) for name, path in validation.items()},
    )
    hashes = {"tokenizer_sha256": read_token_manifest(prepared.corpora["natural"]).tokenizer["sha256"]}
    for role, path in {**corpora, **{f"{k}-validation": v for k, v in validation.items()}}.items():
        hashes[f"{role}_corpus"] = hyperword.read_manifest(path).fingerprint
    hashes["lexicon_sha256"] = hyperword.Lexicon.default().sha256
    hashes["data_fingerprint"] = identity
    result = Prepared(prepared.root, prepared.tokenizer, prepared.corpora, prepared.validation, hashes)
    recorded.write_text(canonical_json({"fingerprint": identity, "spec": spec.to_dict(), "prepared": result.to_dict()}) + "\n", encoding="utf-8")
    return result


def natural_sources(paths: Sequence[str]) -> tuple[str, ...]:
    """Files named, or the ``*.txt`` files of directories named, in sorted order."""
    out: list[str] = []
    for p in map(Path, paths):
        out.extend(str(f) for f in sorted(p.glob("*.txt"))) if p.is_dir() else out.append(str(p))
    return tuple(out)
