"""Plain text tables for the lexicon reports: aligned columns, East Asian wide characters counted twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import unicodedata2


def _display_width(text: str) -> int:
    width = 0
    for c in text:
        if unicodedata2.combining(c) or unicodedata2.category(c) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata2.east_asian_width(c) in ("W", "F") else 1
    return width


def _format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, columns aligned (numbers to the right), East Asian wide characters counted twice."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) and bool(rows) for i in range(len(header))]
    widths = [max(_display_width(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for n, r in enumerate(cells):
        parts = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - _display_width(c))
            parts.append(pad + c if numeric[i] and n > 0 else c + pad)
        out.append("  ".join(parts).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _kv_table(pairs: Sequence[tuple[str, object]]) -> str:
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in pairs)


def _capped(rows: list[tuple[Any, ...]], limit: int) -> list[tuple[Any, ...]]:
    """The first ``limit`` rows, and a last one saying how many were left out."""
    if len(rows) <= limit:
        return rows
    width = len(rows[0])
    more = ("...",) + ("",) * (width - 2) + (f"and {len(rows) - limit} more (--json lists them all)",)
    return rows[:limit] + [more]
