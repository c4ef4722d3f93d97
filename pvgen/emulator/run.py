"""A run of a module: what it is asked (``RunOptions``) and what it answers (``RunResult``).

Apart from the module that makes a run, so that what reads a result (the command line, the
test harnesses, the benchmarks) needs nothing of how it was run.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pvgen.diagnostics import EXIT_FAILED
from pvgen.emulator.console import Output
from pvgen.emulator.hm import HmEvent
from pvgen.tester import Verdict

DEFAULT_LIMIT_NS = 60_000_000_000  # a run that nothing else ends stops at 60 virtual s


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
    # keep each console's lines (at most console.TRANSCRIPT_LIMIT bytes each) for a report
    transcripts: bool = False
    out: Output = field(default_factory=lambda: sys.stdout)  # as it is then: redirect_stdout works

    @property
    def limit_ns(self) -> int:
        """The virtual time the run stops at, if nothing ends it sooner (its frames aside)."""
        return self.time_ns if self.time_ns is not None else DEFAULT_LIMIT_NS

    def stops_at_ns(self, major_frame_ns: int) -> int:
        """When the run stops, whatever the partitions do: its time limit or frames' end."""
        if self.frames is None:
            return self.limit_ns
        return min(self.limit_ns, self.frames * major_frame_ns)


@dataclass(frozen=True)
class PartitionSummary:
    name: str
    verdict: Verdict
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

    @property
    def limited(self) -> bool:
        """Whether the run's own limit ended it: a partition still running had no time left."""
        return self in (Ending.TIME, Ending.FRAMES)


@dataclass(frozen=True)
class RunResult:
    ended_by: Ending
    now_ns: int
    frames: int
    partitions: tuple[PartitionSummary, ...]
    hm_log: tuple[HmEvent, ...]  # the first KEPT_EVENTS (pvgen.emulator.hm)
    hm_events: int  # every event, kept or not
    signal: int | None = None  # the signal that interrupted the run (INTERRUPTED)
    # each partition's console, by name, if the run kept transcripts (RunOptions.transcripts)
    consoles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def exit_status(self) -> int:
        """The RTEMS tester's rules (``pvgen.tester``): a test that began and did not end
        fails, and so does one still running when the run's limit came (its time or its
        frames: TIMEOUT); a partition that began no test is not a pass (INVALID); an
        expected failure, a test waiting for its user and the like are what their test
        state says; FATAL fails."""
        if self.signal is not None:
            return 128 + self.signal  # as a shell reports a process a signal ended
        return EXIT_FAILED if any(p.verdict.bad for p in self.partitions) else 0
