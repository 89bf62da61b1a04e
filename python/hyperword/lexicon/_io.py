"""Helpers shared by the lexicon tools: decoding, reading and atomically writing lexicon files.

The lexicon format's rules (language codes, words, ``concept`` and ``weight`` cells, the
header) are the engine loader's alone: the tools call it (``_hyperword.check_lexicon``,
``is_language_code``, ``parse_concept``, ``parse_weight``, ``validate_word``, ``quote``). What is kept
here reads import sources the loader never sees the way it reads lexicons: lines split on
``\n`` and cells trimmed of Unicode White_Space.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from typing import Union

from hyperword._hyperword import Lexicon, LexiconCheck, check_lexicon, quote
from hyperword._hyperword import is_language_code as is_language_code
from hyperword.errors import HyperwordError, LexiconError

PathArg = Union[str, "os.PathLike[str]"]

#: The columns of the lexicon TSV, in the order they are written.
COLUMNS = ("lang", "word", "concept", "field", "pos", "weight")

#: Characters Rust's `str::trim` removes (Unicode White_Space): import sources are trimmed as the loader trims cells.
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

_MAX_EXAMPLES = 20  # invalid rows quoted in an import report


def _trim(text: str) -> str:
    return text.strip(_WHITE_SPACE)


def _normalize_lang_code(code: str) -> str:
    """``EN`` → ``en``, ``zh_Hant`` → ``zh-Hant`` (the primary subtag lower-cased, ``_`` → ``-``)."""
    primary, sep, rest = code.replace("_", "-").partition("-")
    return primary.lower() + sep + rest


def _format_number(value: float) -> str:
    """A weight as the shortest text that reads back the same (``2``, ``0.5``, ``1.2e-05``)."""
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _q(value: object) -> str:
    """A value quoted as the engine's messages quote it (the loader's ``quote``): ``"bad word"``, ``"a\\u{200b}b"``."""
    if isinstance(value, list):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    return quote(value) if isinstance(value, str) else repr(value)


def _fspath(path: PathArg) -> str:
    return os.fspath(path)


def _decode(data: bytes, src: str) -> str:
    """UTF-8 text (BOM dropped); binary data or invalid UTF-8 fail with the line."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise LexiconError(
            f"{src}:{line}: binary data (a NUL byte), not a text lexicon; "
            "Parquet and Arrow tables are read with fmt='parquet' / 'arrow' (--format)"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1)
        raise LexiconError(f"{src}:{line}: invalid UTF-8 at byte {column} of the line") from None


def _read_bytes(path: str) -> bytes:
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a lexicon file", path)
    with open(path, "rb") as f:
        return f.read()


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines as the engine splits them: on ``\\n`` only, a trailing ``\\r`` dropped."""
    for n, line in enumerate(text.split("\n"), start=1):
        yield n, line[:-1] if line.endswith("\r") else line


def _check_out(out: str) -> None:
    if os.path.isdir(out):
        raise IsADirectoryError(errno.EISDIR, "is a directory: the output must be a file path", out)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise FileNotFoundError(errno.ENOENT, "the output's directory does not exist", parent)


def _write_lexicon(out: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Lexicon:
    """Write a lexicon TSV atomically and return it loaded back (the final check)."""
    _check_out(out)
    directory, name = os.path.split(os.path.abspath(out))
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write("\t".join(header) + "\n")
            for row in rows:
                f.write("\t".join(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            lex = Lexicon.load(tmp)
        except HyperwordError as e:  # a bug here, not bad input: the rows were validated
            raise LexiconError(f"{out}: the written lexicon does not load: {str(e).replace(tmp, out)}") from None
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return lex


def _loaded_rows(path: str, lang: str | None = None) -> LexiconCheck:
    """The rows of a lexicon ``Lexicon.load`` accepts, as the loader reads them (its collecting
    mode: ``header``, ``columns``, ``cells()``, ``valid``); binary data fails as in an import."""
    data = _read_bytes(path)
    _decode(data, path)
    return check_lexicon(data, lang)
