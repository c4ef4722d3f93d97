"""IA-32 partitions: 32-bit protected mode, flat, the partition seeing [0, size)."""

from __future__ import annotations

from unicorn import UC_ARCH_X86, UC_MODE_32, x86_const

from emulator.arch import Backend, Fault

X86 = Backend(
    name="x86",
    uc_arch=UC_ARCH_X86,
    uc_mode=UC_MODE_32,
    registers=x86_const,
    register_prefix="UC_X86_REG_",
    pc="eip",
    sp="esp",
    trap_interrupts={"int": None},  # `int N` arrives as interrupt N
    faults={0: Fault.NUMERIC_ERROR, 6: Fault.ILLEGAL_REQUEST, 13: Fault.ILLEGAL_REQUEST,
            1: Fault.HARDWARE_FAULT, 3: Fault.HARDWARE_FAULT, 4: Fault.NUMERIC_ERROR,
            5: Fault.HARDWARE_FAULT},
    software_interrupts=range(32, 256),  # `int N` above the exceptions
)
