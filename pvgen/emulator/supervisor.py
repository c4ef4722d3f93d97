"""What becomes of a partition that stopped: the health monitor's actions, mode changes,
the end of its program, the module's shutdown.

Errors are reported while the partition's CPU runs (from inside a hook); any action but
IGNORE stops the CPU at once, and is carried out once it has stopped (``after_stop``), when
the window loop hands the stop over. So a restart or an idle partition never happens in the
middle of a hook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pvgen.emulator.clock import RunTime
from pvgen.emulator.console import Console, Output, printable
from pvgen.emulator.effects import StopReason
from pvgen.emulator.hm import HealthMonitor, HmEvent
from pvgen.emulator.partition import Mode, Partition, Stop
from pvgen.emulator.run import Ending
from pvgen.emulator.trace import Trace


class Supervisor:
    """The module's side of its partitions' stops; ``ending`` says when one ends the run."""

    def __init__(self, hm: HealthMonitor, partitions: Sequence[Partition],
                 consoles: Mapping[str, Console], out: Output, trace: Trace,
                 time: RunTime) -> None:
        self.hm = hm
        self._partitions = partitions
        self._consoles = consoles
        self._out = out
        self._trace = trace
        self._time = time
        self.ending: Ending | None = None  # SHUTDOWN once a partition or the HM shut down
        self._pending: dict[str, HmEvent] = {}  # HM actions waiting for the CPU to stop

    def health_event(self, partition: Partition, error: str, detail: str,
                     resumable: bool) -> None:
        """Record an error; any action but IGNORE stops the CPU and is applied once it has."""
        now = self._time.now()
        event = self.hm.decide(now, partition.name, error, detail, resumable)
        if event.action != "IGNORE":
            self._consoles[partition.name].flush()  # its last words come before the report
        self._out.write(f"[{partition.name}] HM: {error} ({printable(detail)}) -> "
                        f"{event.level} {event.action}\n")
        if self._trace.enabled:
            self._trace.instant(partition.entry.identifier, now, "hm", error, detail=detail,
                                level=event.level, action=event.action)
        if event.action != "IGNORE":
            self._pending[partition.name] = event
            partition.halt(StopReason.HM, detail=event.action)

    def after_stop(self, partition: Partition, stop: Stop) -> None:
        """Act on why a partition's CPU stopped, now that it has."""
        if stop.reason is StopReason.FAULT:
            assert stop.fault is not None
            self.health_event(partition, stop.fault.value, stop.detail, resumable=False)
        elif stop.reason is StopReason.STOP:
            self.health_event(partition, "APPLICATION_ERROR", stop.detail, resumable=False)
        elif stop.reason is StopReason.SHUTDOWN:
            self.ending = Ending.SHUTDOWN
        elif stop.reason is StopReason.END:
            self._consoles[partition.name].flush()  # a line left unfinished ends here
            partition.program_ended = True
        elif stop.reason is StopReason.MODE:
            if stop.detail == Mode.IDLE.value:
                self._idle(partition)
            else:
                self._restart(partition, stop.detail == Mode.WARM_START.value,
                              "PARTITION_RESTART")
        event = self._pending.pop(partition.name, None)
        if event is not None:
            self._apply(partition, event)

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
            self.ending = Ending.SHUTDOWN
        elif action == "RESET":
            for each in self._partitions:
                self._restart(each, False, "HM_MODULE_RESTART")

    def _idle(self, partition: Partition) -> None:
        self._consoles[partition.name].flush()  # a line left unfinished ends here, in order
        partition.mode = Mode.IDLE

    def _restart(self, partition: Partition, warm: bool, condition: str) -> None:
        self._consoles[partition.name].flush()  # the reloaded partition starts a new line
        partition.restart(warm, condition, self._time.now())
