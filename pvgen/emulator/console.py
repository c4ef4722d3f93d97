"""Partition consoles: lines prefixed with the partition's name, and the tester's verdict.

The verdict is the RTEMS tester's reading of the lines (``pvgen.tester``: BEGIN OF TEST,
END OF TEST, the test's own TEST STATE), with one rule of the emulator's own: a line
``*** FATAL`` (what the bare-metal runtime prints of a fatal error) makes it FATAL.
The reading is taken line by line as they come, so a console keeps no lines (but a report's
bounded transcript): what a guest writes holds at most LINE_LIMIT bytes of the emulator's
memory, however much it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


# The characters of a console a transcript keeps (a report's system-out), the lines past
# them counted.
TRANSCRIPT_LIMIT = 1 << 20


@dataclass
class Transcript:
    """A console's lines for a report, at most TRANSCRIPT_LIMIT characters of them: a guest
    that prints without end holds no more of the emulator's memory."""

    lines: list[str] = field(default_factory=list)
    size: int = 0
    left_out: int = 0  # lines past the limit

    def add(self, text: str) -> None:
        if self.size + len(text) > TRANSCRIPT_LIMIT:
            self.left_out += 1
            return
        self.lines.append(text)
        self.size += len(text)

    def kept(self) -> tuple[str, ...]:
        more = [f"[... {self.left_out} more line(s), not kept]"] if self.left_out else []
        return (*self.lines, *more)


@dataclass
class Console:
    name: str
    out: Output
    file: TextIO | None = None
    pending: bytearray = field(default_factory=bytearray)
    reading: Reading = field(default_factory=Reading)  # the tester's, of every line so far
    transcript: Transcript | None = None  # its lines for a report, if one is made

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
        if self.transcript is not None:
            self.transcript.add(text)

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


def open_consoles(names: Iterable[str], out: Output, directory: Path | None,
                  transcripts: bool) -> dict[str, Console]:
    """A console per partition, by name: each also written to DIRECTORY/NAME.log if a
    directory is given, and keeping a transcript if asked."""
    return {name: Console(name, out, _console_file(directory, name),
                          transcript=Transcript() if transcripts else None) for name in names}


def _console_file(directory: Path | None, name: str) -> TextIO | None:
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return (directory / f"{name}.log").open("w", encoding="utf-8")
