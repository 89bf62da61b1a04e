"""``train_tokenizer``: sentencepiece trained straight from corpus shards (no text dump).

Rows are sampled by :mod:`hyperword.tokenizer.sample` and fed through
``SentencePieceTrainer.train(sentence_iterator=..., model_writer=...)``. Fixed choices, for
exact round-trips: ``normalization_rule_name="identity"`` and
``remove_extra_whitespaces=False`` (decode(encode(s)) == s for every string whose
characters are covered or byte-encoded), and ``required_chars="▁"`` so that the whitespace
piece exists even when the sample (fused words, no dummy prefix) holds no space — otherwise a
space would byte-encode as U+2581 and decode as ``▁``, not ``" "``. Determinism: ``spm.set_random_generator_seed(seed)``
(the trainer has no seed option) and ``num_threads=1`` by default; more threads train faster
but the EM sums may then differ in the last bits between runs.

Dyck corpora: when one is among the sources, every bracket symbol of its ``k`` types
(``dyck_symbols``: characters of Unicode's Private Use Area) is added to the user-defined
symbols, which sentencepiece always keeps as one piece; so every bracket is one token and
decodes back to itself (with ``add_dummy_prefix``, a row also starts with the ``▁`` piece).

Character coverage: sentencepiece keeps every character of the sample up to the coverage as
a piece of its own, so a many-script sample at a small vocabulary can need more pieces than
the vocabulary has. With the default coverage, training then counts the sample's characters
and lowers the coverage to one whose characters fit (leaving a tenth of the vocabulary for
longer pieces; rarer characters byte-encode), and records the coverage used; with a coverage
given, it fails saying which ``--vocab-size`` or ``--character-coverage`` would do.

Skipped rows are counted and *not fed* (sentencepiece would drop them anyway): empty rows,
and rows longer than ``max_sentence_length`` UTF-8 bytes.

Everything is written into a temporary sibling directory, then renamed into ``out``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sentencepiece as spm

from hyperword._hyperword import dyck_symbols
from hyperword.errors import ConfigError, OutputExistsError
from hyperword.formats.corpus import Manifest
from hyperword.tokenizer.hf import export_hf
from hyperword.tokenizer.sample import allocate, choose_indices, open_source, sample_rows

__all__ = ["CorpusSample", "TrainOptions", "TrainResult", "train_tokenizer", "META_FILE"]

META_FILE = "hyperword_tokenizer.json"
DEFAULT_MAX_SENTENCES = 1_000_000
DEFAULT_MAX_SENTENCE_LENGTH = 16_384


@dataclass(frozen=True)
class TrainOptions:
    """Trainer options. ``character_coverage=None`` means 0.9995 with byte fallback (rare
    characters become UTF-8 byte pieces, still round-tripping exactly) and 1.0 without."""

    vocab_size: int = 8000
    model_type: str = "unigram"
    max_sentences: int = DEFAULT_MAX_SENTENCES
    seed: int = 0
    split_by_unicode_script: bool = True
    byte_fallback: bool = True
    character_coverage: float | None = None
    max_sentencepiece_length: int = 16
    add_dummy_prefix: bool = True
    user_defined_symbols: tuple[str, ...] = ()
    max_sentence_length: int = DEFAULT_MAX_SENTENCE_LENGTH
    num_threads: int = 1

    def coverage(self) -> float:
        if self.character_coverage is not None:
            return self.character_coverage
        return 0.9995 if self.byte_fallback else 1.0

    def validate(self) -> None:
        if self.model_type not in ("unigram", "bpe"):
            raise ConfigError(f"model type must be unigram or bpe, got {self.model_type!r}")
        for name in ("vocab_size", "max_sentences", "max_sentencepiece_length", "max_sentence_length", "num_threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.coverage() <= 1:
            raise ConfigError(f"character coverage must be in (0, 1], got {self.coverage()}")
        if self.seed < 0:
            raise ConfigError(f"seed must be non-negative, got {self.seed}")
        if any(not s for s in self.user_defined_symbols):
            raise ConfigError("user-defined symbols must not be empty")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["user_defined_symbols"] = list(self.user_defined_symbols)
        d["character_coverage"] = self.coverage()
        return d


@dataclass
class CorpusSample:
    """What one corpus contributed to the training sample."""

    path: str
    kind: str
    fingerprint: str
    weight: float
    rows: int
    sampled: int
    fed: int = 0
    skipped_empty: int = 0
    skipped_long: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    out: Path
    options: TrainOptions
    corpora: list[CorpusSample] = field(default_factory=list)
    vocab_size: int = 0
    model_sha256: str = ""
    files: list[str] = field(default_factory=list)

    @property
    def sampled(self) -> int:
        return sum(c.sampled for c in self.corpora)

    @property
    def fed(self) -> int:
        return sum(c.fed for c in self.corpora)

    @property
    def skipped_long(self) -> int:
        return sum(c.skipped_long for c in self.corpora)

    @property
    def skipped_empty(self) -> int:
        return sum(c.skipped_empty for c in self.corpora)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "hyperword-tokenizer",
            "format_version": 1,
            "out": str(self.out),
            "options": self.options.to_dict(),
            "fixed": {
                "normalization_rule_name": "identity",
                "remove_extra_whitespaces": False,
                "input_sentence_size": 0,
                "required_chars": "\u2581",
            },
            "corpora": [c.to_dict() for c in self.corpora],
            "sampled": self.sampled,
            "fed": self.fed,
            "skipped_empty": self.skipped_empty,
            "skipped_long": self.skipped_long,
            "vocab_size": self.vocab_size,
            "model_sha256": self.model_sha256,
            "files": self.files,
        }


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{str(out)!r} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputExistsError(f"{str(out)!r} is not empty (use --force to replace it)")


def _feed(
    samples: list[CorpusSample], streams: list[Iterator[str]], max_bytes: int, chars: Counter[str] | None = None
) -> Iterator[str]:
    for sample, rows in zip(samples, streams):
        for text in rows:
            if not text:
                sample.skipped_empty += 1
            elif len(text.encode("utf-8")) > max_bytes:
                sample.skipped_long += 1
            else:
                sample.fed += 1
                if chars is not None:
                    chars.update(text)
                yield text


def _train_sp(opts: TrainOptions, sentences: Iterator[str], writer: io.BytesIO) -> None:
    spm.set_random_generator_seed(opts.seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=sentences,
        model_writer=writer,
        vocab_size=opts.vocab_size,
        model_type=opts.model_type,
        character_coverage=opts.coverage(),
        byte_fallback=opts.byte_fallback,
        split_by_unicode_script=opts.split_by_unicode_script,
        max_sentencepiece_length=opts.max_sentencepiece_length,
        add_dummy_prefix=opts.add_dummy_prefix,
        user_defined_symbols=list(opts.user_defined_symbols),
        max_sentence_length=opts.max_sentence_length,
        num_threads=opts.num_threads,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        input_sentence_size=0,
        required_chars="\u2581",
        minloglevel=2,
    )


_TOO_MANY_CHARS = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


def _kept_chars(freqs: list[int], coverage: float) -> int:
    """How many of the characters (counts, most frequent first) sentencepiece keeps as pieces
    at ``coverage``: it adds them in order until the share covered reaches the coverage."""
    total, covered = sum(freqs), 0
    for i, f in enumerate(freqs):
        if covered / total >= coverage:
            return i
        covered += f
    return len(freqs)


#: The lowest character coverage sentencepiece accepts.
MIN_COVERAGE = 0.98


def _spare(vocab_size: int) -> int:
    """Pieces left for more than single characters when a coverage is chosen to fit."""
    return max(vocab_size // 10, 8)


def _too_many_chars(e: Exception, chars: Counter[str], opts: TrainOptions) -> tuple[int, float | None, int] | None:
    """When sentencepiece refused because the characters it must keep at this coverage do not
    fit the vocabulary: the vocabulary they need, a coverage (at least ``MIN_COVERAGE``) whose
    characters fit, leaving a tenth of the vocabulary for longer pieces (``None`` when none
    does), and the smallest vocabulary for which ``MIN_COVERAGE`` fits. Else ``None``."""
    match = _TOO_MANY_CHARS.search(str(e))
    if match is None or not chars:
        return None
    needed = int(match.group(2))
    freqs = sorted(chars.values(), reverse=True)
    overhead = max(needed - _kept_chars(freqs, opts.coverage()), 0)  # meta and user pieces, bytes
    smallest = _kept_chars(freqs, MIN_COVERAGE) + overhead
    smallest += _spare(smallest * 10 // 9)
    room = opts.vocab_size - overhead - _spare(opts.vocab_size)
    if room < 1:
        return needed, None, smallest
    coverage = math.floor(sum(freqs[:room]) / sum(freqs) * 1e6) / 1e6
    return needed, (coverage if coverage >= MIN_COVERAGE else None), smallest


def _vocab_advice(opts: TrainOptions, needed: int, coverage: float | None, smallest: int) -> str:
    """What to pass instead, in this command's own flags."""
    if coverage is not None and coverage < opts.coverage():
        other = f", or --character-coverage {coverage:g}"
    elif smallest < needed:
        other = (
            f", or --vocab-size {smallest} with --character-coverage {MIN_COVERAGE:g} (the lowest sentencepiece takes)"
        )
    else:
        other = ""
    return (
        f"--vocab-size {opts.vocab_size} is too small for this sample: its characters at --character-coverage "
        f"{opts.coverage():g} need {needed} pieces; use --vocab-size {math.ceil(needed * 1.1)} or more{other}"
    )


def _sp_error(e: Exception) -> ConfigError:
    """sentencepiece's ``INTERNAL: src/x.cc(638) [check] Reason.`` as one clear line."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    reason = lines[-1] if lines else type(e).__name__
    reason = re.sub(r"^[A-Z_]+: ", "", reason)
    reason = re.sub(r"^src/\S+\(\d+\) ", "", reason)
    reason = re.sub(r"^\[.*?\] ", "", reason)
    reason = re.sub(
        r"--([a-z]+(?:_[a-z]+)+)", lambda m: "--" + m.group(1).replace("_", "-"), reason
    )  # our flags' spelling
    return ConfigError(f"sentencepiece could not train on this sample: {reason}")


def _with_dyck_symbols(opts: TrainOptions, manifests: Sequence[Manifest]) -> TrainOptions:
    """``opts`` with every bracket of the Dyck corpora among the sources added to the
    user-defined symbols (after those given), so that each bracket is one piece."""
    k = max((int(m.config["dyck"]["k"]) for m in manifests if m.kind == "dyck"), default=0)
    if k == 0:
        return opts
    symbols = list(opts.user_defined_symbols)
    symbols += [s for s in dyck_symbols(k) if s not in opts.user_defined_symbols]
    return dataclasses.replace(opts, user_defined_symbols=tuple(symbols))


def train_tokenizer(
    corpora: Sequence[str],
    out: str | os.PathLike[str],
    *,
    options: TrainOptions | None = None,
    force: bool = False,
) -> TrainResult:
    """Train a sentencepiece tokenizer on ``corpora`` (``DIR[:WEIGHT]`` specs) into ``out``."""
    opts = options or TrainOptions()
    opts.validate()
    if not corpora:
        raise ConfigError("no corpus given")
    sources = [open_source(spec, weighted=True) for spec in corpora]
    opts = _with_dyck_symbols(opts, [s.corpus.manifest for s in sources])
    out_path = Path(out)
    _prepare_out(out_path, force)
    quotas = allocate([s.rows for s in sources], [s.weight for s in sources], opts.max_sentences)
    if sum(quotas) == 0:
        raise ConfigError("the corpora hold no rows to train on")
    chars: Counter[str] = Counter()  # of the sample, counted on the first pass
    for attempt in range(3):  # a default coverage is lowered (twice at most) until it fits the vocabulary
        samples = [
            CorpusSample(str(s.path), s.corpus.manifest.kind, s.fingerprint, s.weight, s.rows, q)
            for s, q in zip(sources, quotas)
        ]
        streams = [
            sample_rows(s.corpus, choose_indices(s.rows, q, opts.seed, i))
            for i, (s, q) in enumerate(zip(sources, quotas))
        ]
        writer = io.BytesIO()
        try:
            _train_sp(opts, _feed(samples, streams, opts.max_sentence_length, chars if attempt == 0 else None), writer)
            break
        except RuntimeError as e:
            fit = _too_many_chars(e, chars, opts)
            if fit is None:
                raise _sp_error(e) from None
            needed, coverage, smallest = fit
            if options is not None and options.character_coverage is not None or coverage is None or attempt == 2:
                raise ConfigError(_vocab_advice(opts, needed, coverage, smallest)) from None
            opts = dataclasses.replace(opts, character_coverage=coverage)
    if sum(s.fed for s in samples) == 0:
        raise ConfigError("every sampled row was empty or too long; nothing to train on")
    model = writer.getvalue()
    result = TrainResult(out_path, opts, samples, model_sha256=hashlib.sha256(model).hexdigest())
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.", dir=out_path.parent))
    try:
        (tmp / "tokenizer.model").write_bytes(model)
        sp = spm.SentencePieceProcessor(model_proto=model)
        result.vocab_size = int(sp.get_piece_size())
        with open(tmp / "tokenizer.vocab", "w", encoding="utf-8") as f:
            for i in range(result.vocab_size):
                f.write(f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}\n")
        result.files = ["tokenizer.model", "tokenizer.vocab", *export_hf(model, tmp), META_FILE]
        meta = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
        (tmp / META_FILE).write_text(meta, encoding="utf-8")
        if out_path.exists():
            shutil.rmtree(out_path)
        os.replace(tmp, out_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result
