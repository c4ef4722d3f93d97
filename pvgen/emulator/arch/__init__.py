"""What the emulator knows about each CPU it runs partitions on."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from pvgen.emulator.errors import EmulatorError

if TYPE_CHECKING:
    from unicorn import Uc


class Fault(Enum):
    """CPU exceptions, named by the ARINC 653 error they become."""

    NUMERIC_ERROR = "NUMERIC_ERROR"  # divide error
    ILLEGAL_REQUEST = "ILLEGAL_REQUEST"  # invalid or privileged instruction
    MEMORY_VIOLATION = "MEMORY_VIOLATION"  # an access outside the partition
    HARDWARE_FAULT = "HARDWARE_FAULT"  # any other exception


@dataclass(frozen=True)
class Unraised:
    """An instruction Unicorn executes (or hands to a hook) where the real CPU, at a
    partition's privilege level, raises an exception: the emulator hooks it and raises
    that exception itself."""

    instruction: int  # Unicorn's UC_*_INS_* id, for a UC_HOOK_INSN
    shape: Literal["in", "out", "plain"]  # the hook's signature: a port read, write, other
    exception: int  # the interrupt number the CPU would raise


@dataclass(frozen=True)
class Backend:
    """One CPU: how to create it in Unicorn, name its registers and read its interrupts."""

    name: str
    uc_arch: int
    uc_mode: int
    registers: ModuleType  # unicorn's *_const module
    register_prefix: str  # e.g. "UC_X86_REG_"
    pc: str
    sp: str
    # Unicorn's interrupt number for each trap instruction the ABIs use; a trap with an
    # immediate (x86 int N) is told apart by that number, ARM's svc by its own.
    trap_interrupts: dict[str, int | None]
    faults: dict[int, Fault]  # CPU exceptions and what they mean (others: HARDWARE_FAULT)
    # Puts a new CPU, whose partition is [0, size) of its address space, at the
    # unprivileged level it runs at (POK's user level) before it runs anything.
    enter_user_mode: Callable[[Uc, int], None]
    # Sets the base thread-local storage is addressed from, which the user level cannot set
    # (x86's %gs base, ARM's TPIDRURO): the thread_pointer_set hypercall.
    set_thread_pointer: Callable[[Uc, int], None]
    # Interrupt numbers only a trap instruction raises: one that is not the hypercall trap
    # asks the kernel for something it does not offer (on POK's x86, a #GP).
    software_interrupts: range = range(0)
    # A status register bit saying the CPU runs compressed instructions (ARM's Thumb state,
    # CPSR.T): Unicorn goes on in that state only when the start address has bit 0 set.
    thumb_bit: tuple[str, int] | None = None
    # The register holding the address an exception was about (x86's page faults: CR2).
    fault_addresses: dict[int, str] = field(default_factory=dict)
    unraised: tuple[Unraised, ...] = ()

    def register(self, name: str) -> int:
        constant = getattr(self.registers, self.register_prefix + name.upper(), None)
        if not isinstance(constant, int):
            raise EmulatorError(f"pvgen: error: {self.name} has no register '{name}' in Unicorn")
        return constant

    def fault(self, interrupt: int) -> Fault:
        """What an interrupt other than the hypercall trap means."""
        if interrupt in self.software_interrupts:
            return Fault.ILLEGAL_REQUEST
        return self.faults.get(interrupt, Fault.HARDWARE_FAULT)

    def trap_interrupt(self, mnemonic: str, immediate: int | None) -> int:
        """The interrupt number Unicorn reports when a partition executes this trap."""
        number = self.trap_interrupts.get(mnemonic, -1)
        if number == -1:
            raise EmulatorError(
                f"pvgen: error: the emulator cannot run '{mnemonic}' traps on {self.name}"
            )
        return immediate if number is None else number  # type: ignore[return-value]


# The architectures the emulator has a back-end for (``backend``).
EMULATED = ("x86", "arm")


def require_emulated(archs: Collection[str], definition: Path) -> None:
    """Refuse, before anything is built, to boot a definition whose ABIs are all for
    architectures the emulator cannot run (pvgen.arch knows more: riscv32 has stubs only)."""
    if not any(arch in EMULATED for arch in archs):
        raise EmulatorError(
            f"pvgen: error: {definition}: the definition's hypercall ABIs are for "
            f"{', '.join(sorted(archs))} only, and the bundled emulator runs "
            f"{' and '.join(EMULATED)} partitions"
        )


def backend(name: str) -> Backend:
    """The back-end of an architecture, or a clear error when the emulator has none."""
    if name == "x86":
        from pvgen.emulator.arch.x86 import X86

        return X86
    if name == "arm":
        from pvgen.emulator.arch.arm import ARM

        return ARM
    raise EmulatorError(
        f"pvgen: error: the bundled emulator does not run '{name}' partitions (it runs "
        f"{' and '.join(EMULATED)})"
    )
