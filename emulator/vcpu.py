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

This module holds the state and the decisions; the CPU it enters and resumes is
anything with registers by name and words of memory, so the emulator and the
tests' single-partition harness share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pvgen.upcall import UpcallConvention, UpcallEntry


class GuestCpu(Protocol):
    """What delivering an upcall needs of a partition's CPU."""

    def read_register(self, name: str) -> int: ...

    def write_register(self, name: str, value: int) -> None: ...

    def read_word(self, address: int) -> int: ...

    def write_word(self, address: int, value: int) -> None: ...


@dataclass
class VirtualCpu:
    """One partition's virtual interrupt state (reset when the partition restarts)."""

    convention: UpcallConvention
    handler: int | None = None  # the upcall entry point; None: nothing is delivered
    enabled: bool = False  # the virtual interrupt level: a partition starts disabled
    requested: set[int] = field(default_factory=set)  # lines routed to this partition
    unmasked: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)
    in_service: set[int] = field(default_factory=set)  # delivered, not acknowledged yet
    frames: list[int] = field(default_factory=list)  # the live upcall frames, innermost last

    # -- the guest's requests -----------------------------------------------------------
    def raise_line(self, line: int) -> bool:
        """A line fires: pending if the partition requested it (else dropped, False)."""
        if line not in self.requested:
            return False
        self.pending.add(line)
        return True

    def request(self, line: int) -> None:
        self.requested.add(line)  # masked until the guest unmasks it

    def detach(self, line: int) -> None:
        self.requested.discard(line)
        self.unmasked.discard(line)
        self.pending.discard(line)

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

    def unmask(self, line: int) -> None:
        self.unmasked.add(line)

    def acknowledge(self, line: int) -> None:
        """The guest has handled the line: it may be delivered again."""
        self.in_service.discard(line)

    def ready(self) -> int | None:
        """The line to deliver now, if any: the lowest one that may be."""
        if self.handler is None or not self.enabled:
            return None
        lines = [line for line in self.pending
                 if line in self.unmasked and line not in self.in_service]
        return min(lines, default=None)

    # -- entering and leaving upcalls -----------------------------------------------------
    def deliver(self, cpu: GuestCpu, line: int) -> UpcallEntry:
        """Enter the handler for `line` from the CPU's current context."""
        assert self.handler is not None
        c = self.convention
        context = {r: cpu.read_register(r) for r in c.frame_registers}
        # The frame records the level the interrupted code ran at: enabled.
        status = context[c.status] & ~c.level_bit
        context[c.status] = status | (c.level_bit if c.level_bit_enables else 0)
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

