"""Partition consoles: lines prefixed with the partition's name, and the tester's verdict.

The RTEMS tester reads lines beginning with ``*** ``: BEGIN OF TEST, END OF
TEST, FATAL. Each console tracks them so the run's exit status can follow the
tester's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

BEGIN, END, FATAL = "*** BEGIN OF TEST", "*** END OF TEST", "*** FATAL"


@dataclass
class Console:
    name: str
    out: TextIO
    file: TextIO | None = None
    pending: bytearray = field(default_factory=bytearray)
    began: bool = False
    ended: bool = False
    fatal: bool = False
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
        self.began |= text.startswith(BEGIN)
        self.ended |= text.startswith(END)
        self.fatal |= text.startswith(FATAL)
        self.out.write(f"[{self.name}] {text}\n")
        if self.file is not None:
            self.file.write(text + "\n")

    @property
    def verdict(self) -> str:
        """The RTEMS tester's reading of this console."""
        if self.fatal:
            return "fatal"
        if not self.began:
            return "no test"
        return "passed" if self.ended else "failed"


def open_console_file(directory: Path | None, name: str) -> TextIO | None:
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return (directory / f"{name}.log").open("w", encoding="utf-8")
