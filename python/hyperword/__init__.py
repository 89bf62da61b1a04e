"""hyperword: multilingual lexicon words fused into mnemophrases, at Rust speed.

>>> import hyperword
>>> hyperword.sample(2, langs="ru", seed=1)            # doctest: +SKIP
['водагрустьплавностьсвет', ...]
>>> m = hyperword.generate("corpus/", 10_000_000)     # doctest: +SKIP
>>> for batch in hyperword.stream(1_000_000): ...     # doctest: +SKIP
"""

from hyperword import _fork  # noqa: F401  (registers the fork hook)
from hyperword._hyperword import LIMITS, Lexicon, __version__
from hyperword.errors import *  # noqa: F403  (the exception tree, listed once in errors.__all__)
from hyperword.errors import __all__ as _errors
from hyperword.formats.corpus import Manifest, RunStats, ShardInfo, read_manifest
from hyperword.formats.reader import Corpus, open_corpus
from hyperword.generation.api import generate, sample, stream
from hyperword.generation.config import parse_count

__all__ = [
    *_errors,
    "Corpus",
    "LIMITS",
    "Lexicon",
    "Manifest",
    "RunStats",
    "ShardInfo",
    "__version__",
    "generate",
    "open_corpus",
    "parse_count",
    "read_manifest",
    "sample",
    "stream",
]

# Documented submodules, imported on first access (``hyperword.lexicon.check_lexicon`` works
# after a plain ``import hyperword``); none is imported eagerly, so the package stays light
# (``hyperword.torch`` and ``hyperword.train`` pull in torch).
_SUBMODULES = frozenset(
    {
        "encode",
        "experiment",
        "ingest",
        "batches",
        "formats",
        "lexicon",
        "tokenizer",
        "torch",
        "train",
        "verify",
    }
)


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"hyperword.{name}")
    raise AttributeError(f"module 'hyperword' has no attribute {name!r}")
