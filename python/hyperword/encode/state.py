"""An encode run over its output directory: refuse, resume or confirm, as ``shards.CorpusRun``
does for corpora (same ``.hyperword/`` state, same atomic helpers), for token shards.

``CorpusRun`` itself cannot be reused: it reads the directory's manifest with
``read_manifest`` (which accepts only ``hyperword-corpus``) and keeps ``ShardInfo`` records
(one file per shard); a token shard is two files with other fields.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hyperword._hyperword import OutputExistsError
from hyperword.manifest import MANIFEST_FILE
from hyperword.encode.manifest import TokenManifest, TokenShard, docs_file_name, read_token_manifest, tokens_file_name
from hyperword.shards import STATE_DIR, canonical_json, file_digest, sync_dir, write_atomic

__all__ = ["TokenRun"]


def shard_intact(directory: Path, s: TokenShard) -> bool:
    """Both files exist with the recorded sizes and sha256s."""
    try:
        for name, size, sha in ((s.tokens_path, s.tokens_bytes, s.tokens_sha256), (s.docs_path, s.docs_bytes, s.docs_sha256)):
            path = directory / name
            if path.stat().st_size != size or file_digest(path) != (size, sha):
                return False
        return True
    except OSError:
        return False


def _record_name(index: int) -> str:
    return f"{tokens_file_name(index)}.json"


def _is_ours(name: str) -> bool:
    return (name.startswith(("tokens-", "docs-")) and name.endswith(".npy")) or (name.startswith(".") and name.endswith(".tmp")) or name == MANIFEST_FILE


class TokenRun:
    def __init__(self, directory: Path, fp: str, force: bool, complete: TokenManifest | None, known: dict[int, TokenShard]) -> None:
        self.directory = directory
        self.fingerprint = fp
        self.force = force
        self.complete = complete
        self._known = known
        self.shards: dict[int, TokenShard] = {}
        self.generated = self.reused = 0

    @classmethod
    def check(cls, directory: Path, fp: str, *, force: bool = False) -> TokenRun:
        """Look at ``directory``, change nothing; refuse another run's output unless ``force``."""
        d = directory
        if d.exists() and not d.is_dir():
            raise OutputExistsError(f"{d} exists and is not a directory")
        if not d.exists() or force:
            return cls(d, fp, force, None, {})

        def other(what: str) -> OutputExistsError:
            return OutputExistsError(f"{d} already holds {what} from another tokenizer, corpus or mode; pass --force (force=True) to overwrite it")

        if (d / MANIFEST_FILE).exists():
            try:
                m = read_token_manifest(d)
            except Exception:
                raise OutputExistsError(f"{d} holds a manifest.json that is not a token manifest; choose another directory or pass --force (force=True)") from None
            if m.fingerprint != fp:
                raise other("token shards")
            if all(shard_intact(d, s) for s in m.shards):
                return cls(d, fp, force, m, {})
            return cls(d, fp, force, None, {s.index: s for s in m.shards})
        state = d / STATE_DIR
        try:
            run = (state / "run.json").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            run = None
        if run is not None:
            if run.strip() != canonical_json({"fingerprint": fp}):
                raise other("unfinished token shards")
            known: dict[int, TokenShard] = {}
            for p in sorted(state.iterdir()):
                if p.name.startswith("tokens-") and p.name.endswith(".json"):
                    try:  # an unreadable record means its shard is rewritten
                        s = TokenShard(**json.loads(p.read_bytes()))
                    except (ValueError, TypeError):
                        continue
                    known[s.index] = s
            return cls(d, fp, force, None, known)
        if any(d.iterdir()):
            raise OutputExistsError(f"{d} is not empty and holds no hyperword token shards; choose another directory or pass --force (force=True)")
        return cls(d, fp, force, None, {})

    def begin(self) -> None:
        """Prepare the directory: with force remove earlier token files; record the run state."""
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        state = d / STATE_DIR
        if self.force:
            for p in d.iterdir():
                if p.name == STATE_DIR and p.is_dir():
                    shutil.rmtree(p)
                elif _is_ours(p.name) and not p.is_dir():
                    p.unlink()
        state.mkdir(exist_ok=True)
        write_atomic(state / "run.json", canonical_json({"fingerprint": self.fingerprint}).encode("utf-8"))
        for s in self._known.values():
            write_atomic(state / _record_name(s.index), canonical_json(s.to_dict()).encode("utf-8"))
        if (d / MANIFEST_FILE).exists():
            (d / MANIFEST_FILE).unlink()
        for p in d.iterdir():
            if p.name.startswith((".tokens-", ".docs-")) and p.name.endswith(".tmp"):
                p.unlink()  # left by an interrupted run
        sync_dir(d)

    def kept(self, index: int) -> TokenShard | None:
        """The record of shard ``index`` when an earlier run left both files intact."""
        s = self._known.get(index)
        if s is None or (s.tokens_path, s.docs_path) != (tokens_file_name(index), docs_file_name(index)) or not shard_intact(self.directory, s):
            return None
        self.shards[index] = s
        self.reused += 1
        return s

    def add(self, s: TokenShard) -> None:
        """Record a shard whose files were just renamed into place."""
        sync_dir(self.directory)
        write_atomic(self.directory / STATE_DIR / _record_name(s.index), canonical_json(s.to_dict()).encode("utf-8"))
        self.shards[s.index] = s
        self.generated += 1

    def end(self) -> None:
        """After the manifest is written: remove the run state."""
        shutil.rmtree(self.directory / STATE_DIR)
        sync_dir(self.directory)
