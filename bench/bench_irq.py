"""Virtual interrupts in the bundled emulator: how fast they reach a partition, what an
interrupt-safe section costs it, and whether its virtual timer loses ticks (issue 5, point 7).

(f) virtual IRQ deliveries per second, in host time: a partition whose timer ticks every
    ``PERIOD_US`` virtual microseconds attaches line 0 with a handler (``pvrt_irq_attach``,
    ``pvrt_clock_start``), enables interrupts and computes in registers, interrupted at
    every tick. Deliveries are the emulator's count (``VirtualCpu.delivered``) and must
    equal the handler's runs as the guest counted them, and the interrupted computation
    must end with the result it has when nothing interrupts it (the guest computes it
    first with no timer): every delivery gave the context back. The rate is over the
    timed phase: the run's host time less that of the same run stopping after the
    uninterrupted computation. Deterministic mode with the upcall fast path (the
    default), without it (every tick, irq_ack and irq_return through Python) and free
    (``--wall-clock``, which has no fast path) mode, against the 100 000/s target, and as
    a ratio to the null hypercall rate in the same run (bench_emulator's (b) loop).
(g) a disable/enable pair with nothing pending (``pv_irq_disable`` then
    ``pv_irq_set_level(previous)``, and RTEMS's ``_CPU_Virtual_Interrupts_disable`` /
    ``_enable`` over them) against the same loop calling a pair of empty ``noinline``
    functions: guest instructions per iteration from the deterministic clock (virtual
    time is instructions at the virtual CPU rate; the guest reads ``pv_get_time`` around
    the loop, and a run without the loop gives the reads' own cost), hypercalls in the
    loop (the run's count against the run without it: must be 0), and host time.
(h) timer accuracy: 4 partitions with periods of 1, 2, 5 and 10 ms, in windows that keep
    each out of the processor 80 to 90 % of a 50 ms major frame, some with interrupts
    disabled or the timer's line masked for stretches that span ticks and windows, run
    for 1000 virtual seconds. Each guest prints its ``clock_ticks()`` at the end; against
    the emulator's ``ticks_due`` and ``ticks_raised`` and the periods that elapsed since
    its ``clock_start`` by the time it read (virtual time / period): none may be lost.

Partitions are built from source with ``pvgen image`` (gcc -m32, the bare-metal runtime)
and run in process (``Module.run``, timed around it); the rates are the best of a few
runs taking turns with their baseline.
"""

from __future__ import annotations

import io
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_emulator import (
    CALLS_C,
    RUNS,
    Row,
    build_module,
    build_programs,
    emulator_runner,
    interleaved,
    print_rows,
    symbol_table,
)

from pvgen.emulator.loader import load
from pvgen.emulator.module import Module
from pvgen.emulator.run import RunOptions, RunResult

TARGET_DELIVERIES = 100_000  # per second of host time
TARGET_PAIR_RATIO = 5.0  # a disable/enable pair, in guest instructions, against a call pair
PERIOD_US = 10  # (f)'s timer period, virtual microseconds
DET_ROUNDS, FREE_ROUNDS = 3_000, 20_000  # (f)'s computation, in rounds of INNER steps
INNER = 1024
PAIRS = 2_000_000  # (g)'s iterations
ACCURACY_S = 1000  # (h)'s virtual seconds
ACCURACY_FRAME_MS = 50

DELIVER_C = f"""\
#include "partition.h"

volatile uint32_t irq_rounds = 1u; /* set before the run (in .data: start.S clears .bss) */
volatile uint32_t irq_seed = 1u;
volatile uint32_t irq_timed = 1u;  /* 0: the expected result only, no timer (the untimed run) */
volatile uint32_t irq_handled;     /* the handler's runs */
volatile uint32_t irq_ticks;       /* the ticks they accounted for */
volatile uint32_t irq_expected;    /* the computation with nothing interrupting it */
volatile uint32_t irq_result;      /* the computation interrupted at every tick */
static pvrt_clock irq_clock;

static void irq_tick(uint32_t line, void *arg)
{{
    (void)line;
    irq_ticks = irq_ticks + pvrt_clock_elapsed(arg);
    irq_handled = irq_handled + 1u;
}}

/* In registers only: what a delivery interrupts, it must give back exactly. */
static uint32_t compute(uint32_t x, uint32_t rounds)
{{
    for (uint32_t round = 0u; round < rounds; round++) {{
        for (uint32_t i = 0u; i < {INNER}u; i++) {{
            x = x * 1664525u + 1013904223u;
            x ^= x >> 13;
        }}
    }}
    return x;
}}

int main(void)
{{
    uint32_t rounds = irq_rounds;

    irq_expected = compute(irq_seed, rounds); /* no timer yet: nothing interrupts it */
    if (irq_timed == 0u) {{
        return 0;
    }}
    if (pvrt_irq_attach(VIRTUAL_TIMER_LINE, irq_tick, &irq_clock) != PV_OK ||
        pvrt_clock_start(&irq_clock, {PERIOD_US * 1000}u) != PV_OK) {{
        return 1;
    }}
    (void)pv_irq_enable();
    irq_result = compute(irq_seed, rounds);
    (void)pv_irq_disable(); /* the counts are final */
    return 0;
}}
"""

PAIRS_C = """\
#include "partition.h"

/* Set before the run (in .data, which start.S leaves as loaded: it clears .bss) */
volatile uint32_t pairs_kind = 99u;  /* 0: no loop, 1: calls, 2: pv_ fast path, 3: RTEMS's layer */
volatile uint32_t pairs_count = 1u;  /* iterations */
volatile uint32_t pairs_elapsed;     /* virtual ns from one get_time to the next */

__attribute__((noinline)) uint32_t plain_disable(void)
{
    __asm__ __volatile__("" ::: "memory");
    return 1u;
}

__attribute__((noinline)) void plain_enable(uint32_t level)
{
    __asm__ __volatile__("" : : "r"(level) : "memory");
}

int main(void)
{
    uint32_t n = pairs_count, kind = pairs_kind, i;
    pv_system_time_t before, after;

    (void)pv_irq_enable(); /* nothing is pending: no trap */
    (void)pv_get_time(&before);
    if (kind == 1u) {
        for (i = 0u; i < n; ++i) {
            uint32_t level = plain_disable();
            plain_enable(level);
        }
    } else if (kind == 2u) {
        for (i = 0u; i < n; ++i) {
            uint32_t level = pv_irq_disable();
            (void)pv_irq_set_level(level != 0u);
        }
    } else if (kind == 3u) {
        for (i = 0u; i < n; ++i) {
            uint32_t level = _CPU_Virtual_Interrupts_disable();
            _CPU_Virtual_Interrupts_enable(level);
        }
    }
    (void)pv_get_time(&after);
    pairs_elapsed = (uint32_t)(after - before);
    return 0;
}
"""

# (h): each partition ticks at its period, idles between ticks, and every few wake-ups
# holds its ticks off a while, as its style says.
ACCURACY_C = """\
#include "partition.h"

#define PERIOD_NS {period_ns}u
#define TICKS {ticks}u /* due in the run's virtual seconds */
#define STYLE {style}

volatile uint32_t accuracy_sink;

static void busy(uint32_t steps) /* 6 instructions a step */
{{
    uint32_t x = accuracy_sink;

    for (uint32_t i = 0u; i < steps; i++) {{
        x = x * 1664525u + 1013904223u;
        x ^= x >> 13;
    }}
    accuracy_sink = x;
}}

int main(void)
{{
    uint32_t wakes = 0u, held = 0u; /* wake-ups, stretches with ticks held off */
    uint64_t ticks;
    pv_system_time_t end;

    if (clock_start(PERIOD_NS) != PV_OK) {{
        return 1;
    }}
    (void)pv_irq_enable();
    while (clock_ticks() < TICKS) {{
        ++wakes;
        if (STYLE == 1 && wakes % 8u == 0u) {{ /* interrupts disabled for ~1.5 ms */
            uint32_t level = pv_irq_disable();
            busy(25000u);
            (void)pv_irq_set_level(level != 0u);
            ++held;
        }} else if (STYLE == 2 && wakes % 3u == 0u) {{ /* the line masked across two wake-ups */
            (void)pvrt_irq_disable(VIRTUAL_TIMER_LINE);
            (void)pv_idle();
            (void)pv_idle();
            (void)pvrt_irq_enable(VIRTUAL_TIMER_LINE);
            ++held;
        }} else if (STYLE == 3 && wakes % 2u == 0u) {{ /* disabled across ticks and windows */
            uint32_t level = pv_irq_disable();
            (void)pv_idle();
            (void)pv_idle();
            (void)pv_idle();
            (void)pv_irq_set_level(level != 0u);
            ++held;
        }}
        (void)pv_idle(); /* until the next tick, or the next window */
    }}
    (void)pv_irq_disable();
    ticks = clock_ticks();
    (void)pv_get_time(&end);
    console_printf("ticks %u at %x:%08x, held off %u times\\n", (unsigned)ticks,
                   (unsigned)((uint64_t)end >> 32), (unsigned)end, held);
    return 0;
}}
"""

# (h)'s partitions: name, period (ms), style, window (start ms, duration ms) in the frame.
ACCURACY_PARTS = (
    ("tick1ms", 1, 0, (0, 5)),  # idles between ticks
    ("tick2ms", 2, 1, (10, 5)),  # now and then computes with interrupts disabled
    ("tick5ms", 5, 2, (20, 10)),  # now and then masks the timer's line across two ticks
    ("tick10ms", 10, 3, (35, 5)),  # now and then idles with interrupts disabled
)
MS = 1_000_000


@dataclass(frozen=True)
class Images:
    gen: Path
    calls: Path
    deliver: Path
    pairs: Path
    accuracy: Path


def build_images(work: Path) -> Images:
    programs: dict[str, tuple[str, int]] = {
        "calls": (CALLS_C, 131072), "deliver": (DELIVER_C, 131072), "pairs": (PAIRS_C, 131072),
    }
    for name, period_ms, style, _window in ACCURACY_PARTS:
        source = ACCURACY_C.format(period_ns=period_ms * MS,
                                   ticks=ACCURACY_S * 1000 // period_ms, style=style)
        programs[name] = (source, 131072)
    elves = build_programs(work, programs)

    def one(name: str) -> Path:
        return build_module(work, name, [(name, f'Elf="{elves / (name + ".elf")}"', 131072)],
                            20_000_000)

    accuracy = build_module(
        work, "accuracy",
        [(name, f'Elf="{elves / (name + ".elf")}"', 131072) for name, *_ in ACCURACY_PARTS],
        0, windows=[(start * MS, length * MS) for *_, (start, length) in ACCURACY_PARTS],
        frame_ns=ACCURACY_FRAME_MS * MS)
    return Images(work / "gen", one("calls"), one("deliver"), one("pairs"), accuracy)


@dataclass(frozen=True)
class Booted:
    """One in-process run of a one-partition image: its module, result and host seconds."""

    module: Module
    result: RunResult
    seconds: float
    words: dict[str, int]  # the guest's variables after the run, by name

    @property
    def delivered(self) -> int:
        return self.module.partitions[0].vcpu.delivered


def boot(image_path: Path, gen: Path, inputs: dict[str, int], outputs: tuple[str, ...],
         **options: Any) -> Booted:
    """Run a one-partition image with its `inputs` variables set first; `outputs` read after."""
    image, dispatcher = load(image_path, gen)
    module = Module(image, dispatcher, RunOptions(out=io.StringIO(), **options))
    partition = module.partitions[0]
    symbols = symbol_table(partition.name, image.partition_elf(0))
    for name, value in inputs.items():
        partition.write_word(symbols[name], value)
    start = time.perf_counter()
    result = module.run()
    seconds = time.perf_counter() - start
    return Booted(module, result, seconds,
                  {name: partition.read_word(symbols[name]) for name in outputs})


# -- (f) deliveries per second ------------------------------------------------------------
IRQ_WORDS = ("irq_handled", "irq_ticks", "irq_expected", "irq_result")


def deliveries(images: Images, rounds: int, **options: Any) -> Booted:
    """One run of the delivery partition, checked: deliveries are real and harmless."""
    run = boot(images.deliver, images.gen, {"irq_rounds": rounds}, IRQ_WORDS,
               time_ns=60_000_000_000, **options)
    words, summary = run.words, run.result.partitions[0]
    assert run.result.ended_by == "all stopped", run.result
    assert words["irq_result"] == words["irq_expected"], words  # every context given back
    assert run.delivered == words["irq_handled"] > 0, (run.delivered, words)
    # each delivery ends with an irq_ack and an irq_return; the rest is the set-up
    assert 0 <= summary.hypercalls - 2 * run.delivered <= 10, (summary, run.delivered)
    assert words["irq_ticks"] <= summary.ticks_raised == summary.ticks_due, (words, summary)
    return run


# (f)'s modes: label -> computation rounds, run options
DELIVERY_MODES: dict[str, tuple[int, dict[str, Any]]] = {
    "deterministic": (DET_ROUNDS, {}),
    "free": (FREE_ROUNDS, {"wall_clock": True}),
    "deterministic, no fast path": (DET_ROUNDS, {"fast_upcalls": False}),  # for comparison
}
NO_FAST_PATH = "deterministic, no fast path"


def delivery_rows(images: Images) -> list[Row]:
    runs: dict[str, Booted] = {}

    def timed(label: str, rounds: int, **options: Any) -> Callable[[], tuple[int, float]]:
        def once() -> tuple[int, float]:
            run = deliveries(images, rounds, **options)
            best = runs.get(label)
            if best is None or run.delivered / run.seconds > best.delivered / best.seconds:
                runs[label] = run
            return run.delivered, run.seconds

        return once

    def untimed(rounds: int, **options: Any) -> Callable[[], tuple[int, float]]:
        """The same run without its timed phase: the computation nothing interrupts."""
        def once() -> tuple[int, float]:
            run = boot(images.deliver, images.gen, {"irq_rounds": rounds, "irq_timed": 0}, (),
                       time_ns=60_000_000_000, **options)
            assert run.result.ended_by == "all stopped" and run.delivered == 0, run.result
            return 1, run.seconds

        return once

    measured = interleaved(
        emulator_runner(images.calls, images.gen, "calls_count", time_ns=240_000_000),
        *(timed(label, rounds, **options) for label, (rounds, options) in DELIVERY_MODES.items()),
        *(untimed(rounds, **options) for rounds, options in DELIVERY_MODES.values()),
    )
    calls, calls_s = measured[0]
    null = calls / calls_s
    before = {label: seconds for label, (_, seconds)
              in zip(DELIVERY_MODES, measured[1 + len(DELIVERY_MODES):], strict=True)}
    rates: dict[str, float] = {}
    for label, run in runs.items():
        seconds = run.seconds - before[label]  # the timed phase's host time
        if seconds <= 0:  # the best timed and untimed runs are different runs
            raise SystemExit(f"(f) {label}: the timed phase did not outlast the untimed run's "
                             "noise; raise DET_ROUNDS / FREE_ROUNDS")
        rate = rates[label] = run.delivered / seconds
        summary, words = run.result.partitions[0], run.words
        print(f"(f) {label}: {run.delivered} deliveries in {seconds:.2f} s of the timed phase "
              f"(run {run.seconds:.2f} s, untimed {before[label]:.2f} s; {1e6 / rate:.1f} us "
              f"each; {PERIOD_US} us virtual period), handler runs {words['irq_handled']}, "
              f"ticks raised {summary.ticks_raised}, accounted {words['irq_ticks']}, "
              f"hypercalls {summary.hypercalls}; the interrupted computation's result "
              f"{words['irq_result']:#010x} as with no interrupt")
    rows = [Row(f"(f) IRQ deliveries, {label}", f"{rate:,.0f} /s",
                f"{null / 1e3:.0f} k null calls/s", f"{rate / null:.3f}",
                f">= {TARGET_DELIVERIES:,} /s", rate >= TARGET_DELIVERIES)
            for label, rate in rates.items() if label != NO_FAST_PATH]
    fast, python = rates["deterministic"], rates[NO_FAST_PATH]
    rows.append(Row("(f) the fast path's gain", f"{fast:,.0f} /s", f"{python:,.0f} /s without",
                    f"{fast / python:.1f}", "", None))
    print(f"(f) null hypercalls (deterministic, the (b) loop): {calls} in {calls_s:.2f} s")
    return rows


# -- (g) an interrupt-safe section against a function call ----------------------------------
KINDS = {"none": 0, "calls": 1, "fast path": 2, "RTEMS layer": 3}


@dataclass(frozen=True)
class Loop:
    instructions: float  # guest instructions per iteration, from virtual time
    hypercalls: int  # in the run, beyond the run without the loop
    host_ns: float  # host time per iteration, beyond the run without the loop


def pair_rows(images: Images) -> list[Row]:
    def runner(kind: int) -> Callable[[], Booted]:
        count = PAIRS if kind else 0
        return lambda: boot(images.pairs, images.gen, {"pairs_kind": kind, "pairs_count": count},
                            ("pairs_elapsed",))

    results: dict[str, list[Booted]] = {name: [] for name in KINDS}
    for _ in range(RUNS):
        for name, kind in KINDS.items():
            run = runner(kind)()
            assert run.result.ended_by == "all stopped", run.result
            results[name].append(run)
    mips = RunOptions().mips
    none = min(results["none"], key=lambda r: r.seconds)
    loops = {}
    for name in ("calls", "fast path", "RTEMS layer"):
        run = min(results[name], key=lambda r: r.seconds)
        elapsed = run.words["pairs_elapsed"] - none.words["pairs_elapsed"]
        loops[name] = Loop(elapsed * mips / 1000 / PAIRS,
                           run.result.partitions[0].hypercalls
                           - none.result.partitions[0].hypercalls,
                           (run.seconds - none.seconds) * 1e9 / PAIRS)
    call = loops["calls"]
    print(f"(g) {PAIRS:,} iterations a run at {mips} MIPS; per iteration, loop included: "
          + "; ".join(f"{name} {loop.instructions:.1f} instructions, {loop.hypercalls} "
                      f"hypercalls, {loop.host_ns:.0f} ns host" for name, loop in loops.items()))
    rows = []
    for name in ("fast path", "RTEMS layer"):
        loop = loops[name]
        ratio = loop.instructions / call.instructions
        rows.append(Row(f"(g) disable/enable pair, {name}",
                        f"{loop.instructions:.1f} instr, {loop.hypercalls} hypercalls",
                        f"call pair {call.instructions:.1f} instr", f"{ratio:.2f}",
                        f"<= {TARGET_PAIR_RATIO:g}x, 0 calls",
                        ratio <= TARGET_PAIR_RATIO and loop.hypercalls == 0))
    return rows


# -- (h) timer accuracy ---------------------------------------------------------------------
def accuracy_rows(images: Images) -> list[Row]:
    image, dispatcher = load(images.accuracy, images.gen)
    out = io.StringIO()
    module = Module(image, dispatcher, RunOptions(out=out, time_ns=(ACCURACY_S + 1) * 10**9))
    start = time.perf_counter()
    result = module.run()
    seconds = time.perf_counter() - start
    assert result.ended_by == "all stopped", result
    printed = dict(re.findall(r"^\[(\w+)\] (ticks .*)$", out.getvalue(), re.MULTILINE))
    rows = []
    lost_total = 0
    for (name, period_ms, _style, (_start, length)), partition, summary in zip(
            ACCURACY_PARTS, module.partitions, result.partitions, strict=True):
        found = re.fullmatch(r"ticks (\d+) at ([0-9a-f]+):([0-9a-f]+), held off (\d+) times",
                             printed[name])
        assert found is not None, printed
        accounted = int(found[1])
        at = int(found[2], 16) << 32 | int(found[3], 16)
        elapsed = (at - partition.timer.set_at) // (period_ms * MS)  # periods run by then
        lost = max(summary.ticks_due, elapsed) - accounted
        lost_total += lost
        coalesced = accounted - partition.vcpu.delivered  # ticks that came with another
        print(f"(h) {name}: period {period_ms} ms, window {length} of {ACCURACY_FRAME_MS} ms; "
              f"due {summary.ticks_due}, raised {summary.ticks_raised}, accounted by the "
              f"guest {accounted}, periods elapsed {elapsed}; {partition.vcpu.delivered} "
              f"deliveries ({coalesced} ticks late, counted at the next; ticks held off "
              f"{found[4]} times); lost {lost}")
        assert summary.ticks_due == summary.ticks_raised == accounted == elapsed, name
        rows.append(Row(f"(h) timer, {name}", f"{accounted} accounted",
                        f"due {summary.ticks_due}, raised {summary.ticks_raised}",
                        f"lost {lost}", "none lost", lost == 0))
    print(f"(h) {len(ACCURACY_PARTS)} partitions, {ACCURACY_S} virtual s "
          f"({result.frames} frames) in {seconds:.1f} s of host time; lost {lost_total}")
    return rows


def main() -> None:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        images = build_images(Path(tmp))
        built = time.perf_counter() - began
        rows = delivery_rows(images) + pair_rows(images) + accuracy_rows(images)
    print(f"virtual interrupt benchmark (images built in {built:.1f} s; best of {RUNS} in "
          f"process; whole run {time.perf_counter() - began:.0f} s)")
    print_rows(rows)


if __name__ == "__main__":
    main()
