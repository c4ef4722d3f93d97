"""Noticing the second declaration of something that must be declared once.

Identifiers, names, per-partition tables and channel endpoints must each be
unique; the message about a repeat points back at the first declaration, so
this remembers which element came first.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pvgen.config.xmltree import XmlElement

K = TypeVar("K")


class FirstSeen(Generic[K]):
    """The element that first declared each key."""

    def __init__(self) -> None:
        self._first: dict[K, XmlElement] = {}

    def earlier(self, key: K, element: XmlElement) -> XmlElement | None:
        """The element that declared ``key`` before ``element``; None if ``element`` is first."""
        first = self._first.setdefault(key, element)
        return None if first is element else first
