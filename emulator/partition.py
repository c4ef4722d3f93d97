"""One partition: its own Unicorn CPU whose address space is exactly [0, size).

That is the view POK's segments give a partition: an access outside it cannot
reach another partition (each has its own Unicorn instance) and faults, which
becomes a health-monitor event for this partition only. Loading follows POK's
loader: each PT_LOAD's file bytes at its address, zero fill to p_memsz, the
stack at the top, entry e_entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from unicorn import (
    UC_ERR_FETCH_PROT,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_PROT,
    UC_ERR_READ_UNALIGNED,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_INTR,
    Uc,
    UcError,
)

from emulator.arch import Backend, Fault
from emulator.errors import EmulatorError
from pvgen.image.elfview import ElfError, read_view
from pvgen.image.manifest import PartitionEntry

_MEMORY_ERRORS = {
    UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED, UC_ERR_READ_PROT,
    UC_ERR_WRITE_PROT, UC_ERR_FETCH_PROT, UC_ERR_READ_UNALIGNED,
}


class Mode(Enum):
    """ARINC 653 operating modes, plus STOPPED: ended for good (shutdown, or IDLE by HM)."""

    IDLE = "IDLE"
    COLD_START = "COLD_START"
    WARM_START = "WARM_START"
    NORMAL = "NORMAL"


@dataclass
class Stop:
    """Why a partition's CPU stopped before its time ran out (None: it ran out of time)."""

    reason: str  # "idle" | "mode" | "fault" | "shutdown" | "stop"
    fault: Fault | None = None
    detail: str = ""


@dataclass(frozen=True)
class Segment:
    address: int
    data: bytes
    memsz: int


def load_segments(entry: PartitionEntry, elf: bytes) -> list[Segment]:
    """The PT_LOAD segments of a partition ELF, checked against the partition's size."""
    try:
        view = read_view(entry.name, elf)
    except ElfError as exc:
        raise EmulatorError(
            f"error: partition '{entry.name}' in the image: {exc.message}"
        ) from None
    segments = []
    for seg in view.segments:
        if seg.type != "PT_LOAD":
            continue
        if seg.vaddr + seg.memsz > entry.memory_size or seg.filesz > seg.memsz:
            raise EmulatorError(
                f"error: partition '{entry.name}': a segment at {seg.vaddr:#x} does not fit its "
                f"{entry.memory_size} bytes"
            )
        segments.append(Segment(seg.vaddr, elf[seg.offset : seg.offset + seg.filesz], seg.memsz))
    return segments


class GuestMemory:
    """The partition's memory as the generated dispatcher sees it."""

    def __init__(self, uc: Uc, size: int) -> None:
        self.uc = uc
        self._size = size

    @property
    def size(self) -> int:
        return self._size

    def read(self, addr: int, n: int) -> bytes:
        return bytes(self.uc.mem_read(addr, n))

    def write(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, data)


# What the module gives a partition to serve its traps.
TrapHandler = Callable[["Partition"], None]


class Partition:
    """A partition's CPU, memory and ARINC state, restartable from the image."""

    def __init__(
        self, entry: PartitionEntry, elf: bytes, arch: Backend, trap_interrupt: int,
        on_trap: TrapHandler,
    ) -> None:
        self.entry = entry
        self.name = entry.name
        self.arch = arch
        self.segments = load_segments(entry, elf)
        self.trap_interrupt = trap_interrupt
        self.on_trap = on_trap
        self.mode = Mode.COLD_START
        self.start_condition = "NORMAL_START"
        self.restarts = 0
        self.stop: Stop | None = None
        self._registers: dict[str, int] = {}  # name -> Unicorn constant, filled on first use
        self._pc = arch.register(arch.pc)
        self.uc = self._create_cpu()
        self.memory = GuestMemory(self.uc, entry.memory_size)

    # -- life cycle ---------------------------------------------------------------
    def _create_cpu(self) -> Uc:
        uc = Uc(self.arch.uc_arch, self.arch.uc_mode)
        uc.mem_map(0, self.entry.memory_size)
        for segment in self.segments:
            uc.mem_write(segment.address, segment.data)  # the rest of the map is zero
        uc.reg_write(self._pc, self.entry.entry)
        uc.reg_write(self.arch.register(self.arch.sp), self.entry.memory_size)
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        return uc

    def restart(self, warm: bool, condition: str) -> None:
        """Reload the partition from the image: a fresh CPU and memory, as at boot.

        POK keeps nothing of a partition across a restart; a warm start differs only
        in the start condition and mode the partition then reads.
        """
        self.uc = self._create_cpu()
        self.memory = GuestMemory(self.uc, self.entry.memory_size)
        self.mode = Mode.WARM_START if warm else Mode.COLD_START
        self.start_condition = condition
        self.restarts += 1
        self.stop = None

    @property
    def runnable(self) -> bool:
        return self.mode is not Mode.IDLE

    # -- running ---------------------------------------------------------------
    def run(self, instructions: int | None, timeout_us: int = 0) -> Stop | None:
        """Run until the budget (instructions, or wall-clock µs) is spent or the CPU stops."""
        self.stop = None
        pc = self.uc.reg_read(self._pc)
        thumb = self.arch.thumb_bit
        if thumb is not None and self.read_register(thumb[0]) & thumb[1]:
            pc |= 1  # go on in Thumb state
        try:
            if instructions is None:
                self.uc.emu_start(pc, -1 & 0xFFFFFFFF, timeout=timeout_us)
            else:
                self.uc.emu_start(pc, -1 & 0xFFFFFFFF, count=instructions)
        except UcError as exc:
            self.stop = Stop("fault", _fault_of(exc.errno), f"{exc} at {pc_hex(self)}")
        return self.stop

    def preempt(self) -> None:
        """Called from inside a hook: stop the CPU at once, as when its budget is spent."""
        self.uc.emu_stop()

    def halt(self, reason: str, fault: Fault | None = None, detail: str = "") -> None:
        """Called from inside a hook: stop the CPU at once, saying why."""
        self.stop = Stop(reason, fault, detail)
        self.uc.emu_stop()

    def _on_interrupt(self, uc: Uc, intno: int, _user: Any) -> None:
        if intno == self.trap_interrupt:
            self.on_trap(self)
            return
        self.halt("fault", self.arch.fault(intno), f"CPU exception {intno} at {pc_hex(self)}")

    def _constant(self, name: str) -> int:
        constant = self._registers.get(name)
        if constant is None:
            constant = self._registers[name] = self.arch.register(name)
        return constant

    def read_register(self, name: str) -> int:
        value: int = self.uc.reg_read(self._constant(name))
        return value

    def write_register(self, name: str, value: int) -> None:
        self.uc.reg_write(self._constant(name), value)


def pc_hex(partition: Partition) -> str:
    return f"{partition.uc.reg_read(partition.arch.register(partition.arch.pc)):#x}"


def _fault_of(errno: int) -> Fault:
    if errno in _MEMORY_ERRORS:
        return Fault.MEMORY_VIOLATION
    if errno == UC_ERR_INSN_INVALID:
        return Fault.ILLEGAL_REQUEST
    return Fault.HARDWARE_FAULT
