"""The one exception tree of hyperword (defined in Rust, ``rust/py/src/error.rs``, so that the
core's errors arrive typed), re-exported for pure-Python modules and users::

    HyperwordError
    ├── LexiconError        a lexicon file or word list that cannot be read
    ├── ConfigError         input the library refuses (the CLI exits 2)
    ├── OutputExistsError   the output holds something else; pass force
    ├── OutputLockedError   another writer holds the output directory (the CLI exits 2)
    ├── CorruptCorpusError  files that do not match their manifest
    ├── ArrowWriteError     Arrow or Parquet could not write
    └── InternalError       a bug: please report it
"""

from hyperword._hyperword import (
    ArrowWriteError,
    ConfigError,
    CorruptCorpusError,
    HyperwordError,
    InternalError,
    LexiconError,
    OutputExistsError,
    OutputLockedError,
)

__all__ = [
    "ArrowWriteError",
    "ConfigError",
    "CorruptCorpusError",
    "HyperwordError",
    "InternalError",
    "LexiconError",
    "OutputExistsError",
    "OutputLockedError",
]
