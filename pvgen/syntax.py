"""The parse tree of a definition file: what was written, where, unresolved.

These nodes mirror the grammar one to one and keep the location of every
name the resolver may have to complain about. Nothing here knows what a
type or a register is; that is pvgen.resolve's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from pvgen.diagnostics import Location


@dataclass(frozen=True)
class Name:
    text: str
    location: Location


@dataclass(frozen=True)
class Number:
    value: int
    location: Location


@dataclass(frozen=True)
class InterfaceDecl:
    name: Name
    version: Number
    doc: str


@dataclass(frozen=True)
class StatusCodeDecl:
    name: Name
    value: Number
    doc: str


@dataclass(frozen=True)
class StatusBlock:
    codes: tuple[StatusCodeDecl, ...]


@dataclass(frozen=True)
class RejectDecl:
    event: Name
    status: Name


@dataclass(frozen=True)
class TypeAliasDecl:
    name: Name
    target: Name
    doc: str
    unit: Name | None = None  # the time unit its integers count in (``unit ms``)


@dataclass(frozen=True)
class EnumMemberDecl:
    name: Name
    value: Number
    doc: str


@dataclass(frozen=True)
class EnumDecl:
    name: Name
    base: Name
    doc: str
    members: tuple[EnumMemberDecl, ...]


@dataclass(frozen=True)
class FieldDecl:
    name: Name
    type: Name
    doc: str


@dataclass(frozen=True)
class StructDecl:
    name: Name
    doc: str
    fields: tuple[FieldDecl, ...]


@dataclass(frozen=True)
class Setting:
    """One ``key value...;`` line of an ABI block; values are Names or Numbers."""

    key: Name
    values: tuple[Name | Number, ...]


@dataclass(frozen=True)
class AbiDecl:
    name: Name
    arch: Name
    doc: str
    settings: tuple[Setting, ...]


@dataclass(frozen=True)
class ReservedDecl:
    first: Number
    last: Number
    doc: str


@dataclass(frozen=True)
class LengthDecl:
    """``[name]``, ``[8]`` or ``[nul 32]``; exactly one of the fields is set."""

    param: Name | None = None
    constant: Number | None = None
    nul_max: Number | None = None


@dataclass(frozen=True)
class ParamDecl:
    direction: Name | None
    name: Name
    type: Name
    length: LengthDecl | None
    nullable: Name | None
    doc: str


@dataclass(frozen=True)
class ReturnsDecl:
    name: Name | None
    type: Name
    doc: str


@dataclass(frozen=True)
class FastPathDecl:
    """``fastpath ROLE;``: the keyword (where a misplaced one is reported) and the role."""

    keyword: Name
    role: Name


@dataclass(frozen=True)
class WhenDecl:
    """``when PARAM = VALUE refuse STATUS;`` or ``when PARAM = VALUE end;``."""

    keyword: Name
    param: Name
    value: Name
    action: Name
    status: Name | None
    doc: str


@dataclass(frozen=True)
class AnswerDecl:
    """``answer STATUS as STATUS;``: the call's own number for what its service answers."""

    keyword: Name
    status: Name
    answer: Name
    doc: str


@dataclass(frozen=True)
class HypercallDecl:
    name: Name
    number: Number
    doc: str
    params: tuple[ParamDecl, ...]
    returns: tuple[ReturnsDecl, ...]
    flags: tuple[Name, ...]
    fastpaths: tuple[FastPathDecl, ...]
    features: tuple[Name, ...]
    location: Location
    whens: tuple[WhenDecl, ...] = ()
    answers: tuple[AnswerDecl, ...] = ()


@dataclass(frozen=True)
class UseDecl:
    """``use "FILE";``: this definition is FILE's, with the items that follow over it."""

    path: str
    location: Location


@dataclass(frozen=True)
class DropDecl:
    """``drop KIND NAME;``: the used definition's item of that kind and name is not here."""

    kind: str  # abi, type, enum, struct, hypercall, reject, reserved (named by its first number)
    name: Name


@dataclass(frozen=True)
class RenumberDecl:
    """``renumber CALL = N;``: the used definition's call CALL, numbered N here."""

    name: Name
    number: Number


Item = (
    UseDecl
    | DropDecl
    | RenumberDecl
    | InterfaceDecl
    | StatusBlock
    | RejectDecl
    | TypeAliasDecl
    | EnumDecl
    | StructDecl
    | AbiDecl
    | ReservedDecl
    | HypercallDecl
)
