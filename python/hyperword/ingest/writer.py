"""Writing one output corpus: documents in order into shards of ``shard_docs`` documents,
record batches of at most ``BATCH_TEXT_BYTES`` of text, skipping the shards a resumed run
keeps.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

import pyarrow as pa

# The package, for the constants tests patch on it (``BATCH_TEXT_BYTES``), read at call time.
import hyperword.ingest as _package
from hyperword.formats.corpus import CorpusRun, ShardWriter
from hyperword.ingest.options import _Options
from hyperword.ingest.readers import _Chunk


class _SideWriter:
    """The shards of one output corpus, fed chunks of documents in order."""

    def __init__(self, run: CorpusRun, opts: _Options, total: int) -> None:
        self.run = run
        self.opts = opts
        self.total = total
        self.schema = opts.schema()
        self.pos = 0  # documents fed so far
        self.writer: ShardWriter | None = None  # None while in a kept shard
        self.texts: list[str] = []
        self.langs: list[str | None] = []
        self.buffered = 0  # UTF-8 bytes of self.texts

    def add(self, chunk: _Chunk) -> None:
        n, i = self.opts.shard_docs, 0
        while i < len(chunk):
            if self.pos % n == 0:
                index = self.pos // n
                if self.run.kept(index) is None:
                    self.writer = self.run.open_shard(index, self.schema, self.opts.output)
            take = min(len(chunk) - i, n - self.pos % n)
            if self.writer is not None:
                self._buffer(chunk, i, i + take)
            i += take
            self.pos += take
            if self.pos % n == 0 or self.pos == self.total:
                self._end_shard()

    def _buffer(self, chunk: _Chunk, start: int, stop: int) -> None:
        """Append documents ``start:stop``, flushing a batch before any document that would
        take it past ``BATCH_TEXT_BYTES`` (a larger document goes alone)."""
        limit = _package.BATCH_TEXT_BYTES
        cumulative = list(accumulate(chunk.sizes[start:stop], initial=0))
        j = 0  # relative to start
        while j < stop - start:
            room = limit - self.buffered
            k = bisect_right(cumulative, cumulative[j] + room, lo=j) - 1  # documents j:k fit
            if k <= j:
                if self.texts:
                    self._flush()
                    continue
                k = j + 1  # a document larger than a batch: alone
            self.texts.extend(chunk.texts[start + j : start + k])
            self.langs.extend(chunk.langs[start + j : start + k])
            self.buffered += cumulative[k] - cumulative[j]
            j = k
            if j < stop - start:
                self._flush()

    def _flush(self) -> None:
        assert self.writer is not None
        arrays = [pa.array(self.texts, pa.string())]
        if self.opts.has_lang:
            arrays.append(pa.array(self.langs, pa.string()))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        words = sum(map(len, map(str.split, self.texts)))
        self.writer.write(batch, words, self.buffered)
        self.texts, self.langs, self.buffered = [], [], 0

    def _end_shard(self) -> None:
        if self.writer is None:
            return
        if self.texts:
            self._flush()
        info = self.writer.finish()
        self.writer = None
        self.run.record(info)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
            self.writer = None
