"""The on-disk formats of hyperword, one owner per contract: atomic file primitives
(``atomic``), identity and fingerprints (``identity``), and the directory formats built on them."""
