"""The on-disk formats of hyperword, one owner per contract:

- ``atomic``: file primitives (atomic writes, directory syncs, digests, errors naming their file);
- ``identity``: canonical JSON, fingerprints, the text of a manifest file;
- ``run``: the one directory run (refuse, resume, state in ``.hyperword/``, manifest last) as an
  abstract base class over a local or pyarrow-filesystem folder, and the manifest reader;
- ``corpus``: the ``hyperword-corpus`` format (manifest, shard names, Arrow/Parquet shard writer,
  :class:`~hyperword.formats.corpus.CorpusRun`);
- ``tokens``: the ``hyperword-tokens`` format (manifest, ``.npy`` writer,
  :class:`~hyperword.formats.tokens.TokenRun`, :func:`~hyperword.formats.tokens.write_token_dir`).

The Rust core owns the bytes of the shards it draws (``rust/core/src/shard.rs``) and the rules
its Python writers ask of it (compression level, shard count)."""
