"""``tokenizer_report``: how a trained tokenizer segments each corpus, and fused words.

Per corpus (the first ``max_rows`` rows): tokens per word (``words`` column when present;
for a mnemophrase corpus without one, the words and languages re-drawn from its manifest —
the corpus is a pure function of lexicon, configuration and seed — after checking that the
re-drawn texts are the corpus's; else whitespace-separated words, and ``words_source`` says
why: for a mnemophrase corpus those are whole phrases, so the word metrics are left out), bytes per token, the unknown
rate, boundary alignment (share of interior hyperword word boundaries — byte offsets where a
word of the ``words`` column ends or the next starts, found in ``text`` in order — that are
also token boundaries), token share per Unicode script of the piece (``byte`` for
byte-fallback pieces, ``space`` for a bare ``▁``, ``mixed`` for several scripts) and per
language (tokens starting inside a word of that language, via the ``langs`` column).
With a lexicon: each word's piece count alone versus inside fused words (tokens overlapping
its span), and the share of words that are a single piece.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import sentencepiece as spm

from hyperword import _hyperword
from hyperword._hyperword import Lexicon
from hyperword.errors import ConfigError, LexiconError
from hyperword.lexicon.scripts import char_script
from hyperword.tokenizer.sample import CorpusSource, open_source

__all__ = ["CorpusReport", "LexiconReport", "TokenizerReport", "load_processor", "piece_script", "tokenizer_report"]

DEFAULT_MAX_ROWS = 10_000


@dataclass
class CorpusReport:
    name: str
    path: str
    kind: str
    rows: int = 0
    words: int = 0
    words_source: str = "whitespace"
    tokens: int = 0
    bytes: int = 0
    unknown: int = 0
    boundaries: int = 0
    aligned_boundaries: int = 0
    script_tokens: dict[str, int] = field(default_factory=dict)
    lang_tokens: dict[str, int] = field(default_factory=dict)
    lang_words: dict[str, int] = field(default_factory=dict)

    @property
    def fertility(self) -> float:
        return self.tokens / self.words if self.words else 0.0

    @property
    def bytes_per_token(self) -> float:
        return self.bytes / self.tokens if self.tokens else 0.0

    @property
    def unknown_rate(self) -> float:
        return self.unknown / self.tokens if self.tokens else 0.0

    @property
    def boundary_alignment(self) -> float | None:
        return self.aligned_boundaries / self.boundaries if self.boundaries else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        total = self.tokens or 1
        d.update(
            fertility=self.fertility,
            bytes_per_token=self.bytes_per_token,
            unknown_rate=self.unknown_rate,
            boundary_alignment=self.boundary_alignment,
            script_share={k: v / total for k, v in sorted(self.script_tokens.items())},
            lang_share={k: v / total for k, v in sorted(self.lang_tokens.items())},
            lang_fertility={k: self.lang_tokens.get(k, 0) / n for k, n in sorted(self.lang_words.items()) if n},
        )
        return d


@dataclass
class LexiconReport:
    path: str
    words: int = 0
    pieces_alone: int = 0
    single_alone: int = 0
    occurrences: int = 0
    pieces_inside: int = 0
    single_inside: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            mean_pieces_alone=self.pieces_alone / self.words if self.words else None,
            single_piece_share_alone=self.single_alone / self.words if self.words else None,
            mean_pieces_inside=self.pieces_inside / self.occurrences if self.occurrences else None,
            single_piece_share_inside=self.single_inside / self.occurrences if self.occurrences else None,
        )
        return d


@dataclass
class TokenizerReport:
    tokenizer: str
    vocab_size: int
    vocab_scripts: dict[str, int]
    corpora: list[CorpusReport]
    lexicon: LexiconReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokenizer": self.tokenizer,
            "vocab_size": self.vocab_size,
            "vocab_script_share": {k: v / self.vocab_size for k, v in sorted(self.vocab_scripts.items())},
            "corpora": [c.to_dict() for c in self.corpora],
            "lexicon": self.lexicon.to_dict() if self.lexicon else None,
        }


def load_processor(directory: str | os.PathLike[str]) -> spm.SentencePieceProcessor:
    """The sentencepiece model of a tokenizer directory, or one clear ``ConfigError``."""
    path = Path(directory)
    if not path.is_dir():
        raise ConfigError(f"tokenizer {str(path)!r}: no such directory")
    model = path / "tokenizer.model"
    if not model.is_file():
        raise ConfigError(f"tokenizer {str(path)!r}: not a tokenizer directory (no tokenizer.model)")
    try:
        return spm.SentencePieceProcessor(model_proto=model.read_bytes())
    except (RuntimeError, OSError) as e:
        raise ConfigError(f"tokenizer {str(path)!r}: tokenizer.model is not a sentencepiece model ({e})") from None


def piece_script(sp: spm.SentencePieceProcessor, pid: int) -> str:
    if sp.is_byte(pid):
        return "byte"
    if sp.is_unknown(pid) or sp.is_control(pid):
        return "special"
    text = sp.id_to_piece(pid).replace("\u2581", "")
    if not text:
        return "space"
    scripts = {char_script(c) for c in text} - {"Inherited"}
    if len(scripts) > 1:
        scripts.discard("Common")
    return scripts.pop() if len(scripts) == 1 else ("Inherited" if not scripts else "mixed")


def _word_spans(text: str, words: list[str]) -> list[tuple[int, int]] | None:
    """Byte spans of ``words`` found in order in ``text``; None when one is missing."""
    data = text.encode("utf-8")
    spans, pos = [], 0
    for w in words:
        wb = w.encode("utf-8")
        start = data.find(wb, pos)
        if start < 0 or not wb:
            return None
        spans.append((start, start + len(wb)))
        pos = start + len(wb)
    return spans


#: Rows whose re-drawn texts must equal the corpus's before its words are re-drawn.
CHECK_ROWS = 64
_WORD_COLUMNS = ["text", "words", "langs"]


def _redrawn(src: CorpusSource, lexicon: str | os.PathLike[str] | None) -> tuple[Iterator[pa.RecordBatch] | None, str]:
    """A mnemophrase corpus without a ``words`` column, re-drawn with words and languages from
    its manifest (its own lexicon: the one given when its content matches, else the shipped
    one), and what the words come from; or ``None`` and why not."""
    m = src.corpus.manifest
    missing = "whitespace (a mnemophrase corpus with no words column: generate with --columns text,words,langs"
    if m.kind != "mnemo":
        return None, "whitespace"
    if m.lexicon is None or m.seed is None or "fusion" not in m.config:
        return None, f"{missing}; its manifest records no lexicon or seed to re-draw them from)"
    candidates = [Lexicon.load(lexicon)] if lexicon is not None else []
    candidates.append(Lexicon.default())
    lex = next((c for c in candidates if c.sha256 == m.lexicon["sha256"]), None)
    if lex is None:
        return (
            None,
            f"{missing}, or pass the lexicon it was drawn from, {m.lexicon.get('source', '?')}, with --lexicon)",
        )
    config = dict(m.config, columns=_WORD_COLUMNS)
    batches = pa.RecordBatchReader.from_stream(_hyperword.stream(lex, json.dumps(config)))
    first = src.corpus.head(CHECK_ROWS).column("text").to_pylist()
    head: list[pa.RecordBatch] = []
    drawn: list[str] = []
    for batch in batches:
        head.append(batch)
        drawn.extend(batch.column("text").to_pylist())
        if len(drawn) >= len(first):
            break
    if drawn[: len(first)] != first:
        return None, f"{missing}; its texts are not what its manifest draws, so its words cannot be re-drawn)"
    return itertools.chain(head, batches), "re-drawn from the manifest (lexicon, configuration, seed)"


def _scan(
    src: CorpusSource,
    sp: spm.SentencePieceProcessor,
    max_rows: int,
    scripts: list[str],
    lexicon: set[str] | None,
    lex: LexiconReport | None,
    lexicon_path: str | os.PathLike[str] | None = None,
) -> CorpusReport:
    rep = CorpusReport(src.name, str(src.path), src.corpus.manifest.kind)
    unk = sp.unk_id()
    names = src.corpus.schema().names if src.corpus.manifest.shards else []
    redrawn, source = (None, "words column") if "words" in names else _redrawn(src, lexicon_path)
    rep.words_source = source
    for batch in redrawn if redrawn is not None else src.corpus.iter_batches():
        if rep.rows >= max_rows:
            break
        batch = batch.slice(0, max_rows - rep.rows)
        names = batch.schema.names
        texts = ["" if t is None else str(t) for t in batch.column(names.index("text")).to_pylist()]
        words_col = batch.column(names.index("words")).to_pylist() if "words" in names else None
        langs_col = batch.column(names.index("langs")).to_pylist() if "langs" in names else None
        for r, proto in enumerate(sp.encode(texts, return_type="proto")):
            text = texts[r]
            ids = [p.id for p in proto.pieces]
            rep.rows += 1
            rep.tokens += len(ids)
            rep.bytes += len(text.encode("utf-8"))
            rep.unknown += sum(1 for i in ids if i == unk)
            for i in ids:
                rep.script_tokens[scripts[i]] = rep.script_tokens.get(scripts[i], 0) + 1
            words = list(words_col[r] or []) if words_col is not None else text.split()
            if words_col is None and rep.kind == "mnemo":
                continue  # phrases are not words: no per-word figures
            rep.words += len(words)
            if words_col is None:
                continue
            spans = _word_spans(text, words)
            if spans is None:
                continue
            starts = {p.begin for p in proto.pieces if p.end > p.begin}
            ends = {p.end for p in proto.pieces if p.end > p.begin}
            cuts = starts | ends
            edges = {e for s in spans[1:] for e in (s[0],)} | {s[1] for s in spans[:-1]}
            rep.boundaries += len(edges)
            rep.aligned_boundaries += len(edges & cuts)
            langs = list(langs_col[r] or []) if langs_col is not None else []
            for k, (a, b) in enumerate(spans):
                inside = [p for p in proto.pieces if p.begin < b and p.end > a]
                lang = langs[k] if k < len(langs) else None
                if lang is not None:
                    rep.lang_words[lang] = rep.lang_words.get(lang, 0) + 1
                    n = sum(1 for p in proto.pieces if a <= p.begin < b)
                    rep.lang_tokens[lang] = rep.lang_tokens.get(lang, 0) + n
                if lex is not None and lexicon is not None and words[k] in lexicon:
                    lex.occurrences += 1
                    lex.pieces_inside += len(inside)
                    if len(inside) == 1 and inside[0].begin == a and inside[0].end == b:
                        lex.single_inside += 1
    return rep


def _lexicon_words(path: str | os.PathLike[str]) -> set[str]:
    try:
        lex = Lexicon.load(path)
    except (LexiconError, OSError) as e:
        raise ConfigError(f"lexicon {str(path)!r}: {e}") from None
    return {w for lang in lex.langs for w in lex.words(lang)}


def tokenizer_report(
    tokenizer: str | os.PathLike[str],
    corpora: Sequence[str],
    *,
    lexicon: str | os.PathLike[str] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> TokenizerReport:
    """Measure the tokenizer in ``tokenizer`` on ``corpora`` (``DIR[:NAME]`` specs)."""
    if max_rows < 1:
        raise ConfigError(f"max rows must be at least 1, got {max_rows}")
    if not corpora:
        raise ConfigError("no corpus given")
    sp = load_processor(tokenizer)
    sources = [open_source(spec, weighted=False) for spec in corpora]
    words = _lexicon_words(lexicon) if lexicon is not None else None
    vocab_size = int(sp.get_piece_size())
    scripts = [piece_script(sp, i) for i in range(vocab_size)]
    lex = LexiconReport(str(lexicon)) if lexicon is not None else None
    reports = [_scan(s, sp, max_rows, scripts, words, lex, lexicon) for s in sources]
    if lex is not None and words is not None:
        ordered = sorted(words)
        alone = sp.encode(ordered, add_bos=False, add_eos=False) if ordered else []
        for _w, ids in zip(ordered, alone):
            n = sum(
                1 for i in ids if sp.id_to_piece(i) != "\u2581"
            )  # a bare dummy-prefix piece is not part of the word
            lex.words += 1
            lex.pieces_alone += n
            lex.single_alone += n == 1
    return TokenizerReport(str(tokenizer), vocab_size, dict(Counter(scripts)), reports, lex)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def format_table(report: TokenizerReport) -> str:
    """A plain-text table of the report."""
    head = f"{'corpus':<16} {'kind':<8} {'rows':>8} {'words':>9} {'tokens':>9} {'tok/word':>8} {'B/tok':>6} {'unk%':>6} {'bound.align':>11}  scripts"
    lines = [f"tokenizer {report.tokenizer} (vocab {report.vocab_size})", head]
    for c in report.corpora:
        align = "-" if c.boundary_alignment is None else f"{c.boundary_alignment:.3f}"
        top = sorted(c.script_tokens.items(), key=lambda kv: -kv[1])[:4]
        scripts = " ".join(f"{k}:{v / (c.tokens or 1):.2f}" for k, v in top)
        fertility = f"{c.fertility:>8.3f}" if c.words else f"{'-':>8}"
        lines.append(
            f"{c.name[:16]:<16} {c.kind[:8]:<8} {c.rows:>8} {c.words:>9} {c.tokens:>9} {fertility} "
            f"{c.bytes_per_token:>6.2f} {100 * c.unknown_rate:>6.2f} {align:>11}  {scripts}"
        )
        lines.append(f"{'':<16} words from: {c.words_source}")
    if report.lexicon is not None:
        d = report.lexicon.to_dict()
        lines.append(
            f"lexicon {d['path']}: {d['words']} words; pieces alone {_fmt(d['mean_pieces_alone'])} "
            f"(single {_fmt(d['single_piece_share_alone'])}); inside fused words {_fmt(d['mean_pieces_inside'])} "
            f"(single {_fmt(d['single_piece_share_inside'])}, {d['occurrences']} occurrences)"
        )
    return "\n".join(lines)
