"""The upcall fast path: the steady-state timer cycle served natively (pvupcall.c).

A partition whose timer ticks often spends most of its host time on four events
per tick: the tick's due time stops the CPU, the module raises and delivers it,
and the handler traps twice (``irq_ack``, ``irq_return``). In the steady state
(the handler registered, the vCPU area shared, the timer's line requested,
unmasked and not in service, nothing pending) those four are always the same
few steps, so the native hooks take them without leaving Unicorn, as seL4's
fastpath takes the common IPC beside its full kernel path.

pvgen.emulator.vcpu stays the one statement of the rules. The fast path is armed
only in the steady state and hands everything else to the full path; whenever
Python runs for the partition again (a segment or window ends, or any other
hypercall traps), ``reconcile`` first takes what the native side did into the
vCPU and the timer: the ticks it raised and delivered, and a cycle in progress
(the frame delivered, the line in service, perhaps acknowledged). From then on
Python holds the state, until the fast path is armed again. A run with the fast
path and one without end in the same guest state (tests/test_fastpath.py).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Mapping

from pvgen.emulator.contract import AbiLayout
from pvgen.emulator.cpu import Cpu
from pvgen.emulator.native import PHASE_ACKED, PHASE_DELIVERED, PHASE_IDLE
from pvgen.emulator.native.layout import FRAME_REGISTERS, FastHeader
from pvgen.emulator.timer import VirtualTimer
from pvgen.emulator.vcpu import TIMER_LINE, VirtualCpu
from pvgen.upcall import MAX_NESTING, RETURN_ADDRESS, UpcallConvention


def fetch_as(header: FastHeader, abi: AbiLayout) -> None:
    """Make the fast path fetch a call's arguments as the dispatcher does for the ABI (its
    ABIS: in the trap registers, or in a block whose address its size bounds)."""
    if abi.convention == "block":
        header.arguments_in_block = 1
        header.block_counted, header.block_bytes = int(abi.block_counted), abi.block_bytes


class FastPath:
    """One partition CPU's fast path; made with the CPU, disarmed until ``arm`` finds the
    partition in the steady state."""

    CALLS = ("irq_ack", "irq_return")  # the hypercalls of the cycle it serves

    def __init__(self, cpu: Cpu, register: Callable[[str], int], convention: UpcallConvention,
                 abi: AbiLayout, numbers: Mapping[str, int], ok: int, mips: int,
                 min_period: int) -> None:
        """`register`: a register's Unicorn id by name; `numbers`: the definition's hypercall
        numbers; `min_period`: the shortest timer period (ns) worth a segment of its own."""
        self._min_period = min_period
        self.armed = False  # as the header says: only Python arms and disarms
        self.taken = 0  # ticks this CPU's fast path took (a restarted partition has a new one)
        # of those, the cycles still in progress when Python took the state back (a call,
        # a segment's or the window's end), by the phase they were in
        self.handed_back = {PHASE_DELIVERED: 0, PHASE_ACKED: 0}
        h = self.header = FastHeader()
        frame = convention.frame_registers
        if len(frame) > FRAME_REGISTERS:
            raise ValueError(f"{convention.arch}: an upcall frame of {len(frame)} registers")
        h.timer_line, h.mips = TIMER_LINE, mips
        h.ram, h.memory_size = cpu.ram_address, cpu.size
        h.written = cpu.written_address
        h.ack_number, h.return_number = (numbers[name] for name in self.CALLS)
        h.ok = ok
        fetch_as(h, abi)
        h.frame_count = len(frame)
        h.frame_registers[: len(frame)] = [register(name) for name in frame]
        h.status_index, h.sp_index = frame.index(convention.status), frame.index(convention.sp)
        h.pc_register = register(convention.pc)
        h.argument_registers[:] = ([register(r) for r in convention.argument_registers]
                                   or [-1, -1])
        h.return_register = (-1 if convention.return_register is None
                             else register(convention.return_register))
        h.return_address = RETURN_ADDRESS
        h.level_bit, h.level_bit_enables = convention.level_bit, int(convention.level_bit_enables)
        h.restored_status_bits = convention.restored_status_bits
        h.scratch, h.stack_alignment = convention.scratch, convention.stack_alignment
        h.call_bias = convention.call_bias
        h.read, h.write = cpu.register_functions
        cpu.attach_fast_path(ctypes.addressof(h))

    def window(self, end: int) -> None:
        """A window ending at `end` begins: no tick at or after it is the fast path's."""
        self.header.end = end

    def arm(self, vcpu: VirtualCpu, timer: VirtualTimer) -> None:
        """Arm the fast path if the partition is in the steady state (called disarmed: after
        ``reconcile``, or before a window's first segment)."""
        h = self.header
        area = vcpu.area
        steady = (timer.period >= self._min_period and area is not None
                  and area.ticks is not None and vcpu.handler is not None and not vcpu.pending
                  and TIMER_LINE in vcpu.unmasked and TIMER_LINE in vcpu.requested
                  and TIMER_LINE not in vcpu.in_service and len(vcpu.frames) < MAX_NESTING)
        if not steady:
            return
        assert area is not None and area.ticks is not None and vcpu.handler is not None
        due = timer.next_due
        assert due is not None
        h.handler, h.ticks = vcpu.handler, vcpu.ticks & 0xFFFFFFFF
        h.area_enabled, h.area_pending, h.area_ticks = area.enabled, area.pending, area.ticks
        h.period, h.next_due = timer.period, due
        self.armed = True
        h.armed = 1

    def reconcile(self, vcpu: VirtualCpu, timer: VirtualTimer) -> None:
        """Take what the native side did since the last look into the vCPU and the timer,
        and disarm: Python holds the state until ``arm``."""
        if not self.armed:
            return  # nothing was done natively since the last look
        h = self.header
        h.armed = 0
        self.armed = False
        taken = h.taken
        if not taken:
            return
        counted = timer.count(h.last_due)
        if counted != taken:  # the native side raises exactly the ticks that fell
            raise RuntimeError(f"the upcall fast path took {taken} ticks, but {counted} fell")
        vcpu.ticks += taken
        vcpu.delivered += taken
        self.taken += taken
        h.taken = 0
        if h.phase != PHASE_IDLE:  # the last cycle is in progress: its upcall is live
            self.handed_back[h.phase] += 1
            vcpu.frames.append(h.frame)
            if h.phase == PHASE_DELIVERED:  # not acknowledged yet
                vcpu.in_service.add(TIMER_LINE)
            h.phase = PHASE_IDLE
