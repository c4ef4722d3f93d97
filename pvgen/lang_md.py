"""How model objects are spelled in the generated Markdown reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pvgen import model as m


def md_cell(text: str) -> str:
    """Text that stays inside one table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def md_type(p: m.Param) -> str:
    """A parameter's type as the definition spells it, e.g. ``u8[len]`` or ``u8[nul 32]``."""
    length = p.length.spelling if p.length else ""
    return f"`{p.type.name}{length}`"


def md_passing(p: m.Param) -> str:
    if p.direction is None:
        return "value"
    return p.direction.value + (", nullable" if p.nullable else "")


FILTERS: dict[str, Callable[..., Any]] = {
    "md_cell": md_cell,
    "md_type": md_type,
    "md_passing": md_passing,
}
