"""A partition's virtual CPU: the interrupt state of seed 001 and the 2014 upcall flow.

The rules: a partition enables and disables its virtual interrupts as a whole
and masks lines one by one; a line raised for it stays pending until it may be
delivered; a pending line is delivered as soon as the partition enables, or
unmasks it. Delivery is the upcall of ``pvgen.upcall``: the interrupted context
goes as a frame on the guest's own stack, the handler registered with
``vcpu_register`` is entered with the line (and the frame), interrupts are
disabled, and ``irq_return`` restores the context from the frame exactly. A
line is not delivered again until the guest acknowledges it (``irq_ack``); the
lowest pending line goes first.

The level can live in guest memory instead: once the partition shares its vCPU
area (``vcpu_share``, Xen's ``vcpu_info``), its ``enabled`` word is the level, which
the guest's fast-path stubs read and write without a hypercall, and the hypervisor
keeps the area's ``pending`` word saying whether enabling would deliver something
(so the guest traps to enable only then) and its ``ticks`` word counting timer ticks.

This module holds the state and the decisions; the CPU it enters and resumes is
anything with registers by name and words of memory, so the emulator and the
tests' single-partition harness share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from pvgen.emulator.contract import AreaLayout
from pvgen.upcall import MAX_NESTING, WORD, UpcallConvention, UpcallEntry

TIMER_LINE = 0  # the virtual timer's line (hypercalls.def: "line 0 is the virtual timer")
WORD_MASK = 0xFFFFFFFF  # the shared area's words are 32 bits wide: its tick count wraps


class UpcallDoesNotFit(Exception):
    """The upcall's frame or call would lie outside the partition (the guest's stack pointer
    is wild): nothing was written, and the line is still pending. A memory violation."""


class GuestCpu(Protocol):
    """What delivering an upcall needs of a partition's CPU: its registers by name, a few
    at a time (one call each way per delivery and return), and words of its memory."""

    @property
    def memory_size(self) -> int:
        """The partition's memory is [0, memory_size)."""
        ...

    def read_registers(self, names: tuple[str, ...]) -> list[int]: ...

    def write_registers(self, names: tuple[str, ...], values: Sequence[int]) -> None:
        """Set the registers in the order named."""

    def read_word(self, address: int) -> int: ...

    def write_word(self, address: int, value: int) -> None: ...

    def read_words(self, address: int, count: int) -> list[int]: ...

    def write_words(self, address: int, values: Sequence[int]) -> None: ...


@dataclass(frozen=True)
class _FramePlan:
    """A convention's frame as a delivery and a return move it: registers in one batch."""

    registers: tuple[str, ...]  # the frame's, lowest address first
    status: int  # the status register's index among them
    sp: int
    entered: tuple[str, ...]  # what a delivery sets: the entry's argument registers, sp, pc
    restored: tuple[str, ...]  # the order irq_return writes them in: the status word last
    order: tuple[int, ...]  # of `restored`, the frame index of each


@cache
def _frame_plan(c: UpcallConvention) -> _FramePlan:
    registers = c.frame_registers
    restored = (*(r for r in registers if r != c.status), c.status)
    arguments = tuple(c.enter(1 << 20, 0).registers)  # the same names for every entry
    return _FramePlan(registers, registers.index(c.status), registers.index(c.sp),
                      (*arguments, c.sp, c.pc), restored,
                      tuple(registers.index(r) for r in restored))


@dataclass(frozen=True)
class SharedArea:
    """A vCPU area a partition shared: its words, in the partition's memory."""

    cpu: GuestCpu
    enabled: int  # the addresses of its words
    pending: int
    ticks: int | None

    @classmethod
    def at(cls, cpu: GuestCpu, address: int, layout: AreaLayout) -> SharedArea:
        ticks = None if layout.ticks is None else address + layout.ticks
        return cls(cpu, address + layout.enabled, address + layout.pending, ticks)


@dataclass
class VirtualCpu:
    """One partition's virtual interrupt state (reset when the partition restarts)."""

    convention: UpcallConvention
    handler: int | None = None  # the upcall entry point; None: nothing is delivered
    requested: set[int] = field(default_factory=set)  # lines routed to this partition
    unmasked: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)
    in_service: set[int] = field(default_factory=set)  # delivered, not acknowledged yet
    frames: list[int] = field(default_factory=list)  # the live upcall frames, innermost last
    ticks: int = 0  # virtual timer ticks raised for the partition (line TIMER_LINE requested)
    delivered: int = 0  # upcalls entered
    area: SharedArea | None = None  # the shared vCPU area, once the guest shared one
    _level: bool = False  # the level while no area is shared: a partition starts disabled
    _plan: _FramePlan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._plan = _frame_plan(self.convention)

    # -- the level: in the shared area once there is one ---------------------------------
    @property
    def enabled(self) -> bool:
        if self.area is None:
            return self._level
        return self.area.cpu.read_word(self.area.enabled) != 0

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if self.area is None:
            self._level = value
        else:
            self.area.cpu.write_word(self.area.enabled, int(value))

    def share(self, cpu: GuestCpu, address: int, layout: AreaLayout) -> None:
        """From now on the level lives in the area at `address`; it starts as the level,
        pending state and tick count the hypervisor has now, so nothing is lost."""
        level = self.enabled
        self.area = SharedArea.at(cpu, address, layout)
        self.enabled = level
        self._publish_ticks()
        self._publish()

    def _publish(self) -> None:
        """Keep the area's pending word true to whether enabling would deliver a line; every
        change to what may be delivered ends here."""
        if self.area is not None:
            self.area.cpu.write_word(self.area.pending, int(self._deliverable() is not None))

    def _publish_ticks(self) -> None:
        """Keep the area's tick count (if it has one) equal to the ticks raised so far."""
        if self.area is not None and self.area.ticks is not None:
            self.area.cpu.write_word(self.area.ticks, self.ticks & WORD_MASK)

    # -- the guest's requests -----------------------------------------------------------
    def raise_line(self, line: int) -> bool:
        """A line fires: pending if the partition requested it (else dropped, False)."""
        if line not in self.requested:
            return False
        self.pending.add(line)
        self._publish()
        return True

    def tick(self, count: int = 1) -> bool:
        """`count` periods of the virtual timer ended: one pending timer line, every tick counted
        (for the clock driver), or nothing if the partition did not request the line."""
        if TIMER_LINE not in self.requested:
            return False
        self.ticks += count
        self._publish_ticks()
        self.pending.add(TIMER_LINE)
        self._publish()
        return True

    def register(self, handler: int | None) -> None:
        """Set (or, with None, forget) the upcall handler."""
        self.handler = handler
        self._publish()

    def request(self, line: int) -> None:
        self.requested.add(line)  # masked until the guest unmasks it

    def detach(self, line: int) -> None:
        self.requested.discard(line)
        self.unmasked.discard(line)
        self.pending.discard(line)
        self._publish()

    def enable(self) -> None:
        self.enabled = True

    def disable(self) -> bool:
        """Disable delivery; the previous level, for ``set_level``."""
        previous, self.enabled = self.enabled, False
        return previous

    def set_level(self, enabled: bool) -> None:
        self.enabled = enabled

    def mask(self, line: int) -> None:
        self.unmasked.discard(line)
        self._publish()

    def unmask(self, line: int) -> None:
        self.unmasked.add(line)
        self._publish()

    def acknowledge(self, line: int) -> None:
        """The guest has handled the line: it may be delivered again."""
        self.in_service.discard(line)
        self._publish()

    def flash(self) -> int | None:
        """irq_flash: leave interrupts disabled, and say which line a brief enable would
        deliver now (delivered with ``resumes_enabled=False``), if any."""
        self.enabled = False
        return self._deliverable()

    def ready(self) -> int | None:
        """The line to deliver now, if any: the lowest one that may be."""
        if not self.pending or self.handler is None or not self.enabled:
            return None
        return self._deliverable()

    def _deliverable(self) -> int | None:
        """The line enabling would deliver: the lowest pending, unmasked one not in service,
        unless MAX_NESTING frames are live."""
        if self.handler is None or len(self.frames) >= MAX_NESTING:
            return None
        lowest = None
        for line in self.pending:  # most often none or one: no list, no min()
            if (line in self.unmasked and line not in self.in_service
                    and (lowest is None or line < lowest)):
                lowest = line
        return lowest

    # -- entering and leaving upcalls -----------------------------------------------------
    def deliver(self, cpu: GuestCpu, line: int, resumes_enabled: bool = True) -> UpcallEntry:
        """Enter the handler for `line` from the CPU's current context; the frame records the
        level the context resumes at: enabled (it was, or the line would not have come),
        or disabled for a line let in by irq_flash. UpcallDoesNotFit, before anything is
        written, if the frame would leave the partition."""
        assert self.handler is not None
        c, plan = self.convention, self._plan
        context = cpu.read_registers(plan.registers)
        status = context[plan.status] & ~c.level_bit
        context[plan.status] = status | (c.level_bit if c.level_bit_enables == resumes_enabled
                                         else 0)
        entry = c.enter(context[plan.sp], line)
        lowest = min(entry.stack_pointer, entry.frame, *(a for a, _ in entry.stack_words))
        if lowest < 0 or entry.frame + c.frame_size > cpu.memory_size:
            raise UpcallDoesNotFit(
                f"the upcall frame for line {line} does not fit the partition (stack pointer "
                f"{context[plan.sp]:#x})"
            )
        below = entry.stack_words
        if below and below[0][0] + WORD * len(below) == entry.frame:  # the call, then the frame
            cpu.write_words(below[0][0], [value for _, value in below] + context)
        else:
            cpu.write_words(entry.frame, context)
            for address, value in below:
                cpu.write_word(address, value)
        cpu.write_registers(plan.entered,
                            (*entry.registers.values(), entry.stack_pointer, self.handler))
        self.enabled = False
        self.pending.discard(line)
        self.in_service.add(line)
        self.frames.append(entry.frame)
        self.delivered += 1
        self._publish()
        return entry

    def resume(self, cpu: GuestCpu) -> bool:
        """Restore the innermost frame's context (the guest may have edited it); False if
        there is no upcall to return from."""
        if not self.frames:
            return False
        c, plan = self.convention, self._plan
        words = cpu.read_words(self.frames.pop(), len(plan.registers))
        framed = words[plan.status]
        [status] = cpu.read_registers((c.status,))
        words[plan.status] = (status & ~c.restored_status_bits) | (framed
                                                                   & c.restored_status_bits)
        cpu.write_registers(plan.restored, [words[i] for i in plan.order])
        self.enabled = c.level_enabled(framed)
        return True
