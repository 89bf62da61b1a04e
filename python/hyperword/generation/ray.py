"""``generate(..., engine="ray")``: the shards of a corpus as independent Ray tasks.

Each task builds the lexicon (the shipped one, or the driver's lexicon file sent as bytes and
checked by its sha256), writes its shard with the same Rust code as a local run into a local
temporary directory, and copies it to the destination through pyarrow's filesystem layer
(a local path, a shared filesystem, or an object-store URI such as ``s3://bucket/corpus``):
to ``.shard-NNNNN.<ext>.ray.tmp`` first, then moved into place. The driver runs the one
directory run of :mod:`hyperword.formats.run` over the output (an :class:`ArrowFolder`): it
records each finished shard in ``.hyperword/`` exactly as a local run does, so an interrupted
run resumes (with either engine), and writes ``manifest.json`` last from the shards' records. Shards, records
and manifest are byte-identical to local generation of the same configuration and seed.

    ray start --head                                   # on the first machine
    ray start --address HEAD_IP:6379                   # on every other machine
    hyperword generate --engine ray --ray-address auto --words 10e9 --out s3://bucket/corpus
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperword._hyperword import Lexicon, corpus_manifest, shard_count, write_shard
from hyperword.errors import ConfigError, CorruptCorpusError
from hyperword.formats.corpus import GeneratedCorpusRun
from hyperword.formats.run import ArrowFolder

__all__ = ["generate_ray"]

_CHUNK = 1 << 22


def _filesystem(out: str) -> tuple[Any, str]:
    import pyarrow.fs as pafs

    if "://" in out:
        fs, root = pafs.FileSystem.from_uri(out)
        return fs, root.rstrip("/")
    return pafs.LocalFileSystem(), os.path.abspath(out)


def _lexicon_payload(lex: Lexicon, lexicon_lang: str | None) -> tuple[bytes | None, str, str | None, str]:
    """What a worker needs to rebuild the driver's lexicon: its file's bytes (``None`` for the
    shipped one), the file name, the word-list language, and the sha256 to check."""
    if lex.sha256 == Lexicon.default().sha256:
        return None, "", None, lex.sha256
    path = Path(lex.source)
    if not path.is_file():
        raise ConfigError(f"engine ray needs the lexicon as a file; {lex.source!r} is not one")
    return path.read_bytes(), path.name, lexicon_lang, lex.sha256


def _task(root: str, fs: Any, payload: tuple[bytes | None, str, str | None, str], config: str, index: int) -> str:
    """On a Ray worker: write shard ``index`` locally, copy it to ``root``; return its record."""
    data, name, lang, sha = payload
    with tempfile.TemporaryDirectory(prefix="hyperword-ray-") as tmp:
        if data is None:
            lex = Lexicon.default()
        else:
            (Path(tmp) / name).write_bytes(data)
            lex = Lexicon.load(Path(tmp) / name, lang=lang)
        if lex.sha256 != sha:
            raise CorruptCorpusError(f"the lexicon rebuilt on this worker has sha256 {lex.sha256}, the driver's {sha}")
        shards = Path(tmp) / "out"
        shards.mkdir()
        record = json.loads(write_shard(shards, lex, config, index))
        local = shards / record["path"]
        part = f"{root}/.{record['path']}.ray.tmp"
        with open(local, "rb") as src, fs.open_output_stream(part) as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        fs.move(part, f"{root}/{record['path']}")
        return json.dumps(record)


def generate_ray(
    out: str | os.PathLike[str],
    lex: Lexicon,
    config: str,
    *,
    lexicon_lang: str | None = None,
    force: bool = False,
    address: str | None = None,
    progress: Callable[[int], object] | None = None,
) -> tuple[str, int, int]:
    """Generate the corpus ``config`` (JSON) into ``out`` on Ray; returns (manifest JSON,
    shards written, shards kept) like the local engine."""
    try:
        import ray
    except ImportError:
        raise ConfigError("engine ray needs Ray: pip install 'hyperword[ray]'") from None
    fs, root = _filesystem(os.fspath(out))
    fingerprint = json.loads(corpus_manifest(lex, config, "[]"))["fingerprint"]
    run = GeneratedCorpusRun.check(ArrowFolder(fs, root), fingerprint, force=force)
    payload = None if run.complete is not None else _lexicon_payload(lex, lexicon_lang)

    def write(missing: list[int], record: Callable[[str], None], words: int) -> None:
        assert payload is not None  # the corpus is not complete
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False)
        task = ray.remote(_task)
        pending = {task.remote(root, fs, payload, config, i): i for i in missing}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    shard = ray.get(ref)
                    pending.pop(ref)
                    record(shard)
                    words += json.loads(shard)["words"]
                    if progress is not None:
                        progress(words)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise

    return run.generate(shard_count(config), write, lambda shards: corpus_manifest(lex, config, shards))
