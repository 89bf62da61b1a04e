"""File primitives every writer uses: atomic writes through a synced temporary file and a
rename, directory syncs, digests, and OS errors that name their file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["file_digest", "naming", "sync_dir", "write_atomic"]

_CHUNK = 1 << 20


def sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def naming(path: Path, error: OSError) -> OSError:
    """``error`` as one line naming ``path`` (``[Errno 28] PATH: No space left on device``): what
    a failed write says, as the generator says it. Buffered and pyarrow writes name no file."""
    if error.errno:
        return OSError(error.errno, f"{path}: {os.strerror(error.errno)}")
    return OSError(f"{path}: {error}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file (``.NAME.tmp``) and a rename;
    a failure (a full disk, Ctrl-C) leaves no temporary file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise naming(path, e) from e
        raise
    os.replace(tmp, path)


def file_digest(path: Path) -> tuple[int, str]:
    """Size and sha256 (hex) of a file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()
