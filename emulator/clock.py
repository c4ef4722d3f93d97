"""Virtual time inside a window: counted from instructions, or read from the host.

A clock runs one partition's window at a time: ``run`` gives the partition its
window and returns why it stopped early (None: the window's time ran out), and
``now`` reads the time while the window is on, from inside hypercalls.
"""

from __future__ import annotations

import time

from emulator.cpu import Watchdog
from emulator.native import BudgetHeader
from emulator.partition import Partition, Stop


class InstructionClock:
    """Deterministic time: the window's start plus the instructions executed, at `mips`.

    Hypercalls take their cost from the same budget (the native trap hook charges it),
    so a window ends when its instructions and hypercalls have spent its time.
    """

    def __init__(self, mips: int) -> None:
        self._mips = mips
        self._start = 0
        self._budget = 0
        self._counter: BudgetHeader | None = None

    def run(self, partition: Partition, start: int, end: int) -> Stop | None:
        self._start, self._budget = start, (end - start) * self._mips // 1000
        self._counter = partition.cpu.budget
        return partition.run_counted(self._budget)

    def now(self) -> int:
        assert self._counter is not None, "now() is read inside a window"
        left: int = self._counter.left
        return self._start + (self._budget - left) * 1000 // self._mips

    def close(self) -> None:
        """Nothing to release: the budgets belong to the partitions' CPUs."""


class WallClock:
    """Free-running time: a window lasts its duration on the host, stopped by a watchdog."""

    def __init__(self) -> None:
        self._watchdog = Watchdog()
        self._start = self._end = self._began = 0

    def run(self, partition: Partition, start: int, end: int) -> Stop | None:
        self._start, self._end, self._began = start, end, time.perf_counter_ns()
        return partition.run_for(self._watchdog, end - start)

    def now(self) -> int:
        return min(self._end, self._start + time.perf_counter_ns() - self._began)

    def close(self) -> None:
        self._watchdog.close()
