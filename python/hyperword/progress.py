"""Progress on standard error that suits where it goes: a redrawn bar on a terminal, plain lines
in a log.

A bar redrawn ten times a second is right on a terminal and wrong in a file (an experiment's log
filled with tens of kilobytes of carriage returns). :func:`progress` returns a display for one
stage of work that is

- a ``tqdm`` bar when the stream is a terminal;
- otherwise one line when the stage starts, one every ``every`` seconds while it runs, and
  one when it ends (``hyperword: generate: 40.0M/100M words (40%), 12.3 s``);
- nothing when ``show`` is false.

``show=None`` (the commands' default) shows it on a terminal only; ``show=True`` (``--progress``)
shows it anywhere, as lines when not on a terminal. Every command's progress goes through here
(generate, ingest, encode, tokenizer train), and so can any other stage: ::

    with progress("train", total=steps, unit="step", show=True) as p:
        for step in range(steps):
            ...
            p.update_to(step + 1)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

__all__ = ["EVERY_SECONDS", "Progress", "progress"]

#: Seconds between two lines when the stream is not a terminal.
EVERY_SECONDS = 30.0


def _count(n: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.1f}{suffix}"
    return f"{n:g}"


class Progress:
    """One stage's progress; see the module documentation. Use :func:`progress` to make one."""

    def __init__(
        self,
        label: str,
        *,
        total: int | None,
        unit: str,
        mode: str,
        every: float,
        stream: IO[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit, self.mode, self.every = label, total, unit, mode, every
        self.stream, self.clock = stream, clock
        self.done = 0
        self._start = clock()
        self._last = self._start
        self._bar: Any = None
        self._closed = False
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=unit, unit_scale=True, dynamic_ncols=True, file=stream, desc=label)
        elif mode == "lines":
            self._line("started")

    def _line(self, what: str) -> None:
        print(f"hyperword: {self.label}: {what}", file=self.stream, flush=True)

    def _state(self) -> str:
        seconds = self.clock() - self._start
        unit = f" {self.unit}s" if self.unit else ""
        if self.total:
            return f"{_count(self.done)}/{_count(self.total)}{unit} ({self.done / self.total:.0%}), {seconds:.1f} s"
        return f"{_count(self.done)}{unit}, {seconds:.1f} s"

    def update_to(self, done: int, total: int | None = None) -> None:
        """Say that ``done`` units are finished (of ``total``, when it is known only now)."""
        if total is not None:
            self.total = total
        if self.total is not None and done > self.total:
            self.total = done  # e.g. the last phrase of a shard may pass the target
        self.done = done
        if self._bar is not None:
            if total is not None or self._bar.total != self.total:
                self._bar.total = self.total
            self._bar.update(done - self._bar.n)
        elif self.mode == "lines" and self.clock() - self._last >= self.every:
            self._last = self.clock()
            self._line(self._state())

    def close(self) -> None:
        """End the stage: close the bar, or print the final line."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "lines":
            self._line("done, " + self._state())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.close()
        elif self._bar is not None:
            self._bar.close()
            self._closed = True
        else:
            self._closed = True  # a failed stage says so through its error, not a "done" line


def progress(
    label: str,
    *,
    total: int | None = None,
    unit: str = "",
    show: bool | None = None,
    every: float = EVERY_SECONDS,
    stream: IO[str] | None = None,
) -> Progress:
    """A progress display for one stage on ``stream`` (standard error): a bar on a terminal,
    lines every ``every`` seconds elsewhere; ``show=None`` shows it on a terminal only,
    ``show=False`` never."""
    out = sys.stderr if stream is None else stream
    terminal = bool(getattr(out, "isatty", lambda: False)())
    if show is False or (show is None and not terminal):
        mode = "off"
    else:
        mode = "bar" if terminal else "lines"
    return Progress(label, total=total, unit=unit, mode=mode, every=every, stream=out)
