"""The virtual timer in the emulator (issue 5, point 3): real guests, real images, real runs.

Every partition runs the program below, built once with gcc -m32 and the bare-metal runtime
(``pvgen image``), whose behaviour is its identifier modulo 100. Modules have two partitions,
each in one 5 ms window of a 10 ms major frame: the first in [0, 5) ms, the second in
[5, 10) ms. Runs are driven in process (``Module``), deterministic unless said otherwise, so
that a tick's time is exact: the trace's tick and irq events are compared with the due times
``set_at + k * period``, where ``set_at`` is the time of the ``timer_set_period`` call (its
trace event) or of the partition's boot or restart.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from pvgen.cli import main as pvgen_main
from pvgen.emulator.clock import HYPERCALL_NS
from pvgen.emulator.loader import load
from pvgen.emulator.module import Module
from pvgen.emulator.run import PartitionSummary, RunOptions, RunResult
from pvgen.emulator.windows import MIN_SEGMENT_NS
from pvgen.image.read import read_image
from tests import emulator_harness as harness
from tests.conftest import DEFINITION

MS = 1_000_000
WINDOW = harness.WINDOW_MS * MS
FRAME = 2 * WINDOW
TIMER_SET_PERIOD, IRQ_FLASH, PARTITION_SET_MODE = 22, 33, 404  # numbers (hypercalls.def)
Raise = tuple[int, int]  # a raise of the timer line in the trace: (virtual ns, count)

PROGRAM = r"""
#include "partition.h"

#define MS 1000000u

static uint32_t now_ns(void)
{
    pv_system_time_t now;

    (void)pv_get_time(&now);
    return (uint32_t)now;
}

static void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++) {
    }
}

/* Spin until the clock has counted `ticks` (clock_ticks holds interrupts off a moment). */
static void spin_until_ticks(uint64_t ticks)
{
    while (clock_ticks() < ticks) {
        spin(200);
    }
}

static void spin_until_time(uint32_t ns)
{
    while (now_ns() < ns) {
        spin(200);
    }
}

static uint32_t get_ticks(void)
{
    uint64_t ticks;

    (void)pv_get_ticks(&ticks);
    return (uint32_t)ticks;
}

static uint32_t get_period(void)
{
    pv_system_time_t period;

    (void)pv_timer_get_period(&period);
    return (uint32_t)period;
}

static volatile unsigned deliveries;
static pvrt_clock own_clock;
static volatile uint32_t own_ticks; /* a word: read without holding interrupts off */

static void count_ticks(uint32_t line, void *arg)
{
    (void)line;
    (void)arg;
    own_ticks += pvrt_clock_elapsed(&own_clock);
}

static void count_delivery(uint32_t line, void *arg)
{
    (void)line;
    (void)arg;
    deliveries++;
}

int main(void)
{
    pv_partition_status_t st;

    (void)pv_partition_get_status(&st);
    switch (st.identifier % 100u) {
    case 1: /* a clock like clock_start's, interrupts always enabled, spinning */
        (void)pvrt_irq_attach(VIRTUAL_TIMER_LINE, count_ticks, 0);
        (void)pvrt_clock_start(&own_clock, 1u * MS);
        (void)pv_irq_enable();
        while (own_ticks < 12u) {
            spin(200);
        }
        console_printf("ticks %u\n", (unsigned)own_ticks);
        return 0;
    case 2: /* a timer from the configuration, line 0 never requested */
        spin_until_time(12u * MS);
        console_printf("get_ticks %u period %u\n", (unsigned)get_ticks(),
                       (unsigned)get_period());
        return 0;
    case 3: /* a 0.7 ms clock, idling between ticks */
        (void)clock_start(700000u);
        (void)pv_irq_enable();
        for (;;) {
            uint32_t woke, ticks;

            (void)pv_idle();
            woke = now_ns();
            ticks = (uint32_t)clock_ticks();
            console_printf("woke at %u ticks %u\n", (unsigned)woke, (unsigned)ticks);
            if (ticks >= 15u) {
                return 0;
            }
        }
    case 4: /* a timer from the configuration, line 0 never requested, idling */
        for (unsigned i = 0; i < 3; i++) {
            (void)pv_idle();
            console_printf("woke at %u\n", (unsigned)now_ns());
        }
        return 0;
    case 5: /* the clock with interrupts still disabled, then enabled */
        (void)clock_start(1u * MS);
        spin_until_time(3500000u);
        console_printf("before %u\n", (unsigned)clock_ticks());
        (void)pv_irq_enable();
        console_printf("after %u\n", (unsigned)clock_ticks());
        return 0;
    case 6: /* the clock stopped by timer_set_period(0) */
        (void)clock_start(1u * MS);
        (void)pv_irq_enable();
        spin_until_ticks(3);
        (void)pv_timer_set_period(0);
        spin_until_time(now_ns() + 8u * MS);
        console_printf("ticks %u period %u get_ticks %u\n", (unsigned)clock_ticks(),
                       (unsigned)get_period(), (unsigned)get_ticks());
        return 0;
    case 7: /* a 1 ms clock, then a restart: the configuration's period from the restart */
        if (st.start_condition == PV_START_CONDITION_NORMAL_START) {
            (void)clock_start(1u * MS);
            (void)pv_irq_enable();
            spin_until_ticks(3);
            console_printf("ticks %u\n", (unsigned)clock_ticks());
            (void)pv_partition_set_mode(PV_PARTITION_MODE_COLD_START);
            return 1;
        }
        console_printf("restarted: period %u get_ticks %u\n", (unsigned)get_period(),
                       (unsigned)get_ticks());
        (void)pvrt_irq_attach(VIRTUAL_TIMER_LINE, count_delivery, 0);
        (void)pv_irq_enable();
        while (deliveries < 2u) {
            spin(200);
        }
        console_printf("deliveries %u get_ticks %u\n", deliveries, (unsigned)get_ticks());
        return 0;
    case 8: /* a tick pending with interrupts disabled, let in by irq_flash */
        (void)clock_start(1u * MS);
        spin_until_time(1500000u);
        console_printf("flash %u\n", (unsigned)pv_irq_flash());
        console_printf("ticks %u level %u\n", (unsigned)clock_ticks(),
                       (unsigned)pv_irq_get_level());
        return 0;
    case 9: /* a 100 ns clock: shorter than a hypercall, let alone its handler */
        (void)clock_start(100u);
        (void)pv_irq_enable();
        spin_until_ticks(1000000);
        return 0;
    case 10: /* a wild stack pointer when the tick comes: no room for the upcall's frame */
        (void)clock_start(1u * MS);
        (void)pv_irq_enable();
        __asm__ __volatile__("movl $8, %%esp\n1: jmp 1b" ::: "memory");
        return 0;
    default:
        return 2;
    }
}
"""


@dataclass(frozen=True)
class Part:
    identifier: int  # modulo 100: the behaviour
    name: str
    timer_ms: int | None = None  # the configuration's TimerPeriodSeconds


def module_xml(name: str, parts: Sequence[Part], guest: str) -> str:
    """The harness's module (each partition one 5 ms window, in order), with timers."""
    root = ElementTree.fromstring(harness.module_xml(
        name, [harness.Part(p.identifier, p.name) for p in parts], guest))
    for p in parts:
        if p.timer_ms:
            element = root.find(f"Partition[@PartitionIdentifier='{p.identifier}']/Guest")
            assert element is not None
            element.set("TimerPeriodSeconds", str(p.timer_ms / 1000))
    return ElementTree.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class Run:
    result: RunResult
    stdout: str
    events: list[dict[str, Any]]

    def console(self, name: str) -> list[str]:
        prefix = f"[{name}] "
        return [line[len(prefix):] for line in self.stdout.splitlines()
                if line.startswith(prefix)]

    def summary(self, name: str) -> PartitionSummary:
        return next(p for p in self.result.partitions if p.name == name)

    def instants(self, identifier: int, category: str) -> list[dict[str, Any]]:
        """The events of one category of the partition with this identifier (its thread is
        the one the trace's metadata gives it)."""
        tid = next(e["tid"] for e in self.events if e["name"] == "thread_name"
                   and e["args"]["identifier"] == identifier)
        return [e for e in self.events if e["ph"] == "i" and e["tid"] == tid
                and e["cat"] == category]

    def ticks(self, tid: int) -> list[Raise]:
        """(virtual ns, count) of each raise of the partition's timer line."""
        return [(ns(e), e["args"]["count"]) for e in self.instants(tid, "tick")
                if e["args"]["line"] == 0]

    def irqs(self, tid: int) -> list[int]:
        return [ns(e) for e in self.instants(tid, "irq")]

    def hypercalls(self, tid: int, number: int) -> list[int]:
        return [ns(e) for e in self.instants(tid, "hypercall")
                if e["args"]["number"] == number]


def ns(event: dict[str, Any]) -> int:
    """An event's time in ns (the trace writes microseconds)."""
    return round(event["ts"] * 1000)


class Builder:
    """Builds the program once, then images of it with per-partition timers, and runs them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.gen = root / "gen"
        (root / "timer.c").write_text(PROGRAM, encoding="utf-8")
        built = self._image("program", [Part(100, "program")], 'Sources="timer.c"')
        self.elf = root / "timer.elf"
        self.elf.write_bytes(read_image(built).partition_elf(0))

    def _image(self, name: str, parts: Sequence[Part], guest: str) -> Path:
        config = self.root / f"{name}.xml"
        config.write_text(module_xml(name, parts, guest), encoding="utf-8")
        image = self.root / f"{name}.img"
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(out):
            status = pvgen_main(["image", "--config", str(config), "--out", str(image),
                                 "--def", str(DEFINITION), "--gen", str(self.gen)])
        assert status == 0, out.getvalue()
        return image

    def run(self, name: str, parts: Sequence[Part], frames: int = 6,
            wall_clock: bool = False) -> Run:
        image_path = self._image(name, parts, f'Elf="{self.elf.name}"')
        image, dispatcher = load(image_path, self.gen)
        out, trace = io.StringIO(), self.root / f"{name}.json"
        options = RunOptions(frames=frames, wall_clock=wall_clock, trace=trace, out=out)
        result = Module(image, dispatcher, options).run()
        events = json.loads(trace.read_text(encoding="utf-8"))["traceEvents"]
        return Run(result, out.getvalue(), events)


def windows_of(slot: int, frames: int) -> list[tuple[int, int]]:
    """The [start, end) of the windows of the partition in `slot` (0 or 1)."""
    return [(f * FRAME + slot * WINDOW, f * FRAME + (slot + 1) * WINDOW) for f in range(frames)]


def expected_raises(dues: Sequence[int], windows: Sequence[tuple[int, int]]) -> list[Raise]:
    """(time, count) of the raises the issue asks for: a tick falling in one of the
    partition's windows at its due time; the ones falling outside, all at once at the start
    of its next window."""
    raises: dict[int, int] = {}
    for due in dues:
        at = next(due if start <= due else start for start, end in windows if due < end)
        raises[at] = raises.get(at, 0) + 1
    return sorted(raises.items())


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("timer"))


def test_ticks_fall_mid_window_at_their_due_time_and_missed_ones_come_at_window_start(
    builder: Builder,
) -> None:
    run = builder.run("spin", [Part(101, "spinner"), Part(202, "listenless", timer_ms=1)])
    assert run.console("spinner") == ["ticks 12"]
    [set_at] = run.hypercalls(101, TIMER_SET_PERIOD)
    dues = [set_at + k * MS for k in range(1, 13)]
    raises = expected_raises(dues, windows_of(0, 6))
    # 4 ticks in the first window, the 5 of the other partition's window at once at 10 ms
    assert [count for _, count in raises] == [1, 1, 1, 1, 5, 1, 1, 1]
    assert raises[4][0] == FRAME
    assert run.ticks(101) == raises
    assert run.irqs(101) == [at for at, _ in raises]  # each delivered at once: interrupted
    spinner = run.summary("spinner")
    assert spinner.ticks_due == spinner.ticks_raised == 12  # and the guest counted as many

    # no line 0 requested: the ticks are due (get_ticks counts them), never raised
    assert run.console("listenless") == [f"get_ticks 15 period {MS}"]
    assert run.ticks(202) == [] and run.irqs(202) == []
    listenless = run.summary("listenless")
    assert (listenless.ticks_due, listenless.ticks_raised) == (15, 0)
    assert run.result.ended_by == "all stopped"


def test_idle_wakes_at_the_next_tick_or_sleeps_to_the_next_window(builder: Builder) -> None:
    run = builder.run("idle", [Part(103, "idler"), Part(204, "deaf", timer_ms=1)])
    [set_at] = run.hypercalls(103, TIMER_SET_PERIOD)
    dues = [set_at + k * 700_000 for k in range(1, 16)]
    raises = expected_raises(dues, windows_of(0, 6))
    assert [count for _, count in raises] == [1] * 7 + [7, 1]
    assert run.ticks(103) == raises
    assert run.irqs(103) == [at for at, _ in raises]
    woke = [re.fullmatch(r"woke at (\d+) ticks (\d+)", line) for line in run.console("idler")]
    assert all(woke), run.console("idler")
    assert [int(m[2]) for m in woke if m] == [1, 2, 3, 4, 5, 6, 7, 14, 15]
    for (at, _), m in zip(raises, woke, strict=True):
        assert m and at < int(m[1]) < at + 20_000  # resumed after its idle call, right after
    idler = run.summary("idler")
    assert idler.ticks_due == idler.ticks_raised == 15

    # with line 0 not requested, its ticks do not wake it: it sleeps to its next window
    woke_deaf = [re.fullmatch(r"woke at (\d+)", line) for line in run.console("deaf")]
    assert all(woke_deaf), run.console("deaf")
    assert [int(m[1]) // MS for m in woke_deaf if m] == [15, 25, 35]
    assert run.ticks(204) == []
    deaf = run.summary("deaf")
    assert deaf.ticks_raised == 0 and deaf.ticks_due == 35  # its ticks by its last window


def test_ticks_with_interrupts_disabled_stay_pending_and_are_all_counted(
    builder: Builder,
) -> None:
    run = builder.run("masked", [Part(105, "masked"), Part(202, "listenless", timer_ms=1)])
    [set_at] = run.hypercalls(105, TIMER_SET_PERIOD)
    assert run.ticks(105) == [(set_at + k * MS, 1) for k in (1, 2, 3)]  # raised on time
    [delivered] = run.irqs(105)  # once, when the partition enabled interrupts
    assert delivered > 3_500_000
    assert run.console("masked") == ["before 0", "after 3"]
    masked = run.summary("masked")
    assert masked.ticks_due == masked.ticks_raised == 3


def test_irq_flash_lets_a_pending_tick_in_and_the_caller_resumes_disabled(
    builder: Builder,
) -> None:
    run = builder.run("flash", [Part(108, "flasher"), Part(202, "listenless", timer_ms=1)])
    [set_at] = run.hypercalls(108, TIMER_SET_PERIOD)
    assert run.ticks(108) == [(set_at + MS, 1)]
    [flash] = run.hypercalls(108, IRQ_FLASH)
    assert run.irqs(108) == [flash]  # in the call, with its result in the frame
    assert run.console("flasher") == ["flash 0", "ticks 1 level 0"]


def test_a_stopped_timer_ticks_no_more_and_a_restart_starts_the_configured_one(
    builder: Builder,
) -> None:
    run = builder.run("stop", [Part(106, "stopper"), Part(207, "restarter", timer_ms=2)])
    set_at, stopped = run.hypercalls(106, TIMER_SET_PERIOD)
    assert run.ticks(106) == [(set_at + k * MS, 1) for k in (1, 2, 3)]
    assert set_at + 3 * MS < stopped < set_at + 4 * MS
    assert run.console("stopper") == ["ticks 3 period 0 get_ticks 3"]
    stopper = run.summary("stopper")
    assert stopper.ticks_due == stopper.ticks_raised == 3

    # first life: its own 1 ms clock from [5, 10) ms; then a restart, and the configured
    # 2 ms period from the restart, whose ticks until the line is requested are only due
    [first] = run.hypercalls(207, TIMER_SET_PERIOD)
    set_mode = run.hypercalls(207, PARTITION_SET_MODE)[0]  # COLD_START (then IDLE, its end)
    restart = set_mode + HYPERCALL_NS  # the CPU stops once the call has cost its time
    assert run.console("restarter") == ["ticks 3", "restarted: period 2000000 get_ticks 3",
                                        "deliveries 2 get_ticks 5"]
    assert restart + 6 * MS <= FRAME + WINDOW < restart + 8 * MS  # 3 due by its next window
    after = [restart + k * 2 * MS for k in range(1, 6)]
    ticks = run.ticks(207)
    assert ticks == [*((first + k * MS, 1) for k in (1, 2, 3)), (after[3], 1), (after[4], 1)]
    restarter = run.summary("restarter")
    # due: 2 ms and 4 ms of the configured timer from boot (re-phased at 5 ms by its clock),
    # its clock's 3, then 5 of the restarted timer; raised: those its line was requested for
    assert (restarter.restarts, restarter.ticks_due, restarter.ticks_raised) == (1, 10, 5)


def test_a_period_shorter_than_a_hypercall_is_raised_in_1_us_steps_all_counted(
    builder: Builder,
) -> None:
    """Its handler never catches up (the guest's problem), but the host does not spin: no two
    raises are less than MIN_SEGMENT_NS apart, and no tick is lost."""
    run = builder.run("tiny", [Part(109, "tiny"), Part(202, "listenless", timer_ms=1)],
                      frames=2)
    assert run.result.ended_by == "frames"
    ticks = run.ticks(109)
    assert len(ticks) > 1000
    times = [at for at, _ in ticks]
    assert min(b - a for a, b in pairwise(times)) >= MIN_SEGMENT_NS
    tiny = run.summary("tiny")
    assert sum(count for _, count in ticks) == tiny.ticks_raised == tiny.ticks_due
    [set_at] = run.hypercalls(109, TIMER_SET_PERIOD)
    assert tiny.ticks_due == (times[-1] - set_at) // 100  # all fallen by the last raise


def test_the_timer_ticks_on_the_host_clock_too(builder: Builder) -> None:
    """How many ticks a window holds depends on the host; that they come, are all counted
    and are delivered inside the partition's windows does not."""
    run = builder.run("wall", [Part(101, "spinner"), Part(202, "listenless", timer_ms=1)],
                      frames=4, wall_clock=True)
    spinner = run.summary("spinner")
    assert 0 < spinner.ticks_raised <= spinner.ticks_due
    ticks = run.ticks(101)
    assert sum(count for _, count in ticks) == spinner.ticks_raised
    times = [at for at, _ in ticks] + run.irqs(101)
    assert times and all(any(s <= t < e for s, e in windows_of(0, 4)) for t in times)
    assert run.ticks(202) == [] and run.summary("listenless").ticks_raised == 0


def test_a_wild_stack_pointer_at_a_delivery_is_a_memory_violation_not_a_crash(
    builder: Builder,
) -> None:
    """The frame would go below address 0: nothing is written, the health monitor gets a
    memory violation, and the module runs on (the other partition finishes)."""
    run = builder.run("wild", [Part(110, "wild"), Part(202, "listenless", timer_ms=1)])
    [event] = [e for e in run.result.hm_log if e.partition == "wild"]
    assert event.error == "MEMORY_VIOLATION"
    assert "does not fit the partition (stack pointer 0x8)" in event.detail
    assert run.irqs(110) == []
    [line] = run.console("listenless")  # it ran on to its end after the violation
    assert line.startswith("get_ticks ") and line.endswith(" period 1000000")
    assert run.summary("listenless").mode == "IDLE" and run.result.ended_by == "all stopped"
