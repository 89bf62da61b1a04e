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
- ``dyck`` (when an arm uses it): k-shuffle Dyck sequences (the anchor's language, Hu et al.
  2025: ``dyck_k`` bracket types, opening probability 0.51, depth at most 16, 2,048 symbols a
  sequence); the tokenizer then has every bracket as a user-defined piece, so each bracket is
  one token;
- ``ngram`` (when an arm uses it): samples of an ``ngram_n``-gram model of the natural training
  text's words (the anchor's control: the natural text's statistics without its structure);
- ``natural-parts/STEM/validation``: each natural source file's own validation documents (the
  same hash split, so together they are exactly the ``natural`` validation documents), for
  scores per language (a file's stem, ``en`` for ``en.txt``, names its part);
- ``eval/NAME``: each ``--eval-text NAME=FILE``, ingested whole (never trained on);
- ``tokenizer``: one sentencepiece model for all arms, trained on natural, mnemo and unfused
  text together (``tokenizer_data="mixed"``), or on the natural training text alone
  (``"natural"``: the fair tokenizer for ``natural-only``);
- ``tokens/ROLE``: every corpus encoded (``exact``) with that tokenizer.

An evaluation text the tokenizer cannot represent — more than :data:`MAX_UNKNOWN_SHARE` of its
tokens unknown or byte-fallback pieces, as for a script the tokenizer never saw — is refused
before anything is trained. ``Prepared.overlap`` reports how the corpora share the vocabulary:
pieces that never occur in the natural training text, the share of natural tokens whose ids a
pre-stage corpus never contains (so that stage cannot train them), and the share of tokens that
are word-initial (``▁``) pieces, per corpus.

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

import numpy as np

import hyperword
from hyperword._hyperword import dyck_symbols
from hyperword.encode import encode, read_token_manifest
from hyperword.errors import ConfigError
from hyperword.experiment.scoring import Part, part_of
from hyperword.formats.identity import canonical_json, fingerprint
from hyperword.ingest import ingest_all
from hyperword.tokenizer import TrainOptions, train_tokenizer

__all__ = ["DataSpec", "Prepared", "prepare"]

PREPARED_FILE = "prepared.json"
#: words of the mnemophrase validation text (scored in full after every run)
MNEMO_VALIDATION_WORDS = 10_000
#: the most of an evaluation text's tokens that may be unknown or byte-fallback pieces
MAX_UNKNOWN_SHARE = 0.05
TOKENIZER_DATA = ("mixed", "natural")


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
    tokenizer_data: str = "mixed"
    eval_texts: tuple[tuple[str, str], ...] = ()
    mnemo_validation_words: int = MNEMO_VALIDATION_WORDS
    extra_kinds: tuple[str, ...] = ()
    dyck_k: int = 64
    ngram_n: int = 3

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["natural"] = [str(Path(p).resolve()) for p in self.natural]
        d["eval_texts"] = [[name, str(Path(p).resolve())] for name, p in self.eval_texts]
        if not self.extra_kinds:  # data made before these kinds existed keeps its identity
            for name in ("extra_kinds", "dyck_k", "ngram_n"):
                d.pop(name)
        return d

    def part_names(self) -> list[str]:
        """The name of each natural source file's part: its stem, made unique in order."""
        names: list[str] = []
        for p in self.natural:
            stem, k = Path(p).name.split(".")[0] or "text", 2
            name = stem
            while name in names:
                name, k = f"{stem}-{k}", k + 1
            names.append(name)
        return names


@dataclass(frozen=True)
class Prepared:
    """Token directories by role (``natural``, ``mnemo``, ``unfused``, ``bridge``), validation
    token directories by name, the tokenizer directory, and the hashes every run records."""

    root: Path
    tokenizer: Path
    corpora: dict[str, Path]
    validation: dict[str, Path]
    hashes: dict[str, str] = field(default_factory=dict)
    texts: dict[str, dict[str, Part]] = field(default_factory=dict)
    overlap: dict[str, Any] = field(default_factory=dict)
    natural_train_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "tokenizer": str(self.tokenizer),
            "corpora": {k: str(v) for k, v in self.corpora.items()},
            "validation": {k: str(v) for k, v in self.validation.items()},
            "texts": {name: {p: part.to_dict() for p, part in parts.items()} for name, parts in self.texts.items()},
            "natural_train_tokens": self.natural_train_tokens,
            "overlap": self.overlap,
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
        raise ConfigError(
            f"mnemo_tokens must be >= 1 and vocab_size >= 100, got {spec.mnemo_tokens} and {spec.vocab_size}"
        )
    unknown = sorted(set(spec.extra_kinds) - {"dyck", "ngram"})
    if unknown:
        raise ConfigError(f"unknown extra corpus kind(s) {unknown}: expected dyck or ngram")
    if spec.tokenizer_data not in TOKENIZER_DATA:
        raise ConfigError(f"tokenizer data must be one of {', '.join(TOKENIZER_DATA)}, got {spec.tokenizer_data!r}")
    for name, p in spec.eval_texts:
        if not Path(p).is_file():
            raise ConfigError(f"evaluation text {name!r}: {str(p)!r}: no such file")


def _generate(out: Path, spec: DataSpec, words: int, seed: int, **kind: Any) -> Path:
    hyperword.generate(
        out,
        max(words, 1000),
        langs=",".join(spec.langs),
        words_per_phrase=spec.words_per_phrase,
        seed=seed,
        threads=None,
        **kind,
    )
    return out


def _ingested(source: str, out: Path, split: float | None) -> Path:
    """``source`` ingested into ``out``: its validation side with ``split``, else all of it."""
    ingest_all([source], out, split=split)
    return out / "validation" if split else out


def prepare(out: str | os.PathLike[str], spec: DataSpec, *, threads: int | None = None) -> Prepared:
    """Make (or reuse) everything under ``out/data``; see the module documentation."""
    _check(spec)
    root = Path(out) / "data"
    root.mkdir(parents=True, exist_ok=True)
    splits = ingest_all(list(spec.natural), root / "natural", split=spec.validation_fraction)
    if splits["validation"].rows == 0 or splits["train"].rows == 0:
        raise ConfigError(
            f"the natural text has too few documents for a {spec.validation_fraction:.0%} validation split"
        )
    corpora = {
        "natural": root / "natural" / "train",
        "mnemo": _generate(root / "mnemo", spec, spec.mnemo_tokens, spec.seed),
        "unfused": _generate(root / "unfused", spec, spec.mnemo_tokens, spec.seed, joiner=" "),
    }
    if spec.bridge:
        corpora["bridge"] = _generate(
            root / "bridge", spec, spec.mnemo_tokens, spec.seed, kind="bridge", bridge="segment"
        )
    if "dyck" in spec.extra_kinds:
        hyperword.generate(
            root / "dyck", max(spec.mnemo_tokens, 2048), kind="dyck", dyck_k=spec.dyck_k, seed=spec.seed, threads=None
        )
        corpora["dyck"] = root / "dyck"
    if "ngram" in spec.extra_kinds:
        hyperword.generate(
            root / "ngram",
            max(spec.mnemo_tokens, 1000),
            kind="ngram",
            ngram_n=spec.ngram_n,
            source=root / "natural" / "train",
            seed=spec.seed,
            threads=None,
        )
        corpora["ngram"] = root / "ngram"
    validation = {
        "natural": root / "natural" / "validation",
        "mnemo": _generate(root / "mnemo-validation", spec, spec.mnemo_validation_words, spec.seed + 1),
    }
    parts = {
        name: _ingested(path, root / "natural-parts" / name, spec.validation_fraction)
        for name, path in zip(spec.part_names(), spec.natural)
    }
    extra = {name: _ingested(path, root / "eval" / name, None) for name, path in spec.eval_texts}

    identity = fingerprint({"spec": spec.to_dict(), "hyperword": hyperword.__version__})
    tok = root / "tokenizer"
    recorded = root / PREPARED_FILE
    same = recorded.is_file() and json.loads(recorded.read_text(encoding="utf-8")).get("fingerprint") == identity
    if not same or not (tok / "tokenizer.model").is_file():
        sources = (
            [f"{corpora['natural']}:2", f"{corpora['mnemo']}:1", f"{corpora['unfused']}:1"]
            if spec.tokenizer_data == "mixed"
            else [str(corpora["natural"])]
        )
        # with a Dyck corpus, its brackets become user-defined pieces: one token each
        symbols = tuple(dyck_symbols(spec.dyck_k)) if "dyck" in corpora else ()
        options = TrainOptions(
            vocab_size=spec.vocab_size,
            max_sentences=spec.tokenizer_sentences,
            seed=spec.seed,
            user_defined_symbols=symbols,
        )
        train_tokenizer(sources, tok, options=options, force=True)

    def tokens(name: str, corpus: Path) -> Path:
        target = root / "tokens" / name
        encode(tok, corpus, target, mode="exact", threads=threads, force=not same)
        return target

    encoded = {role: tokens(role, path) for role, path in corpora.items()}
    texts = {
        "natural": {name: part_of(path, tokens(f"natural-validation-{name}", path)) for name, path in parts.items()},
        "mnemo": {"mnemo": part_of(validation["mnemo"], tokens("mnemo-validation", validation["mnemo"]))},
        **{name: {name: part_of(path, tokens(f"eval-{name}", path))} for name, path in extra.items()},
    }
    for name in extra:
        _check_representable(name, texts[name][name].tokens, tok)
    hashes = {"tokenizer_sha256": read_token_manifest(encoded["natural"]).tokenizer["sha256"]}
    for role, path in {
        **corpora,
        **{f"{k}-validation": v for k, v in validation.items()},
        **{f"eval-{k}": v for k, v in extra.items()},
    }.items():
        hashes[f"{role}_corpus"] = hyperword.read_manifest(path).fingerprint
    hashes["lexicon_sha256"] = hyperword.Lexicon.default().sha256
    hashes["data_fingerprint"] = identity
    result = Prepared(
        root=root,
        tokenizer=tok,
        corpora=encoded,
        validation={name: tokens(f"{name}-validation", path) for name, path in validation.items()},
        hashes=hashes,
        texts=texts,
        overlap=overlap(tok, {role: encoded[role] for role in ("natural", "mnemo", "unfused")}),
        natural_train_tokens=read_token_manifest(encoded["natural"]).tokens,
    )
    recorded.write_text(
        canonical_json({"fingerprint": identity, "spec": spec.to_dict(), "prepared": result.to_dict()}) + "\n",
        encoding="utf-8",
    )
    return result


def _pieces(tokenizer: Path) -> Any:
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(tokenizer / "tokenizer.model"))


def _counts(path: Path, vocab_size: int) -> np.ndarray[Any, Any]:
    from hyperword.batches.corpus import TokenCorpus

    counts = np.zeros(vocab_size, dtype=np.int64)
    for tokens in TokenCorpus.open(path).arrays:
        counts += np.bincount(np.asarray(tokens, dtype=np.int64), minlength=vocab_size)[:vocab_size]
    return counts


def _check_representable(name: str, path: Path, tokenizer: Path) -> None:
    """``ConfigError`` when more than :data:`MAX_UNKNOWN_SHARE` of an evaluation text's tokens
    are unknown or byte-fallback pieces (a language or script the tokenizer never saw)."""
    sp = _pieces(tokenizer)
    counts = _counts(path, sp.get_piece_size())
    unknown = sum(int(counts[i]) for i in range(len(counts)) if counts[i] and (sp.is_unknown(i) or sp.is_byte(i)))
    share = unknown / max(1, int(counts.sum()))
    if share > MAX_UNKNOWN_SHARE:
        raise ConfigError(
            f"evaluation text {name!r}: {share:.0%} of its tokens are unknown or byte pieces, so the tokenizer never saw its language "
            f"or script; add its language to --langs (mnemophrases) or to the natural text"
        )


def overlap(tokenizer: Path, corpora: dict[str, Path]) -> dict[str, Any]:
    """How the corpora share the vocabulary (see the module documentation)."""
    sp = _pieces(tokenizer)
    size = sp.get_piece_size()
    special = np.array([sp.is_control(i) or sp.is_unknown(i) or sp.is_unused(i) for i in range(size)])
    initial = np.array([sp.id_to_piece(i).startswith("\u2581") for i in range(size)])
    counts = {role: _counts(path, size) for role, path in corpora.items()}
    natural = counts["natural"]
    return {
        "vocab_size": size,
        "pieces_never_in_natural": int(((natural == 0) & ~special).sum()),
        "word_initial_share": {role: float(c[initial].sum() / max(1, c.sum())) for role, c in counts.items()},
        "natural_tokens_with_ids_absent_from": {
            role: float(natural[c == 0].sum() / max(1, natural.sum()))
            for role, c in counts.items()
            if role != "natural"
        },
    }


def natural_sources(paths: Sequence[str]) -> tuple[str, ...]:
    """Files named, or the ``*.txt`` files of directories named, in sorted order."""
    out: list[str] = []
    for p in map(Path, paths):
        out.extend(str(f) for f in sorted(p.glob("*.txt"))) if p.is_dir() else out.append(str(p))
    return tuple(out)
