"""The module: partitions run in their windows of the repeating major frame.

Virtual time is deterministic by default: a partition's CPU gets a budget of
instructions worth the window's time at the virtual CPU rate, charged per
translated block by the native clock; the time a partition reads is its
window's start plus what it has executed so far. Each hypercall costs virtual
time too (taken from the same budget), so polling loops see time move and time
never goes back or past the window's end. Whatever a partition does (spinning,
interrupts disabled), its window ends on time, and nothing it does changes
another partition's run. Wall-clock mode instead gives each window its
duration in host time, stopped by one watchdog thread.

The module puts a run's parts together: the window loop (``windows``), the call server
(``calls``), the supervisor of stopped partitions (``supervisor``); the services know it
only as a ``Kernel`` (``kernel``).
"""

from __future__ import annotations

from functools import partial

from pvgen.emulator.arch import backend
from pvgen.emulator.calls import CallServer
from pvgen.emulator.clock import HYPERCALL_NS, InstructionClock, RunTime, WallClock
from pvgen.emulator.console import open_consoles
from pvgen.emulator.contract import Dispatcher
from pvgen.emulator.fastpath import FastPath
from pvgen.emulator.hm import HealthMonitor
from pvgen.emulator.interruption import Interruption
from pvgen.emulator.partition import Partition, Trap
from pvgen.emulator.ports import ModulePorts
from pvgen.emulator.run import Ending, PartitionSummary, RunOptions, RunResult
from pvgen.emulator.services import PartitionServices, check_definition
from pvgen.emulator.supervisor import Supervisor
from pvgen.emulator.trace import Trace
from pvgen.emulator.windows import MIN_SEGMENT_NS, WindowRunner
from pvgen.image.read import Image
from pvgen.upcall import CONVENTIONS

# One major frame's windows, in order: their start in the frame, duration, partition.
Schedule = list[tuple[int, int, Partition]]


class Module:
    """One run of an image: its partitions, their services, and the parts that run them."""

    def __init__(self, image: Image, dispatcher: Dispatcher, options: RunOptions) -> None:
        check_definition(dispatcher)
        self.manifest = manifest = image.manifest
        self.dispatcher = dispatcher
        self.options = options
        abi = dispatcher.ABIS[manifest.abi]
        arch = backend(manifest.arch)
        clock = WallClock() if options.wall_clock else InstructionClock(options.mips)
        self.time = RunTime(clock)
        self.trace = Trace(options.trace, manifest.module,
                           [(p.identifier, p.name) for p in manifest.partitions])
        self.hm = HealthMonitor(manifest, tables=not options.like_pok)
        self.ports = ModulePorts(manifest, options.like_pok)
        self._consoles = open_consoles((p.name for p in manifest.partitions), options.out,
                                       options.console_dir, options.transcripts)
        calls = CallServer(dispatcher.fetcher(abi.name), abi.return_register, self.time,
                           self.trace, self.health_event, dispatcher.NUMBERS)
        trap = Trap(arch.trap_interrupt(abi.trap_instruction, abi.trap_vector),
                    abi.trap_registers, abi.return_register)
        cost = None if options.wall_clock else max(1, HYPERCALL_NS * options.mips // 1000)
        fast = None
        # a definition without the upcall cycle's calls (POK's own) has no upcalls to speed up
        upcalls = all(name in dispatcher.NUMBERS for name in FastPath.CALLS)
        if options.fast_upcalls and upcalls and cost is not None and options.trace is None:
            fast = partial(FastPath, convention=CONVENTIONS[arch.name], abi=abi,
                           numbers=dispatcher.NUMBERS, ok=dispatcher.STATUS["OK"],
                           mips=options.mips, min_period=MIN_SEGMENT_NS)
        self.partitions = [
            Partition(entry, image.partition_elf(i), arch, trap, calls.on_trap, cost, fast)
            for i, entry in enumerate(manifest.partitions)
        ]
        self._calls = calls
        self.supervisor = Supervisor(self.hm, self.partitions, self._consoles, options.out,
                                     self.trace, self.time)
        for p in self.partitions:
            p.services = calls.handlers(PartitionServices(self, p))
        self._running: Partition | None = None  # whose CPU runs now
        self.interruption = Interruption(self._stop_running)
        self._windows = WindowRunner(self.time, calls, self.interruption, self.trace)

    @property
    def reached_ns(self) -> int:
        """How far the run has come, to the last window's end (a progress line's thread)."""
        return self.time.between

    # -- what the services ask (pvgen.emulator.kernel.Kernel) ---------------------------
    def console_write(self, partition: Partition, data: bytes) -> None:
        """Write to the partition's console, which takes the serial line's time (10 bits a
        byte at console_baud)."""
        self._consoles[partition.name].write(data)
        if self.options.console_baud:
            self.time.clock.spend(len(data) * 10 * 1_000_000_000 // self.options.console_baud)

    def set_timer(self, partition: Partition, period: int) -> None:
        self._windows.set_timer(partition, period)

    def health_event(self, partition: Partition, error: str, detail: str,
                     resumable: bool) -> None:
        self.supervisor.health_event(partition, error, detail, resumable)

    def waited(self, partition: Partition) -> bool:
        return self._calls.waited(partition)

    # -- the run --------------------------------------------------------------------------
    def run(self) -> RunResult:
        frame_ns, limit = self.manifest.major_frame_ns, self.options.limit_ns
        by_id = {p.entry.identifier: p for p in self.partitions}
        schedule = [(w.start_ns, w.duration_ns, by_id[w.partition])
                    for w in self.manifest.windows]
        frame, ended_by = 0, None
        with self.interruption:
            while ended_by is None:
                ended_by = self._frame(schedule, frame * frame_ns, limit)
                frame += 1
        return self._finish(ended_by, frame)

    def _frame(self, schedule: Schedule, base: int, limit: int) -> Ending | None:
        """Run one major frame from `base`; why the run ends after it (None: it goes on)."""
        frame_ns = self.manifest.major_frame_ns
        if self.trace.enabled:
            self.trace.frame(base // frame_ns, base)
        for offset, duration, partition in schedule:
            start = base + offset
            end = min(start + duration, limit)
            if start >= limit:
                break
            if partition.runnable:
                self._window(partition, start, end)
            if self.options.like_pok:  # POK's transfer: the window's messages move now
                self.ports.flush(partition.entry.identifier, end)
            ending = self._ending()
            if ending:
                end = self.time.between  # the window ends with the module
            if self.trace.enabled:
                self.trace.window(partition.entry.identifier, start, end, partition.name)
            if ending:
                return ending
        self.time.between = min(base + frame_ns, limit)
        if not any(p.runnable for p in self.partitions):
            return Ending.ALL_STOPPED
        if self.options.frames is not None and base // frame_ns + 1 >= self.options.frames:
            return Ending.FRAMES
        return Ending.TIME if self.time.between >= limit else None

    def _window(self, partition: Partition, start: int, end: int) -> None:
        """Run the partition's window; then act on why it stopped, if it did."""
        self._running = partition
        stop = self._windows.run(partition, start, end)
        self._running = None
        if stop is not None:
            self.supervisor.after_stop(partition, stop)

    def _ending(self) -> Ending | None:
        """Why the run ends now, if it does: a shutdown, or an interruption."""
        if self.interruption.notice() and self.supervisor.ending is None:
            self.supervisor.ending = Ending.INTERRUPTED
        return self.supervisor.ending

    def _stop_running(self) -> None:
        """Stop the CPU that runs now, if one does (the interruption's thread calls this)."""
        running = self._running
        if running is not None:
            running.cpu.stop()

    def _finish(self, ended_by: Ending, frames: int) -> RunResult:
        self.time.clock.close()
        for console in self._consoles.values():
            console.flush()
            if console.file is not None:
                console.file.close()
        self.trace.close()
        return RunResult(
            ended_by=ended_by,
            now_ns=self.time.now(),
            frames=frames,
            partitions=tuple(self._summary(p, ended_by.limited) for p in self.partitions),
            hm_log=tuple(self.hm.log),
            hm_events=self.hm.count,
            signal=self.interruption.requested if ended_by is Ending.INTERRUPTED else None,
            consoles={name: c.transcript.kept() for name, c in self._consoles.items()
                      if c.transcript is not None},
        )

    def _summary(self, p: Partition, limited: bool) -> PartitionSummary:
        verdict = self._consoles[p.name].verdict(not p.runnable, limited and p.runnable)
        return PartitionSummary(p.name, verdict, p.mode.value, p.restarts, p.served,
                                p.ticks_due, p.ticks_raised, not p.runnable)
