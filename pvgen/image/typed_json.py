"""Decode parsed JSON into frozen dataclasses, by their type annotations, strictly.

An image's manifest is untrusted input: a field of the wrong type must be refused where it
is read, with the path to it (``partitions[1].ports[0].max_message_size``), and never reach
the emulator as a string where a number was meant or a bool where a count was. So no
coercion: an integer is a JSON integer (not true, not 1.0, not "1"), a string a JSON string,
every field is given unless it has a default, and no field is given that the class has not.
The annotations the manifest uses are the whole language: str, int, bool, a union with
None, tuple[X, ...], tuple[A, B], dict[str, X] and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


class ShapeError(ValueError):
    """A value that is not of its field's type; the message starts with the field's path."""


def decode(cls: type[T], value: object, where: str = "manifest") -> T:
    """The dataclass ``cls`` built from ``value`` (a parsed JSON object), checked field by
    field."""
    result: T = _decode(cls, value, where)
    return result


def _decode(kind: Any, value: object, where: str) -> Any:
    origin = typing.get_origin(kind)
    if dataclasses.is_dataclass(kind):
        return _object(kind, value, where)
    if origin in (typing.Union, types.UnionType):
        return _union(typing.get_args(kind), value, where)
    if origin is tuple:
        return _tuple(typing.get_args(kind), value, where)
    if origin is dict:
        return _dict(typing.get_args(kind), value, where)
    return _scalar(kind, value, where)


def _scalar(kind: type, value: object, where: str) -> object:
    # bool is an int to Python, but not a count to a manifest
    if type(value) is not kind:
        raise ShapeError(f"{where}: {_NAMES[kind]} expected, not {_describe(value)}")
    return value


_NAMES: dict[type, str] = {str: "a string", int: "an integer", bool: "true or false",
                           type(None): "null"}


def _describe(value: object) -> str:
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _union(options: tuple[Any, ...], value: object, where: str) -> object:
    for option in options:
        try:
            return _decode(option, value, where)
        except ShapeError:
            continue
    names = " or ".join(_NAMES.get(option, str(option)) for option in options)
    raise ShapeError(f"{where}: {names} expected, not {_describe(value)}")


def _tuple(arguments: tuple[Any, ...], value: object, where: str) -> tuple[object, ...]:
    if not isinstance(value, list):
        raise ShapeError(f"{where}: a list expected, not {_describe(value)}")
    if len(arguments) == 2 and arguments[1] is Ellipsis:
        return tuple(_decode(arguments[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if len(value) != len(arguments):
        raise ShapeError(f"{where}: a list of {len(arguments)} expected, not of {len(value)}")
    return tuple(_decode(kind, item, f"{where}[{i}]")
                 for i, (kind, item) in enumerate(zip(arguments, value, strict=True)))


def _dict(arguments: tuple[Any, ...], value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: an object expected, not {_describe(value)}")
    return {key: _decode(arguments[1], item, f"{where}.{key}") for key, item in value.items()}


@cache
def _fields(cls: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """A dataclass's fields with their types, and those without a default (looked up once
    per class: a manifest has thousands of windows)."""
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    required = frozenset(f.name for f in fields if f.default is dataclasses.MISSING
                         and f.default_factory is dataclasses.MISSING)
    return {f.name: hints[f.name] for f in fields}, required


def _object(cls: Any, value: object, where: str) -> object:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: an object expected, not {_describe(value)}")
    kinds, required = _fields(cls)
    unknown = sorted(set(value) - set(kinds))
    if unknown:
        raise ShapeError(f"{where}: no field named {unknown[0][:40]!r}")
    missing = sorted(required - set(value))
    if missing:
        raise ShapeError(f"{where}: the field '{missing[0]}' is missing")
    return cls(**{name: _decode(kinds[name], item, f"{where}.{name}")
                  for name, item in value.items()})
