"""Read XML keeping where each element, attribute and text was written.

Every configuration error must name its line and column, but ElementTree
forgets positions, and xmlschema reports its errors against element objects.
So pvgen drives expat itself and builds ElementTree elements (which xmlschema
validates as they are) that also carry their locations.

A DOCTYPE is refused: a configuration needs no DTD or entities, and refusing
them rules out entity-expansion bombs and external references.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from bisect import bisect_right
from xml.parsers import expat

from pvgen.config.errors import ConfigError
from pvgen.diagnostics import Diagnostic, Location, SourceText
from pvgen.limits import MAX_ATTRIBUTES, MAX_ELEMENTS

_ATTRIBUTE = re.compile(rb"\s+([^\s=/>]+)\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_TAG_NAME = re.compile(rb"</?([^\s/>]+)")
_BLANK = re.compile(rb"\s*")
_TAG_MISMATCH = expat.errors.codes[expat.errors.XML_ERROR_TAG_MISMATCH]
_NO_ELEMENTS = expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]


class XmlElement(ET.Element):
    """An element that knows where its start tag, its attributes and its text are."""

    def __init__(
        self,
        tag: str,
        attrib: dict[str, str],
        location: Location,
        attribute_locations: dict[str, Location],
    ) -> None:
        super().__init__(tag, attrib)
        self.location = location  # of the '<' of the start tag
        self.attribute_locations = attribute_locations  # of each attribute's name, by key
        self.text_location: Location | None = None  # of the first non-blank text directly inside

    def attribute_location(self, name: str) -> Location:
        """Where the attribute is written; the element's start tag when it is not written."""
        return self.attribute_locations.get(name, self.location)

    def children(self, tag: str | None = None) -> list[XmlElement]:
        return [c for c in self if isinstance(c, XmlElement) and tag in (None, c.tag)]

    def child(self, tag: str) -> XmlElement | None:
        return next(iter(self.children(tag)), None)


def parse_xml(source: SourceText) -> XmlElement:
    """The root element of a well-formed XML text; a ConfigError with a location otherwise."""
    return _Builder(source).build()


class _Doctype(Exception):
    """Raised from expat's handler to stop at a DOCTYPE."""


class _TooLarge(Exception):
    """Raised from expat's handler to stop at the element past the limits."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _Builder:
    """One expat run over one text, building located elements."""

    def __init__(self, source: SourceText) -> None:
        self._source = source
        self._data = source.text.encode("utf-8")
        self._line_starts = [0] + [m.end() for m in re.finditer(b"\n", self._data)]
        self._stack: list[XmlElement] = []
        self._root: XmlElement | None = None
        self._elements = 0
        # the last location computed, (line, byte offset, column): expat reads forward, so the
        # next column is counted on from it, and a long line costs its length once, not for
        # every element and attribute on it
        self._last = (0, 0, 1)
        # The encoding is fixed: the text was read as UTF-8, whatever its declaration says.
        self._parser = expat.ParserCreate(encoding="UTF-8", namespace_separator="}")
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text
        self._parser.StartDoctypeDeclHandler = self._doctype

    def build(self) -> XmlElement:
        try:
            self._parser.Parse(self._data, True)
        except expat.ExpatError as exc:
            raise ConfigError([self._syntax_error(exc.code)]) from None
        except _TooLarge as exc:
            raise ConfigError([exc.diagnostic]) from None
        except _Doctype:
            offset = self._parser.CurrentByteIndex
            start = self._data.rfind(b"<!DOCTYPE", 0, offset + 1)
            message = "a DOCTYPE is not allowed: a module configuration uses no DTD or entities"
            diagnostic = self._diagnostic(start if start >= 0 else offset, message)
            raise ConfigError([diagnostic]) from None
        assert self._root is not None  # expat reports a document without an element
        return self._root

    def _location(self, offset: int) -> Location:
        """The line and character column of a byte offset into the UTF-8 text."""
        line = bisect_right(self._line_starts, offset)
        last_line, last_offset, last_column = self._last
        if line == last_line and offset >= last_offset:
            start, column = last_offset, last_column
        else:
            start, column = self._line_starts[line - 1], 1
        column += len(self._data[start:offset].decode("utf-8", errors="replace"))
        self._last = (line, offset, column)
        return self._source.location(line, column)

    def _diagnostic(self, offset: int, message: str) -> Diagnostic:
        return self._source.diagnostic(self._location(offset), message)

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        offset = self._parser.CurrentByteIndex
        self._elements += 1
        too_many = (f"more than {MAX_ELEMENTS} elements" if self._elements > MAX_ELEMENTS else
                    f"more than {MAX_ATTRIBUTES} attributes on one element"
                    if len(attributes) > MAX_ATTRIBUTES else None)
        if too_many:  # the checks after parsing need not scale: no module has as many
            raise _TooLarge(self._diagnostic(offset, f"{too_many}: more than a module "
                                                     "configuration has (pvgen.limits)"))
        keys = [_qualified(key) for key in attributes]
        element = XmlElement(
            _qualified(name),
            dict(zip(keys, attributes.values(), strict=True)),
            self._location(offset),
            dict(zip(keys, self._attribute_offsets(offset), strict=True)),
        )
        if self._stack:
            self._stack[-1].append(element)
        else:
            self._root = element
        self._stack.append(element)

    def _attribute_offsets(self, offset: int) -> list[Location]:
        """Where each attribute of the start tag at ``offset`` is written, in document order.

        expat has accepted the tag, so it is well-formed and this simple scan is exact. expat
        reports the attributes in the same order, leaving out namespace declarations.
        """
        tag = _TAG_NAME.match(self._data, offset)
        assert tag is not None
        locations = []
        position = tag.end()
        while (attribute := _ATTRIBUTE.match(self._data, position)) is not None:
            name = attribute[1]
            if name != b"xmlns" and not name.startswith(b"xmlns:"):
                locations.append(self._location(attribute.start(1)))
            position = attribute.end()
        return locations

    def _end(self, name: str) -> None:
        self._stack.pop()

    def _text(self, data: str) -> None:
        element = self._stack[-1]
        if len(element):
            last = element[-1]
            last.tail = (last.tail or "") + data
        else:
            element.text = (element.text or "") + data
        if element.text_location is None and data.strip():
            blank = _BLANK.match(self._data, self._parser.CurrentByteIndex)
            assert blank is not None
            element.text_location = self._location(blank.end())

    def _doctype(self, *_: object) -> None:
        raise _Doctype

    def _syntax_error(self, code: int) -> Diagnostic:
        offset = max(self._parser.ErrorByteIndex, 0)
        if code == _NO_ELEMENTS and self._stack:
            unclosed = self._stack[-1]
            message = f"<{unclosed.tag}>: not closed before the end of the file"
            return self._source.diagnostic(unclosed.location, message)
        if code == _NO_ELEMENTS:
            return self._diagnostic(offset, "the file contains no XML element")
        if code == _TAG_MISMATCH:
            start = self._data.rfind(b"</", 0, offset + 1)
            closing = _TAG_NAME.match(self._data, start)
            assert closing is not None
            opened = self._stack[-1]
            message = (
                f"</{closing[1].decode('utf-8')}> does not close <{opened.tag}> "
                f"(line {opened.location.line})"
            )
            return self._diagnostic(start, message)
        return self._diagnostic(offset, f"XML syntax error: {expat.errors.messages[code]}")


def _qualified(name: str) -> str:
    """ElementTree's ``{uri}local`` form of expat's ``uri}local`` names."""
    return "{" + name if "}" in name else name
