"""IA-32 partitions: 32-bit protected mode at CPL 3, the partition seeing [0, size).

A partition runs as POK runs it: at the user privilege level, with code and data
segments of its own (DPL 3), so that every privileged instruction (cli, hlt,
lgdt, mov to a control register, wrmsr, invlpg, a far jump to the kernel's code,
...) raises the general-protection fault the hardware raises, which the health
monitor hears of. Paging is on: the partition's pages are user pages and are the
only ones the partition can reach; the pages the hypervisor keeps for the CPU (its
page directory and tables, and the descriptor table) are supervisor pages above
them, so an access anywhere outside the partition is a page fault. Time-stamp
reads are privileged too (CR4.TSD): a partition's time is the hypervisor's
virtual time, never the host's.
"""

from __future__ import annotations

import struct

from unicorn import UC_ARCH_X86, UC_MODE_32, UC_PROT_READ, UC_PROT_WRITE, Uc, x86_const

from pvgen.emulator.arch import Backend, Fault, Unraised
from pvgen.emulator.errors import EmulatorError

PAGE = 0x1000
PAGE_TABLE_SPAN = 0x400000  # the memory one page table maps (1024 pages)
# The hypervisor's pages: the top page table's span of the 32-bit space, above any
# partition. Its first pages: the page directory, the page table that maps these pages,
# the descriptor table; then one page table for every 4 MiB of the partition.
HYPERVISOR_BASE = 0x100000000 - PAGE_TABLE_SPAN
DIRECTORY = HYPERVISOR_BASE
HYPERVISOR_TABLE = HYPERVISOR_BASE + PAGE
DESCRIPTORS = HYPERVISOR_BASE + 2 * PAGE
PARTITION_TABLES = HYPERVISOR_BASE + 3 * PAGE
LARGEST_PARTITION = HYPERVISOR_BASE  # the partition ends where the hypervisor's pages begin

# Page table entry bits: present, writable, user, and accessed and dirty already set so
# that the CPU never writes an entry back.
_PRESENT, _WRITABLE, _USER, _ACCESSED, _DIRTY = 0x1, 0x2, 0x4, 0x20, 0x40
USER_PAGE = _PRESENT | _WRITABLE | _USER | _ACCESSED | _DIRTY
SUPERVISOR_PAGE = _PRESENT | _WRITABLE | _ACCESSED | _DIRTY

# The descriptor table: null, the partition's code, the partition's data, its thread-local
# storage (all DPL 3, flat, accessed already: a segment load never writes the table). The
# last one's base is the thread pointer the partition sets (thread_pointer_set); %gs
# holds it, as the i386 ABI addresses thread-local storage from %gs.
CODE_SELECTOR, DATA_SELECTOR, THREAD_SELECTOR = 0x08 | 3, 0x10 | 3, 0x18 | 3
_CODE_ACCESS, _DATA_ACCESS = 0xFB, 0xF3  # present, DPL 3, code (read/exec) or data (r/w)

_CR0_PE, _CR0_WP, _CR0_PG = 0x1, 0x10000, 0x80000000
_CR4_TSD = 0x4
_EFLAGS_VM = 0x20000
_EFLAGS_FIXED = 0x2


def _descriptor(access: int, base: int = 0) -> bytes:
    """A 4 GiB segment descriptor (4 KiB granularity, 32-bit) from `base`."""
    limit = 0xFFFFF
    return struct.pack("<Q", (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (access << 40)
                       | ((limit >> 16) << 48) | (0xC << 52) | ((base >> 24) << 56))


def _page_tables(size: int) -> bytes:
    """The partition's page tables: [0, size) user pages, nothing else."""
    pages = size // PAGE
    tables = -(-pages // 1024)
    entries = [page * PAGE | USER_PAGE for page in range(pages)]
    entries += [0] * (tables * 1024 - pages)
    return struct.pack(f"<{len(entries)}I", *entries)


def enter_user_mode(uc: Uc, size: int) -> None:
    """Make a new CPU run its partition [0, size) at CPL 3 with paging on.

    The hypervisor's pages are mapped above the partition (supervisor pages, which the
    partition cannot reach). The privilege level is the stack segment's DPL, and a CPU
    at CPL 0 may not load a DPL 3 stack segment; a segment load in virtual-8086 mode
    gives DPL 3 without running a line of code, so SS is loaded once that way, then,
    out of that mode, every segment register with the partition's own selectors.
    """
    if size > LARGEST_PARTITION or size % PAGE:
        raise EmulatorError(f"pvgen: error: an x86 partition is a whole number of 4 KiB pages "
                            f"up to {LARGEST_PARTITION:#x} bytes, not {size:#x}")
    tables = _page_tables(size)
    table_pages = len(tables) // PAGE
    uc.mem_map(HYPERVISOR_BASE, (3 + table_pages) * PAGE, UC_PROT_READ | UC_PROT_WRITE)
    directory = [PARTITION_TABLES + i * PAGE | USER_PAGE for i in range(table_pages)]
    directory += [0] * (1023 - table_pages) + [HYPERVISOR_TABLE | SUPERVISOR_PAGE]
    uc.mem_write(DIRECTORY, struct.pack("<1024I", *directory))
    uc.mem_write(HYPERVISOR_TABLE, struct.pack(
        f"<{3 + table_pages}I",
        *(HYPERVISOR_BASE + i * PAGE | SUPERVISOR_PAGE for i in range(3 + table_pages))))
    descriptors = (bytes(8) + _descriptor(_CODE_ACCESS) + _descriptor(_DATA_ACCESS)
                   + _descriptor(_DATA_ACCESS))
    uc.mem_write(DESCRIPTORS, descriptors)
    uc.mem_write(PARTITION_TABLES, tables)
    registers = x86_const
    uc.reg_write(registers.UC_X86_REG_GDTR, (0, DESCRIPTORS, len(descriptors) - 1, 0))
    uc.reg_write(registers.UC_X86_REG_CR3, DIRECTORY)
    uc.reg_write(registers.UC_X86_REG_CR4, uc.reg_read(registers.UC_X86_REG_CR4) | _CR4_TSD)
    uc.reg_write(registers.UC_X86_REG_CR0,
                 uc.reg_read(registers.UC_X86_REG_CR0) | _CR0_PE | _CR0_WP | _CR0_PG)
    uc.reg_write(registers.UC_X86_REG_EFLAGS, _EFLAGS_FIXED | _EFLAGS_VM)
    uc.reg_write(registers.UC_X86_REG_SS, 0)  # DPL 3: the CPU is at CPL 3 from here on
    uc.reg_write(registers.UC_X86_REG_EFLAGS, _EFLAGS_FIXED)
    uc.reg_write(registers.UC_X86_REG_SS, DATA_SELECTOR)
    uc.reg_write(registers.UC_X86_REG_CS, CODE_SELECTOR)
    for segment in ("DS", "ES", "FS"):
        uc.reg_write(getattr(registers, f"UC_X86_REG_{segment}"), DATA_SELECTOR)
    uc.reg_write(registers.UC_X86_REG_GS, THREAD_SELECTOR)


def set_thread_pointer(uc: Uc, pointer: int) -> None:
    """Make `pointer` the base of the thread-local storage segment, and load %gs with it."""
    uc.mem_write(DESCRIPTORS + (THREAD_SELECTOR & ~7), _descriptor(_DATA_ACCESS, pointer))
    uc.reg_write(x86_const.UC_X86_REG_GS, THREAD_SELECTOR)


_GENERAL_PROTECTION, _INVALID_OPCODE = 13, 6

X86 = Backend(
    name="x86",
    uc_arch=UC_ARCH_X86,
    uc_mode=UC_MODE_32,
    registers=x86_const,
    register_prefix="UC_X86_REG_",
    pc="eip",
    sp="esp",
    trap_interrupts={"int": None},  # `int N` arrives as interrupt N
    # POK's own mapping of the exceptions (kernel/arch/x86/exceptions.c) where it has one
    faults={0: Fault.NUMERIC_ERROR, 4: Fault.NUMERIC_ERROR,
            6: Fault.ILLEGAL_REQUEST, 7: Fault.ILLEGAL_REQUEST,
            _GENERAL_PROTECTION: Fault.ILLEGAL_REQUEST,
            10: Fault.MEMORY_VIOLATION, 11: Fault.MEMORY_VIOLATION,
            12: Fault.MEMORY_VIOLATION, 14: Fault.MEMORY_VIOLATION,
            1: Fault.HARDWARE_FAULT, 3: Fault.HARDWARE_FAULT, 5: Fault.HARDWARE_FAULT},
    software_interrupts=range(32, 256),  # `int N` above the exceptions
    enter_user_mode=enter_user_mode,
    set_thread_pointer=set_thread_pointer,
    fault_addresses={14: "cr2"},  # a page fault's linear address
    # Unicorn lets every port access through and calls hooks for sysenter and syscall
    # instead of raising what the CPU raises at CPL 3 with IOPL 0: #GP for in, out and
    # sysenter (no SYSENTER_CS), #UD for syscall (no EFER.SCE on IA-32).
    unraised=(Unraised(x86_const.UC_X86_INS_IN, "in", _GENERAL_PROTECTION),
              Unraised(x86_const.UC_X86_INS_OUT, "out", _GENERAL_PROTECTION),
              Unraised(x86_const.UC_X86_INS_SYSENTER, "plain", _GENERAL_PROTECTION),
              Unraised(x86_const.UC_X86_INS_SYSCALL, "plain", _INVALID_OPCODE)),
)
