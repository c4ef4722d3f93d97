"""One partition on Unicorn, with just enough hypervisor to run the guest runtimes.

Hypercalls trap into the generated dispatcher (``fetch_and_dispatch``) and reach
the handler methods of ``PartitionRun``, which keep a small virtual machine
state: console bytes, virtual time and timer, interrupt level, lines requested,
masked, pending and in service. Upcalls are delivered exactly as pvgen.upcall
(and pvgen/bsp_templates/README.md) says: the interrupted context goes as a frame on
the guest's stack, the handler is entered with the line, and ``irq_return``
restores the context from the frame. The interrupt state and the upcall itself
are the emulator's own (``pvgen.emulator.vcpu``), so this harness and the emulator
cannot disagree about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from elftools.elf.elffile import ELFFile
from unicorn import (
    UC_HOOK_INTR,
    Uc,
)

from pvgen.emulator.arch import backend
from pvgen.emulator.vcpu import VirtualCpu
from pvgen.model import Abi
from pvgen.upcall import CONVENTIONS, WORD, UpcallEntry

GARBAGE = 0xA5  # what memory holds before the program runs: .bss must be cleared by it


# The interrupt number Unicorn reports for each trap instruction.
ARM_TRAPS = {"svc": 2, "hvc": 11}


class UnicornMemory:
    """The GuestMemory the dispatcher reads and writes: the partition [0, size)."""

    def __init__(self, uc: Uc, size: int) -> None:
        self.uc = uc
        self.size = size

    def read(self, addr: int, n: int) -> bytes:
        return bytes(self.uc.mem_read(addr, n))

    def write(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, data)


class PartitionRun:
    """Load a partition ELF at 0 and run it until it ends (mode IDLE, stop, shutdown)."""

    def __init__(
        self, abi: Abi, dispatch: ModuleType, elf: Path, memory_size: int, idle_periods: int = 3,
    ) -> None:
        self.cpu = backend(abi.arch.name)
        self.convention = CONVENTIONS[abi.arch.name]
        self.abi = abi
        self.dispatch = dispatch
        self.trap_number = _trap_number(abi)
        self.idle_periods = idle_periods  # timer periods that pass while the partition idles
        self.uc = Uc(self.cpu.uc_arch, self.cpu.uc_mode)
        self.uc.mem_map(0, memory_size)
        self.uc.mem_write(0, bytes([GARBAGE]) * memory_size)
        self.memory = UnicornMemory(self.uc, memory_size)
        self.memory_size = memory_size  # pvgen.emulator.vcpu.GuestCpu
        self.entry, self.symbols = self._load(elf)
        # What the guest did
        self.console = bytearray()
        self.calls: list[tuple[str, tuple[int, ...]]] = []
        self.rejected: list[tuple[int, str]] = []
        self.trap_sps: list[int] = []
        self.deliveries: list[tuple[int, UpcallEntry]] = []
        self.ended: tuple[str, int] | None = None
        self.fault: str | None = None
        # The virtual CPU and timer
        self.vcpu = VirtualCpu(self.convention)
        self.time = 0
        self.period = 0
        self.next_tick = 0
        self._resumed = False
        self.uc.hook_add(UC_HOOK_INTR, self._on_trap)

    def _load(self, elf_path: Path) -> tuple[int, dict[str, int]]:
        """Copy each PT_LOAD's file bytes only: [filesz, memsz) keeps the garbage."""
        with elf_path.open("rb") as f:
            elf = ELFFile(f)
            for segment in elf.iter_segments():
                if segment["p_type"] == "PT_LOAD":
                    self.uc.mem_write(segment["p_vaddr"], segment.data())
            symtab = elf.get_section_by_name(".symtab")
            symbols = {s.name: s["st_value"] for s in symtab.iter_symbols()}  # type: ignore[union-attr]
            return elf.header["e_entry"], symbols

    def run(self, instructions: int = 500_000) -> None:
        self.uc.emu_start(self.entry, 0xFFFFFFFF, count=instructions)
        assert self.fault is None, self.fault
        assert self.ended is not None, f"the partition did not end; console: {self.console!r}"
        assert not self.rejected, f"rejected hypercalls: {self.rejected}"

    def read32(self, address: int) -> int:
        return int.from_bytes(self.uc.mem_read(address, WORD), "little")

    # ------------------------------------------------------------------
    # Registers and traps
    # ------------------------------------------------------------------

    def _register(self, name: str) -> int:
        constant = self.cpu.register(name)
        return constant

    def reg(self, name: str) -> int:
        value: int = self.uc.reg_read(self._register(name))
        return value

    def set_reg(self, name: str, value: int) -> None:
        self.uc.reg_write(self._register(name), value)

    def _on_trap(self, uc: Uc, intno: int, _user: object) -> None:
        if intno != self.trap_number:
            self.fault = f"CPU exception {intno} at pc {self.reg(self.convention.pc):#x}"
            uc.emu_stop()
            return
        self.trap_sps.append(self.reg(self.convention.sp))
        self._resumed = False
        values = [self.reg(name) for name in self.abi.trap_registers]
        result = self.dispatch.fetch_and_dispatch(self.abi.name, values, self.memory, self)
        if not self._resumed:
            self.set_reg(self.abi.return_register, result)
        if self.ended is None:
            self._deliver_pending()

    # ------------------------------------------------------------------
    # Upcalls (pvgen.upcall)
    # ------------------------------------------------------------------

    def _deliver_pending(self) -> None:
        line = self.vcpu.ready()
        if line is not None:
            self.deliveries.append((line, self.vcpu.deliver(self, line)))

    # GuestCpu, for pvgen.emulator.vcpu
    def read_registers(self, names: tuple[str, ...]) -> list[int]:
        return [self.reg(name) for name in names]

    def write_registers(self, names: tuple[str, ...], values: Sequence[int]) -> None:
        for name, value in zip(names, values, strict=True):
            self.set_reg(name, value)

    def read_word(self, address: int) -> int:
        return self.read32(address)

    def write_word(self, address: int, value: int) -> None:
        self.uc.mem_write(address, value.to_bytes(WORD, "little"))

    def read_words(self, address: int, count: int) -> list[int]:
        return [self.read32(address + WORD * i) for i in range(count)]

    def write_words(self, address: int, values: Sequence[int]) -> None:
        self.uc.mem_write(address, b"".join(v.to_bytes(WORD, "little") for v in values))

    # ------------------------------------------------------------------
    # Hypercall handlers (names and parameters as in hypercalls.def)
    # ------------------------------------------------------------------

    def _record(self, name: str, *args: int) -> None:
        self.calls.append((name, args))

    def _end(self, how: str, code: int) -> int:
        self._record(how, code)
        self.ended = (how, code)
        self.uc.emu_stop()
        return 0

    def hypercall_rejected(self, number: int, event: Any) -> None:
        self.rejected.append((number, event.name))

    def console_write(self, buf: bytes, len: int) -> int:
        self._record("console_write", len)
        self.console += buf
        return 0

    def get_time(self) -> tuple[int, int]:
        self._record("get_time")
        return 0, self.time

    def timer_set_period(self, period: int) -> int:
        self._record("timer_set_period", period)
        self.period = period
        self.next_tick = self.time + period
        return 0

    def irq_request(self, line: int) -> int:
        self._record("irq_request", line)
        self.vcpu.request(line)
        return 0

    def irq_unmask(self, line: int) -> int:
        self._record("irq_unmask", line)
        self.vcpu.unmask(line)
        return 0

    def irq_mask(self, line: int) -> int:
        self._record("irq_mask", line)
        self.vcpu.mask(line)
        return 0

    def irq_enable(self) -> int:
        self._record("irq_enable")
        self.vcpu.enable()
        return 0

    def irq_disable(self) -> int:
        self._record("irq_disable")
        return int(self.vcpu.disable())

    def irq_set_level(self, enabled: int) -> int:
        self._record("irq_set_level", enabled)
        self.vcpu.set_level(bool(enabled))
        return 0

    def irq_ack(self, line: int) -> int:
        self._record("irq_ack", line)
        self.vcpu.acknowledge(line)
        return 0

    def vcpu_register(self, handler: int) -> int:
        self._record("vcpu_register", handler)
        self.vcpu.register(handler)
        return 0

    def vcpu_share(self, area: int) -> int:
        self._record("vcpu_share", area)
        self.vcpu.share(self, area, self.dispatch.VCPU_AREA)
        return 0

    def irq_return(self) -> None:
        self._record("irq_return")
        self._resumed = self.vcpu.resume(self)

    def idle(self) -> int:
        """Time passes while the partition waits: a few timer periods, ticks coalesced."""
        self._record("idle")
        if self.period:
            self.time += self.idle_periods * self.period
            if self.time >= self.next_tick:
                fallen = (self.time - self.next_tick) // self.period + 1
                self.next_tick += fallen * self.period
                self.vcpu.tick(fallen)
        return 0

    def partition_set_mode(self, mode: int) -> int:
        return self._end("partition_set_mode", mode)

    def stop(self, code: int) -> None:
        self._end("stop", code)

    def shutdown(self) -> None:
        self._end("shutdown", 0)


def _trap_number(abi: Abi) -> int:
    """The interrupt number Unicorn reports for an ABI's trap instruction."""
    if abi.arch.name == "x86":
        assert abi.trap_immediate is not None
        return abi.trap_immediate
    return ARM_TRAPS[abi.trap.mnemonic]
