"""How the hypervisor enters a partition's upcall handler, per architecture.

A virtual interrupt reaches a guest as an *upcall*: the hypervisor writes the
interrupted context as a frame on the guest's own stack, enters the handler
registered with ``vcpu_register`` with the line number (and the frame's
address), and the handler ends with ``irq_return``, which restores the context
from that frame. pvgen/bsp_templates/README.md states the convention in prose; this
module is its one executable statement. The C side (the ``pvrt_upcall_frame``
struct the runtimes are compiled with) is rendered from it, and the test
harness (later the emulator) delivers upcalls with it, so the two cannot drift.

The frame lives in guest memory, not in the hypervisor, so that a guest can
edit it before ``irq_return`` (the RTEMS BSP redirects the resumption point to
run a thread dispatch on the interrupted thread's stack) and so that nothing
is lost if a guest switches stacks while the frame is live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

WORD = 4  # every architecture with a convention is 32-bit

# The return address a handler is entered with: outside every partition, so that a
# handler that returns instead of calling irq_return faults (and the health monitor
# hears of it) rather than running on from some address of the partition.
RETURN_ADDRESS = 0xFFFFFFF0

# The live upcall frames a partition may have, on every hypervisor: a handler that
# acknowledges its line and enables interrupts without returning nests the next upcall, and
# the frames it never returns from would otherwise be kept without bound. One more line stays
# pending until a frame is returned from.
MAX_NESTING = 8


@dataclass(frozen=True)
class UpcallEntry:
    """Where one delivery puts things: the handler's stack pointer and the frame."""

    stack_pointer: int
    frame: int
    stack_words: tuple[tuple[int, int], ...]  # (address, value) written below the frame
    registers: Mapping[str, int]  # argument registers set on entry, beside pc and sp


@dataclass(frozen=True)
class UpcallConvention:
    """The upcall entry and frame of one architecture (see pvgen/bsp_templates/README.md)."""

    arch: str  # a name of pvgen.arch.ARCHITECTURES
    frame_registers: tuple[str, ...]  # the frame's words, lowest address first
    pc: str
    sp: str
    status: str  # the status register: its level bit is the virtual interrupt level
    level_bit: int  # the bit of ``status`` that holds the virtual interrupt level
    level_bit_enables: bool  # True: the bit set means enabled (x86 IF); False: disabled (ARM I)
    restored_status_bits: int  # the bits of ``status`` irq_return takes from the frame
    argument_registers: tuple[str, ...]  # empty: line and frame are stack arguments
    return_register: str | None  # holds RETURN_ADDRESS on entry; None: it is on the stack
    stack_alignment: int  # of the handler's stack pointer, plus ``call_bias``
    call_bias: int  # bytes a call pushes (x86's return address), 0 where none
    scratch: int = 16  # bytes just below the interrupted sp that a frame never covers

    @property
    def return_address(self) -> int:
        """The address a handler returns to if it returns (for the templates)."""
        return RETURN_ADDRESS

    @property
    def frame_size(self) -> int:
        return WORD * len(self.frame_registers)

    def offset(self, register: str) -> int:
        """The byte offset of a register's word in the frame."""
        return WORD * self.frame_registers.index(register)

    def enter(self, interrupted_sp: int, line: int) -> UpcallEntry:
        """Place a delivery of ``line`` below the interrupted stack pointer.

        Below the ``scratch`` bytes go the frame and, on stack-argument
        architectures, the call (RETURN_ADDRESS, line, frame address), so
        that the handler starts exactly as if it had been called as
        ``handler(line, frame)`` with a correctly aligned stack.
        """
        stack_arguments = not self.argument_registers
        call_bytes = 3 * WORD if stack_arguments else 0
        top = interrupted_sp - self.scratch - self.frame_size - call_bytes + self.call_bias
        sp = (top & -self.stack_alignment) - self.call_bias
        frame = sp + call_bytes
        if stack_arguments:
            words = ((sp, RETURN_ADDRESS), (sp + WORD, line), (sp + 2 * WORD, frame))
            return UpcallEntry(sp, frame, words, {})
        registers = dict(zip(self.argument_registers, (line, frame), strict=True))
        if self.return_register is not None:
            registers[self.return_register] = RETURN_ADDRESS
        return UpcallEntry(sp, frame, (), registers)

    def level_enabled(self, status: int) -> bool:
        """Whether a status word's level bit says virtual interrupts are enabled."""
        return bool(status & self.level_bit) == self.level_bit_enables


CONVENTIONS: dict[str, UpcallConvention] = {
    c.arch: c
    for c in (
        # The frame is a `pushal` image (so a guest can `popal` it) followed by eip and eflags.
        UpcallConvention(
            arch="x86",
            frame_registers=("edi", "esi", "ebp", "esp", "ebx", "edx", "ecx", "eax",
                             "eip", "eflags"),
            pc="eip",
            sp="esp",
            status="eflags",
            level_bit=0x200,
            level_bit_enables=True,
            restored_status_bits=0x0CD5,  # CF PF AF ZF SF DF OF: never IOPL, never IF itself
            argument_registers=(),
            return_register=None,
            stack_alignment=16,
            call_bias=WORD,
        ),
        UpcallConvention(
            arch="arm",
            frame_registers=(*(f"r{i}" for i in range(13)), "sp", "lr", "pc", "cpsr"),
            pc="pc",
            sp="sp",
            status="cpsr",
            level_bit=0x80,
            level_bit_enables=False,
            restored_status_bits=0xF80F0020,  # N Z C V Q, GE[3:0], T: never the mode bits
            argument_registers=("r0", "r1"),
            return_register="lr",
            stack_alignment=8,
            call_bias=0,
        ),
    )
}


def upcall_convention(arch: str) -> UpcallConvention:
    """Template filter: the convention of an architecture (the POK kernel side delivers with it)."""
    return CONVENTIONS[arch]


FILTERS: dict[str, Callable[..., Any]] = {"upcall_convention": upcall_convention}
