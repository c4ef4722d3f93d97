"""Load a hypercall definition: read, parse, resolve. The one entry point."""

from __future__ import annotations

from pathlib import Path

from pvgen.c_names import clashes
from pvgen.diagnostics import DefinitionError, SourceText
from pvgen.model import Interface
from pvgen.parse import parse_text
from pvgen.resolve import resolve


def load_text(text: str, name: str = "<definition>") -> Interface:
    """Build the model of a definition given as text; raise DefinitionError."""
    return _load(SourceText(text, name))


def load(path: Path) -> Interface:
    """Build the model of a definition file; raise DefinitionError or PvgenError."""
    return _load(SourceText.read(path))


def _load(source: SourceText) -> Interface:
    """Parse, resolve, and refuse names that would clash in the generated C (the one check
    that needs the C spelling, so it runs on the finished model)."""
    interface = resolve(parse_text(source), source)
    problems = clashes(interface)
    if problems:
        raise DefinitionError(source.diagnostic(where, message) for where, message in problems)
    return interface
