"""Check a configuration's structure against module.xsd, in the user's words.

xmlschema finds the elements that break the schema; pvgen then says what is
wrong from each such element's XSD declaration (which attribute is missing,
unknown or malformed; which child is out of place; where text is not allowed)
instead of passing on xmlschema's wording, which names neither the attribute's
position nor what a valid value looks like. A value that does not match its
type is answered with the type's documentation sentence from the XSD.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from importlib import resources

import xmlschema
from xmlschema.validators import XsdAttribute, XsdElement, XsdGroup

from pvgen.config.problems import Problems
from pvgen.config.xmltree import XmlElement

ROOT = "ARINC_653_Module"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
# The one namespaced attribute a configuration may carry: it points editors at module.xsd.
# pvgen validates against its own copy and never follows it.
SCHEMA_HINT = XSI + "noNamespaceSchemaLocation"


@functools.cache
def module_schema() -> xmlschema.XMLSchema10:
    """The XSD shipped with pvgen (package data), built once per process."""
    text = resources.files("pvgen.config").joinpath("module.xsd").read_text(encoding="utf-8")
    return xmlschema.XMLSchema10(text)


def check_structure(root: XmlElement, problems: Problems) -> None:
    """Report every place where the document does not follow module.xsd."""
    if root.tag != ROOT:
        problems.at(root, f"the root element must be <{ROOT}>")
        return
    if _foreign_attributes(root, problems):
        return  # xmlschema acts on (and may trip over) other xsi: attributes
    declarations: dict[XmlElement, XsdElement] = {}

    def remember(element: object, declaration: XsdElement) -> bool:
        if isinstance(element, XmlElement):
            declarations[element] = declaration
        return False  # go on validating as usual

    for error in list(module_schema().iter_errors(root, validation_hook=remember)):
        element = error.elem
        assert isinstance(element, XmlElement)  # xmlschema reports on the elements it was given
        declaration = declarations[element]
        if isinstance(error, xmlschema.XMLSchemaChildrenValidationError):
            _explain_content(element, declaration, error.index, error.expected_tags, problems)
        elif not _explain_element(element, declaration, problems):
            # Not an attribute, text or content error: never drop it, say it in xmlschema's words.
            problems.at(element, f"does not follow the schema: {error.reason}")


def _foreign_attributes(root: XmlElement, problems: Problems) -> bool:
    """Report namespaced attributes other than the schema hint; True if there are any."""
    found = False
    for element in root.iter():
        assert isinstance(element, XmlElement)
        for name in element.attrib:
            if name.startswith("{") and name != SCHEMA_HINT:
                written = name.replace(XSI, "xsi:")
                problems.report(element.attribute_location(name), f"<{element.tag}>: attribute "
                                f"{written} is not used (of namespaced attributes, only "
                                "xsi:noNamespaceSchemaLocation is allowed)")
                found = True
    return found


def _explain_content(
    parent: XmlElement,
    declaration: XsdElement,
    index: int,
    expected: list[str],
    problems: Problems,
) -> None:
    """Say why the child at ``index`` (or the end of ``parent``) is not what the XSD wants."""
    children = parent.children()
    if index >= len(children):
        problems.at(parent, f"missing {_alternatives(expected)}")
        return
    child = children[index]
    allowed = _child_declarations(declaration)
    if child.tag not in allowed:
        known = ", ".join(f"<{name}>" for name in allowed) or "no elements"
        message = f"not allowed inside <{parent.tag}>{_did_you_mean(child.tag, allowed)}"
        problems.at(child, f"{message}; <{parent.tag}> contains {known}")
        return
    first = next(c for c in children if c.tag == child.tag)
    if first is not child and allowed[child.tag].is_single():
        message = f"<{parent.tag}> has only one <{child.tag}> (the first is at line"
        problems.at(child, f"{message} {first.location.line})")
    elif expected:
        problems.at(child, f"out of place: <{parent.tag}> expects {_alternatives(expected)} here")
    else:
        order = ", ".join(f"<{name}>" for name in allowed)
        problems.at(child, f"out of order: inside <{parent.tag}> the order is {order}")


def _explain_element(element: XmlElement, declaration: XsdElement, problems: Problems) -> bool:
    """Report what is wrong with the element's own attributes and text; False if nothing is."""
    explained = False
    attributes = declaration.attributes
    for name in attributes.iter_required():
        required = attributes[name]
        if name not in element.attrib and isinstance(required, XsdAttribute):
            problems.at(element, f"missing attribute {name} ({_describe(required)})")
            explained = True
    for name, value in element.attrib.items():
        if name == SCHEMA_HINT:
            continue
        attribute = attributes.get(name)
        if attribute is None:
            known = [n for n in attributes if isinstance(n, str)]
            takes = ", ".join(known) if known else "no attributes"
            message = f"unknown attribute{_did_you_mean(name, known)}; <{element.tag}> takes"
            problems.at(element, f"{message} {takes}", name)
            explained = True
        elif isinstance(attribute, XsdAttribute) and not attribute.type.is_valid(value):
            problems.at(element, f"expected {_describe(attribute)}", name)
            explained = True
    if element.text_location is not None and not declaration.type.has_mixed_content():
        problems.report(element.text_location, f"<{element.tag}>: text is not allowed here")
        explained = True
    return explained


def _child_declarations(declaration: XsdElement) -> dict[str, XsdElement]:
    """The elements the declaration's content model allows, in schema order."""
    content = getattr(declaration.type, "content", None)
    if not isinstance(content, XsdGroup):
        return {}
    return {
        child.local_name: child
        for child in content.iter_elements()
        if isinstance(child, XsdElement) and child.local_name is not None
    }


def _describe(attribute: XsdAttribute) -> str:
    """The documentation sentence of the attribute's type (every type in module.xsd has one)."""
    annotation = attribute.type.annotation
    assert annotation is not None and annotation.documentation, attribute.type.local_name
    return " ".join((annotation.documentation[0].text or "").split())


def _alternatives(tags: Iterable[str]) -> str:
    return " or ".join(f"<{tag}>" for tag in tags) or "more content"


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
