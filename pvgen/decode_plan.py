"""How a dispatcher decodes and checks a hypercall's argument words: one plan, every speller.

docs/dispatch-semantics.md fixes what a dispatcher does with a call's words: each parameter
in declaration order, its value taken from its words, its check (a value's range, a code
address, a pointer's area, a string's terminator), then the definition's ``when`` rules on
it. ``plan_of`` decides all of that once, from the model; the spellers only spell what it
decided: ``lang_c`` for the POK kernel's dispatcher, ``lang_py`` for the emulator's. Neither
asks the model what to check, so the kernel and the emulator cannot check different things.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pvgen import model as m


@dataclass(frozen=True)
class CodeAddress:
    """The value is an address inside the partition (a handler's entry point)."""


@dataclass(frozen=True)
class Area:
    """The pointed-to area lies inside the partition: `elements` elements of `element_size`
    bytes, or as many as the parameter `count` says; a NULL pointer passes if `nullable`."""

    nullable: bool
    elements: int | None
    count: str | None
    element_size: int

    @property
    def size(self) -> int | None:
        """Its size in bytes, when no other parameter gives it."""
        return None if self.elements is None else self.elements * self.element_size


@dataclass(frozen=True)
class String:
    """A NUL-terminated string starts inside the partition and ends within `max_bytes`
    (its terminator included) and inside it; a NULL pointer passes if `nullable`."""

    nullable: bool
    max_bytes: int


# A value's range (the guest's units), a code address, a pointer's area, a string.
Check = m.ValueCheck | CodeAddress | Area | String


class Use(Enum):
    """What the handler is given for a parameter once its checks pass."""

    VALUE = "value"  # its value
    READ = "read"  # the data it points to, copied in
    SHARED = "shared"  # its checked address: the hypervisor keeps using the area
    OUT = "out"  # nothing: the handler's answer is written there after


@dataclass(frozen=True)
class ParamStep:
    """One parameter's part of the decode, in declaration order."""

    param: m.Param
    words: tuple[int, ...]  # its argument words' indices, the low word first
    signed: bool  # its value is read signed (a pointer never is)
    check: Check | None
    rules: tuple[m.ValueRule, ...]  # the definition's `when` rules on its value
    use: Use

    @property
    def event(self) -> m.RejectEvent | None:
        """What the dispatcher reports when the check fails."""
        if self.check is None:
            return None
        return m.RejectEvent.BAD_VALUE if isinstance(self.check, m.ValueCheck) \
            else m.RejectEvent.BAD_POINTER


@dataclass(frozen=True)
class CallPlan:
    call: m.Hypercall
    steps: tuple[ParamStep, ...]

    @property
    def needs_size(self) -> bool:
        """Whether a check compares an address with the partition's size."""
        return any(s.event is m.RejectEvent.BAD_POINTER for s in self.steps)

    def words_of(self, param: str) -> tuple[int, ...]:
        return next(s.words for s in self.steps if s.param.name == param)


def plan_of(call: m.Hypercall) -> CallPlan:
    return CallPlan(call, tuple(_step(call, p) for p in call.params))


def _step(call: m.Hypercall, p: m.Param) -> ParamStep:
    words = tuple(w.index for w in call.words if w.param.name == p.name)
    rules = call.rules_for(p)
    if not p.is_pointer:
        resolved = p.type.resolved
        signed = not isinstance(resolved, m.Struct) and resolved.signed
        return ParamStep(p, words, signed, _value_check(p), rules, Use.VALUE)
    return ParamStep(p, words, False, _pointer_check(p), rules, _use(p))


def _value_check(p: m.Param) -> Check | None:
    if p.value_check is not None:
        return p.value_check
    return CodeAddress() if p.is_code else None


def _pointer_check(p: m.Param) -> Check:
    length = p.length
    assert length is not None, f"{p.name}: a pointer without a length"
    if length.kind is m.LengthKind.NUL:
        return String(p.nullable, length.count)
    if length.kind is m.LengthKind.PARAM:
        return Area(p.nullable, None, length.param, p.element_size)
    return Area(p.nullable, length.count, None, p.element_size)


def _use(p: m.Param) -> Use:
    assert p.direction is not None
    if p.direction.reads_guest:
        return Use.READ
    return Use.SHARED if p.is_shared else Use.OUT

