"""Compiler runs that are done once: each step is run again only when its command or the
content of a file it read has changed, and the steps of a stage run side by side.

What a step read is what the compiler says it read (its ``-MMD`` dependency file: the
source and every header it included), so an edited header rebuilds exactly the objects
that include it, and touching a file without changing it rebuilds nothing. The record of
the last runs (``steps.json`` in the build directory) keeps each step's command, the
content hash of each file it read and what the compiler said, so a reused step's warnings
are shown again rather than lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

RECORD_NAME = "steps.json"
_RECORD_FORMAT = 1


@dataclass(frozen=True)
class Step:
    """One compiler run: the file it makes from the files it is given."""

    what: str  # what it builds, for messages ("partition 'sensor': sensor.c")
    partition: str
    arguments: tuple[str, ...]
    output: Path
    inputs: tuple[Path, ...]  # the files named on its command line
    depfile: Path | None = None  # where the compiler lists the files it read


@dataclass(frozen=True)
class StepOutcome:
    step: Step
    said: str  # the compiler's stderr: its warnings, or why it failed
    failed: bool
    reused: bool


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read_depfile(path: Path) -> list[Path]:
    """The prerequisites of a make rule as compilers write them (``out.o: a.c b.h \\``)."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape").replace("\\\n", " ")
    _, _, prerequisites = text.partition(": ")
    words, word, escaped = [], "", False
    for char in prerequisites:
        if escaped:
            word, escaped = word + char, False
        elif char == "\\":
            escaped = True
        elif char.isspace():
            if word:
                words.append(word)
            word = ""
        else:
            word += char
    if word:
        words.append(word)
    return [Path(w) for w in words]


class StepRecord:
    """What each step made last time, from which command and which file contents."""

    def __init__(self, path: Path, salt: str) -> None:
        self.path = path
        self.salt = salt  # what every command depends on beyond its words (the compiler)
        self._entries: dict[str, dict[str, object]] = {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # none yet, or unreadable: every step runs
        if isinstance(loaded, dict) and loaded.get("format") == _RECORD_FORMAT:
            entries = loaded.get("steps")
            self._entries = entries if isinstance(entries, dict) else {}

    def _command(self, step: Step) -> str:
        return hashlib.sha256("\0".join((self.salt, *step.arguments)).encode()).hexdigest()

    def reusable(self, step: Step) -> str | None:
        """What the compiler said when it made the step's output, if that output is still
        what this command makes of these files; None if the step must run."""
        entry = self._entries.get(str(step.output))
        if not isinstance(entry, dict) or entry.get("command") != self._command(step):
            return None
        read = entry.get("read")
        if not isinstance(read, dict) or not step.output.is_file():
            return None
        if any(file_hash(Path(name)) != digest for name, digest in read.items()):
            return None
        said = entry.get("said")
        return said if isinstance(said, str) else ""

    def remember(self, step: Step, said: str) -> None:
        read = list(step.inputs)
        if step.depfile is not None and step.depfile.is_file():
            read.extend(read_depfile(step.depfile))
        self._entries[str(step.output)] = {
            "command": self._command(step),
            "read": {str(p): file_hash(p) for p in dict.fromkeys(read)},
            "said": said,
        }

    def forget(self, step: Step) -> None:
        self._entries.pop(str(step.output), None)

    def read_files(self, steps: Iterable[Step]) -> set[Path]:
        """Every file the steps read, as remembered."""
        files: set[Path] = set()
        for step in steps:
            read = self._entries.get(str(step.output), {}).get("read")
            files.update(Path(name) for name in (read if isinstance(read, dict) else ()))
        return files

    def save(self, steps: Iterable[Step]) -> None:
        """Write the record of the steps (a step of an earlier build that is no longer
        one is dropped)."""
        kept = {str(s.output): self._entries[str(s.output)] for s in steps
                if str(s.output) in self._entries}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps({"format": _RECORD_FORMAT, "steps": kept},
                                      indent=1, sort_keys=True), encoding="utf-8")
        os.replace(partial, self.path)


def run_stage(steps: Sequence[Step], record: StepRecord, jobs: int) -> list[StepOutcome]:
    """Run the steps that are not reusable, up to `jobs` at a time; their outcomes in the
    order of `steps`. The record learns each success and forgets each failure."""

    def run(step: Step) -> StepOutcome:
        said = record.reusable(step)
        if said is not None:
            return StepOutcome(step, said, failed=False, reused=True)
        step.output.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(step.arguments, capture_output=True, text=True, check=False,
                                errors="replace")
        return StepOutcome(step, result.stderr.rstrip(), failed=result.returncode != 0,
                       reused=False)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        outcomes = list(pool.map(run, steps))
    for outcome in outcomes:
        if outcome.failed:
            record.forget(outcome.step)
        elif not outcome.reused:
            record.remember(outcome.step, outcome.said)
    return outcomes


def failures(outcomes: Iterable[StepOutcome]) -> str:
    """The failed steps, each with its command and the compiler's words."""
    return "\n".join(f"pvgen: error: {o.step.what} failed:\n  {shlex.join(o.step.arguments)}"
                     f"\n{o.said}" for o in outcomes if o.failed)
