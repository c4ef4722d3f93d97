"""Locations and errors that a user can act on.

Every error pvgen reports about a file it read carries the file, line and
column, and renders the way compilers do (``file:line:col: error: message``
followed by the source line and a caret), so editors and CI logs can jump
straight to the problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based line and column inside a named file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# The most of a source line a diagnostic shows: a hand-made file may be one line of megabytes.
EXCERPT = 120


@dataclass(frozen=True)
class Diagnostic:
    """One error, with enough context to print it like a compiler."""

    location: Location
    message: str
    source_line: str | None = None

    def render(self) -> str:
        text = f"{self.location}: error: {self.message}"
        if self.source_line is None:
            return text
        line = self.source_line.expandtabs(1)
        column = max(self.location.column - 1, 0)
        if len(line) > EXCERPT:  # a long line: the part around the column, marked as cut
            start = max(0, min(column - EXCERPT // 2, len(line) - EXCERPT))
            head, tail = ("..." if start else ""), ("..." if start + EXCERPT < len(line) else "")
            line = head + line[start:start + EXCERPT] + tail
            column += len(head) - start
        return f"{text}\n    {line}\n    {' ' * column}^"


# pvgen's exit statuses, one per class of outcome (docs/cli.md). A signal ends it with
# 128 + the signal's number, as a shell reports it (Ctrl-C: 130).
EXIT_FAILED = 1  # what ran failed: a test, a partition the health monitor stopped, a timeout
EXIT_INPUT = 2  # what pvgen was given is wrong or missing: a file, an option, a tool
EXIT_BUILD = 3  # a build pvgen ran failed: a guest's C, POK's make, RTEMS's waf, QEMU


class PvgenError(Exception):
    """Base of the errors pvgen reports to its user instead of a traceback: one line,
    ``pvgen: error: WHAT: why`` (a definition's or a configuration's errors, which point
    into the file, are written as compilers write theirs: ``file:line:col: error: ...``)."""

    exit_status = EXIT_INPUT

    def render(self) -> str:
        return str(self)


class BuildFailed(PvgenError):
    """A build that pvgen ran failed; the builder's own words follow."""

    exit_status = EXIT_BUILD


class InputError(PvgenError):
    """A file named on the command line that is not what the command takes (missing,
    unreadable, of another kind): ``pvgen: error: FILE: what is wrong``, status 2.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"pvgen: error: {path}: {problem}")
        self.path = path
        self.problem = problem


class DefinitionError(PvgenError):
    """One or more errors in a hypercall definition, each with a location."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=lambda d: d.location))
        if not self.diagnostics:
            raise ValueError("DefinitionError needs at least one diagnostic")
        super().__init__(self.diagnostics[0].message)

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


class SourceText:
    """The text of one input file, able to quote its own lines in errors.

    Lines are counted at "\\n" only, as the parser counts them: a stray
    carriage return or form feed must not shift the quoted line.
    """

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self._lines = [line.removesuffix("\r") for line in text.split("\n")]
        # the files this one's items come from besides itself (a definition's used one), by
        # name: a diagnostic at a location in one of them quotes that file's line
        self.companions: dict[str, SourceText] = {}

    @classmethod
    def read(cls, path: Path) -> SourceText:
        try:
            text = path.read_text(encoding="utf-8-sig")  # an editor's BOM is not text
        except FileNotFoundError:
            raise PvgenError(f"pvgen: error: {path}: no such file") from None
        except UnicodeDecodeError as exc:
            raise PvgenError(f"pvgen: error: {path}: not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise PvgenError(f"pvgen: error: {path}: cannot read: {exc.strerror}") from None
        return cls(text, str(path))

    def location(self, line: int, column: int) -> Location:
        return Location(self.name, line, column)

    def diagnostic(self, location: Location, message: str) -> Diagnostic:
        holder = self.companions.get(location.file, self)
        index = location.line - 1
        source_line = holder._lines[index] if 0 <= index < len(holder._lines) else None
        return Diagnostic(location, message, source_line)

    def error(self, location: Location, message: str) -> DefinitionError:
        return DefinitionError([self.diagnostic(location, message)])


def diagnostic_at(location: Location, message: str) -> Diagnostic:
    """The message at a location of a file read earlier, quoting its line if the file can be
    read again (a check of the finished model, which keeps locations, not texts)."""
    try:
        return SourceText.read(Path(location.file)).diagnostic(location, message)
    except PvgenError:
        return Diagnostic(location, message)
