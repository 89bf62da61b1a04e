"""An encode run over its output directory: refuse, resume or confirm with the same rules and
``.hyperword/`` state as a corpus (``shards.DirectoryRun``), for token shards: two files per
shard (tokens and document ends) and a ``hyperword-tokens`` manifest."""

from __future__ import annotations

from pathlib import Path

from hyperword.encode.manifest import TokenManifest, TokenShard, docs_file_name, read_token_manifest, tokens_file_name
from hyperword.errors import OutputExistsError
from hyperword.formats.atomic import file_digest
from hyperword.formats.identity import canonical_json
from hyperword.shards import DirectoryRun, Layout

__all__ = ["TokenRun", "shard_intact"]


def shard_intact(directory: Path, s: TokenShard) -> bool:
    """Both files exist with the recorded sizes and sha256s."""
    try:
        for name, size, sha in (
            (s.tokens_path, s.tokens_bytes, s.tokens_sha256),
            (s.docs_path, s.docs_bytes, s.docs_sha256),
        ):
            path = directory / name
            if path.stat().st_size != size or file_digest(path) != (size, sha):
                return False
        return True
    except OSError:
        return False


def _read_manifest(directory: Path) -> TokenManifest:
    try:
        return read_token_manifest(directory)
    except Exception:
        raise OutputExistsError(
            f"{directory} holds a manifest.json that is not a token manifest; choose another directory or pass --force (force=True)"
        ) from None


TOKEN_LAYOUT: Layout[TokenManifest, TokenShard] = Layout(
    what="token shards",
    complete="token shards",
    unfinished="unfinished token shards",
    differs="from another tokenizer, corpus or mode",
    read_manifest=_read_manifest,
    manifest_shards=lambda m: m.shards,
    manifest_fingerprint=lambda m: m.fingerprint,
    parse_record=lambda d: TokenShard(**d),
    record_index=lambda s: s.index,
    record_name=lambda s: f"{tokens_file_name(s.index)}.json",
    record_prefix="tokens-",
    record_bytes=lambda s: canonical_json(s.to_dict()).encode("utf-8"),
    intact=shard_intact,
    is_own_file=lambda name: name.startswith(("tokens-", "docs-")) and name.endswith(".npy"),
    temp_prefixes=(".tokens-", ".docs-"),
)


class TokenRun(DirectoryRun[TokenManifest, TokenShard]):
    @classmethod
    def check(cls, directory: Path, fp: str, *, force: bool = False) -> TokenRun:
        """Look at ``directory``, change nothing; refuse another run's output unless ``force``."""
        complete, known = cls.inspect(TOKEN_LAYOUT, directory, fp, force)
        return cls(TOKEN_LAYOUT, directory, fp, force, complete, known)

    def kept(self, index: int) -> TokenShard | None:
        """The record of shard ``index`` when an earlier run left both files intact."""
        return self.keep_if_intact(
            index, lambda s: (s.tokens_path, s.docs_path) == (tokens_file_name(index), docs_file_name(index))
        )
