"""Lexicon tools: import, build, weight, check and summarise lexicons.

The engine reads one lexicon format (``README.md``, "The lexicon format"): a UTF-8 TSV
with a header, required ``lang`` and ``word``, optional ``concept``, ``field``, ``pos`` and
``weight``. These tools make such files from other sources and look inside them:

``import_lexicon(src, out)``
    CSV/TSV (with a column mapping), plain word lists, Parquet and Arrow tables → a
    lexicon TSV: words in NFC (``unicodedata2``, the newest Unicode tables), each one
    checked with :func:`hyperword._hyperword.validate_word` (the engine's own rules),
    duplicate ``(lang, word, concept)`` rows dropped.
``build_wordfreq(out, lang=...)``
    A frequency-weighted monolingual lexicon from ``wordfreq`` (``weight`` = the word's
    frequency).
``add_wordfreq_weights(src, out)``
    Adds (or replaces) a ``weight`` column on an existing lexicon from ``wordfreq``.
``check_lexicon(path)``
    A full report on a lexicon file, every problem with its line number (it does not stop
    at the first one), plus counts per language, field and Unicode script, duplicates and
    words that the loader would NFC-normalise.
``lexicon_info(path)``
    A short summary of a valid lexicon, with the content hash the manifests record.

Every function that writes does so atomically: the output is written to a temporary file
beside it, loaded back with :meth:`hyperword.Lexicon.load` as a final check, and renamed
over ``out``; on any error nothing is written. Errors are ``hyperword.LexiconError``
(bad data: ``FILE:LINE: reason``), ``hyperword.ConfigError`` (bad arguments, such as a
column mapping naming a column the source lacks, or a language wordfreq does not cover)
and the ``OSError`` family (missing files and the like).

``wordfreq`` (and ``jieba``, for Chinese) come with the ``lexicon`` extra:
``pip install 'hyperword[lexicon]'``.

The package, one job a module: ``importing`` (``import_lexicon``) reading through ``sources``;
``wordfreq`` (``build_wordfreq``, ``add_wordfreq_weights``, ``wordfreq_language``); ``check``
(``check_lexicon``, ``lexicon_info``); ``reports`` (the report dataclasses) with ``tables``
(their text form); ``scripts`` (Unicode script detection); ``_io`` (shared helpers: decoding,
reading, atomic writing). The lexicon format's rules are the engine loader's alone: ``check``
builds its report from the loader's collecting mode, ``importing`` and ``wordfreq`` call its
cell parsers and read valid lexicons through it.
"""

from __future__ import annotations

from hyperword.lexicon._io import COLUMNS as COLUMNS
from hyperword.lexicon._io import PathArg as PathArg
from hyperword.lexicon._io import is_language_code
from hyperword.lexicon.check import check_lexicon, lexicon_info
from hyperword.lexicon.import_readers import FORMATS as FORMATS
from hyperword.lexicon.importing import import_lexicon
from hyperword.lexicon.reports import (
    BuildReport,
    CheckReport,
    Duplicate,
    ImportReport,
    InfoReport,
    LanguageWeights,
    Normalized,
    Problem,
    WeightsReport,
)
from hyperword.lexicon.scripts import char_script, word_scripts
from hyperword.lexicon.wordfreq import WORDLISTS as WORDLISTS
from hyperword.lexicon.wordfreq import add_wordfreq_weights, build_wordfreq, wordfreq_language

__all__ = [
    "BuildReport",
    "CheckReport",
    "Duplicate",
    "ImportReport",
    "InfoReport",
    "LanguageWeights",
    "Normalized",
    "Problem",
    "WeightsReport",
    "add_wordfreq_weights",
    "build_wordfreq",
    "char_script",
    "check_lexicon",
    "import_lexicon",
    "is_language_code",
    "lexicon_info",
    "word_scripts",
    "wordfreq_language",
]
