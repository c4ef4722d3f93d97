"""The semantic model of a hypercall interface.

Everything a generator needs is a property of these frozen objects: sizes,
argument words per ABI, the checks each parameter needs, canonical
signatures and the interface fingerprint. Generators only read the model;
they never look at the definition text. The model does no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum as PyEnum
from functools import cached_property

from pvgen.arch import Architecture, TrapInstruction
from pvgen.diagnostics import Location

# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------


class ScalarKind(PyEnum):
    INT = "int"
    BOOL = "bool"
    CODE = "code"  # a partition-relative code address, checked to lie in the partition


@dataclass(frozen=True)
class Scalar:
    name: str
    size: int
    signed: bool
    kind: ScalarKind = ScalarKind.INT
    doc: str = ""

    @property
    def align(self) -> int:
        return self.size

    @property
    def resolved(self) -> Scalar:
        return self

    @property
    def min(self) -> int:
        return -(1 << (8 * self.size - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        if self.kind is ScalarKind.BOOL:
            return 1
        return (1 << (8 * self.size - (1 if self.signed else 0))) - 1

    @property
    def abi_spelling(self) -> str:
        return self.name

    @property
    def abi_ref(self) -> str:
        return self.name


BUILTIN_SCALARS: dict[str, Scalar] = {
    t.name: t
    for t in (
        Scalar("u8", 1, False),
        Scalar("u16", 2, False),
        Scalar("u32", 4, False),
        Scalar("u64", 8, False),
        Scalar("i8", 1, True),
        Scalar("i16", 2, True),
        Scalar("i32", 4, True),
        Scalar("i64", 8, True),
        Scalar("bool", 1, False, ScalarKind.BOOL),
        Scalar("code", 4, False, ScalarKind.CODE, "A code address inside the partition."),
    )
}


@dataclass(frozen=True)
class EnumMember:
    name: str
    value: int
    doc: str


@dataclass(frozen=True)
class Enum:
    """A named set of values; the interface's status codes are one of these."""

    name: str
    base: Scalar
    members: tuple[EnumMember, ...]
    doc: str
    is_status: bool = False

    @property
    def size(self) -> int:
        return self.base.size

    @property
    def align(self) -> int:
        return self.base.align

    @property
    def signed(self) -> bool:
        return self.base.signed

    @property
    def kind(self) -> ScalarKind:
        return ScalarKind.INT

    @property
    def resolved(self) -> Enum:
        return self

    @property
    def abi_spelling(self) -> str:
        members = ",".join(f"{m.name}={m.value}" for m in self.members)
        return f"enum {self.name}:{self.base.name}{{{members}}}"

    @property
    def abi_ref(self) -> str:
        return self.name

    @property
    def value_ranges(self) -> tuple[tuple[int, int], ...]:
        """The member values as maximal contiguous [low, high] runs."""
        runs: list[tuple[int, int]] = []
        for value in sorted({m.value for m in self.members}):
            if runs and runs[-1][1] + 1 == value:
                runs[-1] = (runs[-1][0], value)
            else:
                runs.append((value, value))
        return tuple(runs)

    def member(self, name: str) -> EnumMember | None:
        return next((m for m in self.members if m.name == name), None)


# The units a time can be counted in (``type t = u64 unit ms``), in nanoseconds each.
TIME_UNITS: dict[str, int] = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


@dataclass(frozen=True)
class Alias:
    name: str
    target: Type
    doc: str
    unit: str | None = None  # a time unit of TIME_UNITS: the integers count time in it

    @property
    def size(self) -> int:
        return self.target.size

    @property
    def ns_per_unit(self) -> int | None:
        """Nanoseconds in one of its units, if it is a time with a unit (its own, else its
        target's): the hypervisor's services count time in nanoseconds."""
        if self.unit is not None:
            return TIME_UNITS[self.unit]
        return ns_per_unit(self.target)

    @property
    def align(self) -> int:
        return self.target.align

    @property
    def resolved(self) -> Scalar | Enum | Struct:
        return self.target.resolved

    @property
    def abi_spelling(self) -> str:
        return self.abi_ref

    @property
    def abi_ref(self) -> str:
        """Its target's, and its unit: a time's unit is part of what both sides agree on."""
        if self.unit is None:
            return self.target.abi_ref
        return f"{self.target.resolved.abi_ref} unit {self.unit}"


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    offset: int
    doc: str

    @property
    def is_reserved(self) -> bool:
        """A field named ``reserved...`` is padding: the hypervisor writes 0 there unless
        told otherwise."""
        return self.name.startswith("reserved")


@dataclass(frozen=True)
class Struct:
    """A record with an explicit, padding-free layout identical on every ABI."""

    name: str
    fields: tuple[Field, ...]
    doc: str

    @property
    def size(self) -> int:
        last = self.fields[-1]
        return last.offset + last.type.size

    @property
    def align(self) -> int:
        return max(f.type.align for f in self.fields)

    @property
    def resolved(self) -> Struct:
        return self

    @property
    def abi_spelling(self) -> str:
        fields = ",".join(f"{f.name}:{f.type.abi_ref}@{f.offset}" for f in self.fields)
        return f"struct {self.name}{{{fields}}}"

    @property
    def abi_ref(self) -> str:
        return f"struct {self.name}"


Type = Scalar | Enum | Alias | Struct


def ns_per_unit(t: Type) -> int | None:
    """Nanoseconds in one unit of a time type with a unit; None for any other type."""
    return t.ns_per_unit if isinstance(t, Alias) else None


# --------------------------------------------------------------------------
# Status codes and rejections
# --------------------------------------------------------------------------


class RejectEvent(PyEnum):
    """Why a dispatcher refuses a call before any handler runs."""

    UNKNOWN_CALL = "unknown_call"
    BAD_POINTER = "bad_pointer"
    BAD_ARG_COUNT = "bad_arg_count"
    BAD_VALUE = "bad_value"

    @property
    def meaning(self) -> str:
        return {
            RejectEvent.UNKNOWN_CALL: "the hypercall number is not part of the interface",
            RejectEvent.BAD_POINTER: "a pointer argument is null or leaves the partition",
            RejectEvent.BAD_ARG_COUNT: "the argument block announces the wrong number of words",
            RejectEvent.BAD_VALUE: "a by-value argument is out of its type's range",
        }[self]

    @property
    def code(self) -> int:
        """The event's number in generated code: its position in this enum."""
        return list(RejectEvent).index(self)


# --------------------------------------------------------------------------
# ABIs
# --------------------------------------------------------------------------


class Convention(PyEnum):
    REGISTERS = "registers"
    BLOCK = "block"


class Split64(PyEnum):
    LOW_FIRST = "low_first"
    HIGH_FIRST = "high_first"


@dataclass(frozen=True)
class Abi:
    """How a hypercall travels on one architecture under one hypervisor."""

    name: str
    arch: Architecture
    doc: str
    trap: TrapInstruction
    trap_immediate: int | None
    number_register: str
    convention: Convention
    argument_registers: tuple[str, ...]  # REGISTERS: the argument registers, in order
    block_register: str | None  # BLOCK: the register holding the block's address
    block_words: int  # BLOCK: argument words the block holds
    block_counted: bool  # BLOCK: the block starts with the number of argument words
    return_register: str
    word_bits: int
    split64: Split64
    clobbers: tuple[str, ...]
    default: bool
    location: Location

    @property
    def word_bytes(self) -> int:
        return self.word_bits // 8

    @property
    def max_argument_words(self) -> int:
        if self.convention is Convention.REGISTERS:
            return len(self.argument_registers)
        return self.block_words

    @property
    def trap_assembly(self) -> str:
        return self.trap.assembly(self.trap_immediate, self.arch.immediate_prefix)

    @property
    def is_block(self) -> bool:
        return self.convention is Convention.BLOCK

    @property
    def block_header_words(self) -> int:
        return 1 if self.block_counted else 0

    @property
    def trap_registers(self) -> tuple[str, ...]:
        """The registers a trapped call is read from: the number's, then the block's or the
        arguments'. An emulator reads them in one go and hands their values over in this order."""
        rest = (self.block_register,) if self.block_register else self.argument_registers
        return (self.number_register, *rest)

    @property
    def block_bytes(self) -> int:
        """BLOCK: the size of the whole argument block, count word included."""
        return self.word_bytes * (self.block_header_words + self.block_words)

    @property
    def abi_spelling(self) -> str:
        if self.is_block:
            args = f"block {self.block_register} max {self.block_words}"
            args += " counted" if self.block_counted else ""
        else:
            args = "registers " + " ".join(self.argument_registers)
        return (
            f"abi {self.name} for {self.arch.name}: trap {self.trap_assembly}; "
            f"number {self.number_register}; arguments {args}; return {self.return_register}; "
            f"word {self.word_bits}; split64 {self.split64.value}"
            + (f"; clobbers {' '.join(self.clobbers)}" if self.clobbers else "")
        )


# --------------------------------------------------------------------------
# Hypercalls
# --------------------------------------------------------------------------


class Direction(PyEnum):
    IN = "in"
    OUT = "out"
    INOUT = "inout"
    # A struct the hypervisor keeps using after the call: checked at the call, neither read
    # nor written by the dispatcher; the handler gets its address.
    SHARED = "shared"

    @property
    def reads_guest(self) -> bool:
        """The dispatcher copies the data in before the handler runs."""
        return self in (Direction.IN, Direction.INOUT)

    @property
    def writes_guest(self) -> bool:
        """The dispatcher writes what the handler hands back."""
        return self in (Direction.OUT, Direction.INOUT)


class LengthKind(PyEnum):
    ONE = "one"  # a pointer to a single element
    CONSTANT = "constant"
    PARAM = "param"  # the element count is another (by-value) parameter
    NUL = "nul"  # NUL-terminated, at most `count` bytes including the terminator


@dataclass(frozen=True)
class Length:
    kind: LengthKind
    count: int = 1  # ONE / CONSTANT: elements; NUL: maximum bytes
    param: str | None = None

    @property
    def spelling(self) -> str:
        if self.kind is LengthKind.ONE:
            return ""
        if self.kind is LengthKind.NUL:
            return f"[nul {self.count}]"
        return f"[{self.param if self.kind is LengthKind.PARAM else self.count}]"


class WordPart(PyEnum):
    WHOLE = "whole"
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True)
class ArgWord:
    """One machine word of a call's arguments: a whole parameter or half of one."""

    index: int
    param: Param
    part: WordPart


@dataclass(frozen=True)
class Param:
    name: str
    type: Type
    doc: str
    location: Location
    direction: Direction | None = None  # None: passed by value
    length: Length | None = None  # pointers only
    nullable: bool = False

    @property
    def is_pointer(self) -> bool:
        return self.direction is not None

    @property
    def is_shared(self) -> bool:
        """A pointer the hypervisor keeps after the call; its handler gets the address."""
        return self.direction is Direction.SHARED

    @property
    def is_code(self) -> bool:
        r = self.type.resolved
        return isinstance(r, Scalar) and r.kind is ScalarKind.CODE

    @property
    def is_string(self) -> bool:
        return self.length is not None and self.length.kind is LengthKind.NUL

    @property
    def element_size(self) -> int:
        return self.type.size

    @property
    def fixed_byte_size(self) -> int | None:
        """The byte size of the pointed-to area when it does not depend on another argument."""
        if self.length is None or self.length.kind is LengthKind.PARAM:
            return None
        if self.length.kind is LengthKind.NUL:
            return self.length.count
        return self.length.count * self.element_size

    @property
    def words_needed(self) -> int:
        """Argument words on a 32-bit ABI: pointers take one, 64-bit values two."""
        return 1 if self.is_pointer or self.type.size <= 4 else 2

    @property
    def value_check(self) -> ValueCheck | None:
        """The range a by-value argument's word must lie in, if any narrower than the word."""
        if self.is_pointer:
            return None
        r = self.type.resolved
        if isinstance(r, Enum):
            return ValueCheck(r.signed, r.value_ranges)
        if isinstance(r, Scalar) and r.kind is not ScalarKind.CODE and r.size < 4:
            return ValueCheck(r.signed, ((r.min, r.max),))
        return None

    @property
    def abi_spelling(self) -> str:
        prefix = f"{self.direction.value} " if self.direction else ""
        suffix = " nullable" if self.nullable else ""
        length = self.length.spelling if self.length else ""
        return f"{prefix}{self.name}: {self.type.abi_ref}{length}{suffix}"


@dataclass(frozen=True)
class ValueCheck:
    """Allowed values of a by-value argument as [low, high] runs, read signed or not."""

    signed: bool
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Return:
    name: str
    type: Type
    doc: str

    @property
    def is_status(self) -> bool:
        r = self.type.resolved
        return isinstance(r, Enum) and r.is_status


class FastPathRole(PyEnum):
    """The part a call plays in the trap-free fast path (Xen's upcall mask).

    Once the ``SHARE`` call has shared the vCPU area, the guest keeps its virtual
    interrupt level in the area's ``enabled`` word, and the other roles' calls read
    and write it instead of trapping; enabling traps only when ``pending`` says a
    line is waiting.
    """

    SHARE = "share"
    ENABLE = "enable"
    DISABLE = "disable"
    GET_LEVEL = "get_level"
    SET_LEVEL = "set_level"

    @property
    def meaning(self) -> str:
        """How a guest makes the call once the area is shared, in one line."""
        return {
            FastPathRole.SHARE: "traps; once it succeeds the virtual interrupt level lives in the "
            "shared area, and the other fast-path calls stop trapping",
            FastPathRole.ENABLE: "sets `enabled` to 1 and traps only if `pending` is set",
            FastPathRole.DISABLE: "sets `enabled` to 0 and returns its previous value, without "
                                  "a trap",
            FastPathRole.GET_LEVEL: "returns `enabled`, without a trap",
            FastPathRole.SET_LEVEL: "sets `enabled` to 1 or 0 and traps only when it enables with "
            "`pending` set",
        }[self]


class RuleAction(PyEnum):
    REFUSE = "refuse"  # the call is answered with the rule's status; the service never runs
    END = "end"  # the call ends the caller's program (its main thread); it does not return


@dataclass(frozen=True)
class ValueRule:
    """``when PARAM = VALUE ...``: how the hypervisor treats one value of an enum argument
    before its service runs (POK refuses IDLE from a partition, and NORMAL ends the calling
    main thread)."""

    param: str
    value: EnumMember
    action: RuleAction
    status: EnumMember | None  # REFUSE: what the call answers
    doc: str

    @property
    def ends(self) -> bool:
        return self.action is RuleAction.END

    @property
    def spelling(self) -> str:
        answer = f" {self.status.name}" if self.status is not None else ""
        return f"when {self.param} = {self.value.name} {self.action.value}{answer}"


@dataclass(frozen=True)
class StatusAnswer:
    """``answer STATUS as OTHER``: this call's own number for a status its service gives
    (POK's full queue is FULL to a send, and its empty one EMPTY to a receive)."""

    status: EnumMember
    answer: EnumMember
    doc: str

    @property
    def spelling(self) -> str:
        return f"answer {self.status.name} as {self.answer.name}"


@dataclass(frozen=True)
class Hypercall:
    name: str
    number: int
    doc: str
    params: tuple[Param, ...]
    returns: Return | None  # None: the call does not return (noreturn)
    fastpath: FastPathRole | None  # its role in the trap-free fast path, if it has one
    features: tuple[str, ...]
    location: Location
    rules: tuple[ValueRule, ...] = ()
    answers: tuple[StatusAnswer, ...] = ()

    @property
    def noreturn(self) -> bool:
        return self.returns is None

    @property
    def pointer_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_pointer)

    @property
    def out_params(self) -> tuple[Param, ...]:
        """The out and inout pointers: what the handler hands back to the guest."""
        return tuple(p for p in self.params if p.direction is not None and p.direction.writes_guest)

    @cached_property
    def words(self) -> tuple[ArgWord, ...]:
        words: list[ArgWord] = []
        for param in self.params:
            if param.words_needed == 1:
                words.append(ArgWord(len(words), param, WordPart.WHOLE))
            else:
                words.append(ArgWord(len(words), param, WordPart.LOW))
                words.append(ArgWord(len(words), param, WordPart.HIGH))
        return tuple(words)

    @property
    def word_count(self) -> int:
        return len(self.words)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def shared_param(self) -> Param | None:
        """The first ``shared`` parameter, if any (the area of a ``fastpath share`` call)."""
        return next((p for p in self.params if p.is_shared), None)

    @property
    def plain_signature(self) -> str:
        """The signature without the fast-path role: what the trap itself carries."""
        params = ", ".join(p.abi_spelling for p in self.params)
        result = "noreturn" if self.returns is None else self.returns.type.abi_ref
        return f"{self.name}({params}) -> {result}"

    @property
    def signature(self) -> str:
        """The canonical ABI signature recorded in the lock file, fast-path role included."""
        role = f" fastpath {self.fastpath.value}" if self.fastpath else ""
        spellings = [r.spelling for r in self.rules] + [a.spelling for a in self.answers]
        rules = "".join(f"; {spelling}" for spelling in spellings)
        return self.plain_signature + role + rules

    def rules_for(self, param: Param) -> tuple[ValueRule, ...]:
        """The ``when`` rules on one parameter: the dispatcher applies them beside its decode."""
        return tuple(r for r in self.rules if r.param == param.name)


@dataclass(frozen=True)
class ReservedRange:
    first: int
    last: int
    doc: str
    location: Location

    def __contains__(self, number: int) -> bool:
        return self.first <= number <= self.last


@dataclass(frozen=True)
class VcpuAreaLayout:
    """Where the words of the shared vCPU area lie: byte offsets of its u32 words."""

    struct: Struct
    enabled: int  # the level: 1 while virtual interrupts are enabled
    pending: int  # 1 while a line waits that enabling would deliver
    ticks: int | None  # the virtual timer's tick count, if the area has one

    @property
    def size(self) -> int:
        return self.struct.size

    @property
    def words(self) -> tuple[tuple[str, int], ...]:
        """(name, offset) of each word the area has, in the order above."""
        named = (("enabled", self.enabled), ("pending", self.pending), ("ticks", self.ticks))
        return tuple((name, offset) for name, offset in named if offset is not None)


# --------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Interface:
    name: str
    version: int
    doc: str
    source: str
    status: Enum
    rejects: dict[RejectEvent, EnumMember]
    types: tuple[Alias | Enum | Struct, ...]
    abis: tuple[Abi, ...]
    reserved: tuple[ReservedRange, ...]
    hypercalls: tuple[Hypercall, ...]  # sorted by number
    locations: dict[str, Location] = field(default_factory=dict, compare=False)

    @property
    def prefix(self) -> str:
        return self.name

    def location_of(self, key: str) -> Location:
        """Where ``interface``, ``type:NAME`` or ``hypercall:NAME`` is declared."""
        return self.locations.get(key) or self.locations["interface"]

    @property
    def architectures(self) -> tuple[Architecture, ...]:
        seen: dict[str, Architecture] = {}
        for abi in self.abis:
            seen.setdefault(abi.arch.name, abi.arch)
        return tuple(seen.values())

    def abis_for(self, arch: Architecture) -> tuple[Abi, ...]:
        return tuple(a for a in self.abis if a.arch.name == arch.name)

    def architecture(self, name: str) -> Architecture | None:
        """The architecture called ``name``, if an ABI of the interface targets it."""
        return next((a for a in self.architectures if a.name == name), None)

    def max_argument_words(self, arch: Architecture) -> int:
        """The most argument words any ABI of ``arch`` carries."""
        return max(a.max_argument_words for a in self.abis_for(arch))

    def hypercall(self, name: str) -> Hypercall | None:
        return next((h for h in self.hypercalls if h.name == name), None)

    def fastpath_call(self, role: FastPathRole | str) -> Hypercall | None:
        """The call that plays ``role`` (a FastPath or its name) in the fast path, if any."""
        wanted = FastPathRole(role)
        return next((h for h in self.hypercalls if h.fastpath is wanted), None)

    @property
    def fastpath_calls(self) -> tuple[Hypercall, ...]:
        """The calls with a fast-path role, by number."""
        return tuple(h for h in self.hypercalls if h.fastpath)

    @property
    def vcpu_area(self) -> Struct | None:
        """The struct the ``fastpath share`` call shares, if the interface has one."""
        share = self.fastpath_call(FastPathRole.SHARE)
        param = share.shared_param if share else None
        return param.type.resolved if param and isinstance(param.type.resolved, Struct) else None

    @property
    def vcpu_area_layout(self) -> VcpuAreaLayout | None:
        """The offsets of the shared area's words, if the interface shares one."""
        area = self.vcpu_area
        if area is None:
            return None
        offsets = {f.name: f.offset for f in area.fields}
        return VcpuAreaLayout(area, offsets["enabled"], offsets["pending"], offsets.get("ticks"))

    @property
    def success_status(self) -> EnumMember | None:
        """The status code of value 0: what a fast-path call returns when it did not trap."""
        return next((m for m in self.status.members if m.value == 0), None)

    @property
    def word_counts(self) -> tuple[int, ...]:
        """The distinct argument-word counts of the calls: one trap stub each."""
        return tuple(sorted({h.word_count for h in self.hypercalls}))

    def default_abi(self, arch: Architecture) -> Abi:
        group = self.abis_for(arch)
        return next((a for a in group if a.default), group[0])

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(sorted({f for h in self.hypercalls for f in h.features}))

    @property
    def rejections(self) -> tuple[tuple[RejectEvent, EnumMember], ...]:
        """Every rejection event, in RejectEvent order, with the status it returns."""
        return tuple((event, self.rejects[event]) for event in RejectEvent)

    @cached_property
    def abi_facts(self) -> dict[str, object]:
        """Everything two sides of the interface must agree on, and nothing else."""
        return {
            "interface": self.name,
            "version": self.version,
            "status": {m.name: m.value for m in self.status.members},
            "rejects": {e.value: m.name for e, m in sorted(self.rejects.items(), key=_key)},
            "types": {t.name: t.abi_spelling for t in self.types},
            "abis": [a.abi_spelling for a in self.abis],
            "reserved": [[r.first, r.last] for r in self.reserved],
            "hypercalls": {str(h.number): h.signature for h in self.hypercalls},
        }

    @property
    def ends_programs(self) -> bool:
        """Whether a call's ``when ... end`` rule can end the caller's program."""
        return any(r.ends for h in self.hypercalls for r in h.rules)

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the ABI facts; docs and comments do not change it."""
        canonical = json.dumps(self.abi_facts, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _key(item: tuple[RejectEvent, EnumMember]) -> str:
    return item[0].value
