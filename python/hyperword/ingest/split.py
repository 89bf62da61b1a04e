"""The hash split: which side, ``train`` or ``validation``, each document goes to.

A document is ``validation`` when the first 8 bytes of sha256(its UTF-8 text), read as a
big-endian integer, divided by 2**64 are below the fraction (``SPLIT_RULE``): a pure
function of the text, so the same document lands on the same side in every run.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction

from hyperword.ingest.readers import _Chunk


def _split_threshold(fraction: float) -> int:
    """The integer h below which a document (h = its hash's first 8 bytes) is validation."""
    return math.ceil(Fraction(fraction) * 2**64)


def split_side(text: str, fraction: float) -> str:
    """``"validation"`` or ``"train"``: the side ``split=fraction`` puts this document on."""
    h = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    return "validation" if h < _split_threshold(fraction) else "train"


def _partition(chunk: _Chunk, fraction: float | None) -> dict[str | None, _Chunk]:
    """The chunk's documents by side: ``{None: chunk}`` without a split."""
    if fraction is None:
        return {None: chunk}
    threshold = _split_threshold(fraction)
    sha256 = hashlib.sha256
    validation = [int.from_bytes(sha256(t.encode("utf-8")).digest()[:8], "big") < threshold for t in chunk.texts]
    return {
        "train": chunk.take([i for i, v in enumerate(validation) if not v]),
        "validation": chunk.take([i for i, v in enumerate(validation) if v]),
    }
