"""A partition's window, run in segments that end at its timer's ticks.

The virtual timer (``pvgen.emulator.timer``) is where the module decides *when*: a
partition's ticks keep falling while it is out of its window, and are raised on its virtual
CPU at the start of its next one, before its code runs; inside a window, the window runs in
segments that end at its ticks' due times, so a tick is raised at its own time and delivered
at once if the partition can take it (wherever its code was). A partition whose timer is
stopped runs its window in one piece. ``idle`` gives up the processor until the next event:
the next tick, if it falls in the window (time jumps to it; nothing runs in between),
otherwise the partition's next window. In the steady state the upcall fast path
(``pvgen.emulator.fastpath``) takes a partition's ticks, and its handler's ``irq_ack`` and
``irq_return``, inside the native hooks; the window loop arms it before each segment and
reconciles after, and every hypercall served in Python reconciles first.
"""

from __future__ import annotations

from pvgen.emulator.calls import CallServer
from pvgen.emulator.clock import HYPERCALL_NS, RunTime
from pvgen.emulator.effects import StopReason
from pvgen.emulator.interruption import Interruption
from pvgen.emulator.partition import Partition, Stop
from pvgen.emulator.timer import VirtualTimer
from pvgen.emulator.trace import Trace
from pvgen.emulator.vcpu import TIMER_LINE

# The shortest segment a timer splits a window into: ticks of a shorter period are raised
# together, every one counted, so that a tiny period cannot make the host spin.
MIN_SEGMENT_NS = HYPERCALL_NS


class WindowRunner:
    """Runs one partition's window at a time on the run's clock."""

    def __init__(self, time: RunTime, calls: CallServer, interruption: Interruption,
                 trace: Trace) -> None:
        self._time = time
        self._clock = time.clock
        self._calls = calls
        self._interruption = interruption
        self._trace = trace
        self._tracing = trace.enabled

    def run(self, partition: Partition, start: int, end: int) -> Stop | None:
        """Run a partition in its window; why its CPU stopped (None: its time is over, it
        slept through, or the run is interrupted). Afterwards the run's time is when its CPU
        stopped."""
        clock, fast = self._clock, partition.fast
        before = _counts(partition) if self._tracing else (0, 0)
        clock.begin(partition, start, end)
        if fast is not None:
            fast.window(end)
        self._time.enter()
        partition.stop = None  # why it stopped last time has been acted on
        begun = self._resumed_at(partition, start, end)
        stop = None if begun is None else self._run_segments(partition, begun, end)
        self._time.leave()
        if self._tracing:
            self._count(partition, before)
        return stop

    def _count(self, partition: Partition, before: tuple[int, int]) -> None:
        """What the window ran, as counter tracks: its instructions (deterministic time
        counts them) and its hypercalls."""
        instructions, hypercalls = _counts(partition)
        at, identifier = self._time.now(), partition.entry.identifier
        if partition.cpu.budget is not None:
            self._trace.counter(identifier, at, f"{partition.name} instructions",
                                instructions - before[0])
        self._trace.counter(identifier, at, f"{partition.name} hypercalls",
                            hypercalls - before[1])

    def set_timer(self, partition: Partition, period: int) -> None:
        """Re-phase the partition's timer now (``timer_set_period``; 0 stops it).

        Ticks of the old period that fell by now are raised first; the running segment
        (hypercalls come from the partition in its window) is cut short if it would end
        after the new first tick.
        """
        now = self._time.now()
        timer = partition.timer
        self._raise(partition, timer.set_period(period, now))
        due = _next_segment_end(timer, now)
        if due is not None:
            self._clock.cut(due)

    def _resumed_at(self, partition: Partition, start: int, end: int) -> int | None:
        """When the partition goes on in its window: at its start, or, if it waits for a
        port, when its wait ends; None if it is still blocked, or its wait runs out at the
        window's end (it sleeps through the window)."""
        if partition.waiting is None:
            return start
        ended = self._calls.end_wait(partition, end)
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
            until = _segment_end(timer, start, end)
        while True:
            if partition.stop is not None and partition.stop.reason is StopReason.HM:
                return partition.stop  # a delivery between segments went to the HM
            stop = self._segment(partition, until)
            if self._interruption.notice():
                return None  # the run ends here: the stop was not the partition's doing
            now = self._goes_on_at(partition, stop, end)
            if now is None:
                return stop
            until = _segment_end(timer, now, end)

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
            if not self._calls.end_wait(partition, end):
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

    def _raise(self, partition: Partition, count: int) -> bool:
        """Raise `count` ticks on the partition's vCPU; False if it has not requested the
        timer's line (the ticks stay counted as due, not raised)."""
        if not count or not partition.vcpu.tick(count):
            return False
        if self._tracing:
            self._trace.instant(partition.entry.identifier, self._time.now(), "tick", "tick",
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
                self._calls.deliver(partition, line)
        return raised


def _counts(partition: Partition) -> tuple[int, int]:
    """The instructions (0 without a budget) and hypercalls its CPU has run so far."""
    budget = partition.cpu.budget
    return (0 if budget is None else budget.executed), partition.cpu.hypercalls


def _next_segment_end(timer: VirtualTimer, now: int) -> int | None:
    """Where a segment from `now` ends for the timer: its next tick (None: stopped)."""
    due = timer.next_due
    if due is not None and timer.period < MIN_SEGMENT_NS:
        due = max(due, now + MIN_SEGMENT_NS)
    return due


def _segment_end(timer: VirtualTimer, now: int, end: int) -> int:
    """Where the next segment ends: the next tick's due time, if before the window's end."""
    due = _next_segment_end(timer, now)
    return due if due is not None and due < end else end
