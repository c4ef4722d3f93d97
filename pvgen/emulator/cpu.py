"""A partition's CPU on Unicorn, with the fast paths a hypervisor needs.

This is the only module that runs Unicorn (the back-ends of pvgen.emulator.arch only set up a
new CPU's privilege level). It goes below the Python binding's convenience methods where
they cost more than the guest work they serve: registers move in one batch call through
buffers made once (the trap registers in the native hook, an upcall's frame with
``RegisterBatch``); the partition's memory is a host mapping Unicorn executes from, so the
hypercall path reads and writes it as a ``memoryview`` without a call into Unicorn; the
interrupt hook is a bare ctypes callback. The instruction budget (deterministic time) and
the host-time watchdog (wall-clock windows) come from the native clock
(``pvgen.emulator.native``).
"""

from __future__ import annotations

import ctypes
import mmap
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from unicorn import (
    UC_ERR_FETCH_PROT,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_PROT,
    UC_ERR_READ_UNALIGNED,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNALIGNED,
    UC_ERR_WRITE_UNMAPPED,
    UC_HOOK_BLOCK,
    UC_HOOK_INSN,
    UC_HOOK_INTR,
    UC_PROT_ALL,
    Uc,
)
from unicorn.unicorn_py3.unicorn import uclib

from pvgen.emulator.arch import Backend, Fault
from pvgen.emulator.native import library
from pvgen.emulator.native.layout import BudgetHeader, TrapHeader, UnraisedHeader

# emu_start's `until`, which the CPU ignores: it runs until stopped. Unicorn probes a
# stop address after every run; at the partition's privilege level, that probe of an
# address outside the partition faults inside Unicorn (x86: a page fault it swallows,
# which leaves CR2 and the CPU's double-fault bookkeeping changed), so there is none.
NO_END = 0xFFFFFFFF

# Serves the hypercall trap: the result word for the ABI's result register, or NO_RESULT
# to leave the registers as they are.
TrapServer = Callable[[], int]
FaultHandler = Callable[[int], None]  # any other interrupt the CPU raised, by number
NO_RESULT = -1

# The hot entry points again, without the binding's prototypes: ctypes checking and
# converting each argument against them costs more than the call (~1 µs against ~0.4 µs).
# Every argument passed to these is already a ctypes object or a small int.
_raw = ctypes.CDLL(uclib._name)
_reg_read, _reg_write, _emu_stop = _raw.uc_reg_read, _raw.uc_reg_write, _raw.uc_emu_stop
_reg_read_batch, _reg_write_batch = _raw.uc_reg_read_batch, _raw.uc_reg_write_batch
_emu_start = _raw.uc_emu_start
_SERVE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint32)


@dataclass(frozen=True)
class TrapRegisters:
    """The hypercall trap as the native interrupt hook handles it."""

    interrupt: int  # Unicorn's interrupt number for the trap instruction
    registers: tuple[int, ...]  # read before each hypercall is served (the ABI's trap_registers)
    result: int  # written with the served result


_MEMORY_ERRORS = frozenset({
    UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED, UC_ERR_READ_PROT,
    UC_ERR_WRITE_PROT, UC_ERR_FETCH_PROT, UC_ERR_READ_UNALIGNED, UC_ERR_WRITE_UNALIGNED,
})


class RegisterBatch:
    """A fixed list of 32-bit registers read or written together, in one call into Unicorn,
    through buffers made once (what a delivery and a return from an upcall move)."""

    def __init__(self, handle: ctypes.c_void_p, registers: Sequence[int]) -> None:
        count = len(registers)
        self._handle, self._count = handle, count
        self._ids = (ctypes.c_int * count)(*registers)
        self._values = (ctypes.c_uint32 * count)()
        base = ctypes.addressof(self._values)
        self._pointers = (ctypes.c_void_p * count)(*(base + 4 * i for i in range(count)))
        self._words = struct.Struct(f"={count}I")

    def read(self) -> list[int]:
        """The registers' values, in the batch's order."""
        _reg_read_batch(self._handle, self._ids, self._pointers, self._count)
        return list(self._words.unpack_from(self._values))

    def write(self, values: Sequence[int]) -> None:
        """Set the registers, in the batch's order, to 32-bit values (a write of the pc inside
        a hook makes the CPU go on from there, as a single write does)."""
        self._words.pack_into(self._values, 0, *values)
        _reg_write_batch(self._handle, self._ids, self._pointers, self._count)


class Watchdog:
    """One host thread for a whole run that stops a CPU whose window's time is over."""

    def __init__(self) -> None:
        self._lib = library()
        self._handle = self._lib.pv_watchdog_new(ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p))
        if not self._handle:
            raise MemoryError("the emulator's watchdog thread could not start")

    def arm(self, cpu: Cpu, ns: int) -> None:
        self._lib.pv_watchdog_arm(self._handle, cpu.handle, ns)

    def disarm(self) -> None:
        self._lib.pv_watchdog_disarm(self._handle)

    @property
    def fired(self) -> bool:
        """Whether it stopped the CPU since it was last armed."""
        return bool(self._lib.pv_watchdog_fired(self._handle))

    def close(self) -> None:
        if self._handle:
            self._lib.pv_watchdog_free(self._handle)
            self._handle = None


class Cpu:
    """One Unicorn CPU whose whole address space is [0, size) of its own memory."""

    def __init__(self, arch: Backend, size: int, trap: TrapRegisters, serve: TrapServer,
                 fault: FaultHandler, hypercall_cost: int | None) -> None:
        """`hypercall_cost`: instructions a hypercall takes from the budget; None: no budget
        (the CPU runs until stopped, as in wall-clock mode)."""
        self.arch = arch
        self.size = size
        self._uc = Uc(arch.uc_arch, arch.uc_mode)
        self.handle = ctypes.c_void_p(self._uc._uch.value)  # type: ignore[union-attr]
        self.ram = mmap.mmap(-1, size)  # zero-filled, and host pages only where touched
        self.ram_address = ctypes.addressof(ctypes.c_char.from_buffer(self.ram))
        self._uc.mem_map_ptr(0, size, UC_PROT_ALL, self.ram_address)
        self._uc.ctl_exits_enabled(True)  # and no exits: see NO_END
        self._uc.ctl_set_exits([])
        arch.enter_user_mode(self._uc, size)
        self._value = ctypes.c_uint32()
        self._value_ref = ctypes.byref(self._value)
        # emu_start's arguments but the handle: where to begin, no end, no timeout, no count
        self._start = (ctypes.c_uint64(), ctypes.c_uint64(NO_END), ctypes.c_uint64(0),
                       ctypes.c_size_t(0))
        lib = library()
        self._serve, self._fault, self._trap_interrupt = serve, fault, trap.interrupt
        self._error: BaseException | None = None
        self._callback = _SERVE(self._interrupt)  # kept: the native hook holds its address
        ids = (ctypes.c_int32 * len(trap.registers))(*trap.registers)
        self._trap_handle: int | None = lib.pv_trap_new(
            trap.interrupt, ids, len(trap.registers), trap.result,
            ctypes.cast(_reg_read, ctypes.c_void_p), ctypes.cast(_reg_write, ctypes.c_void_p),
            ctypes.cast(self._callback, ctypes.c_void_p),
            ctypes.cast(uclib.uc_ctl, ctypes.c_void_p))
        if not self._trap_handle:
            raise MemoryError("no memory for a partition's trap hook, or too many trap registers")
        self._trap = TrapHeader.from_address(self._trap_handle)
        # [first, last) of what the hypervisor wrote since translations were last dropped
        self.written_address = self._trap_handle + TrapHeader.written.offset
        self._written = memoryview((ctypes.c_uint32 * 2).from_address(
            self.written_address)).cast("B").cast("I")
        values = (ctypes.c_uint32 * len(trap.registers)).from_address(self._trap_handle)
        # the trap registers' values as the hypercall being served left them (a memoryview:
        # iterating a ctypes array is slow)
        self.trap_view = memoryview(values).cast("B").cast("I")
        self._add_hook(UC_HOOK_INTR, ctypes.cast(lib.pv_trap_interrupt, ctypes.c_void_p),
                       self._trap_handle)
        self._unraised = [UnraisedHeader(self._trap_handle, u.exception) for u in arch.unraised]
        for unraised, header in zip(arch.unraised, self._unraised, strict=True):
            callback = getattr(lib, f"pv_unraised_{unraised.shape}")
            self._add_hook(UC_HOOK_INSN, ctypes.cast(callback, ctypes.c_void_p),
                           ctypes.addressof(header), unraised.instruction)
        self._budget_handle: int | None = None
        self.budget: BudgetHeader | None = None
        if hypercall_cost is not None:
            self._budget_handle = lib.pv_budget_new(
                ctypes.cast(uclib.uc_ctl, ctypes.c_void_p), ctypes.cast(_emu_stop, ctypes.c_void_p),
                size)
            if not self._budget_handle:
                raise MemoryError("no memory for a partition's instruction budget")
            self.budget = BudgetHeader.from_address(self._budget_handle)
            self._trap.budget, self._trap.cost = self._budget_handle, hypercall_cost
            self._add_hook(UC_HOOK_BLOCK, ctypes.cast(lib.pv_budget_block, ctypes.c_void_p),
                           self._budget_handle)

    def _add_hook(self, kind: int, callback: ctypes.c_void_p, user: int | None,
                  *instruction: int) -> None:
        """Hook every address; a UC_HOOK_INSN names its instruction."""
        handle = ctypes.c_size_t()
        status = uclib.uc_hook_add(self.handle, ctypes.byref(handle), kind, callback,
                                   ctypes.c_void_p(user), ctypes.c_uint64(1), ctypes.c_uint64(0),
                                   *(ctypes.c_int(i) for i in instruction))
        if status != 0:
            raise RuntimeError(f"Unicorn refused a hook: {error_text(status)}")

    def attach_fast_path(self, address: int) -> None:
        """Offer the budget's ticks and the trap's calls to an upcall fast path first (a
        ``struct pv_fast`` at `address`, kept alive by its owner as long as this CPU)."""
        self._trap.fast = address
        if self.budget is not None:
            self.budget.fast = address

    @property
    def register_functions(self) -> tuple[int, int]:
        """Unicorn's uc_reg_read and uc_reg_write, for native code."""
        functions = (ctypes.cast(_reg_read, ctypes.c_void_p).value,
                     ctypes.cast(_reg_write, ctypes.c_void_p).value)
        assert functions[0] is not None and functions[1] is not None
        return functions[0], functions[1]

    def close(self) -> None:
        """Release Unicorn, the budget and the trap hook now rather than at collection
        (the memory goes with this object)."""
        self._uc._Uc__finalizer()  # type: ignore[attr-defined]  # the binding's uc_close, once
        if self._budget_handle is not None:
            library().pv_budget_free(self._budget_handle)
            self._budget_handle = None
            self.budget = None
        if self._trap_handle is not None:
            self.trap_view.release()
            self._written.release()
            library().pv_trap_free(self._trap_handle)
            self._trap_handle = None

    # -- loading -----------------------------------------------------------------------
    def load(self, address: int, data: bytes) -> None:
        """Copy bytes in before the CPU first runs (nothing is translated yet)."""
        self.ram[address : address + len(data)] = data

    # -- registers -----------------------------------------------------------------------
    def read(self, register: int) -> int:
        _reg_read(self.handle, register, self._value_ref)
        return self._value.value

    def write(self, register: int, value: int) -> None:
        self._value.value = value & 0xFFFFFFFF
        _reg_write(self.handle, register, self._value_ref)

    def batch(self, registers: Sequence[int]) -> RegisterBatch:
        """Registers to read or write together, in this order (make it once, use it often)."""
        return RegisterBatch(self.handle, registers)

    @property
    def hypercalls(self) -> int:
        """Hypercalls this CPU has served."""
        served: int = self._trap.served
        return served

    def set_thread_pointer(self, pointer: int) -> None:
        """The base of the partition's thread-local storage (see Backend.set_thread_pointer)."""
        self.arch.set_thread_pointer(self._uc, pointer)

    # -- memory, as the hypervisor writes it ------------------------------------------------
    def write_memory(self, address: int, data: bytes) -> None:
        """Write guest memory as the hypervisor: the guest executes what is written.

        Writing the mapping directly costs a tenth of Unicorn's uc_mem_write, which would
        look for translations to drop on every write. Instead the written span grows here,
        and the native trap hook (or the next run) drops the translations in it, wherever
        the guest's code lies, at most once per call and only where a block has run.
        """
        end = address + len(data)
        if end == address:
            return  # nothing written, nothing to drop (Unicorn cannot drop an empty range)
        self.ram[address:end] = data
        written = self._written
        if address < written[0]:
            written[0] = address
        if end > written[1]:
            written[1] = end

    # -- running -----------------------------------------------------------------------------
    def run(self, begin: int) -> int:
        """Run from `begin` until stopped; Unicorn's error code (0: none)."""
        start = self._start
        start[0].value = begin
        if self._written[0] < self._written[1]:  # written between runs (an upcall's frame)
            library().pv_trap_drop_written(self._trap_handle, self.handle)
        status: int = _emu_start(self.handle, *start)
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return status

    def stop(self) -> None:
        _emu_stop(self.handle)

    def _interrupt(self, number: int) -> int:
        try:
            if number == self._trap_interrupt:
                return self._serve()
            self._fault(number)
            return NO_RESULT
        except BaseException as exc:  # raised again by run(), not lost inside ctypes
            self._error = exc
            _emu_stop(self.handle)
            return NO_RESULT


class GuestMemory:
    """A partition's memory as the generated dispatcher sees it: [0, size), no Unicorn call.

    The dispatcher checks every range against ``size`` before it reads or writes.
    """

    def __init__(self, cpu: Cpu) -> None:
        self.size = cpu.size
        self._ram = cpu.ram
        self.write = cpu.write_memory

    def read(self, addr: int, n: int) -> bytes:
        return self._ram[addr : addr + n]


def fault_of(status: int) -> Fault:
    """The ARINC 653 error a Unicorn error stopping a partition's CPU means."""
    if status in _MEMORY_ERRORS:
        return Fault.MEMORY_VIOLATION
    if status == UC_ERR_INSN_INVALID:
        return Fault.ILLEGAL_REQUEST
    return Fault.HARDWARE_FAULT


def error_text(status: int) -> str:
    text: bytes = uclib.uc_strerror(status)
    return text.decode("ascii")
