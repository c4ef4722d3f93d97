"""AArch32 partitions (ARM state, Cortex-A15), the partition seeing [0, size)."""

from __future__ import annotations

from unicorn import UC_ARCH_ARM, UC_MODE_ARM, arm_const

from emulator.arch import Backend, Fault

ARM = Backend(
    name="arm",
    uc_arch=UC_ARCH_ARM,
    uc_mode=UC_MODE_ARM,
    registers=arm_const,
    register_prefix="UC_ARM_REG_",
    pc="pc",
    sp="sp",
    trap_interrupts={"svc": 2},  # Unicorn reports EXCP_SWI; it cannot execute hvc
    faults={1: Fault.ILLEGAL_REQUEST, 3: Fault.MEMORY_VIOLATION, 4: Fault.MEMORY_VIOLATION},
    thumb_bit=("cpsr", 1 << 5),
)
