"""Partition consoles: lines prefixed with the partition's name, and the tester's verdict.

The verdict is the RTEMS tester's reading of the lines (``pvgen.tester``: BEGIN OF TEST,
END OF TEST, the test's own TEST STATE), with one rule of the emulator's own: a line
``*** FATAL`` (what the bare-metal runtime prints of a fatal error) makes it FATAL.
The reading is taken line by line as they come, so a console keeps no lines at all: what
a guest writes holds at most LINE_LIMIT bytes of the emulator's memory, however much it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from pvgen.tester import Reading, Verdict, judge

# The bytes of a line without a newline kept before they are printed as a line of their own:
# a guest that never ends its line holds no more than this of the emulator's memory.
LINE_LIMIT = 4096
# What a partition's bytes may not put on the run's shared output as they are: control
# characters (a carriage return or an escape sequence could overwrite or fake another
# partition's line, a newline start one) and Unicode's bidirectional controls.
_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                          "\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` for the run's shared output: every character of _UNPRINTABLE as an escape
    (``\\x1b``, ``\\u202e``), so a partition's line is one line, and visibly its own."""
    return _UNPRINTABLE.sub(lambda found: f"\\x{ord(found[0]):02x}" if ord(found[0]) < 0x100
                            else f"\\u{ord(found[0]):04x}", text)


class Output(Protocol):
    """Where the run's consoles and notes are written: standard output, or a stream that
    keeps a progress line out of their way (pvgen.emulator.progress)."""

    def write(self, text: str, /) -> int: ...


@dataclass
class Console:
    name: str
    out: Output
    file: TextIO | None = None
    pending: bytearray = field(default_factory=bytearray)
    reading: Reading = field(default_factory=Reading)  # the tester's, of every line so far

    def write(self, data: bytes) -> None:
        self.pending += data
        while (cut := self.pending.find(b"\n")) >= 0:
            self._line(self.pending[:cut].decode("utf-8", "replace"))
            del self.pending[: cut + 1]
        while len(self.pending) >= LINE_LIMIT:  # a line that does not end, in pieces
            self._line(self.pending[:LINE_LIMIT].decode("utf-8", "replace"))
            del self.pending[:LINE_LIMIT]

    def flush(self) -> None:
        """Emit a last unterminated line (at the end of the run)."""
        if self.pending:
            self._line(self.pending.decode("utf-8", "replace"))
            self.pending.clear()

    def _line(self, text: str) -> None:
        text = text.rstrip("\r")
        self.reading = self.reading.line(text)
        self.out.write(f"[{self.name}] {printable(text)}\n")
        if self.file is not None:
            self.file.write(text + "\n")

    def verdict(self, ended: bool, timed_out: bool = False) -> Verdict:
        """The RTEMS tester's reading of this console, `ended` whether its partition ended
        (a silent test, RTEMS's minimum, passes by ending), `timed_out` whether the run's
        limit came while it still ran (only a test that began can time out); FATAL after a
        FATAL line, whatever else it says."""
        reading = self.reading
        if reading.fatal:
            return Verdict.FATAL
        return judge(reading, timed_out=timed_out and reading.began, name=self.name,
                     ended=ended)


def open_console_file(directory: Path | None, name: str) -> TextIO | None:
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return (directory / f"{name}.log").open("w", encoding="utf-8")
