"""The health monitor: an error in a partition → the action its configuration names.

Levels come from the System_HM_Table (an error is a partition error unless
the table says MODULE); a module error takes the Module_HM_Table's action
(SHUTDOWN, RESET, IGNORE), a partition error its Partition_HM_Table's action
(IGNORE, IDLE, COLD_START, WARM_START). With no entry, a partition error is
ignored. A partition cannot go on after a CPU fault (the faulting instruction
would run again) or a stop, so there IGNORE, at either level, idles it; a
refused hypercall can be ignored (the guest has its error status). Every event
is counted, and the first KEPT_EVENTS are kept for the run's report: a guest that raises
errors as fast as it can holds a bounded part of the emulator's memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pvgen.emulator.console import printable
from pvgen.image.manifest import Manifest

KEPT_EVENTS = 1000


@dataclass(frozen=True)
class HmEvent:
    at_ns: int
    partition: str
    error: str  # an ARINC 653 error code
    detail: str
    level: str  # MODULE | PARTITION
    action: str


def log_lines(log: Sequence[HmEvent], count: int | None = None) -> list[str]:
    """The HM log as a run prints it under its summary and `pvgen inspect` prints it from the
    run's trace: a heading, then one line per event kept (`count`: the events there were, if
    more). One rendering, so that the two agree to the letter and a log read from a trace can
    be compared with the one printed at exit.
    """
    count = len(log) if count is None else count
    if not count:
        return ["  health monitor: no events"]
    unkept = [f"    ... and {count - len(log)} more, not kept (the first {len(log)} are)"]
    return [f"  health monitor: {count} event(s)",
            *(f"    {e.at_ns / 1e9:.6f} s {e.partition}: {e.error} ({printable(e.detail)}) -> "
              f"{e.level} {e.action}" for e in log), *(unkept if count > len(log) else [])]


class HealthMonitor:
    def __init__(self, manifest: Manifest, tables: bool = True) -> None:
        """`tables` False: the configuration's HM tables are not applied, as on POK, whose
        kernel side logs what can be resumed and stops the partition otherwise."""
        self.manifest = manifest
        self._actions = {p.name: p.hm_actions for p in manifest.partitions} if tables else {}
        self._levels = manifest.hm_levels if tables else {}
        self.log: list[HmEvent] = []  # the first KEPT_EVENTS
        self.count = 0  # every event

    def decide(
        self, at_ns: int, partition: str, error: str, detail: str, resumable: bool
    ) -> HmEvent:
        """Record an error and say what to do about it."""
        level = self._levels.get(error, "PARTITION")
        if level == "MODULE":
            action = self.manifest.module_hm_actions.get(error, "SHUTDOWN")
        else:
            action = self._actions.get(partition, {}).get(error, "IGNORE")
        if action == "IGNORE" and not resumable:
            action = "IDLE"  # IGNORE cannot resume a faulting instruction or a stop
        event = HmEvent(at_ns, partition, error, detail, level, action)
        self.count += 1
        if len(self.log) < KEPT_EVENTS:
            self.log.append(event)
        return event
