"""Natural text ingestion: documents from text, JSONL, Parquet, Arrow or a saved Hugging Face
dataset, written as a corpus directory with the generator's layout (``kind`` ``"natural"``).

    >>> from hyperword.ingest import ingest
    >>> m = ingest(["ru.txt"], "ru-corpus/", lang="ru")           # doctest: +SKIP
    >>> m.rows, m.words, m.raw["sources"]                          # doctest: +SKIP

Inputs (each ``SRC`` a file or a directory; the kind comes from the extension, or from
``input_format`` for all of them):

- ``text`` (``.txt``, ``.text``, ``.md``, and any other named file): UTF-8, one document per
  line (``doc_per="line"``: the line without its ``\\n`` or ``\\r\\n``) or per file
  (``doc_per="file"``: the whole file, exactly); a leading BOM is dropped.
- ``jsonl`` (``.jsonl``, ``.ndjson``, ``.json``): one JSON object per line, the document in
  ``field`` (default ``text``), optionally its language in ``lang_field``.
- ``parquet`` (``.parquet``, ``.pq``) and ``arrow`` (``.arrow``, ``.arrows``, ``.ipc``,
  ``.feather``: Arrow IPC file or stream format, or Feather v1): the documents in ``column``
  (default ``text``), optionally languages in ``lang_column``.
- ``hf``: a directory written by ``datasets``' ``save_to_disk`` (``state.json`` and its
  ``*.arrow`` stream files, read with pyarrow), or a ``DatasetDict`` directory
  (``dataset_dict.json``), of which the split ``hf_split`` (default ``train``) is read.

Text and JSONL files may be compressed (``.gz``, ``.bz2``, ``.xz``). A directory that is not a
Hugging Face dataset stands for the files under it with a known extension (every file, with
``input_format``), in sorted order, hidden files and the output directory excluded.

Blank documents (empty, whitespace only, or null) are skipped. Every input is read and
checked in full before anything is written: a bad one raises ``ConfigError`` with
``FILE:LINE: reason`` (``FILE: record N: reason`` for columnar inputs), a missing one
``FileNotFoundError``; ``OSError`` comes through as it is.

Output: shards of ``shard_docs`` documents (the last one shorter), so shard boundaries are a
pure function of the input; columns ``text`` (string, non-null) and, when a language is known
(``lang`` for all documents, or ``lang_field``/``lang_column`` per document, ``lang`` then
filling in the nulls), ``lang`` (string); record batches of at most 64 MiB of text. With
``split=F``, each document goes to ``validation`` when the first 8 bytes of sha256(its UTF-8
text), read as a big-endian integer, divided by 2**64 are below ``F``, else to ``train``:
``OUT/train/`` and ``OUT/validation/`` are then two complete corpora. The manifest has the
generator's schema with ``kind`` ``"natural"``, ``config`` = these options and ``sources`` =
``[{path, sha256, bytes, documents}]``; the fingerprint covers the format version, the
hyperword version, the configuration and the sha256 and size of every source file (not its
path). Runs are atomic, resumable and reproducible exactly like ``generate``.

The package, one job a module: ``options`` (checking the options, the shared constants);
``sources`` (finding the inputs and their kinds); ``readers`` (their documents, checked);
``split`` (the hash split); ``writer`` (one output corpus's shards); ``run`` (``ingest``
and ``ingest_all``: the two passes). ``BATCH_TEXT_BYTES`` and ``READ_BLOCK`` (its use for
text input) are read from this package at call time, so setting them here (as the tests do)
takes effect.
"""

from __future__ import annotations

from hyperword.ingest.options import BATCH_TEXT_BYTES as BATCH_TEXT_BYTES
from hyperword.ingest.options import DEFAULT_SHARD_DOCS as DEFAULT_SHARD_DOCS
from hyperword.ingest.options import DOC_PER as DOC_PER
from hyperword.ingest.options import INPUT_FORMATS as INPUT_FORMATS
from hyperword.ingest.options import KIND as KIND
from hyperword.ingest.options import MAX_DOC_BYTES as MAX_DOC_BYTES
from hyperword.ingest.options import SPLIT_RULE as SPLIT_RULE
from hyperword.ingest.options import SPLIT_SIDES as SPLIT_SIDES
from hyperword.ingest.options import PathArg as PathArg
from hyperword.ingest.options import Progress as Progress
from hyperword.ingest.readers import READ_BLOCK as READ_BLOCK
from hyperword.ingest.run import ingest, ingest_all
from hyperword.ingest.split import split_side

__all__ = ["DEFAULT_SHARD_DOCS", "INPUT_FORMATS", "ingest", "ingest_all", "split_side"]
