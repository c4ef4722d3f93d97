"""Load a hypercall definition: read, parse, resolve. The one entry point."""

from __future__ import annotations

from pathlib import Path

from pvgen.diagnostics import SourceText
from pvgen.model import Interface
from pvgen.parse import parse_text
from pvgen.resolve import resolve


def load_text(text: str, name: str = "<definition>") -> Interface:
    """Build the model of a definition given as text; raise DefinitionError."""
    source = SourceText(text, name)
    return resolve(parse_text(source), source)


def load(path: Path) -> Interface:
    """Build the model of a definition file; raise DefinitionError or PvgenError."""
    source = SourceText.read(path)
    return resolve(parse_text(source), source)
