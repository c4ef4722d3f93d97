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

The virtual timer (``pvgen.emulator.timer``) is where the module decides *when*: a
partition's ticks keep falling while it is out of its window, and are raised
on its virtual CPU at the start of its next one, before its code runs; inside
a window, the window runs in segments that end at its ticks' due times, so a
tick is raised at its own time and delivered at once if the partition can take
it (wherever its code was). A partition whose timer is stopped runs its window
in one piece. ``idle`` gives up the processor until the next event: the next
tick, if it falls in the window (time jumps to it; nothing runs in between),
otherwise the partition's next window. In the steady state the upcall fast path
(``pvgen.emulator.fastpath``) takes a partition's ticks, and its handler's ``irq_ack`` and
``irq_return``, inside the native hooks; the window loop arms it before each segment and
reconciles after, and every hypercall served here reconciles first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path

from pvgen.config.model import MODULE_TICK_NS
from pvgen.emulator.arch import backend
from pvgen.emulator.clock import InstructionClock, WallClock
from pvgen.emulator.console import Console, Output, open_console_file, printable
from pvgen.emulator.contract import Dispatcher
from pvgen.emulator.cpu import NO_RESULT
from pvgen.emulator.fastpath import FastPath
from pvgen.emulator.hm import HealthMonitor, HmEvent
from pvgen.emulator.interruption import Interruption
from pvgen.emulator.partition import Mode, Partition, Stop, StopReason, Trap, Waiting
from pvgen.emulator.ports import ModulePorts
from pvgen.emulator.services import PartitionServices, check_definition
from pvgen.emulator.timer import VirtualTimer
from pvgen.emulator.trace import Trace
from pvgen.emulator.vcpu import TIMER_LINE, UpcallDoesNotFit
from pvgen.image.read import Image
from pvgen.upcall import CONVENTIONS

HYPERCALL_NS = 1_000  # virtual time a hypercall costs, so polling loops see time move
# The shortest segment a timer splits a window into: ticks of a shorter period are raised
# together, every one counted, so that a tiny period cannot make the host spin.
MIN_SEGMENT_NS = HYPERCALL_NS


@dataclass(frozen=True)
class RunOptions:
    mips: int = 100  # the virtual CPU rate, million instructions per virtual second
    frames: int | None = None  # stop after this many major frames
    time_ns: int | None = None  # stop at this virtual time
    wall_clock: bool = False  # windows last their duration in host time instead
    trace: Path | None = None
    console_dir: Path | None = None  # also write each partition's console to DIR/NAME.log
    # serve the steady-state timer upcall cycle natively (pvgen.emulator.fastpath); deterministic
    # runs without a trace only, as the trace records every tick and hypercall
    fast_upcalls: bool = True
    # the consoles' serial line (bits per second): a console write takes the time it takes to
    # send its bytes (10 bits each), as POK's console on COM1 (38400 baud) does; None: none
    console_baud: int | None = None
    # serve as real POK with pvgen's kernel side does, where it does otherwise than ARINC 653:
    # port messages move at the end of the sender's window, and only to destination ports
    # created by then (POK_NEEDS_FLUSH_ON_WINDOWS); the health monitor has no tables: an
    # event that can be resumed is only logged, any other stops the partition
    like_pok: bool = False
    out: Output = field(default_factory=lambda: sys.stdout)  # as it is then: redirect_stdout works


DEFAULT_LIMIT_NS = 60_000_000_000  # a run that nothing else ends stops at 60 virtual s


@dataclass(frozen=True)
class PartitionSummary:
    name: str
    verdict: str
    mode: str
    restarts: int
    hypercalls: int
    ticks_due: int = 0  # timer ticks fallen while the partition lived (counted at each raise)
    ticks_raised: int = 0  # of those, raised on its virtual CPU (it had requested line 0)
    ended: bool = False  # it stopped: mode IDLE, or its program ended (POK's NORMAL)


class Ending(StrEnum):
    """Why a run ended."""

    ALL_STOPPED = "all stopped"  # no partition can run any more
    FRAMES = "frames"  # its --frames
    TIME = "time"  # its --time, or the default limit
    SHUTDOWN = "shutdown"  # a partition or the health monitor shut the module down
    INTERRUPTED = "interrupted"  # SIGINT or SIGTERM


@dataclass(frozen=True)
class RunResult:
    ended_by: Ending
    now_ns: int
    frames: int
    partitions: tuple[PartitionSummary, ...]
    hm_log: tuple[HmEvent, ...]  # the first KEPT_EVENTS (pvgen.emulator.hm)
    hm_events: int  # every event, kept or not
    signal: int | None = None  # the signal that interrupted the run (INTERRUPTED)

    @property
    def exit_status(self) -> int:
        """The RTEMS tester's rules (``pvgen.tester``): a test that began and did not end
        fails, and so does one still running when the run's limit came (its time or its
        frames: "timeout"); a partition that began no test is not a pass; an expected failure, a
        test waiting for its user and the like are what their test state says; FATAL fails."""
        if self.signal is not None:
            return 128 + self.signal  # as a shell reports a process a signal ended
        bad = [p for p in self.partitions
               if p.verdict in ("failed", "fatal", "no test", "timeout")]
        return 1 if bad else 0


class Module:
    def __init__(self, image: Image, dispatcher: Dispatcher, options: RunOptions) -> None:
        check_definition(dispatcher)
        self.manifest = image.manifest
        self.dispatcher = dispatcher
        self.options = options
        self.tick_ns = MODULE_TICK_NS
        abi = dispatcher.ABIS[self.manifest.abi]
        arch = backend(self.manifest.arch)
        trap = Trap(arch.trap_interrupt(abi.trap_instruction, abi.trap_vector),
                    abi.trap_registers, abi.return_register)
        self._return_register = abi.return_register
        self._fetch_and_dispatch = dispatcher.fetcher(abi.name)
        cost = None if options.wall_clock else max(1, HYPERCALL_NS * options.mips // 1000)
        fast = None
        # a definition without the upcall cycle's calls (POK's own) has no upcalls to speed up
        upcalls = all(name in dispatcher.NUMBERS for name in FastPath.CALLS)
        if options.fast_upcalls and upcalls and cost is not None and options.trace is None:
            fast = partial(FastPath, convention=CONVENTIONS[arch.name], abi=abi,
                           numbers=dispatcher.NUMBERS, ok=dispatcher.STATUS["OK"],
                           mips=options.mips, min_period=MIN_SEGMENT_NS)
        self.partitions = [
            Partition(entry, image.partition_elf(i), arch, trap, self._on_trap, cost, fast)
            for i, entry in enumerate(self.manifest.partitions)
        ]
        self._by_id = {p.entry.identifier: p for p in self.partitions}
        for p in self.partitions:
            p.services = PartitionServices(self, p)
        self._tracing = options.trace is not None
        self._consoles = {
            p.name: Console(p.name, options.out, open_console_file(options.console_dir, p.name))
            for p in self.partitions
        }
        self.hm = HealthMonitor(self.manifest, tables=not options.like_pok)
        self.ports = ModulePorts(self.manifest, options.like_pok)
        self.trace = Trace(options.trace, self.manifest.module,
                           [(p.entry.identifier, p.name) for p in self.partitions])
        self._clock = WallClock() if options.wall_clock else InstructionClock(options.mips)
        self._now = 0  # the time between windows
        # what reads the time: the clock in a window (both bound once: a window is short)
        self._clock_now, self._between_now = self._clock.now, self._between_windows
        self.now_ns = self._between_now
        # why the run ends before its time: SHUTDOWN (the module shut down) or
        # INTERRUPTED (SIGINT or SIGTERM); the clock stays where it happened
        self._ending: Ending | None = None
        self._running: Partition | None = None  # whose CPU runs now
        self.interruption = Interruption(self._stop_running)
        self._pending: dict[str, HmEvent] = {}  # HM actions waiting for the CPU to stop

    @property
    def reached_ns(self) -> int:
        """How far the run has come, to the last window's end: for another thread (a
        progress line) to read, as now_ns may ask the running CPU."""
        return self._now

    @property
    def stops_at_ns(self) -> int:
        """The virtual time the run stops at, whatever the partitions do: its time limit,
        or its frames' end."""
        limit = self.options.time_ns if self.options.time_ns is not None else DEFAULT_LIMIT_NS
        if self.options.frames is not None:
            limit = min(limit, self.options.frames * self.manifest.major_frame_ns)
        return limit

    # -- what services and partitions call --------------------------------------------
    def _between_windows(self) -> int:
        return self._now

    def console(self, partition: Partition) -> Console:
        return self._consoles[partition.name]

    def console_written(self, partition: Partition, count: int) -> None:
        """A console write of `count` bytes takes the serial line's time (console_baud)."""
        baud = self.options.console_baud
        if baud:
            self._clock.spend(count * 10 * 1_000_000_000 // baud)

    def trace_note(self, partition: Partition, text: str) -> None:
        if self.options.trace:
            self.trace.instant(partition.entry.identifier, self.now_ns(), "note", text)

    def _on_trap(self, partition: Partition) -> int:
        """Serve a hypercall the fast path left to Python: what it did comes first, and it
        is armed after if the call leaves the partition in the steady state."""
        fast = partition.fast
        if fast is None:
            return self._serve(partition)
        fast.reconcile(partition.vcpu, partition.timer)
        result = self._serve(partition)
        if not partition.owed_ns:  # the native cycle starts segments that owe nothing
            fast.arm(partition.vcpu, partition.timer)
        return result

    def _serve(self, partition: Partition) -> int:
        """Serve a hypercall: the generated dispatcher checks and decodes, services act."""
        registers = partition.cpu.trap_view  # read by the native hook for this trap
        if self._tracing:
            self.trace.instant(partition.entry.identifier, self.now_ns(), "hypercall",
                               f"hypercall {registers[0]}")
        result: int = self._fetch_and_dispatch(registers, partition.memory, partition.services)
        stop = partition.stop
        if stop is not None and stop.reason is not StopReason.IDLE:
            return NO_RESULT
        resumed, partition.resumed = partition.resumed, False
        line = partition.vcpu.ready() if stop is None else None
        if line is None:
            return NO_RESULT if resumed else result
        if not resumed:  # the frame must hold the call's result, as the guest resumes with it
            partition.write_register(self._return_register, result)
        self.deliver(partition, line)
        return NO_RESULT

    def set_timer(self, partition: Partition, period: int) -> None:
        """Re-phase the partition's timer now (``timer_set_period``; 0 stops it).

        Ticks of the old period that fell by now are raised first; the running segment
        (hypercalls come from the partition in its window) is cut short if it would end
        after the new first tick.
        """
        now = self.now_ns()
        timer = partition.timer
        self._raise(partition, timer.set_period(period, now))
        due = self._next_segment_end(timer, now)
        if due is not None:
            self._clock.cut(due)

    def deliver(self, partition: Partition, line: int, resumes_enabled: bool = True) -> None:
        """Enter the partition's upcall handler for a line, between segments or as a hypercall
        returns. A frame that would not fit the partition (a wild stack pointer) is the
        partition's memory violation, for the health monitor; the emulator goes on."""
        try:
            entry = partition.vcpu.deliver(partition, line, resumes_enabled)
        except UpcallDoesNotFit as exc:
            self.health_event(partition, "MEMORY_VIOLATION", str(exc), resumable=False)
            return
        if self._tracing:
            self.trace.instant(partition.entry.identifier, self.now_ns(), "irq",
                               f"line {line}", frame=entry.frame)

    def deliver_in_call(self, partition: Partition, line: int, result: int,
                        resumes_enabled: bool = True) -> None:
        """Deliver a line from inside a hypercall's handler (irq_flash): the frame holds the
        call's result, which the guest resumes with, and the trap leaves the registers as
        the delivery set them."""
        partition.write_register(self._return_register, result)
        self.deliver(partition, line, resumes_enabled)
        partition.resumed = True

    def health_event(self, partition: Partition, error: str, detail: str, resumable: bool) -> None:
        """Record an error; any action but IGNORE stops the CPU and is applied once it has."""
        event = self.hm.decide(self.now_ns(), partition.name, error, detail, resumable)
        if event.action != "IGNORE":
            self._consoles[partition.name].flush()  # its last words come before the report
        self.options.out.write(
            f"[{partition.name}] HM: {error} ({printable(detail)}) -> {event.level} "
            f"{event.action}\n"
        )
        if self.options.trace:
            self.trace.instant(partition.entry.identifier, self.now_ns(), "hm", error,
                               detail=detail, level=event.level, action=event.action)
        if event.action != "IGNORE":
            self._pending[partition.name] = event
            partition.halt(StopReason.HM, detail=event.action)

    def _apply(self, partition: Partition, event: HmEvent) -> None:
        """Carry out an HM action; called when the partition's CPU is not running."""
        action = event.action
        if action == "IDLE":
            self._idle(partition)
        elif action in ("COLD_START", "WARM_START"):
            # ARINC 653 lets no cold start become a warm one: a partition still in its cold
            # start has nothing a warm start could keep, and starts cold again
            warm = action == "WARM_START" and partition.mode is not Mode.COLD_START
            self._restart(partition, warm, "HM_PARTITION_RESTART")
        elif action == "SHUTDOWN":
            self._ending = Ending.SHUTDOWN
        elif action == "RESET":
            for each in self.partitions:
                self._restart(each, False, "HM_MODULE_RESTART")

    def _idle(self, partition: Partition) -> None:
        self._consoles[partition.name].flush()  # a line left unfinished ends here, in order
        partition.mode = Mode.IDLE

    def _restart(self, partition: Partition, warm: bool, condition: str) -> None:
        self._consoles[partition.name].flush()  # the reloaded partition starts a new line
        partition.restart(warm, condition, self._now)

    # -- blocking calls (a queuing port call with a timeout) ------------------------------
    def wait(self, partition: Partition, timeout_ns: int) -> bool:
        """A handler's call cannot go on yet: block the partition in it for at most
        `timeout_ns` (negative: for good). Only another partition can end the wait, and
        others run only outside this one's windows, so the call is served again as each of
        its windows starts, and when its deadline falls inside one. True while it waits (the
        handler's answer is then ignored); False once the wait has run out."""
        waiting = partition.waiting
        now = self.now_ns()
        if waiting is None:  # from the trap: the CPU stops inside the call
            deadline = None if timeout_ns < 0 else now + timeout_ns
            partition.waiting = Waiting(tuple(partition.cpu.trap_view), deadline)
            partition.halt(StopReason.WAIT)
            if self._tracing:
                # its own category: the trace has one `hypercall` instant per call served
                self.trace.instant(partition.entry.identifier, now, "wait", "wait",
                                   deadline=deadline)
            return True
        if waiting.deadline_ns is not None and now >= waiting.deadline_ns:
            waiting.ran_out = True
            return False
        waiting.again = True
        return True

    @staticmethod
    def waited(partition: Partition) -> bool:
        """Whether the call being served again has waited until its deadline."""
        waiting = partition.waiting
        return waiting is not None and waiting.ran_out

    def _serve_again(self, partition: Partition) -> bool:
        """Serve the call the partition waits in again: True once it has ended (its result
        in the return register, as if it had just returned), False while it waits on."""
        waiting = partition.waiting
        assert waiting is not None
        waiting.again = False
        result: int = self._fetch_and_dispatch(waiting.registers, partition.memory,
                                               partition.services)
        if waiting.again:
            return False
        partition.waiting = None
        partition.write_register(self._return_register, result)
        return True

    def _end_wait(self, partition: Partition, end: int) -> bool:
        """End the wait of a partition that has the processor until `end`, if it can end:
        at once, or at its deadline if that falls by `end` (time jumps there: nothing else
        runs meanwhile; a deadline at `end` itself runs out before the next window's
        partition can change anything). False: it sleeps to `end`."""
        if self._serve_again(partition):
            return True
        waiting = partition.waiting
        assert waiting is not None
        if waiting.deadline_ns is None or waiting.deadline_ns > end:
            return False
        self._clock.skip(waiting.deadline_ns)
        return self._serve_again(partition)

    # -- the virtual timer -----------------------------------------------------------------
    def _raise(self, partition: Partition, count: int) -> bool:
        """Raise `count` ticks on the partition's vCPU; False if it has not requested the
        timer's line (the ticks stay counted as due, not raised)."""
        if not count or not partition.vcpu.tick(count):
            return False
        if self._tracing:
            self.trace.instant(partition.entry.identifier, self.now_ns(), "tick", "tick",
                               count=count, line=TIMER_LINE)
        return True

    def _tick(self, partition: Partition, now: int) -> bool:
        """Raise the ticks fallen by `now`, then deliver a line that is ready (the CPU is not
        running: the frame holds wherever its code was). False if nothing was raised."""
        raised = self._raise(partition, partition.timer.count(now))
        vcpu = partition.vcpu
        if vcpu.pending:
            line = vcpu.ready()
            if line is not None:
                self.deliver(partition, line)
        return raised

    @staticmethod
    def _next_segment_end(timer: VirtualTimer, now: int) -> int | None:
        """Where a segment from `now` ends for the timer: its next tick (None: stopped)."""
        due = timer.next_due
        if due is not None and timer.period < MIN_SEGMENT_NS:
            due = max(due, now + MIN_SEGMENT_NS)
        return due

    # -- running ---------------------------------------------------------------------------
    def _after_stop(self, partition: Partition, stop: Stop) -> None:
        """Act on why a partition's CPU stopped, now that it has."""
        if stop.reason is StopReason.FAULT:
            assert stop.fault is not None
            self.health_event(partition, stop.fault.value, stop.detail, resumable=False)
        elif stop.reason is StopReason.STOP:
            self.health_event(partition, "APPLICATION_ERROR", stop.detail, resumable=False)
        elif stop.reason is StopReason.SHUTDOWN:
            self._ending = Ending.SHUTDOWN
        elif stop.reason is StopReason.END:
            self._consoles[partition.name].flush()  # a line left unfinished ends here
            partition.program_ended = True
        elif stop.reason is StopReason.MODE:
            if stop.detail == Mode.IDLE.value:
                self._idle(partition)
            else:
                self._restart(partition, stop.detail == Mode.WARM_START.value, "PARTITION_RESTART")
        event = self._pending.pop(partition.name, None)
        if event is not None:
            self._apply(partition, event)

    def _run_window(self, partition: Partition, start: int, end: int) -> None:
        """Run a partition in its window, in segments ending at its ticks' due times;
        afterwards the clock reads when its CPU stopped."""
        clock, fast = self._clock, partition.fast
        clock.begin(partition, start, end)
        if fast is not None:
            fast.window(end)
        self.now_ns = self._clock_now
        partition.stop = None  # why it stopped last time has been acted on
        begun = self._resumed_at(partition, start, end)
        stop = None if begun is None else self._run_segments(partition, begun, end)
        self._now = clock.now()
        self.now_ns = self._between_now  # the clock stays where the CPU stopped
        if stop is not None:
            self._after_stop(partition, stop)  # an idle, stopped or faulted partition waits

    def _resumed_at(self, partition: Partition, start: int, end: int) -> int | None:
        """When the partition goes on in its window: at its start, or, if it waits for a
        port, when its wait ends; None if it is still blocked, or its wait runs out at the
        window's end (it sleeps through the window)."""
        if partition.waiting is None:
            return start
        ended = self._end_wait(partition, end)
        start = self._clock.now()
        return start if ended and start < end else None

    def _run_segments(self, partition: Partition, start: int, end: int) -> Stop | None:
        """Run the partition from `start` in segments, each up to its next tick's due time
        or the window's end; why its CPU stopped at last (None: its time is over, or the
        run is interrupted)."""
        timer = partition.timer
        until = end
        if timer.period or partition.vcpu.pending:  # nothing to do here for most partitions
            self._tick(partition, start)  # the ticks that fell while it was out, first
            until = self._segment_end(timer, start, end)
        while True:
            if partition.stop is not None and partition.stop.reason is StopReason.HM:
                return partition.stop  # a delivery between segments went to the HM
            stop = self._segment(partition, until)
            if self.interruption.notice():
                return None  # the run ends here: the stop was not the partition's doing
            now = self._goes_on_at(partition, stop, end)
            if now is None:
                return stop
            until = self._segment_end(timer, now, end)

    def _segment(self, partition: Partition, until: int) -> Stop | None:
        """One segment of the partition's CPU, its fast path armed for it if it has one."""
        fast = partition.fast
        if fast is None:
            return self._clock.run(until)
        fast.arm(partition.vcpu, partition.timer)
        stop = self._clock.run(until)
        fast.reconcile(partition.vcpu, partition.timer)
        return stop

    def _goes_on_at(self, partition: Partition, stop: Stop | None, end: int) -> int | None:
        """After a segment that ended with `stop`: when the partition goes on in this
        window (its due tick raised), or None if the window is over for it."""
        timer = partition.timer
        if stop is None:  # the segment's time is over: a tick is due, or the window ends
            now = self._clock.ended()
            if now >= end:
                return None
            self._tick(partition, now)
            return now
        if stop.reason is StopReason.WAIT:
            if not self._end_wait(partition, end):
                return None
            now = self._clock.now()
            if now >= end:
                return None  # its wait ran out as the window ends: it goes on in the next
            if timer.period:
                self._tick(partition, now)
            return now
        if stop.reason is not StopReason.IDLE or not timer.period:
            return None
        return self._wake(partition, end)

    def _segment_end(self, timer: VirtualTimer, now: int, end: int) -> int:
        """Where the next segment ends: the next tick's due time, if before the window's
        end."""
        due = self._next_segment_end(timer, now)
        return due if due is not None and due < end else end

    def _wake(self, partition: Partition, end: int) -> int | None:
        """An idle partition: jump to its next tick if it falls in the window and is raised
        (the partition then resumes after its idle call, the tick delivered if it can be);
        None if it sleeps to the window's end."""
        timer, clock = partition.timer, self._clock
        due = timer.next_due
        if due is None or due >= end:
            return None
        now = max(due, clock.now())
        clock.skip(now)
        if not self._tick(partition, now):
            return None  # nothing for it to wake to: it sleeps on (the tick is counted)
        return now

    def run(self) -> RunResult:
        frame_ns = self.manifest.major_frame_ns
        limit = self.options.time_ns if self.options.time_ns is not None else DEFAULT_LIMIT_NS
        frame, ended_by = 0, None
        schedule = [(w.start_ns, w.duration_ns, self._by_id[w.partition])
                    for w in self.manifest.windows]
        with self.interruption:
            while ended_by is None:
                ended_by = self._frame(schedule, frame * frame_ns, limit)
                frame += 1
        return self._finish(ended_by, frame)

    def _frame(self, schedule: list[tuple[int, int, Partition]], base: int, limit: int
               ) -> Ending | None:
        """Run one major frame from `base`; why the run ends after it (None: it goes on)."""
        frame_ns = self.manifest.major_frame_ns
        for offset, duration, partition in schedule:
            start = base + offset
            end = min(start + duration, limit)
            if start >= limit:
                break
            if partition.runnable:
                self._running = partition
                self._run_window(partition, start, end)
                self._running = None
            if self.options.like_pok:  # POK's transfer: the window's messages move now
                self.ports.flush(partition.entry.identifier, end)
            if self.interruption.notice():
                self._ending = self._ending or Ending.INTERRUPTED
            if self._ending:
                end = self._now  # the window ends with the module
            if self._tracing:
                self.trace.window(partition.entry.identifier, start, end, partition.name)
            if self._ending:
                return self._ending
        self._now = min(base + frame_ns, limit)
        if not any(p.runnable for p in self.partitions):
            return Ending.ALL_STOPPED
        if self.options.frames is not None and base // frame_ns + 1 >= self.options.frames:
            return Ending.FRAMES
        return Ending.TIME if self._now >= limit else None

    def _stop_running(self) -> None:
        """Stop the CPU that runs now, if one does (the interruption's thread calls this)."""
        running = self._running
        if running is not None:
            running.cpu.stop()

    def _finish(self, ended_by: Ending, frames: int) -> RunResult:
        limited = ended_by in (Ending.TIME, Ending.FRAMES)  # one still running had no time left
        self._clock.close()
        for console in self._consoles.values():
            console.flush()
            if console.file is not None:
                console.file.close()
        self.trace.close()
        return RunResult(
            ended_by=ended_by,
            now_ns=self.now_ns(),
            frames=frames,
            partitions=tuple(
                PartitionSummary(p.name,
                                 self._consoles[p.name].verdict(not p.runnable, limited
                                                                and p.runnable),
                                 p.mode.value, p.restarts,
                                 p.served, p.ticks_due, p.ticks_raised, not p.runnable)
                for p in self.partitions
            ),
            hm_log=tuple(self.hm.log),
            hm_events=self.hm.count,
            signal=self.interruption.requested if ended_by is Ending.INTERRUPTED else None,
        )
