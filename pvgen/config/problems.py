"""Collecting every mistake in a module configuration before reporting any.

A user fixing a configuration wants the whole list at once, not one error per
run; so the readers and checks report into a ``Problems`` and the loader
raises one ``ConfigError`` at the end of a stage. Each message names the
element (and the attribute, with its value as written) it is about, in the
form ``<Element Attribute="value">: what is wrong``.
"""

from __future__ import annotations

from pvgen.config.errors import ConfigError
from pvgen.config.xmltree import XmlElement
from pvgen.diagnostics import Diagnostic, Location, SourceText


def _subject(element: XmlElement, attribute: str | None = None) -> str:
    """How a message names what it is about: ``<Tag>`` or ``<Tag Attribute="value">``.

    An attribute that is not written (its default applies) is not shown.
    """
    if attribute is None or attribute not in element.attrib:
        return f"<{element.tag}>"
    return f'<{element.tag} {attribute}="{element.get(attribute, "")}">'


def line_of(element: XmlElement) -> str:
    """How a message points back at an earlier element: ``line 12``."""
    return f"line {element.location.line}"


class Problems:
    """The diagnostics found so far in one configuration file."""

    def __init__(self, source: SourceText) -> None:
        self._source = source
        self._found: dict[tuple[Location, str], Diagnostic] = {}

    def report(self, location: Location, message: str) -> None:
        """Record one problem; the same message at the same place is recorded once."""
        self._found.setdefault((location, message), self._source.diagnostic(location, message))

    def at(self, element: XmlElement, message: str, attribute: str | None = None) -> None:
        """Record a problem with an element, or with one of its attributes when named."""
        location = element.location if attribute is None else element.attribute_location(attribute)
        self.report(location, f"{_subject(element, attribute)}: {message}")

    def raise_if_any(self) -> None:
        if self._found:
            raise ConfigError(self._found.values())
