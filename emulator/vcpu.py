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

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from pvgen.upcall import UpcallConvention, UpcallEntry

TIMER_LINE = 0  # the virtual timer's line (hypercalls.def: "line 0 is the virtual timer")
WORD_MASK = 0xFFFFFFFF  # the shared area's words are 32 bits wide: its tick count wraps


class GuestCpu(Protocol):
    """What delivering an upcall needs of a partition's CPU."""

    def read_register(self, name: str) -> int: ...

    def write_register(self, name: str, value: int) -> None: ...

    def read_word(self, address: int) -> int: ...

    def write_word(self, address: int, value: int) -> None: ...


class AreaLayout(NamedTuple):
    """Where the words of a shared vCPU area lie (the generated dispatcher's ``VCPU_AREA``)."""

    size: int
    enabled: int  # byte offsets of 32-bit words
    pending: int
    ticks: int | None


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
    area: SharedArea | None = None  # the shared vCPU area, once the guest shared one
    _level: bool = False  # the level while no area is shared: a partition starts disabled

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
        if self.area.ticks is not None:
            cpu.write_word(self.area.ticks, self.ticks & WORD_MASK)
        self._publish()

    def _publish(self) -> None:
        """Keep the area's pending word true to whether enabling would deliver a line; every
        change to what may be delivered ends here."""
        if self.area is not None:
            self.area.cpu.write_word(self.area.pending, int(self._deliverable() is not None))

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
        if self.area is not None and self.area.ticks is not None:
            self.area.cpu.write_word(self.area.ticks, self.ticks & WORD_MASK)
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
        """The line enabling would deliver: the lowest pending, unmasked one not in service."""
        if self.handler is None:
            return None
        lines = [line for line in self.pending
                 if line in self.unmasked and line not in self.in_service]
        return min(lines, default=None)

    # -- entering and leaving upcalls -----------------------------------------------------
    def deliver(self, cpu: GuestCpu, line: int, resumes_enabled: bool = True) -> UpcallEntry:
        """Enter the handler for `line` from the CPU's current context; the frame records the
        level the context resumes at: enabled (it was, or the line would not have come),
        or disabled for a line let in by irq_flash."""
        assert self.handler is not None
        c = self.convention
        context = {r: cpu.read_register(r) for r in c.frame_registers}
        status = context[c.status] & ~c.level_bit
        context[c.status] = status | (c.level_bit if c.level_bit_enables == resumes_enabled
                                      else 0)
        entry = c.enter(context[c.sp], line)
        for register in c.frame_registers:
            cpu.write_word(entry.frame + c.offset(register), context[register])
        for address, value in entry.stack_words:
            cpu.write_word(address, value)
        for register, value in entry.registers.items():
            cpu.write_register(register, value)
        cpu.write_register(c.sp, entry.stack_pointer)
        cpu.write_register(c.pc, self.handler)
        self.enabled = False
        self.pending.discard(line)
        self.in_service.add(line)
        self.frames.append(entry.frame)
        self._publish()
        return entry

    def resume(self, cpu: GuestCpu) -> bool:
        """Restore the innermost frame's context (the guest may have edited it); False if
        there is no upcall to return from."""
        if not self.frames:
            return False
        c = self.convention
        frame = self.frames.pop()
        words = {r: cpu.read_word(frame + c.offset(r)) for r in c.frame_registers}
        for register, value in words.items():
            if register != c.status:
                cpu.write_register(register, value)
        status = cpu.read_register(c.status) & ~c.restored_status_bits
        cpu.write_register(c.status, status | (words[c.status] & c.restored_status_bits))
        self.enabled = c.level_enabled(words[c.status])
        return True

