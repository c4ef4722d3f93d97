"""AArch32 partitions (ARM state, Cortex-A15) in user mode, the partition seeing [0, size).

A partition runs in the processor's user mode, as a partition of an ARM POK would:
every privileged instruction (a write to SCTLR or another system register, srs,
rfe, an access to a banked register, ...) is undefined there and faults, which the
health monitor hears of. Two instructions do not fault on a v7 CPU in user mode:
``cps`` and ``msr`` to the mode or mask bits are ignored there, as the architecture
says (they change nothing), and ``wfi`` waits for an interrupt; the emulator, which
sees the CPU halt, reports that wait as the privileged request it is
(``pvgen.emulator.partition``).
"""

from __future__ import annotations

from unicorn import UC_ARCH_ARM, UC_MODE_ARM, Uc, arm_const

from pvgen.emulator.arch import Backend, Fault

USER_MODE = 0x10  # CPSR.M for user mode; ARM state, interrupts (the hypervisor's) unmasked


def enter_user_mode(uc: Uc, size: int) -> None:
    """Switch a new CPU from the mode Unicorn creates it in to user mode (the stack
    pointer is banked: it is set after this)."""
    del size  # the partition is the whole memory Unicorn maps: nothing else to hide
    uc.reg_write(arm_const.UC_ARM_REG_CPSR, USER_MODE)


def set_thread_pointer(uc: Uc, pointer: int) -> None:
    """TPIDRURO, the thread ID register user mode reads (__aeabi_read_tp) but cannot write."""
    uc.reg_write(arm_const.UC_ARM_REG_C13_C0_3, pointer)


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
    enter_user_mode=enter_user_mode,
    set_thread_pointer=set_thread_pointer,
    thumb_bit=("cpsr", 1 << 5),
)
