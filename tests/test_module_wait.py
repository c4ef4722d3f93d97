"""A partition blocked in a queuing call with a timeout (pvgen/emulator/calls.py: a Block
effect, end_wait), driven without a CPU: the module's call server on a clock, a caller and a
service that stand in for them. Real runs of every wait case are in tests/test_pok_profile.py;
what those cannot time exactly is here: a deadline at the very end of the caller's window."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pvgen.emulator.calls import CallServer
from pvgen.emulator.clock import RunTime
from pvgen.emulator.cpu import NO_RESULT
from pvgen.emulator.effects import Block

MS = 1_000_000
OK, TIMED_OUT = 0, 250
TIMEOUT = 3 * MS


class Clock:
    """The time the module reads and moves on (``now``, ``skip``)."""

    def __init__(self, now: int) -> None:
        self.time = now

    def now(self) -> int:
        return self.time

    def skip(self, to: int) -> None:
        assert to >= self.time, "time never goes back"
        self.time = to


class Caller:
    """A partition trapped in a queuing send: its trap registers and its result register."""

    def __init__(self) -> None:
        self.waiting: Any = None
        self.cpu = SimpleNamespace(trap_view=[111, 1, 2, 3])
        self.entry = SimpleNamespace(identifier=1)
        self.memory = None
        self.services = self
        self.fast = None
        self.stop: str | None = None
        self.halted = ""
        self.result: int | None = None

    def halt(self, reason: str) -> None:
        self.halted = self.stop = reason

    def write_register(self, name: str, value: int) -> None:
        self.result = value


def blocked(now: int, queue: dict[str, bool]) -> tuple[CallServer, Caller, Clock]:
    """A call server whose caller has just trapped at `now` with a send that finds the queue
    full (``queue["full"]``) and waits for at most TIMEOUT."""
    clock, caller = Clock(now), Caller()
    time = RunTime(clock)  # type: ignore[arg-type]
    time.enter()

    def send(registers: Any, memory: Any, services: Caller) -> int | Block:
        """queuing_send's service: OK once there is room, else wait, TIMED_OUT when run out."""
        assert tuple(registers) == (111, 1, 2, 3)
        if not queue["full"]:
            return OK
        return TIMED_OUT if server.waited(services) else Block(TIMEOUT)  # type: ignore[arg-type]

    server = CallServer(send, "eax", time, SimpleNamespace(enabled=False),  # type: ignore[arg-type]
                        lambda *report: None, {"queuing_send": 111})
    assert server.on_trap(caller) == NO_RESULT  # type: ignore[arg-type]  # the trap: it blocks
    assert caller.halted == "wait" and caller.waiting.deadline_ns == now + TIMEOUT
    return server, caller, clock


def test_a_deadline_inside_the_window_times_out_there() -> None:
    server, caller, clock = blocked(1 * MS, {"full": True})
    assert server.end_wait(caller, 5 * MS)  # type: ignore[arg-type]
    assert (caller.result, clock.time, caller.waiting) == (TIMED_OUT, 4 * MS, None)


def test_a_deadline_after_the_window_waits_for_the_next() -> None:
    queue = {"full": True}
    server, caller, clock = blocked(3 * MS, queue)
    assert not server.end_wait(caller, 5 * MS)  # type: ignore[arg-type]
    assert (caller.result, clock.time) == (None, 3 * MS)
    queue["full"] = False  # another partition makes room before the deadline, 6 ms
    clock.time = 5 * MS + 1
    assert server.end_wait(caller, 10 * MS)  # type: ignore[arg-type]
    assert caller.result == OK


def test_a_deadline_at_the_end_of_the_window_times_out_at_that_end() -> None:
    """The deadline is the window's end: no other partition has run by then, so the wait has
    run out with the queue full; room made in the next windows comes after it."""
    queue = {"full": True}
    server, caller, clock = blocked(2 * MS, queue)
    assert server.end_wait(caller, 5 * MS)  # type: ignore[arg-type]
    assert (caller.result, clock.time, caller.waiting) == (TIMED_OUT, 5 * MS, None)
