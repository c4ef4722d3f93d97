"""Bad-input corpora: files that begin with the diagnostics they must produce.

Each corpus file opens with one expectation per line (``# expect: L:C: message``
for definitions, ``<!-- expect: L:C: message -->`` for XML), read here the same
way for every corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Expected:
    line: int
    column: int
    message: str


def expectations(text: str, pattern: re.Pattern[str]) -> list[Expected]:
    """The leading lines of ``text`` that match ``pattern`` (groups: line, column, message)."""
    found = []
    for line in text.split("\n"):
        match = pattern.fullmatch(line)
        if match is None:
            break
        found.append(Expected(int(match[1]), int(match[2]), match[3]))
    return found
