"""hyperword.encode: a corpus's texts through a sentencepiece tokenizer into token shards
(``tokens-0000i.npy`` + ``docs-0000i.npy`` per source shard, ``manifest.json`` last).

    >>> from hyperword.encode import encode
    >>> m = encode("tok/", "corpus/", "tokens/", mode="exact", threads=4)   # doctest: +SKIP
    >>> m.documents, m.tokens, m.dtype                                       # doctest: +SKIP
"""

from hyperword.encode.run import MODES, encode
from hyperword.formats.tokens import TokenManifest, TokenShard, read_token_manifest

__all__ = ["MODES", "TokenManifest", "TokenShard", "encode", "read_token_manifest"]
