"""``generate(..., engine="ray")``: the shards of a corpus as independent Ray tasks.

Each task builds the lexicon (the shipped one, or the driver's lexicon file sent as bytes and
checked by its sha256), writes its shard with the same Rust code as a local run into a local
temporary directory, and copies it to the destination through pyarrow's filesystem layer
(a local path, a shared filesystem, or an object-store URI such as ``s3://bucket/corpus``):
to ``.shard-NNNNN.<ext>.tmp`` first, then moved into place. The driver records each finished
shard in ``.hyperword/`` exactly as a local run does, so an interrupted run resumes (with
either engine), and writes ``manifest.json`` last from the shards' records. Shards, records
and manifest are byte-identical to local generation of the same configuration and seed.

    ray start --head                                   # on the first machine
    ray start --address HEAD_IP:6379                   # on every other machine
    hyperword generate --engine ray --ray-address auto --words 10e9 --out s3://bucket/corpus
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperword._hyperword import Lexicon, corpus_manifest, write_shard
from hyperword.errors import ConfigError, CorruptCorpusError, OutputExistsError
from hyperword.manifest import MANIFEST_FILE

__all__ = ["generate_ray"]

STATE_DIR = ".hyperword"
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


def _read(fs: Any, path: str) -> bytes | None:
    import pyarrow as pa

    try:
        with fs.open_input_stream(path) as f:
            return bytes(f.read())
    except (FileNotFoundError, pa.ArrowIOError):
        return None


def _write(fs: Any, path: str, data: bytes) -> None:
    tmp = f"{os.path.dirname(path)}/.{os.path.basename(path)}.tmp"
    with fs.open_output_stream(tmp) as f:
        f.write(data)
    fs.move(tmp, path)


def _intact(fs: Any, root: str, record: dict[str, Any]) -> bool:
    import pyarrow as pa

    digest, size = hashlib.sha256(), 0
    try:
        with fs.open_input_stream(f"{root}/{record['path']}") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (FileNotFoundError, pa.ArrowIOError):
        return False
    return bool(size == record["bytes"] and digest.hexdigest() == record["sha256"])


def _existing(fs: Any, root: str, fingerprint: str, force: bool) -> tuple[str | None, dict[int, dict[str, Any]]]:
    """(a complete manifest of this corpus, or None; shard records of an unfinished run)."""
    import pyarrow.fs as pafs

    manifest = _read(fs, f"{root}/{MANIFEST_FILE}")
    if force:
        return None, {}
    if manifest is not None:
        if json.loads(manifest).get("fingerprint") != fingerprint:
            raise OutputExistsError(
                f"{root} already holds a complete corpus with a different configuration or lexicon; pass --force (force=True) to overwrite it"
            )
        return manifest.decode("utf-8"), {}
    run = _read(fs, f"{root}/{STATE_DIR}/run.json")
    if run is None:
        infos = fs.get_file_info(pafs.FileSelector(root, allow_not_found=True))
        if any(i.type != pafs.FileType.NotFound for i in infos):
            raise OutputExistsError(
                f"{root} is not empty and holds no hyperword corpus; choose another directory or pass --force (force=True)"
            )
        return None, {}
    if json.loads(run).get("fingerprint") != fingerprint:
        raise OutputExistsError(
            f"{root} already holds an unfinished corpus with a different configuration or lexicon; pass --force (force=True) to overwrite it"
        )
    records: dict[int, dict[str, Any]] = {}
    for info in fs.get_file_info(pafs.FileSelector(f"{root}/{STATE_DIR}")):
        if info.base_name.startswith("shard-") and info.base_name.endswith(".json"):
            try:
                r = json.loads(_read(fs, info.path) or b"")
                records[int(r["index"])] = r
            except (ValueError, KeyError, TypeError):
                continue  # an unreadable record: the shard is made again
    return None, records


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
    complete, records = _existing(fs, root, fingerprint, force)
    if complete is not None:
        m = json.loads(complete)
        return complete, 0, len(m["shards"])
    payload = _lexicon_payload(lex, lexicon_lang)
    if force:
        fs.delete_dir_contents(root, missing_dir_ok=True)
    fs.create_dir(f"{root}/{STATE_DIR}", recursive=True)
    _write(fs, f"{root}/{STATE_DIR}/run.json", json.dumps({"fingerprint": fingerprint}, separators=(",", ":")).encode())
    shard_count = -(-json.loads(config)["words"] // json.loads(config)["shard_words"])
    kept = {i: r for i, r in records.items() if i < shard_count and _intact(fs, root, r)}
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    task = ray.remote(_task)
    pending = {task.remote(root, fs, payload, config, i): i for i in range(shard_count) if i not in kept}
    done: dict[int, dict[str, Any]] = dict(kept)
    words = sum(r["words"] for r in kept.values())
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                record = json.loads(ray.get(ref))
                pending.pop(ref)
                done[record["index"]] = record
                _write(
                    fs, f"{root}/{STATE_DIR}/{record['path']}.json", json.dumps(record, separators=(",", ":")).encode()
                )
                words += record["words"]
                if progress is not None:
                    progress(words)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    manifest = corpus_manifest(lex, config, json.dumps([done[i] for i in range(shard_count)]))
    _write(fs, f"{root}/{MANIFEST_FILE}", manifest.encode("utf-8"))
    fs.delete_dir(f"{root}/{STATE_DIR}")
    return manifest, shard_count - len(kept), len(kept)
