"""The virtual CPU's rules, one tiny guest partition per rule, in the style of the Xen Test
Framework (issue 5, point 6).

Each program of ``tests/vcpu_rules/`` checks one rule from inside the guest and prints one
verdict line between the RTEMS banners: ``Test result: SUCCESS`` or ``Test result: FAILURE:
<what went wrong>``. The programs are compiled once per architecture (the bare-metal
runtime, through ``pvgen image``); each test packs one into an image, boots it in the real
emulator with a trace, and checks the verdict and what the trace shows: each raise of the
timer's line is a ``tick`` instant (its ``count`` and ``line``), each delivery an ``irq``
instant (``line N``), each hypercall a ``hypercall N`` instant, at virtual times the test
compares exactly with the timer's due times ``set_at + k * period`` (``set_at``: the time of
the ``timer_set_period`` call).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from pvgen.emulator.run import PartitionSummary
from tests.emulator_harness import Builder, Part, Run, rule_suite

RULES = Path(__file__).parent / "vcpu_rules"
PROGRAMS = ("masked", "unmask", "disable_enable", "detach", "raised_in_handler", "iret_nothing",
            "nested_levels", "flash", "descheduled_ticks", "bystander", "fastpath")
MS = 1_000_000
TID = 1  # the partition under test: identifier 1, the trace's thread 1
# hypercall numbers (hypercalls.def)
GET_TIME, TIMER_SET_PERIOD, IRQ_DETACH, IRQ_ENABLE, IRQ_DISABLE, IRQ_ACK = 21, 22, 26, 27, 28, 29
IRQ_RETURN, IRQ_FLASH, IRQ_GET_LEVEL, IRQ_UNMASK, IRQ_SET_LEVEL = 32, 33, 34, 36, 37


def ns(event: dict[str, Any]) -> int:
    """An event's virtual time in ns (the trace writes microseconds)."""
    at: float = event["ts"]
    return round(at * 1000)


@dataclass(frozen=True)
class Booted:
    """A run of a rule's module, and its trace."""

    run: Run
    events: list[dict[str, Any]]

    def console(self, name: str) -> list[str]:
        return self.run.console(name)

    def summary(self, name: str) -> PartitionSummary:
        assert self.run.result is not None
        return next(p for p in self.run.result.partitions if p.name == name)

    def instants(self, category: str, tid: int = TID) -> list[dict[str, Any]]:
        return [e for e in self.events if e["ph"] == "i" and e["tid"] == tid
                and e["cat"] == category]

    def ticks(self, tid: int = TID) -> list[tuple[int, int]]:
        """(ns, count) of each raise of the timer's line."""
        return [(ns(e), e["args"]["count"]) for e in self.instants("tick", tid)
                if e["args"]["line"] == 0]

    def irqs(self, tid: int = TID) -> list[tuple[int, str]]:
        """(ns, 'line N') of each delivery."""
        return [(ns(e), e["name"]) for e in self.instants("irq", tid)]

    def hypercalls(self, tid: int = TID) -> list[tuple[int, int]]:
        """(ns, number) of each hypercall, in order."""
        return [(ns(e), e["args"]["number"]) for e in
                self.instants("hypercall", tid)]

    def calls(self, number: int, tid: int = TID) -> list[int]:
        """The times of the hypercalls with this number."""
        return [at for at, n in self.hypercalls(tid) if n == number]

    @property
    def set_at(self) -> int:
        """When the program started its timer: its first timer_set_period."""
        return self.calls(TIMER_SET_PERIOD)[0]


@pytest.fixture(scope="module", params=["x86", "arm"])
def builder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Builder:
    """Every program compiled once per architecture (ARM with zig's clang)."""
    return rule_suite(request, tmp_path_factory, RULES, PROGRAMS)


def boot(builder: Builder, name: str, parts: Sequence[Part] | None = None,
         hm: dict[str, str] | None = None) -> Booted:
    """Boot the rule's program alone as partition 1 (or these partitions), with a trace."""
    parts = parts or [Part(TID, name, hm or {}, program=name)]
    trace = builder.root / f"{name}.json"
    run = builder.run(builder.image(name, parts), frames=20, trace=trace)
    events: list[dict[str, Any]] = json.loads(trace.read_text(encoding="utf-8"))["traceEvents"]
    assert run.result is not None and run.result.ended_by == "all stopped", run.stdout
    return Booted(run, events)


def assert_success(booted: Booted, name: str) -> None:
    """The program's console is its banners around SUCCESS, and the emulator agrees."""
    assert booted.console(name) == [f"*** BEGIN OF TEST {name} ***", "Test result: SUCCESS",
                                    f"*** END OF TEST {name} ***"], booted.run.stdout
    assert booted.summary(name).verdict == "passed"
    assert booted.run.hm(name) == []
    # the run passes if its other partitions (a bystander prints no test) do too
    assert booted.run.result is not None
    others = [p.verdict for p in booted.run.result.partitions if p.name != name]
    assert booted.run.status == (0 if set(others) <= {"passed"} else 1)


def test_a_masked_line_stays_pending(builder: Builder) -> None:
    booted = boot(builder, "masked")
    assert_success(booted, "masked")
    s = booted.set_at
    assert booted.ticks() == [(s + k * MS, 1) for k in (1, 2, 3)]  # raised on time
    assert booted.irqs() == []  # and never delivered
    summary = booted.summary("masked")
    assert summary.ticks_due == summary.ticks_raised == 3


def test_unmasking_delivers_the_pending_line_in_the_call(builder: Builder) -> None:
    booted = boot(builder, "unmask")
    assert_success(booted, "unmask")
    assert booted.ticks() == [(booted.set_at + MS, 1)]
    unmask = booted.calls(IRQ_UNMASK)[-1]  # the first is pvrt_irq_attach's
    assert unmask > booted.set_at + MS
    assert booted.irqs() == [(unmask, "line 0")]


def test_disabling_then_enabling_delivers_and_only_that_enable_traps(builder: Builder) -> None:
    booted = boot(builder, "disable_enable")
    assert_success(booted, "disable_enable")
    s = booted.set_at
    assert booted.ticks() == [(s + MS, 1), (s + 2 * MS, 1)]
    # the fast path: the first enable (nothing pending) and the disable made no trap; the
    # second enable trapped once, because the area's pending word was set
    [enable] = booted.calls(IRQ_ENABLE)
    assert booted.calls(IRQ_DISABLE) == []
    assert enable > s + 2 * MS
    assert booted.irqs() == [(enable, "line 0")]  # the two ticks, coalesced into one delivery
    summary = booted.summary("disable_enable")
    assert summary.ticks_due == summary.ticks_raised == 2


def test_a_detached_line_is_no_longer_delivered(builder: Builder) -> None:
    booted = boot(builder, "detach")
    assert_success(booted, "detach")
    s = booted.set_at
    detach, again = booted.calls(IRQ_DETACH)
    assert s + MS < detach < s + 2 * MS < s + 4 * MS < again
    assert booted.ticks() == [(s + MS, 1)]  # none raised after the detach
    assert booted.irqs() == [(s + MS, "line 0")]
    summary = booted.summary("detach")
    assert (summary.ticks_due, summary.ticks_raised) == (4, 1)  # the timer kept ticking


def test_a_line_raised_while_its_handler_runs_is_delivered_after_iret(builder: Builder) -> None:
    booted = boot(builder, "raised_in_handler")
    assert_success(booted, "raised_in_handler")
    s = booted.set_at
    assert booted.ticks() == [(s + MS, 1), (s + 2 * MS, 1)]  # the second during the handler
    first_return, second_return = booted.calls(IRQ_RETURN)
    [first_ack, _] = booted.calls(IRQ_ACK)
    assert s + 2 * MS < first_ack <= first_return
    # delivered once, right after (in) the first irq_return: not while the handler ran
    assert booted.irqs() == [(s + MS, "line 0"), (first_return, "line 0")]
    assert second_return > first_return


def test_iret_with_nothing_to_return_to_is_an_hm_error(builder: Builder) -> None:
    booted = boot(builder, "iret_nothing", hm={"ILLEGAL_REQUEST": "IDLE"})
    detail = "irq_return with no upcall to return from"
    assert booted.run.hm("iret_nothing") == [f"ILLEGAL_REQUEST ({detail}) -> PARTITION IDLE"]
    result = booted.run.result
    assert result is not None
    assert [(e.partition, e.error, e.detail, e.level, e.action) for e in result.hm_log] == [
        ("iret_nothing", "ILLEGAL_REQUEST", detail, "PARTITION", "IDLE")]
    [returned] = booted.calls(IRQ_RETURN)
    assert [(ns(e), e["name"], e["args"]["action"]) for e in booted.instants("hm")] == [
        (returned, "ILLEGAL_REQUEST", "IDLE")]
    # the partition never went on: BEGIN without verdict or END, which the tester fails
    assert booted.console("iret_nothing") == ["*** BEGIN OF TEST iret_nothing ***"]
    summary = booted.summary("iret_nothing")
    assert (summary.verdict, summary.mode) == ("failed", "IDLE")
    assert booted.run.status == 1


def test_nested_levels_restore_correctly(builder: Builder) -> None:
    booted = boot(builder, "nested_levels")
    assert_success(booted, "nested_levels")
    assert booted.ticks() == [(booted.set_at + MS, 1)]
    # only restoring the outer level (enabled, with the tick pending) trapped; it delivered
    [restore] = booted.calls(IRQ_SET_LEVEL)
    assert booted.irqs() == [(restore, "line 0")]
    assert booted.calls(IRQ_ENABLE) == booted.calls(IRQ_DISABLE) == []
    assert len(booted.calls(IRQ_GET_LEVEL)) == 6  # the program's raw ones, at each step


def test_ticks_missed_while_descheduled_are_counted_exactly(builder: Builder) -> None:
    """A 0.5 ms clock in a 1 ms window of a 10 ms frame: 18 of each frame's 20 ticks fall in
    the bystander's window and come at once at the start of the next window."""
    booted = boot(builder, "descheduled_ticks", [
        Part(TID, "descheduled_ticks", program="descheduled_ticks", window_ms=1),
        Part(2, "bystander", program="bystander", window_ms=9)])
    assert_success(booted, "descheduled_ticks")
    period, frame = MS // 2, 10 * MS
    summary = booted.summary("descheduled_ticks")
    assert summary.ticks_due == summary.ticks_raised == 100  # five frames
    windows = [(f * frame, f * frame + MS) for f in range(6)]
    raises: dict[int, int] = {}
    for k in range(1, 101):
        due = booted.set_at + k * period
        at = next(max(start, due) for start, end in windows if due < end)
        raises[at] = raises.get(at, 0) + 1
    assert booted.ticks() == sorted(raises.items())
    assert [count for _, count in booted.ticks()][:5] == [1, 18, 1, 1, 18]
    assert booted.irqs() == [(at, "line 0") for at in sorted(raises)]  # each delivered at once
    assert booted.console("bystander") == []


def test_irq_flash_delivers_and_leaves_interrupts_disabled(builder: Builder) -> None:
    booted = boot(builder, "flash")
    assert_success(booted, "flash")
    assert booted.ticks() == [(booted.set_at + MS, 1)]
    [flash] = booted.calls(IRQ_FLASH)
    assert booted.irqs() == [(flash, "line 0")]


def test_the_fast_path_makes_no_trap(builder: Builder) -> None:
    """1000 disable/enable pairs: 2000 hypercalls as raw traps or through the stubs with no
    area in use, none through the stubs with the area shared (counted in the trace)."""
    booted = boot(builder, "fastpath")
    assert_success(booted, "fastpath")
    calls = [n for _, n in booted.hypercalls()]
    marks = [i for i, n in enumerate(calls) if n == GET_TIME]
    assert len(marks) == 4
    raw, unshared, shared = (calls[a + 1:b] for a, b in pairwise(marks))
    assert raw == unshared == [IRQ_DISABLE, IRQ_ENABLE] * 1000
    assert shared == []
    assert booted.summary("fastpath").hypercalls == len(calls)
