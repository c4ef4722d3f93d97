"""The structures the native pieces share with Python, described once.

Each structure is its members in order, each with its C type (as the native sources spell
it) and its ctypes type. From this one description come both sides: ``c_header`` is the
C definition the native library is compiled with (``pvshared.h``, written at its build),
and ``SharedStruct.fields`` the ``_fields_`` of the ctypes classes of
``pvgen.emulator.native``. The header ends with a ``_Static_assert`` per member that its
offset in C is the one ctypes computed, and per structure that their sizes agree: a layout
the two would read differently does not compile.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TRAP_REGISTERS = 8  # the trap registers a hypercall's dispatcher reads at most
FRAME_REGISTERS = 20  # the registers an upcall frame holds at most
BLOCK_CACHE = 4096  # translated blocks whose instruction count the budget keeps (a power of 2)


@dataclass(frozen=True)
class Member:
    name: str
    c_type: str  # as C declares it: "int64_t", "struct pv_fast *", "pv_ctl_fn"
    ctype: Any  # its ctypes type (for an array, the element's)
    count: str = ""  # an array of this many: one of CONSTANTS' names
    doc: str = ""


# The array bounds the C side names, with their values.
CONSTANTS = {"PV_TRAP_REGISTERS": TRAP_REGISTERS, "PV_FRAME_REGISTERS": FRAME_REGISTERS,
             "PV_BLOCK_CACHE": BLOCK_CACHE,
             "PV_ARGUMENT_REGISTERS": 2}  # an upcall's arguments: the line and the frame


@dataclass(frozen=True)
class SharedStruct:
    tag: str  # struct TAG in C
    doc: str
    members: tuple[Member, ...]

    def fields(self) -> tuple[tuple[str, Any], ...]:
        """The ctypes ``_fields_``."""
        return tuple((m.name, m.ctype * CONSTANTS[m.count] if m.count else m.ctype)
                     for m in self.members)

    def c_definition(self) -> str:
        lines = [f"/* {self.doc} */", f"struct {self.tag} {{"]
        for m in self.members:
            bound = f"[{m.count}]" if m.count else ""
            space = "" if m.c_type.endswith("*") else " "
            comment = f" /* {m.doc} */" if m.doc else ""
            lines.append(f"    {m.c_type}{space}{m.name}{bound};{comment}")
        return "\n".join([*lines, "};"])


_I32, _U32, _I64, _U64 = ctypes.c_int32, ctypes.c_uint32, ctypes.c_int64, ctypes.c_uint64
_POINTER = ctypes.c_void_p

WRITTEN = SharedStruct("pv_written", (
    "[first, last) of guest memory the hypervisor wrote since the translations there were "
    "last dropped (first > last: none). Python and the fast path write guest memory directly, "
    "which Unicorn does not see; the trap hook and the next run drop what it had translated "
    "there."), (
    Member("first", "uint32_t", _U32),
    Member("last", "uint32_t", _U32),
))


class WrittenHeader(ctypes.Structure):
    _fields_ = WRITTEN.fields()


BLOCK = SharedStruct("pv_block", "One translated block the budget has counted.", (
    Member("pc", "uint64_t", _U64),
    Member("size", "uint32_t", _U32),
    Member("icount", "uint32_t", _U32, doc="0: empty"),
))


class BlockHeader(ctypes.Structure):
    _fields_ = BLOCK.fields()


BUDGET = SharedStruct("pv_budget", (
    "A CPU's instruction budget (pvclock.c): Python reads and writes the fields up to `fast` "
    "(pvgen.emulator.clock.InstructionClock)."), (
    Member("left", "int64_t", _I64, doc="instructions the CPU may still execute"),
    Member("executed", "uint64_t", _U64, doc="instructions executed since it was made"),
    Member("at", "int64_t", _I64, doc="the running segment began at virtual time `at`"),
    Member("granted", "int64_t", _I64, doc="with this many instructions"),
    Member("until", "int64_t", _I64, doc="and ends at this virtual time"),
    Member("exhausted", "int64_t", _I64,
           doc="1 once the hook stopped the CPU for want of budget (Python clears it)"),
    Member("fast", "struct pv_fast *", _POINTER, doc="the upcall fast path, or NULL"),
    Member("ctl", "pv_ctl_fn", _POINTER),
    Member("stop", "pv_stop_fn", _POINTER),
    Member("ran", "uint8_t *", _POINTER, doc=(
        "a byte per page of the partition: 1 once a block there ran (a write there may have "
        "to drop translations; one elsewhere never does)")),
    Member("pages", "uint32_t", _U32),
    Member("cache", "struct pv_block", BlockHeader, count="PV_BLOCK_CACHE"),
))

TRAP = SharedStruct("pv_trap", (
    "The hypercall trap's hook (pvclock.c): Python reads and writes the fields up to "
    "`written` (pvgen.emulator.cpu)."), (
    Member("values", "uint32_t", _U32, count="PV_TRAP_REGISTERS",
           doc="the trap registers, read at each hypercall"),
    Member("served", "uint64_t", _U64, doc="hypercalls served"),
    Member("budget", "struct pv_budget *", _POINTER,
           doc="charged `cost` instructions per hypercall, or NULL"),
    Member("cost", "int64_t", _I64),
    Member("fast", "struct pv_fast *", _POINTER, doc="the upcall fast path, or NULL"),
    Member("written", "struct pv_written", WrittenHeader),
    Member("registers", "int32_t", _I32, count="PV_TRAP_REGISTERS"),
    Member("count", "int32_t", _I32),
    Member("result_register", "int32_t", _I32),
    Member("trap", "uint32_t", _U32),
    Member("faulted", "int32_t", _I32,
           doc="1 once the CPU raised an exception: it serves nothing more"),
    Member("read", "pv_reg_fn", _POINTER),
    Member("write", "pv_reg_fn", _POINTER),
    Member("serve", "pv_serve_fn", _POINTER, doc="Python: the result word, or -1 for none"),
    Member("ctl", "pv_ctl_fn", _POINTER),
))

UNRAISED = SharedStruct("pv_unraised", (
    "An instruction Unicorn lets through where the CPU would raise an exception at the "
    "partition's privilege level (pvgen.emulator.arch.Unraised): its hook raises `exception` "
    "through the trap hook. Allocated by Python."), (
    Member("trap", "struct pv_trap *", _POINTER),
    Member("exception", "uint32_t", _U32),
))

FAST = SharedStruct("pv_fast", (
    "The upcall fast path of one partition (pvupcall.c), allocated and filled by Python "
    "(pvgen.emulator.fastpath). Python arms it when the partition is in the steady state, "
    "and takes back what it did (reconciles) whenever Python looks at the partition again."), (
    Member("armed", "int32_t", _I32),
    Member("phase", "int32_t", _I32,
           doc="of the cycle in progress: PV_FAST_IDLE, _DELIVERED, _ACKED"),
    Member("taken", "uint64_t", _U64, doc="ticks taken natively since Python last reconciled"),
    Member("last_due", "int64_t", _I64, doc="the virtual time the last of them fell at"),
    Member("period", "int64_t", _I64, doc="of the partition's timer, ns"),
    Member("next_due", "int64_t", _I64, doc="its next tick"),
    Member("end", "int64_t", _I64, doc="the window's end"),
    Member("mips", "int64_t", _I64, doc="the virtual CPU rate"),
    Member("frame", "uint32_t", _U32, doc="the frame of the cycle in progress"),
    Member("ticks", "uint32_t", _U32, doc="the tick count the shared area shows"),
    Member("handler", "uint32_t", _U32, doc="the upcall entry point"),
    Member("area_enabled", "uint32_t", _U32, doc="guest addresses of the shared area's words"),
    Member("area_pending", "uint32_t", _U32),
    Member("area_ticks", "uint32_t", _U32),
    Member("timer_line", "uint32_t", _U32),
    Member("ram", "uint8_t *", _POINTER, doc="the partition's memory, [0, memory_size)"),
    Member("written", "struct pv_written *", _POINTER,
           doc="the trap's: what the fast path writes is added"),
    Member("memory_size", "uint32_t", _U32),
    Member("ack_number", "uint32_t", _U32, doc="irq_ack and irq_return, in the ABI's numbering"),
    Member("return_number", "uint32_t", _U32),
    Member("ok", "uint32_t", _U32, doc="the definition's OK status"),
    Member("arguments_in_block", "int32_t", _I32,
           doc="1: in a block the second trap register points at"),
    Member("block_bytes", "int32_t", _I32,
           doc="its size: the dispatcher's bound on the block's address"),
    Member("block_counted", "int32_t", _I32, doc="1: it starts with the count of argument words"),
    Member("frame_count", "int32_t", _I32,
           doc="the upcall convention (pvgen.upcall), registers as Unicorn ids"),
    Member("frame_registers", "int32_t", _I32, count="PV_FRAME_REGISTERS"),
    Member("status_index", "int32_t", _I32),
    Member("sp_index", "int32_t", _I32),
    Member("pc_register", "int32_t", _I32),
    Member("argument_registers", "int32_t", _I32, count="PV_ARGUMENT_REGISTERS",
           doc="line, frame; -1: stack arguments"),
    Member("return_register", "int32_t", _I32,
           doc="holds return_address on entry; -1: on the stack"),
    Member("return_address", "uint32_t", _U32),
    Member("level_bit", "uint32_t", _U32),
    Member("level_bit_enables", "int32_t", _I32),
    Member("restored_status_bits", "uint32_t", _U32),
    Member("scratch", "uint32_t", _U32),
    Member("stack_alignment", "uint32_t", _U32),
    Member("call_bias", "uint32_t", _U32),
    Member("read", "pv_reg_fn", _POINTER),
    Member("write", "pv_reg_fn", _POINTER),
))


class BudgetHeader(ctypes.Structure):
    _fields_ = BUDGET.fields()


class TrapHeader(ctypes.Structure):
    _fields_ = TRAP.fields()


class UnraisedHeader(ctypes.Structure):
    _fields_ = UNRAISED.fields()


class FastHeader(ctypes.Structure):
    _fields_ = FAST.fields()


# Each shared structure with its ctypes class, in the order C defines them.
SHARED: tuple[tuple[SharedStruct, type[ctypes.Structure]], ...] = (
    (WRITTEN, WrittenHeader), (BLOCK, BlockHeader), (BUDGET, BudgetHeader), (TRAP, TrapHeader),
    (UNRAISED, UnraisedHeader), (FAST, FastHeader))


def c_header(shared: Sequence[tuple[SharedStruct, type[ctypes.Structure]]] = SHARED) -> str:
    """pvshared.h: the constants, the structures, and the checks that C lays each out as its
    ctypes class does."""
    lines = ["/* Generated by pvgen from pvgen/emulator/native/layout.py: do not edit. */",
             "#ifndef PVSHARED_H", "#define PVSHARED_H", ""]
    lines += [f"#define {name} {value}" for name, value in CONSTANTS.items()]
    lines += ["", *(f"struct {struct.tag};" for struct, _ in shared), ""]
    for struct, _ in shared:
        lines += [struct.c_definition(), ""]
    for struct, cls in shared:
        for member in struct.members:
            offset = getattr(cls, member.name).offset
            lines.append(f"_Static_assert(offsetof(struct {struct.tag}, {member.name}) == "
                         f"{offset}, \"{struct.tag}.{member.name}: C and ctypes disagree\");")
        lines.append(f"_Static_assert(sizeof(struct {struct.tag}) == {ctypes.sizeof(cls)}, "
                     f"\"{struct.tag}: C and ctypes disagree on its size\");")
    return "\n".join([*lines, "", "#endif", ""])
