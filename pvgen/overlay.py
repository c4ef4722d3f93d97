"""Profiles as overlays: a definition that begins ``use "FILE";`` is FILE's definition with
its own items over it.

An item of the profile replaces the used definition's item of the same kind and name where
that one stood (the interface line and the status block, of which there is one each;
``reject EVENT``; a type, enum or struct by its name; ``abi NAME``; ``hypercall NAME``);
one the used definition lacks is added, just before the next item the profile replaces
(so a new type can come before the replaced struct that uses it), or at the end. ``drop
KIND NAME;`` removes one, and ``renumber CALL = N;`` gives a call another number and keeps
the rest of it (``drop reserved N;`` removes the reserved range that begins at N). Every item
keeps the location it was written at, in whichever file that is, so the resolver's
diagnostics point into the right file. This is a step between the parser and the
resolver: it works on syntax, knows nothing of types or registers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pvgen import syntax as s
from pvgen.diagnostics import Diagnostic, Location, SourceText

# What `drop` names, by the kind it says (a type, enum or struct share one name space), and
# the syntax that item must be.
_DROP_KINDS: dict[str, tuple[str, type]] = {
    "abi": ("abi", s.AbiDecl), "type": ("type", s.TypeAliasDecl), "enum": ("type", s.EnumDecl),
    "struct": ("type", s.StructDecl), "hypercall": ("hypercall", s.HypercallDecl),
    "reject": ("reject", s.RejectDecl), "reserved": ("reserved", s.ReservedDecl),
}


def key(item: s.Item) -> tuple[str, str] | None:
    """What an item is, for replacing: its kind and name (a reserved range's is its first
    number; None: an overlay statement)."""
    match item:
        case s.InterfaceDecl():
            return ("interface", "")
        case s.StatusBlock():
            return ("status", "")
        case s.RejectDecl():
            return ("reject", item.event.text)
        case s.TypeAliasDecl() | s.EnumDecl() | s.StructDecl():
            return ("type", item.name.text)
        case s.AbiDecl():
            return ("abi", item.name.text)
        case s.HypercallDecl():
            return ("hypercall", item.name.text)
        case s.ReservedDecl():
            return ("reserved", str(item.first.value))
    return None


def overlaid(base: Sequence[s.Item], profile: Sequence[s.Item], source: SourceText
             ) -> tuple[list[s.Item], list[Diagnostic]]:
    """The used definition's items with the profile's over them, and what could not be
    applied (a drop or renumber of what the used definition does not have)."""
    items: list[s.Item] = list(base)
    problems: list[Diagnostic] = []
    # New items wait for the next item the profile replaces, to stand before it as they do
    # in the profile (a new type before the replaced struct that uses it); the rest go last.
    new: list[s.Item] = []

    def find(wanted: tuple[str, str]) -> int | None:
        return next((i for i, item in enumerate(items) if key(item) == wanted), None)

    for item in profile:
        if isinstance(item, s.UseDecl):
            continue
        if isinstance(item, s.DropDecl):
            kind, syntax = _DROP_KINDS[item.kind]
            at = find((kind, item.name.text))
            if at is None or not isinstance(items[at], syntax):
                problems.append(_missing(source, item.name.location, item.kind, item.name.text))
            else:
                del items[at]
        elif isinstance(item, s.RenumberDecl):
            at = find(("hypercall", item.name.text))
            call = items[at] if at is not None else None
            if at is None or not isinstance(call, s.HypercallDecl):
                problems.append(_missing(source, item.name.location, "hypercall",
                                         item.name.text))
            else:
                items[at] = replace(call, number=item.number)
        else:
            wanted = key(item)
            at = find(wanted) if wanted is not None else None
            if at is None:
                new.append(item)
            else:
                items[at:at + 1] = [*new, item]
                new.clear()
    return items + new, problems


def _missing(source: SourceText, where: Location, kind: str, name: str) -> Diagnostic:
    return source.diagnostic(where, f"the used definition has no {kind} '{name}'")
