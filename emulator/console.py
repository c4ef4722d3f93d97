"""Partition consoles: lines prefixed with the partition's name, and the tester's verdict.

The verdict is the RTEMS tester's reading of the lines (``pvgen.tester``: BEGIN OF TEST,
END OF TEST, the test's own TEST STATE), with one rule of the emulator's own: a line
``*** FATAL`` (what the bare-metal runtime prints of a fatal error) makes it "fatal".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from pvgen.tester import Verdict, judge, read


@dataclass
class Console:
    name: str
    out: TextIO
    file: TextIO | None = None
    pending: bytearray = field(default_factory=bytearray)
    lines: list[str] = field(default_factory=list)

    def write(self, data: bytes) -> None:
        self.pending += data
        while (cut := self.pending.find(b"\n")) >= 0:
            self._line(self.pending[:cut].decode("utf-8", "replace"))
            del self.pending[: cut + 1]

    def flush(self) -> None:
        """Emit a last unterminated line (at the end of the run)."""
        if self.pending:
            self._line(self.pending.decode("utf-8", "replace"))
            self.pending.clear()

    def _line(self, text: str) -> None:
        text = text.rstrip("\r")
        self.lines.append(text)
        self.out.write(f"[{self.name}] {text}\n")
        if self.file is not None:
            self.file.write(text + "\n")

    def verdict(self, ended: bool) -> str:
        """The RTEMS tester's reading of this console, `ended` whether its partition ended
        (a silent test, RTEMS's minimum, passes by ending): passed, failed, expected-fail,
        user-input, indeterminate or benchmark as the tester says, "no test" when none
        began, "fatal" after a FATAL line."""
        reading = read(self.lines)
        if reading.fatal:
            return "fatal"
        verdict = judge(reading, timed_out=False, name=self.name, ended=ended)
        return "no test" if verdict is Verdict.INVALID else verdict.value


def open_console_file(directory: Path | None, name: str) -> TextIO | None:
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return (directory / f"{name}.log").open("w", encoding="utf-8")
