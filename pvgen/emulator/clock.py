"""Virtual time inside a window: counted from instructions, or read from the host.

A clock runs one partition's window at a time, in segments: ``begin`` opens the
window, ``run(until)`` lets the partition run until that virtual time (a tick's
due time, or the window's end) and returns why it stopped early (None: the
segment's time ran out, and ``ended`` then says when: `until` exactly, or for the
wall clock the host's time if it is later; in deterministic mode the upcall fast path
may have started later segments itself, up to the window's end). ``now`` reads the time, from inside
hypercalls too; it never goes back and never passes the current segment's end
or the window's, so a tick is raised at its due time and a window ends on time.
``skip`` moves time on without running the partition (an idle partition woken by
its next tick), ``cut`` ends the running segment sooner, from inside a
hypercall (a timer re-phased to fall sooner), and ``spend`` makes a hypercall take
time (a console write at the serial line's speed): in deterministic mode what the
running segment cannot hold is owed by the partition (``Partition.owed_ns``) and
passes at the start of its next segments, before its code runs again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pvgen.emulator.cpu import Watchdog
from pvgen.emulator.native.layout import BudgetHeader
from pvgen.emulator.partition import Partition, Stop

# What a wall-clock segment that is late before it starts still runs (host nanoseconds).
LATE_SLICE_NS = 1_000
HYPERCALL_NS = 1_000  # virtual time a hypercall costs, so polling loops see time move


class InstructionClock:
    """Deterministic time: the segment's start plus the instructions executed, at `mips`.

    Each segment gets the instructions its time is worth; hypercalls take their cost
    from the same budget (the native trap hook charges it), so a segment ends when its
    instructions and hypercalls have spent its time. What is left of a budget too small
    for the next translated block is not carried over: the segment ends at its time.
    The segment (when it began, its instructions, its end) lives in the CPU's native
    budget, because the upcall fast path starts the next segment itself after a tick.
    """

    def __init__(self, mips: int) -> None:
        self._mips = mips
        self._partition: Partition  # set by begin(), before anything else is called
        self._counter: BudgetHeader
        self._settled = True  # the time is the segment's end (no need to ask the counter)

    def begin(self, partition: Partition, start: int, end: int) -> None:
        """Open the window [start, end) (its end is the segments' to keep)."""
        counter = partition.cpu.budget
        assert counter is not None, "a counted run needs a CPU made with a budget"
        self._partition, self._counter = partition, counter
        counter.left = counter.granted = 0
        counter.at = counter.until = start
        self._settled = True

    def run(self, until: int) -> Stop | None:
        counter = self._counter
        at = counter.until if self._settled else self.now()
        partition = self._partition
        if partition.owed_ns:  # time a hypercall took passes first, the CPU still
            paid = min(partition.owed_ns, until - at)
            partition.owed_ns -= paid
            at += paid
        budget = (until - at) * self._mips // 1000
        counter.at, counter.granted, counter.until = at, budget, until
        if budget > 0:  # else not one instruction's worth: Unicorn need not start
            stop = self._partition.run_counted(budget)
            if stop is not None:
                self._settled = False
                return stop
        # the segment's time is over (a block it could not pay for waits for the next one)
        counter.at, counter.granted = counter.until, counter.left
        self._settled = True
        return None

    def now(self) -> int:
        counter = self._counter
        now: int = counter.at + (counter.granted - counter.left) * 1000 // self._mips
        return now

    def ended(self) -> int:
        """The time a segment whose time ran out ended at: exactly its end."""
        return self.now()

    def skip(self, to: int) -> None:
        """Read `to` from now on, the partition's CPU not running (to >= now)."""
        counter = self._counter
        counter.at, counter.granted, counter.until = to, counter.left, to
        self._settled = True

    def spend(self, ns: int) -> None:
        """From inside a hypercall: the call takes `ns` more of the partition's time; what
        the running segment has not left is owed (paid as its next segments start)."""
        counter, partition = self._counter, self._partition
        instructions = ns * self._mips // 1000
        cost = partition.hypercall_cost or 0  # charged after the call, from what is left
        if instructions + cost <= counter.left:
            counter.left -= instructions
            return
        partition.owed_ns += (instructions + cost - counter.left) * 1000 // self._mips
        counter.left = 0  # the call's own cost is owed with the rest

    def cut(self, until: int) -> None:
        """End the running segment at `until` if that is sooner (from inside a hypercall:
        its own cost is charged after, from what is left)."""
        counter = self._counter
        if until >= counter.until:
            return
        at = self.now()
        counter.at, counter.until = at, max(until, at)
        counter.granted = counter.left = (counter.until - at) * self._mips // 1000

    def close(self) -> None:
        """Nothing to release: the budgets belong to the partitions' CPUs."""


class WallClock:
    """Free-running time: a window lasts its duration on the host, stopped by a watchdog.

    A segment lasts until the host time of its end; time read inside it is the host
    time since the window began, held at the segment's end until the next segment,
    so a tick is raised at its due time, the time the handler then reads is the host's.

    A host slower than a partition's timer is late for its segments: one that is over
    before it starts still runs the partition for ``LATE_SLICE_NS`` (unless the window
    is over), and the time it ended at is the host's, so the ticks that fell meanwhile are
    raised together, every one counted. Otherwise the module would only ever catch up,
    one period a segment, and the partition would never run.
    """

    def __init__(self) -> None:
        self._watchdog = Watchdog()
        self._partition: Partition  # set by begin(), before anything else is called
        self._base = self._began = self._until = 0  # virtual time `_base` at host `_began`
        self._end = 0  # the window's

    def begin(self, partition: Partition, start: int, end: int) -> None:
        """Open the window [start, end), starting now on the host."""
        self._partition = partition
        self._base = self._until = start
        self._end = end
        self._began = time.perf_counter_ns()

    def _host(self) -> int:
        return self._base + time.perf_counter_ns() - self._began

    def run(self, until: int) -> Stop | None:
        self._until = until
        ns = until - self._host()
        if ns <= 0:
            if until >= self._end:
                return None  # the window is over
            ns = LATE_SLICE_NS
        return self._partition.run_for(self._watchdog, ns)

    def now(self) -> int:
        return min(self._until, self._base + time.perf_counter_ns() - self._began)

    def ended(self) -> int:
        """The time a segment whose time ran out ended at: the host's, which may be past the
        segment's end (never past the window's), and is read from then on."""
        self._until = max(self._until, min(self._end, self._host()))
        return self._until

    def skip(self, to: int) -> None:
        """Read `to` from now on: the host time the partition gave up is not waited for."""
        self._base, self._began, self._until = to, time.perf_counter_ns(), to

    def spend(self, ns: int) -> None:
        """Host time passes on its own: the hypercall's time is the host's."""

    def cut(self, until: int) -> None:
        """End the running segment at `until` if that is sooner (re-arms the watchdog)."""
        if until >= self._until:
            return
        self._until = until
        self._watchdog.arm(self._partition.cpu, max(0, until - self._host()))

    def close(self) -> None:
        self._watchdog.close()


Clock = InstructionClock | WallClock


class RunTime:
    """The run's time, as everything reads it (``now``): inside a window the clock's; between
    windows where the last one ended, the clock staying where that CPU stopped. ``now`` is
    one bound callable, swapped as windows begin and end: hypercalls read it often."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.between = 0  # the time between windows
        self.now: Callable[[], int] = self._between

    def _between(self) -> int:
        return self.between

    def enter(self) -> None:
        """A window begins: its clock tells the time."""
        self.now = self.clock.now

    def leave(self) -> None:
        """The window has ended: its CPU stopped at the time the clock reads now."""
        self.between = self.clock.now()
        self.now = self._between
