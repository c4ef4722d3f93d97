"""A partition's virtual timer: when its ticks fall, and how many have (issue 5, point 3).

The clock interrupt belongs to the hypervisor; a partition gets virtual ticks at
its own period in virtual time, whether it is running or not. Its ticks fall at
``set_at + k * period`` for k >= 1, where ``set_at`` is when the period was set:
at boot (0) for the configuration's ``TimerPeriodSeconds``, at the call for
``timer_set_period``, at the restart for a restarted partition. Setting a
period re-phases the timer, so a driver that starts its clock knows its first
tick comes one full period later.

This is only the arithmetic. The module decides when to look (a window's start,
a tick's due time inside a window, an idle partition's wake-up) and raises what
``count`` finds on the partition's virtual CPU. Counting divides instead of
stepping tick by tick, so a partition kept out of its windows for a long time
costs one call, and no tick goes uncounted however far time has jumped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class VirtualTimer:
    """One partition's timer, from its boot or restart."""

    period: int = 0  # nanoseconds between ticks; 0: stopped
    set_at: int = 0  # the virtual time the period was set: ticks fall at set_at + k * period
    due: int = 0  # ticks fallen and counted since boot or restart, every period included
    _counted: int = 0  # of `due`, the ticks of the current period (k of the last one counted)

    @property
    def next_due(self) -> int | None:
        """The virtual time the next tick falls at; None when the timer is stopped."""
        if not self.period:
            return None
        return self.set_at + (self._counted + 1) * self.period

    def _uncounted(self, now: int) -> int:
        if not self.period or now < self.set_at:
            return 0
        return (now - self.set_at) // self.period - self._counted

    def count(self, now: int) -> int:
        """Count the ticks fallen by `now` (at it included) and not counted yet; how many.

        The module raises exactly these, so what it raised and `due` never part ways.
        """
        new = self._uncounted(now)
        if new > 0:
            self._counted += new
            self.due += new
            return new
        return 0

    def fallen(self, now: int) -> int:
        """Every tick fallen by `now`, counted yet or not (what ``get_ticks`` reads)."""
        return self.due + max(0, self._uncounted(now))

    def set_period(self, period: int, now: int) -> int:
        """Re-phase the timer at `now` (period 0 stops it); the ticks of the old period
        that fell by `now` are counted first, and their number returned to be raised."""
        fallen = self.count(now)
        self.period, self.set_at, self._counted = period, now, 0
        return fallen
