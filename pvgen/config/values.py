"""Attribute values of a validated configuration, as the model's numbers.

The XSD has already checked each value's form. What is left is the exact
conversion of decimal seconds to integer nanoseconds (no binary floating point,
no rounding) and the one thing a decimal type cannot say: that a time is finer
than a nanosecond, which pvgen, POK and the emulator cannot represent.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from pvgen.config.problems import Problems
from pvgen.config.xmltree import XmlElement

NANOSECONDS_PER_SECOND = 10**9


def nanoseconds(text: str) -> int | None:
    """Decimal seconds (an xs:decimal) in nanoseconds; None when finer than a nanosecond.

    Fraction keeps the arithmetic exact however many digits are written, where a
    Decimal context would round beyond its precision.
    """
    value = Fraction(Decimal(text.strip())) * NANOSECONDS_PER_SECOND
    return value.numerator if value.denominator == 1 else None


def seconds(element: XmlElement, attribute: str, problems: Problems) -> int | None:
    """The attribute's time in nanoseconds; None (reported) when it is finer than that."""
    value = nanoseconds(element.attrib[attribute])
    if value is None:
        problems.at(element, "more precise than a nanosecond, the unit of time pvgen counts in",
                    attribute)
    return value


def format_seconds(ns: int) -> str:
    """A time for a message, in the configuration's unit: ``0.005 s``."""
    whole, fraction = divmod(ns, NANOSECONDS_PER_SECOND)
    text = str(whole) if fraction == 0 else f"{whole}.{fraction:09d}".rstrip("0")
    return f"{text} s"


def boolean(text: str) -> bool:
    """An xs:boolean: true, false, 1 or 0."""
    return text.strip() in ("true", "1")


def token(text: str) -> str:
    """An xs:token value as the XSD compared it: surrounding blanks do not count."""
    return text.strip()
