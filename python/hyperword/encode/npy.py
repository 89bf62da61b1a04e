"""A flat ``.npy`` file written in a stream: data first, header last, then fsync and rename.

The header of a 1-D array holds its length, unknown until the last token is encoded. numpy
pads every version-1.0 header to a fixed width (room for the longest shape), so the header
length is the same for any length; the data is written after that many reserved bytes and
the header is filled in at the end. The result is byte-identical to ``numpy.save`` of the same
array and opens with ``numpy.load(path, mmap_mode="r")``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hyperword.errors import ConfigError, InternalError
from hyperword.formats.atomic import file_digest, naming

__all__ = ["NpyWriter", "dtype_for_vocab", "header_bytes"]

UINT16_VOCAB = 1 << 16


def dtype_for_vocab(vocab_size: int) -> np.dtype[np.unsignedinteger]:
    """uint16 when every id fits (vocab_size <= 65536), else uint32."""
    if vocab_size <= UINT16_VOCAB:
        return np.dtype("<u2")
    if vocab_size <= 1 << 32:
        return np.dtype("<u4")
    raise ConfigError(f"vocabulary of {vocab_size} ids does not fit uint32")


def header_bytes(dtype: np.dtype[np.generic], length: int) -> bytes:
    """The ``.npy`` (version 1.0) header of a 1-D little-endian array of ``length`` items."""
    buf = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (length,)}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


class NpyWriter:
    """``path`` written as ``.NAME.tmp`` beside it; :meth:`finish` makes it durable and renames it."""

    def __init__(self, path: Path, dtype: np.dtype[np.generic]) -> None:
        self.path = path
        self.dtype = dtype
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.length = 0
        self._offset = len(header_bytes(dtype, 0))
        if len(header_bytes(dtype, 1 << 62)) != self._offset:
            raise InternalError("numpy's .npy header width depends on the array length; cannot stream")
        self._file = open(self.tmp, "wb")
        self._file.seek(self._offset)

    def write(self, values: npt.NDArray[np.generic]) -> None:
        if values.dtype != self.dtype:
            raise InternalError(f"{self.path.name}: got {values.dtype}, expected {self.dtype}")
        try:
            self._file.write(np.ascontiguousarray(values).tobytes())
        except OSError as e:  # a full disk: say which file (the caller aborts)
            raise naming(self.path, e) from e
        self.length += int(values.shape[0])

    def finish(self) -> tuple[int, str]:
        """Write the header, fsync, rename into place; return the file's size and sha256."""
        try:
            self._file.seek(0)
            self._file.write(header_bytes(self.dtype, self.length))
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            digest = file_digest(self.tmp)
        except BaseException as e:
            self.abort()
            if isinstance(e, OSError):
                raise naming(self.path, e) from e
            raise
        os.replace(self.tmp, self.path)
        return digest

    def abort(self) -> None:
        """Remove the temporary file. Never raises for the close: after a failed write (a full
        disk) closing flushes what is still buffered and fails again."""
        try:
            self._file.close()
        except OSError:
            pass
        finally:
            try:
                self.tmp.unlink()
            except FileNotFoundError:
                pass
