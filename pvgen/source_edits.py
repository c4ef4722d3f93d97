"""Marked edits of another project's sources: RTEMS's i386 port, POK's kernel.

pvgen never carries a copy of the code it hooks into. Each edit inserts pvgen's own
lines at an anchor found by pattern, carries a marker naming the edit and the version
of its set (so an edit already made is recognised, and one made by another version of
pvgen is refused instead of stacked), and fails naming the file and the anchor when the
tree differs from the one the edits were written for. Every edit is checked before any
file is written, so a tree that differs is left as it was.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pvgen.diagnostics import PvgenError


@dataclass(frozen=True)
class Edit:
    """Lines of pvgen's around a run of the tree's lines.

    The run starts at the line `first` matches and ends at the first line from there that
    `last` matches (None: the run is that one line; several patterns: each from where the
    one before matched, so ``("f\\(", "^}")`` is the brace that ends f). `before` goes above
    the run and `after` below it; either may be empty, and ``@MARK@`` in them becomes the
    edit's marker.
    """

    name: str
    path: Path
    first: str
    last: str | tuple[str, ...] | None
    before: str
    after: str
    what: str  # the anchor, for messages


@dataclass(frozen=True)
class EditSet:
    """The edits one hook needs, and how their failures are told."""

    mark: str  # the start of every marker: "Inserted by pvgen for ..."
    edits: tuple[Edit, ...]
    differs: str  # why an anchor that is not there matters, after "<anchor> is not there: "
    restore: str  # how to get a file back as its project has it
    error: type[PvgenError]

    @cached_property
    def fingerprint(self) -> str:
        """What changes when the edits do."""
        text = "\0".join(f"{e.name}\0{e.path}\0{e.first}\0{e.last}\0{e.before}\0{e.after}"
                         for e in self.edits)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def marker(self, edit: Edit) -> str:
        """The edit's name and the set's version: a file edited by another version of
        pvgen's edits is recognised, not edited again on top."""
        return f"{self.mark} ({edit.name}, {self.fingerprint})"

    def edited(self, edit: Edit, text: str, path: Path) -> str | None:
        """The file's `text` with `edit` made; None if it was made already."""
        marker = self.marker(edit)
        if marker in text:
            return None
        if f"{self.mark} ({edit.name}," in text:
            raise self.error(
                f"pvgen: error: {path}: the hook for {edit.name} was added by another version of "
                f"pvgen: {self.restore} and run again")
        lines = text.splitlines(keepends=True)
        start = _find(lines, edit.first, 0)
        end = start
        for pattern in (edit.last,) if isinstance(edit.last, str) else edit.last or ():
            end = _find(lines, pattern, end) if end >= 0 else -1
        if start < 0 or end < 0:
            raise self.error(f"pvgen: error: {path}: {edit.what} is not there: {self.differs}")
        return "".join([*lines[:start], edit.before.replace("@MARK@", marker),
                        *lines[start:end + 1], edit.after.replace("@MARK@", marker),
                        *lines[end + 1:]])

    def apply(self, tree: Path) -> list[Path]:
        """Make the edits in `tree`; the files edited now, relative to it (none if every
        edit was there already)."""
        texts: dict[Path, str] = {}
        changed: set[Path] = set()
        for edit in self.edits:
            path = tree / edit.path
            if path not in texts:
                try:
                    texts[path] = path.read_text(encoding="utf-8")
                except OSError as exc:
                    raise self.error(f"pvgen: error: {path}: cannot read it: "
                                     f"{exc.strerror}") from None
            edited = self.edited(edit, texts[path], path)
            if edited is not None:
                texts[path] = edited
                changed.add(path)
        for path in changed:
            path.write_text(texts[path], encoding="utf-8")
        return sorted(path.relative_to(tree) for path in changed)


def _find(lines: list[str], pattern: str, start: int) -> int:
    compiled = re.compile(pattern)
    return next((i for i in range(start, len(lines)) if compiled.search(lines[i])), -1)
