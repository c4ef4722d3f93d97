"""The module: partitions run in their windows of the repeating major frame.

Virtual time is deterministic by default: a partition's CPU executes a budget
of instructions worth the window's time at the virtual CPU rate (Unicorn's
instruction count), in quanta so that time read inside a window moves; each
hypercall costs virtual time too, and a quantum whose time the hypercalls
have spent ends there, so that time read never goes back. A partition that
idles gives up the rest of its window. Whatever a partition does (spinning,
interrupts disabled), its window ends on time, and nothing it does changes
another partition's run. Wall-clock mode instead gives each window its
duration in host time.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TextIO

from emulator.arch import backend
from emulator.console import Console, open_console_file
from emulator.hm import HealthMonitor, HmEvent
from emulator.partition import Mode, Partition, Stop
from emulator.services import PartitionServices
from emulator.trace import Trace
from pvgen.image.read import Image

HYPERCALL_NS = 1_000  # virtual time a hypercall costs, so polling loops see time move


@dataclass(frozen=True)
class RunOptions:
    mips: int = 100  # the virtual CPU rate, million instructions per virtual second
    quantum_ns: int = 1_000_000  # how far time moves between two reads inside a window
    frames: int | None = None  # stop after this many major frames
    time_ns: int | None = None  # stop at this virtual time
    wall_clock: bool = False  # windows last their duration in host time instead
    trace: Path | None = None
    console_dir: Path | None = None  # also write each partition's console to DIR/NAME.log
    out: TextIO = field(default_factory=lambda: sys.stdout)  # as it is then: redirect_stdout works


DEFAULT_LIMIT_NS = 60_000_000_000  # a run that nothing else ends stops at 60 virtual s


@dataclass(frozen=True)
class PartitionSummary:
    name: str
    verdict: str
    mode: str
    restarts: int
    hypercalls: int


@dataclass(frozen=True)
class RunResult:
    ended_by: str  # "all stopped" | "frames" | "time" | "shutdown"
    now_ns: int
    frames: int
    partitions: tuple[PartitionSummary, ...]
    hm_log: tuple[HmEvent, ...]

    @property
    def exit_status(self) -> int:
        """The RTEMS tester's rule: every BEGIN has its END, and nothing is FATAL."""
        bad = [p for p in self.partitions if p.verdict in ("failed", "fatal")]
        return 1 if bad else 0


class Module:
    def __init__(self, image: Image, dispatcher: ModuleType, options: RunOptions) -> None:
        self.manifest = image.manifest
        self.dispatcher = dispatcher
        self.options = options
        self.tick_ns = 1_000_000
        abi = dispatcher.ABIS[self.manifest.abi]
        self.abi_name = abi.name
        arch = backend(self.manifest.arch)
        trap = arch.trap_interrupt(abi.trap_instruction, abi.trap_vector)
        self._return_register = abi.return_register
        self._number_register = abi.number_register
        self.partitions = [
            Partition(entry, image.partition_elf(i), arch, trap, self._on_trap)
            for i, entry in enumerate(self.manifest.partitions)
        ]
        self._by_id = {p.entry.identifier: p for p in self.partitions}
        self._services = {p.name: PartitionServices(self, p) for p in self.partitions}
        self._consoles = {
            p.name: Console(p.name, options.out, open_console_file(options.console_dir, p.name))
            for p in self.partitions
        }
        self._hypercalls = dict.fromkeys(self._consoles, 0)
        self.hm = HealthMonitor(self.manifest)
        self.trace = Trace(self.manifest.module, [(p.entry.identifier, p.name)
                                                  for p in self.partitions])
        self._now = 0
        self._extra = 0
        self._quantum_end = 0  # when the running partition's CPU must stop
        self._shutdown = False
        self._pending: dict[str, HmEvent] = {}  # HM actions waiting for the CPU to stop

    # -- what services and partitions call --------------------------------------------
    def now_ns(self) -> int:
        return self._now + self._extra

    def console(self, partition: Partition) -> Console:
        return self._consoles[partition.name]

    def trace_note(self, partition: Partition, text: str) -> None:
        if self.options.trace:
            self.trace.instant(partition.entry.identifier, self.now_ns(), "note", text)

    def _on_trap(self, partition: Partition) -> None:
        services = self._services[partition.name]
        if self.options.trace:
            number = partition.read_register(self._number_register)
            self.trace.instant(partition.entry.identifier, self.now_ns(), "hypercall",
                               f"hypercall {number}")
        result = self.dispatcher.fetch_and_dispatch(
            self.abi_name, partition.read_register, partition.memory, services
        )
        self._hypercalls[partition.name] += 1
        self._extra += HYPERCALL_NS
        if partition.stop is None or partition.stop.reason == "idle":
            partition.write_register(self._return_register, result)
        if partition.stop is None and self.now_ns() >= self._quantum_end:
            partition.preempt()  # its hypercalls have spent the quantum

    def health_event(self, partition: Partition, error: str, detail: str, resumable: bool) -> None:
        """Record an error; any action but IGNORE stops the CPU and is applied once it has."""
        event = self.hm.decide(self.now_ns(), partition.name, error, detail, resumable)
        if event.action != "IGNORE":
            self._consoles[partition.name].flush()  # its last words come before the report
        self.options.out.write(
            f"[{partition.name}] HM: {error} ({detail}) -> {event.level} {event.action}\n"
        )
        if self.options.trace:
            self.trace.instant(partition.entry.identifier, self.now_ns(), "hm", error,
                               detail=detail, action=event.action)
        if event.action != "IGNORE":
            self._pending[partition.name] = event
            partition.halt("hm", detail=event.action)

    def _apply(self, partition: Partition, event: HmEvent) -> None:
        """Carry out an HM action; called when the partition's CPU is not running."""
        action = event.action
        if action == "IDLE":
            self._idle(partition)
        elif action in ("COLD_START", "WARM_START"):
            self._restart(partition, action == "WARM_START", "HM_PARTITION_RESTART")
        elif action == "SHUTDOWN":
            self._shutdown = True
        elif action == "RESET":
            for each in self.partitions:
                self._restart(each, False, "HM_MODULE_RESTART")

    def _idle(self, partition: Partition) -> None:
        self._consoles[partition.name].flush()  # a line left unfinished ends here, in order
        partition.mode = Mode.IDLE

    def _restart(self, partition: Partition, warm: bool, condition: str) -> None:
        self._consoles[partition.name].flush()  # the reloaded partition starts a new line
        partition.restart(warm, condition)

    # -- running ---------------------------------------------------------------------------
    def _after_stop(self, partition: Partition, stop: Stop) -> None:
        """Act on why a partition's CPU stopped, now that it has."""
        if stop.reason == "fault":
            assert stop.fault is not None
            self.health_event(partition, stop.fault.value, stop.detail, resumable=False)
        elif stop.reason == "stop":
            self.health_event(partition, "APPLICATION_ERROR", stop.detail, resumable=False)
        elif stop.reason == "shutdown":
            self._shutdown = True
        elif stop.reason == "mode":
            if stop.detail == Mode.IDLE.value:
                self._idle(partition)
            else:
                self._restart(partition, stop.detail == Mode.WARM_START.value, "PARTITION_RESTART")
        event = self._pending.pop(partition.name, None)
        if event is not None:
            self._apply(partition, event)

    def _run_window(self, partition: Partition, start: int, end: int) -> None:
        if self.options.wall_clock:
            self._now, self._extra, self._quantum_end = start, 0, end
            began = time.perf_counter()
            stop = partition.run(None, timeout_us=max(1, (end - start) // 1000))
            self._extra = int((time.perf_counter() - began) * 1e9)
            if stop is not None:
                self._after_stop(partition, stop)
            return
        now = start
        while now < end and partition.runnable and not self._shutdown:
            quantum_end = min(end, now + self.options.quantum_ns)
            self._now, self._extra, self._quantum_end = now, 0, quantum_end
            budget = max(1, (quantum_end - now) * self.options.mips // 1000)
            stop = partition.run(budget)
            if stop is not None:
                self._after_stop(partition, stop)
                break  # an idle, stopped, faulted or restarted partition waits for its next window
            now = quantum_end

    def run(self) -> RunResult:
        frame_ns = self.manifest.major_frame_ns
        limit = self.options.time_ns if self.options.time_ns is not None else DEFAULT_LIMIT_NS
        frame, ended_by = 0, ""
        while not ended_by:
            base = frame * frame_ns
            for window in self.manifest.windows:
                start = base + window.start_ns
                end = min(start + window.duration_ns, limit)
                if start >= limit:
                    break
                partition = self._by_id[window.partition]
                if partition.runnable:
                    self._run_window(partition, start, end)
                if self._shutdown:
                    end = self.now_ns()  # the window ends with the module
                if self.options.trace:
                    self.trace.window(window.partition, start, end, partition.name)
                if self._shutdown:
                    break
            frame += 1
            if self._shutdown:
                ended_by = "shutdown"  # the clock stays where the module shut down
                break
            self._now, self._extra = min(base + frame_ns, limit), 0
            if not any(p.runnable for p in self.partitions):
                ended_by = "all stopped"
            elif self.options.frames is not None and frame >= self.options.frames:
                ended_by = "frames"
            elif self._now >= limit:
                ended_by = "time"
        return self._finish(ended_by, frame)

    def _finish(self, ended_by: str, frames: int) -> RunResult:
        for console in self._consoles.values():
            console.flush()
            if console.file is not None:
                console.file.close()
        if self.options.trace:
            self.trace.write(self.options.trace)
        return RunResult(
            ended_by=ended_by,
            now_ns=self.now_ns(),
            frames=frames,
            partitions=tuple(
                PartitionSummary(p.name, self._consoles[p.name].verdict, p.mode.value, p.restarts,
                                 self._hypercalls[p.name])
                for p in self.partitions
            ),
            hm_log=tuple(self.hm.log),
        )
