"""A status line on the terminal while a long run goes on.

A run that takes more than a few seconds of host time shows, on standard error when it is
a terminal, where it is: the virtual time, where it stops, and the host time so far,
redrawn twice a second on one line. The partitions' console lines go to the same
terminal, so each is written only after the status line is erased (StatusLine.clear); the
next redraw puts it back below them. When standard error is not a terminal (a log, a
pipe, CI), nothing is shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

SHOWN_AFTER_SECONDS = 2.0  # a run shorter than this shows no status at all
REDRAWN_EVERY_SECONDS = 0.5
_ERASE = "\r\x1b[K"  # to the start of the line, and erase it


class StatusLine:
    """One line of a terminal that shows a status and is erased before other output."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self._shown = False

    def show(self, text: str) -> None:
        with self._lock:
            self.stream.write(_ERASE + text)
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write(_ERASE)
                self.stream.flush()
                self._shown = False


class ClearingWriter:
    """A text stream that erases the status line before what it writes (the consoles')."""

    def __init__(self, out: TextIO, status: StatusLine) -> None:
        self.out = out
        self.status = status

    def write(self, text: str) -> int:
        self.status.clear()
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


class Progress:
    """While entered, a thread that shows `describe()` on the status line, from
    SHOWN_AFTER_SECONDS of host time on; erased on exit."""

    def __init__(self, status: StatusLine, describe: Callable[[float], str]) -> None:
        self.status = status
        self.describe = describe  # the status text, given the host seconds so far
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._draw, name="pvgen-progress", daemon=True)

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._done.set()
        self._thread.join()
        self.status.clear()

    def _draw(self) -> None:
        if self._done.wait(SHOWN_AFTER_SECONDS):
            return
        while not self._done.is_set():
            self.status.show(self.describe(time.monotonic() - self._started))
            self._done.wait(REDRAWN_EVERY_SECONDS)
