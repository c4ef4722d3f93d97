"""One partition: its own Unicorn CPU whose address space is exactly [0, size).

That is the view POK's segments give a partition: an access outside it cannot
reach another partition (each has its own Unicorn instance) and faults, which
becomes a health-monitor event for this partition only. The CPU runs at the
user privilege level, as on POK (``pvgen.emulator.arch``): a privileged instruction
faults the same way. Loading follows POK's loader: each PT_LOAD's file bytes at
its address, zero fill to p_memsz, the stack at the top, entry e_entry.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache, partial
from typing import Any

from pvgen.emulator.arch import Backend, Fault
from pvgen.emulator.cpu import (
    Cpu,
    GuestMemory,
    RegisterBatch,
    TrapRegisters,
    Watchdog,
    error_text,
    fault_of,
)
from pvgen.emulator.effects import StopReason
from pvgen.emulator.errors import EmulatorError
from pvgen.emulator.fastpath import FastPath
from pvgen.emulator.timer import VirtualTimer
from pvgen.emulator.vcpu import VirtualCpu
from pvgen.image.elfview import ElfError, read_view
from pvgen.image.manifest import PartitionEntry
from pvgen.upcall import CONVENTIONS


class Mode(Enum):
    """ARINC 653 operating modes; IDLE is for good (nothing here restarts an idle partition)."""

    IDLE = "IDLE"
    COLD_START = "COLD_START"
    WARM_START = "WARM_START"
    NORMAL = "NORMAL"


@dataclass
class Stop:
    """Why a partition's CPU stopped before its time ran out (None: it ran out of time)."""

    reason: StopReason
    fault: Fault | None = None
    detail: str = ""


@dataclass(frozen=True)
class LoadSegment:
    address: int
    data: bytes
    memsz: int


def load_segments(entry: PartitionEntry, elf: bytes) -> list[LoadSegment]:
    """The PT_LOAD segments of a partition ELF, checked against the partition's size (the
    manifest's reader has checked the ranges a warm start keeps)."""
    try:
        view = read_view(entry.name, elf)
    except ElfError as exc:
        raise EmulatorError(
            f"pvgen: error: partition '{entry.name}' in the image: {exc.message}"
        ) from None
    segments = []
    for seg in view.segments:
        if seg.type != "PT_LOAD":
            continue
        if seg.vaddr + seg.memsz > entry.memory_size or seg.filesz > seg.memsz:
            raise EmulatorError(
                f"pvgen: error: partition '{entry.name}': a segment at {seg.vaddr:#x} does not "
                f"fit its {entry.memory_size} bytes"
            )
        data = elf[seg.offset : seg.offset + seg.filesz]
        segments.append(LoadSegment(seg.vaddr, data, seg.memsz))
    return segments


@dataclass(frozen=True)
class Trap:
    """How the ABI's hypercall trap reaches the hypervisor on this CPU."""

    interrupt: int  # the interrupt number Unicorn reports for the trap instruction
    registers: tuple[str, ...]  # what the dispatcher reads (the ABI's trap_registers)
    result_register: str


@dataclass
class Waiting:
    """A hypercall the partition is blocked in (a queuing port call with a timeout): its trap
    registers, to serve it again, and when its wait runs out (None: never)."""

    registers: tuple[int, ...]
    deadline_ns: int | None


# What the module gives a partition to serve its traps: the result word to hand back, or
# NO_RESULT to leave the registers alone.
TrapHandler = Callable[["Partition"], int]
# Makes the upcall fast path of a new CPU, given a register's Unicorn id by name.
FastPathFactory = Callable[[Cpu, Callable[[str], int]], FastPath]


class Partition:
    """A partition's CPU, memory and ARINC state, restartable from the image."""

    def __init__(
        self, entry: PartitionEntry, elf: bytes, arch: Backend, trap: Trap, on_trap: TrapHandler,
        hypercall_cost: int | None, fast_path: FastPathFactory | None = None,
    ) -> None:
        """`hypercall_cost`: the instructions a hypercall takes from the window's budget in
        deterministic mode; None in wall-clock mode, where windows have no budget.
        `fast_path`: gives each of its CPUs the upcall fast path (None: none)."""
        self.entry = entry
        self.name = entry.name
        self.arch = arch
        self.segments = load_segments(entry, elf)
        self.on_trap = on_trap
        self.hypercall_cost = hypercall_cost
        self._fast_path = fast_path
        self.fast: FastPath | None = None  # the current CPU's
        self.hypercalls = 0  # served by CPUs the partition no longer has
        self.services: Any = None  # its hypercalls' handlers, which the module attaches
        self.vcpu = VirtualCpu(CONVENTIONS[arch.name])
        self.timer = VirtualTimer(entry.timer_period_ns or 0, 0)  # started at boot
        self.ticks_before = (0, 0)  # ticks due and raised by timers and vCPUs it no longer has
        self.waiting: Waiting | None = None  # a hypercall it is blocked in
        self.owed_ns = 0  # time a hypercall took that its segments have not yet held
        self.mode = Mode.COLD_START
        self.program_ended = False  # a `when ... end` rule ended its program (POK's NORMAL)
        self.start_condition = "NORMAL_START"
        self.restarts = 0
        self.stop: Stop | None = None
        self._registers: dict[str, int] = {}  # name -> Unicorn constant, filled on first use
        self._batches: dict[tuple[str, ...], RegisterBatch] = {}  # the CPU's, by names
        self._pc = arch.register(arch.pc)
        self._trap = TrapRegisters(trap.interrupt, tuple(map(self._constant, trap.registers)),
                                   self._constant(trap.result_register))
        self.cpu = self._create_cpu()
        self.memory = GuestMemory(self.cpu)

    # -- life cycle ---------------------------------------------------------------
    def _create_cpu(self) -> Cpu:
        self._batches = {}
        cpu = Cpu(self.arch, self.entry.memory_size, self._trap, partial(self.on_trap, self),
                  self._on_fault, self.hypercall_cost)
        for segment in self.segments:
            # the rest of the memory is zero
            cpu.load(segment.address, segment.data)
        cpu.write(self._pc, self.entry.entry)
        cpu.write(self.arch.register(self.arch.sp), self.entry.memory_size)
        if self._fast_path is not None:
            self.fast = self._fast_path(cpu, self._constant)
        return cpu

    def restart(self, warm: bool, condition: str, at: int) -> None:
        """Reload the partition from the image at virtual time `at`: a fresh CPU and
        memory, as at boot, and its configured timer period starting over from `at`.

        Like POK, a cold start keeps nothing of the partition. A warm start keeps the
        sections its configuration names (Warm_Start_Keeps: none by default), their
        bytes written over the image's before the partition starts again; otherwise it
        differs only in the start condition and mode the partition then reads.
        """
        kept = [(r.address, bytes(self.cpu.ram[r.address : r.address + r.size]))
                for r in self.entry.warm_start_keeps] if warm else []
        self.hypercalls += self.cpu.hypercalls
        self.ticks_before = (self.ticks_due, self.ticks_raised)
        self.timer = VirtualTimer(self.entry.timer_period_ns or 0, at)
        self.cpu.close()
        self.cpu = self._create_cpu()
        self.memory = GuestMemory(self.cpu)
        for address, data in kept:
            self.memory.write(address, data)
        self.vcpu = VirtualCpu(self.vcpu.convention)
        self.waiting = None
        self.owed_ns = 0
        self.mode = Mode.WARM_START if warm else Mode.COLD_START
        self.program_ended = False
        self.start_condition = condition
        self.restarts += 1
        self.stop = None

    @property
    def served(self) -> int:
        """Hypercalls served since boot, across restarts."""
        return self.hypercalls + self.cpu.hypercalls

    @property
    def ticks_due(self) -> int:
        """Timer ticks fallen and counted since boot, across restarts."""
        return self.ticks_before[0] + self.timer.due

    @property
    def ticks_raised(self) -> int:
        """Timer ticks raised on its virtual CPUs (line 0 requested) since boot."""
        return self.ticks_before[1] + self.vcpu.ticks

    @property
    def runnable(self) -> bool:
        """It has something to run: not IDLE, and its program has not ended."""
        return self.mode is not Mode.IDLE and not self.program_ended

    # -- running ---------------------------------------------------------------
    def run_counted(self, instructions: int) -> Stop | None:
        """Run at most this many instructions (deterministic mode), or until the CPU stops."""
        budget = self.cpu.budget
        assert budget is not None, "a counted run needs a CPU made with a budget"
        budget.left, budget.exhausted = instructions, 0
        stop = self._run()
        return self._halted() if stop is None and not budget.exhausted else stop

    def run_for(self, watchdog: Watchdog, ns: int) -> Stop | None:
        """Run for this much host time (wall-clock mode), or until the CPU stops."""
        watchdog.arm(self.cpu, ns)
        try:
            stop = self._run()
            return self._halted() if stop is None and not watchdog.fired else stop
        finally:
            watchdog.disarm()

    def _run(self) -> Stop | None:
        self.stop = None
        pc = self.cpu.read(self._pc)
        thumb = self.arch.thumb_bit
        if thumb is not None and self.read_register(thumb[0]) & thumb[1]:
            pc |= 1  # go on in Thumb state
        status = self.cpu.run(pc)
        if status != 0 and self.stop is None:  # the first fault is the one reported
            self.stop = Stop(StopReason.FAULT, fault_of(status),
                             f"{error_text(status)} at {pc_hex(self)}")
        return self.stop

    def _halted(self) -> Stop:
        """The CPU stopped by itself, neither its time over nor a hook asking: it waits for
        an interrupt (ARM's wfi in user mode), which only the hypervisor may do."""
        self.stop = Stop(StopReason.FAULT, Fault.ILLEGAL_REQUEST,
                         f"wait for interrupt (the CPU halted) at {pc_hex(self)}")
        return self.stop

    def halt(self, reason: StopReason, fault: Fault | None = None, detail: str = "") -> None:
        """Called from inside a hook: stop the CPU at once, saying why."""
        self.stop = Stop(reason, fault, detail)
        self.cpu.stop()

    def _on_fault(self, number: int) -> None:
        detail = f"CPU exception {number} at {pc_hex(self)}"
        address = self.arch.fault_addresses.get(number)
        if address is not None:
            detail += f" accessing {self.read_register(address):#x}"
        self.halt(StopReason.FAULT, self.arch.fault(number), detail)

    def _constant(self, name: str) -> int:
        constant = self._registers.get(name)
        if constant is None:
            constant = self._registers[name] = self.arch.register(name)
        return constant

    def read_register(self, name: str) -> int:
        return self.cpu.read(self._constant(name))

    def write_register(self, name: str, value: int) -> None:
        self.cpu.write(self._constant(name), value)

    # pvgen.emulator.vcpu.GuestCpu: an upcall's registers move in one batch, its frame lives in
    # the partition's memory
    @property
    def memory_size(self) -> int:
        return self.entry.memory_size

    def _batch(self, names: tuple[str, ...]) -> RegisterBatch:
        batch = self._batches.get(names)
        if batch is None:
            batch = self._batches[names] = self.cpu.batch([self._constant(n) for n in names])
        return batch

    def read_registers(self, names: tuple[str, ...]) -> list[int]:
        return self._batch(names).read()

    def write_registers(self, names: tuple[str, ...], values: Sequence[int]) -> None:
        self._batch(names).write(values)

    def read_word(self, address: int) -> int:
        word: int = _WORD.unpack_from(self.cpu.ram, address)[0]
        return word

    def write_word(self, address: int, value: int) -> None:
        self.memory.write(address, _WORD.pack(value))

    def read_words(self, address: int, count: int) -> list[int]:
        return list(_words(count).unpack_from(self.cpu.ram, address))

    def write_words(self, address: int, values: Sequence[int]) -> None:
        self.memory.write(address, _words(len(values)).pack(*values))


@cache
def _words(count: int) -> struct.Struct:
    """`count` little-endian 32-bit words."""
    return struct.Struct(f"<{count}I")


_WORD = _words(1)


def pc_hex(partition: Partition) -> str:
    return f"{partition.read_register(partition.arch.pc):#x}"
