# mypy: disallow-untyped-calls=False
# (unicorn is untyped; the project allows its calls in pvgen.emulator.partition the same way)
"""How fast the bundled emulator runs partitions, against bare Unicorn in the same run.

Figures of issue 4, each printed with its ratio and its target:

(a) a compute-bound partition's guest instructions per second in deterministic
    mode (the native per-block instruction budget) and in free mode
    (``--wall-clock``), each as a ratio to the same code on a bare Unicorn with
    no hooks at all;
(b) null hypercall round trips per second (``pv_get_time`` in a loop) through
    the module and the generated dispatcher, as a ratio to the same trapping
    loop on a bare Unicorn whose interrupt hook does nothing;
(c) window switches per second: 16 partitions that idle at once, 0.1 ms windows;
(d) the peak RSS of ``pvgen boot`` with 16 partitions of 1 MiB, run a few frames;
(e) ``pvgen boot`` of the hello example, the whole process.

Figures (a) and (b) are measured for x86 and ARM guests in the same run (issue 7): each row
for x86, then for ARM, then the ARM / x86 ratios. ARM guests are built with zig's clang (the
arm extra); without it their rows say "skipped: needs the arm extra".

The partitions are real: small C programs built by ``pvgen image`` into a temporary
directory at the start. The bare baselines load the very same partition ELF from the
image (its PT_LOAD segments into one Unicorn mapping of the partition's size, on the
emulator's CPU for its architecture) and run its ``main`` with a return address at the
top of the stack (x86) or in ``lr`` (ARM, whose ``svc 0`` reaches the empty hook as
interrupt 2) until it returns, after setting the loop's bound in memory. Guest
instructions are counted exactly once, with a code hook on short runs (the loop's cost
per round and its fixed cost); the measured runs have no hooks but the one under test,
and the emulator's work is read back from the counter the loop stores. Emulator runs are
driven in process (``pvgen.emulator.loader.load``, ``Module``, ``RunOptions``) and timed
around ``Module.run``; every figure is the best of a few runs, bare and emulated alike,
the runs compared in a ratio taking turns.
"""

from __future__ import annotations

import importlib.util
import io
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from unicorn import UC_HOOK_CODE, UC_HOOK_INTR, Uc

from pvgen.emulator.arch import backend
from pvgen.emulator.loader import load
from pvgen.emulator.module import Module
from pvgen.emulator.run import RunOptions, RunResult
from pvgen.image.builder import build_image
from pvgen.image.elfview import read_view
from pvgen.image.read import read_image

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "hypercalls.def"
RUNS = 3  # best of, for every in-process figure
INNER = 1024  # arithmetic steps per round of the compute loop

TARGET_FREE = 0.8
TARGET_DETERMINISTIC = 0.1
TARGET_HYPERCALL = 0.4
TARGET_SWITCHES = 20_000
TARGET_RSS_MIB = 300
TARGET_BOOT_S = 0.5

# The partitions' programs. Each loop runs `*_limit` times (patched smaller for
# the bare runs; the emulator runs them for a set time) and stores its progress
# in a counter alone in its page: a store to a page that also holds translated
# code would make Unicorn invalidate code on every iteration.
COMPUTE_C = f"""\
#include "partition.h"

volatile uint32_t compute_limit = 0xFFFFFFFFu;
volatile uint32_t compute_count __attribute__((aligned(4096)));
volatile uint32_t compute_sink;

int main(void)
{{
    uint32_t x = 1, limit = compute_limit;
    for (uint32_t round = 0; round < limit; round++) {{
        for (uint32_t i = 0; i < {INNER}u; i++) {{
            x = x * 1664525u + 1013904223u;
            x ^= x >> 13;
        }}
        compute_count = round + 1;
    }}
    compute_sink = x;
    return 0;
}}
"""

CALLS_C = """\
#include "partition.h"

volatile uint32_t calls_limit = 0xFFFFFFFFu;
volatile uint32_t calls_count __attribute__((aligned(4096)));

int main(void)
{
    pv_system_time_t now;
    uint32_t limit = calls_limit;
    for (uint32_t i = 0; i < limit; i++) {
        (void)pv_get_time(&now);
        calls_count = i + 1;
    }
    return 0;
}
"""

IDLER_C = """\
#include "partition.h"

int main(void)
{
    for (;;) {
        (void)pv_idle();
    }
}
"""

PROGRAMS = {"compute": (COMPUTE_C, 131072), "calls": (CALLS_C, 131072),
            "idler": (IDLER_C, 1048576)}
SIXTEEN = 16
SIXTEEN_WINDOW_NS = 100_000


# -- configurations ------------------------------------------------------------------------
def _seconds(ns: int) -> str:
    return f"{ns / 1e9:.9f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class Links:
    """Ports and channels for ``module_xml``: each partition's Sampling_Port and Queuing_Port
    elements by partition name, and the Channel elements of the Connection_Table."""

    ports: dict[str, str]
    channels: str


def module_xml(name: str, partitions: list[tuple[str, str, int]], window_ns: int,
               windows: list[tuple[int, int]] | None = None, frame_ns: int | None = None,
               ports: Links | None = None, arch: str = "x86") -> str:
    """A module whose partitions (name, Guest attributes, memory) share a frame in equal windows,
    or each in its own window (start, duration) of `frame_ns`; `ports`, when given, adds each
    partition's port elements and the module's channels. Its guests are built for `arch`."""
    if windows is None:
        windows = [(n * window_ns, window_ns) for n in range(len(partitions))]
        frame_ns = window_ns * len(partitions)
    assert frame_ns is not None and len(windows) == len(partitions)
    parts, memory, schedule = [], [], []
    for n, ((pname, guest, size), (start, duration)) in enumerate(
            zip(partitions, windows, strict=True), start=1):
        extra = "" if ports is None else ports.ports.get(pname, "")
        parts.append(f'<Partition PartitionIdentifier="{n}" PartitionName="{pname}">'
                     f"<Guest {guest}/>{extra}</Partition>")
        memory.append(f'<Partition_Memory PartitionIdentifier="{n}"><Memory_Requirements '
                      f'Type="DATA" SizeBytes="{size}"/></Partition_Memory>')
        schedule.append(
            f'<Partition_Schedule PartitionIdentifier="{n}" PeriodSeconds="{_seconds(frame_ns)}" '
            f'PeriodDurationSeconds="{_seconds(duration)}"><Window_Schedule '
            f'WindowIdentifier="{n}" WindowStartSeconds="{_seconds(start)}" '
            f'WindowDurationSeconds="{_seconds(duration)}"/></Partition_Schedule>'
        )
    return (
        f'<ARINC_653_Module ModuleName="{name}"><Toolchain Arch="{arch}"/>'
        + "".join(parts) + "".join(memory)
        + f'<Module_Schedule MajorFrameSeconds="{_seconds(frame_ns)}">' + "".join(schedule)
        + "</Module_Schedule>"
        + ("" if ports is None else f"<Connection_Table>{ports.channels}</Connection_Table>")
        + "</ARINC_653_Module>\n"
    )


@dataclass(frozen=True)
class Guests:
    """The modules of figures (a) and (b), built for one architecture."""

    compute: Path
    calls: Path


@dataclass(frozen=True)
class Images:
    gen: Path
    guests: dict[str, Guests | None]  # by architecture (ARCHS); None: its compiler is missing
    sixteen: Path
    hello: Path


def build_programs(work: Path, programs: dict[str, tuple[str, int]], arch: str = "x86") -> Path:
    """Compile programs (name: C source, partition size) once for `arch`, as the partitions of
    one image (its generated sides in ``work/gen``); the directory of their ELFs."""
    for name, (source, _size) in programs.items():
        (work / f"{name}.c").write_text(source, encoding="utf-8")
    stem = "programs" if arch == "x86" else f"programs_{arch}"
    config = work / f"{stem}.xml"
    config.write_text(module_xml("programs", [
        (name, f'Sources="{name}.c"', size) for name, (_src, size) in programs.items()
    ], 1_000_000, arch=arch))
    build_image(config, work / f"{stem}.img", DEFINITION, work / "gen")
    return work / f"{stem}.build"


def build_module(work: Path, name: str, partitions: list[tuple[str, str, int]], window_ns: int,
                 windows: list[tuple[int, int]] | None = None,
                 frame_ns: int | None = None, ports: Links | None = None,
                 arch: str = "x86") -> Path:
    """An image of the partitions (``module_xml``'s arguments), built into `work`."""
    config = work / f"{name}.xml"
    config.write_text(module_xml(name, partitions, window_ns, windows, frame_ns, ports, arch))
    out = work / f"{name}.img"
    build_image(config, out, DEFINITION, work / "gen")
    return out


# The architectures of figures (a) and (b), by their label in the table. ARM guests are
# built with zig's clang, from the arm extra; without it their rows say so.
ARCHS = {"x86": "x86", "arm": "ARM"}
SKIPPED = "skipped: needs the arm extra"
# Where a call leaves its return address: a register, or None for the stack.
LINK_REGISTER: dict[str, str | None] = {"x86": None, "arm": "lr"}


def can_build(arch: str) -> bool:
    return arch == "x86" or importlib.util.find_spec("ziglang") is not None


def build_images(work: Path) -> Images:
    """The programs once from source per architecture, then each benchmark's module from
    their ELFs."""
    gen = work / "gen"
    guests: dict[str, Guests | None] = {}
    x86_elves = work / "programs.build"
    for arch in ARCHS:
        if not can_build(arch):
            guests[arch] = None
            continue
        programs = PROGRAMS if arch == "x86" else {
            name: PROGRAMS[name] for name in ("compute", "calls")}
        elves = build_programs(work, programs, arch)
        guests[arch] = Guests(*(
            build_module(work, f"{program}_{arch}", [
                (program, f'Elf="{elves / (program + ".elf")}"', PROGRAMS[program][1])],
                20_000_000, arch=arch)
            for program in ("compute", "calls")))
    return Images(
        gen=gen,
        guests=guests,
        sixteen=build_module(work, "sixteen", [
            (f"p{n}", f'Elf="{x86_elves / "idler.elf"}"', PROGRAMS["idler"][1])
            for n in range(1, SIXTEEN + 1)], SIXTEEN_WINDOW_NS),
        hello=build_image(ROOT / "examples/hello/module.xml", work / "hello.img", DEFINITION,
                          gen).image,
    )


# -- bare Unicorn -------------------------------------------------------------------------------
class BareProgram:
    """A partition's ELF on a plain Unicorn: its main run to its return, nothing else.

    The CPU is the emulator's back-end for the image's architecture (``pvgen.emulator.arch``); main
    is called as that architecture's ABI calls a function, with its return address on the
    stack (x86) or in ``lr`` (ARM), so that it returns to where ``emu_start`` stops.
    """

    def __init__(self, image_path: Path, prefix: str) -> None:
        image = read_image(image_path)
        self.entry = image.manifest.partitions[0]
        self.elf = image.partition_elf(0)
        view = read_view(self.entry.name, self.elf)
        self.backend = backend(image.manifest.arch)
        symbols = symbol_table(self.entry.name, self.elf)
        # An odd address on ARM is Thumb code: Unicorn starts there in Thumb state.
        thumb = 1 if self.backend.thumb_bit is not None else 0
        self.prefix = prefix
        self.main = symbols["main"]
        self.limit = symbols[f"{prefix}_limit"]
        self.count = symbols[f"{prefix}_count"]
        # main returns to another function's first byte, where emu_start's `until` stops it.
        self.ret = symbols["partition_start"] & ~thumb
        self.link = symbols["partition_start"]  # with its Thumb bit, as a call would write it
        self.segments = [(s.vaddr, self.elf[s.offset : s.offset + s.filesz])
                         for s in view.segments if s.type == "PT_LOAD"]

    def cpu(self, limit: int) -> Uc:
        uc = Uc(self.backend.uc_arch, self.backend.uc_mode)
        size = self.entry.memory_size
        uc.mem_map(0, size)
        for address, data in self.segments:
            uc.mem_write(address, data)
        sp = size
        link_register = LINK_REGISTER.get(self.backend.name)
        if link_register is None:  # pushed by the call
            sp -= 4
            uc.mem_write(sp, struct.pack("<I", self.link))
        else:
            uc.reg_write(self.backend.register(link_register), self.link)
        uc.reg_write(self.backend.register(self.backend.sp), sp)
        uc.mem_write(self.limit, struct.pack("<I", limit))
        return uc

    def start(self, uc: Uc, count: int = 0) -> None:
        uc.emu_start(self.main, self.ret, count=count)

    def run(self, uc: Uc) -> float:
        """Run main to its return; the host seconds it took."""
        start = time.perf_counter()
        self.start(uc)
        elapsed = time.perf_counter() - start
        done = read_u32(uc, self.count)
        assert done == read_u32(uc, self.limit), (done, read_u32(uc, self.limit))
        return elapsed

    def instructions(self, limit: int) -> int:
        """Guest instructions main executes for this bound, counted with a code hook."""
        uc = self.cpu(limit)
        counted = [0]

        def count(_uc: Uc, _address: int, _size: int, _user: Any) -> None:
            counted[0] += 1

        uc.hook_add(UC_HOOK_CODE, count)
        uc.hook_add(UC_HOOK_INTR, _no_interrupt)
        self.run(uc)
        return counted[0]

    def cost(self) -> tuple[int, int]:
        """(per round, fixed): main's instructions are fixed + per round x bound, exactly."""
        one, two, three = (self.instructions(n) for n in (1, 2, 3))
        assert three - two == two - one, (one, two, three)
        return two - one, one - (two - one)


def _no_interrupt(_uc: Uc, _intno: int, _user: Any) -> None:
    pass


def symbol_table(name: str, elf: bytes) -> dict[str, int]:
    """A partition ELF's symbols: name -> address."""
    view = read_view(name, elf)
    return {s.name: s.value for t in view.sections if t.type == "SHT_SYMTAB"
            for s in view.symbols(t)}


def read_u32(uc: Uc, address: int) -> int:
    value: int = struct.unpack("<I", uc.mem_read(address, 4))[0]
    return value


Run = Callable[[], tuple[int, float]]  # one measured run: (work done, seconds)


def best(runs: int, action: Run) -> tuple[int, float]:
    """The (work, seconds) with the highest rate among `runs` runs."""
    results = [action() for _ in range(runs)]
    return max(results, key=lambda r: r[0] / r[1])


def interleaved(*actions: Run) -> list[tuple[int, float]]:
    """The best (work, seconds) of each action over RUNS rounds in which they take turns.

    This machine's speed drifts over seconds; figures compared as a ratio must have
    seen the same drift, so no action gets all its runs before another starts.
    """
    results: list[list[tuple[int, float]]] = [[] for _ in actions]
    for _ in range(RUNS):
        for result, action in zip(results, actions, strict=True):
            result.append(action())
    return [max(result, key=lambda r: r[0] / r[1]) for result in results]


def bare_runner(program: BareProgram, seconds: float, hook: bool) -> Run:
    """A bare run sized to last about `seconds`: (rounds, seconds)."""

    def once(rounds: int) -> tuple[int, float]:
        uc = program.cpu(rounds)
        if hook:
            uc.hook_add(UC_HOOK_INTR, _no_interrupt)
        return rounds, program.run(uc)

    rounds, elapsed = once(16)
    while elapsed < 0.05:
        rounds, elapsed = once(rounds * 4)
    rounds = int(rounds * seconds / elapsed)
    return lambda: once(rounds)


def bare_counted(program: BareProgram, instructions: int) -> tuple[int, float]:
    """(instructions, seconds): the compute loop on bare Unicorn stopped by its own count=."""
    uc = program.cpu(0xFFFFFFFF)
    start = time.perf_counter()
    program.start(uc, count=instructions)
    return instructions, time.perf_counter() - start


# -- the emulator ------------------------------------------------------------------------------
def emulator_run(image_path: Path, gen: Path, counter: str | None, **options: Any,
                 ) -> tuple[int, float, RunResult]:
    """(counter value or 0, seconds in Module.run, its result) for one in-process run."""
    image, dispatcher = load(image_path, gen)
    module = Module(image, dispatcher, RunOptions(out=io.StringIO(), **options))
    start = time.perf_counter()
    result = module.run()
    elapsed = time.perf_counter() - start
    done = 0
    if counter is not None:
        partition = module.partitions[0]
        address = symbol_table(partition.name, image.partition_elf(0))[counter]
        done = int.from_bytes(partition.memory.read(address, 4), "little")
    return done, elapsed, result


def emulator_runner(image_path: Path, gen: Path, counter: str, **options: Any) -> Run:
    """An in-process emulator run: (the counter's final value, seconds)."""

    def once() -> tuple[int, float]:
        done, elapsed, _result = emulator_run(image_path, gen, counter, **options)
        return done, elapsed

    return once


# -- the rows ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: a reference figure, not a target
    rates: tuple[float, float] | None = None  # (the figure's rate, its baseline's), if a ratio


@dataclass(frozen=True)
class RateUnit:
    scale: float
    digits: int  # after the decimal point
    value: str  # after the scaled rate, e.g. "M instr/s"
    baseline: str  # after the scaled baseline rate


def ratio_row(figure: str, rate: float, baseline: float, unit: RateUnit,
              target: float | None) -> Row:
    """A rate shown as a ratio to its baseline, met when the ratio reaches `target`
    (None: a reference figure)."""
    digits, ratio = unit.digits, rate / baseline
    return Row(figure, f"{rate / unit.scale:.{digits}f} {unit.value}",
               f"{baseline / unit.scale:.{digits}f} {unit.baseline}", f"{ratio:.3f}",
               "(reference)" if target is None else f">= {target}",
               None if target is None else ratio >= target, (rate, baseline))


def verdict(met: bool | None) -> str:
    return "" if met is None else "met" if met else "MISSED"


@dataclass(frozen=True)
class Plan:
    """One architecture's measured runs of a figure, and how their results become its rows
    (figure names without the architecture)."""

    runs: list[Run]
    rows: Callable[[list[tuple[int, float]]], list[Row]]


def by_arch(images: Images, plan: Callable[[str, Guests], Plan]) -> list[Row]:
    """A figure for every architecture, its runs taking turns across the architectures too,
    each row followed by the same row for the others and then, under a figure with a target,
    the ARM / x86 ratios of the two rates, of their baselines and of their ratios."""
    plans = {arch: plan(arch, guests) for arch, guests in images.guests.items()
             if guests is not None}
    results = interleaved(*(run for p in plans.values() for run in p.runs))
    rows: dict[str, list[Row]] = {}
    for arch, p in plans.items():
        rows[arch], results = p.rows(results[:len(p.runs)]), results[len(p.runs):]
    shape = rows["x86"]
    out = []
    for i, x86 in enumerate(shape):
        out.append(replace(x86, figure=f"{x86.figure}, {ARCHS['x86']}"))
        for arch, label in ARCHS.items():
            if arch == "x86":
                continue
            if arch not in rows:
                out.append(Row(f"{x86.figure}, {label}", SKIPPED, "", "", "", None))
                continue
            other = replace(rows[arch][i], figure=f"{x86.figure}, {label}")
            out.append(other)
            if x86.met is not None and other.rates is not None and x86.rates is not None:
                (rate, base), (x_rate, x_base) = other.rates, x86.rates
                out.append(Row(f"    {label} / x86", f"{rate / x_rate:.2f} x",
                               f"{base / x_base:.2f} x bare",
                               f"{(rate / base) / (x_rate / x_base):.3f}", "(reference)", None))
    return out


def mode_rows(figure: str, rates: tuple[float, float], bare: float, unit: RateUnit,
              targets: tuple[float, float], free: str = "free",
              between: Row | None = None) -> list[Row]:
    """A figure's deterministic and free rates (`rates`) against the bare one, with their
    targets; `between`, a reference row, goes between them."""
    return [ratio_row(f"{figure}, deterministic", rates[0], bare, unit, targets[0]),
            *([] if between is None else [between]),
            ratio_row(f"{figure}, {free}", rates[1], bare, unit, targets[1])]


def three_runs(program: BareProgram, image: Path, gen: Path, det_virtual_ns: int,
               hook: bool) -> list[Run]:
    """The loop on bare Unicorn (with an empty interrupt hook, or none) for about 0.7 s, and
    in the emulator for `det_virtual_ns` of virtual time (deterministic) and 0.7 s (free)."""
    counter = f"{program.prefix}_count"
    return [
        bare_runner(program, 0.7, hook=hook),
        emulator_runner(image, gen, counter, time_ns=det_virtual_ns),
        emulator_runner(image, gen, counter, time_ns=700_000_000, wall_clock=True),
    ]


def compute_plan(arch: str, guests: Guests, gen: Path) -> Plan:
    program = BareProgram(guests.compute, "compute")
    per_round, fixed = program.cost()
    det_virtual_ns = 3_000_000_000
    budget = det_virtual_ns * RunOptions().mips // 1000  # what the windows allow

    def rows(results: list[tuple[int, float]]) -> list[Row]:
        (rounds, seconds), (det_rounds, det_s), (free_rounds, free_s), (counted, counted_s) = (
            results)
        bare = (fixed + per_round * rounds) / seconds
        assert abs(per_round * det_rounds - budget) < budget * 0.01, (per_round * det_rounds,
                                                                      budget)
        det = per_round * det_rounds / det_s
        free = per_round * free_rounds / free_s
        ceiling = counted / counted_s
        print(f"(a) {ARCHS[arch]} compute loop: {per_round} instructions per round of {INNER} "
              f"steps (main: {fixed} more); bare {rounds} rounds in {seconds:.2f} s, "
              f"deterministic {det_rounds} in {det_s:.2f} s ({det_virtual_ns / 1e9:g} s virtual "
              f"at {RunOptions().mips} MIPS), free {free_rounds} in {free_s:.2f} s")
        instructions = RateUnit(1e6, 1, "M instr/s", "M bare")
        return mode_rows("(a) compute", (det, free), bare, instructions,
                         (TARGET_DETERMINISTIC, TARGET_FREE), "free (--wall-clock)",
                         ratio_row("    bare Unicorn's own count=", ceiling, bare, instructions,
                                   None))

    return Plan([*three_runs(program, guests.compute, gen, det_virtual_ns, hook=False),
                 lambda: bare_counted(program, budget // 4)], rows)


def hypercall_plan(arch: str, guests: Guests, gen: Path) -> Plan:
    program = BareProgram(guests.calls, "calls")
    per_call, fixed = program.cost()

    def rows(results: list[tuple[int, float]]) -> list[Row]:
        (calls, seconds), (det_calls, det_s), (free_calls, free_s) = results
        bare, det, free = calls / seconds, det_calls / det_s, free_calls / free_s
        print(f"(b) {ARCHS[arch]} get_time loop: {per_call} instructions per call (main: "
              f"{fixed} more); bare {calls} calls in {seconds:.2f} s with an empty "
              f"UC_HOOK_INTR, deterministic {det_calls} in {det_s:.2f} s, free {free_calls} "
              f"in {free_s:.2f} s")
        return mode_rows("(b) null hypercall", (det, free), bare,
                         RateUnit(1e3, 0, "k calls/s", "k empty hook"),
                         (TARGET_HYPERCALL, TARGET_HYPERCALL))

    return Plan(three_runs(program, guests.calls, gen, 240_000_000, hook=True), rows)


def compute_rows(images: Images) -> list[Row]:
    return by_arch(images, lambda arch, guests: compute_plan(arch, guests, images.gen))


def hypercall_rows(images: Images) -> list[Row]:
    return by_arch(images, lambda arch, guests: hypercall_plan(arch, guests, images.gen))


def switch_rows(images: Images) -> list[Row]:
    frames = 400
    rows = []
    for label, wall_clock in (("deterministic", False), ("free", True)):
        def once(wall_clock: bool = wall_clock) -> tuple[int, float]:
            _done, elapsed, result = emulator_run(images.sixteen, images.gen, None,
                                                  frames=frames, wall_clock=wall_clock)
            calls = sum(p.hypercalls for p in result.partitions)
            # Every window idled at once (after vcpu_register and vcpu_share in the first);
            # in free mode a window may end by its timeout first.
            assert wall_clock or calls == (frames + 2) * SIXTEEN, calls
            return frames * SIXTEEN, elapsed

        switches, seconds = best(RUNS, once)
        rate = switches / seconds
        rows.append(Row(f"(c) window switches, {label}", f"{rate:,.0f} /s",
                        f"{switches} in {seconds:.2f} s", f"{rate / TARGET_SWITCHES:.2f} x tgt",
                        f">= {TARGET_SWITCHES:,}", rate >= TARGET_SWITCHES))
    print(f"(c) {SIXTEEN} partitions idling at once, {SIXTEEN_WINDOW_NS / 1e6:g} ms windows, "
          f"{frames} major frames")
    return rows


# Started from a small interpreter rather than from this process: a child's ru_maxrss
# counts what it had before exec, and a fork of this process already holds hundreds of MiB.
_MEASURE = """\
import os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(*argv: str, status: int = 0) -> tuple[float, int]:
    """One process, which must exit with `status`: (seconds from its start to its exit, its
    peak RSS in KiB)."""
    measured = subprocess.run([sys.executable, "-c", _MEASURE, *argv], check=True,
                              capture_output=True, text=True, cwd=ROOT).stdout.split()
    assert measured[2] == str(status), measured
    return float(measured[0]), int(measured[1])  # ru_maxrss is in KiB on Linux


def boot(image: Path, gen: Path, *extra: str, status: int = 0) -> tuple[float, int]:
    return measure(sys.executable, "-m", "pvgen.cli", "boot", str(image), "--gen", str(gen),
                   *extra, status=status)


def process_rows(images: Images) -> list[Row]:
    frames = 5
    # the sixteen idle partitions begin no test: the run is not a pass (status 1), by rule
    rss = max(boot(images.sixteen, images.gen, "--frames", str(frames), status=1)[1]
              for _ in range(2))
    hello = [boot(images.hello, images.gen) for _ in range(7)]
    seconds = statistics.median(t for t, _ in hello)
    hello_rss = max(r for _, r in hello)
    interpreter = [measure(sys.executable, "-c", "pass")[0] for _ in range(5)]
    rss_mib, hello_mib = rss / 1024, hello_rss / 1024
    print(f"(d) {SIXTEEN} partitions of 1 MiB, {frames} frames: peak RSS {rss_mib:.0f} MiB "
          f"(hello, one partition of 128 KiB: {hello_mib:.0f} MiB, so "
          f"{(rss_mib - hello_mib) / (SIXTEEN - 1):.1f} MiB per further partition)")
    print(f"(e) pvgen boot hello: median of {len(hello)} {seconds * 1000:.0f} ms (the bare "
          f"interpreter: {statistics.median(interpreter) * 1000:.0f} ms)")
    return [
        Row("(d) peak RSS, 16 x 1 MiB partitions", f"{rss_mib:.0f} MiB",
            f"hello {hello_mib:.0f} MiB", f"{rss_mib / TARGET_RSS_MIB:.2f} x tgt",
            f"< {TARGET_RSS_MIB} MiB", rss_mib < TARGET_RSS_MIB),
        Row("(e) pvgen boot hello, whole process", f"{seconds * 1000:.0f} ms",
            f"python {statistics.median(interpreter) * 1000:.0f} ms",
            f"{seconds / TARGET_BOOT_S:.2f} x tgt", f"< {TARGET_BOOT_S * 1000:.0f} ms",
            seconds < TARGET_BOOT_S),
    ]


def main() -> None:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        images = build_images(Path(tmp))
        built = time.perf_counter() - began
        rows = compute_rows(images) + hypercall_rows(images) + switch_rows(images)
        rows += process_rows(images)
    print(f"emulator benchmark (images built in {built:.1f} s; best of {RUNS} in process; "
          f"whole run {time.perf_counter() - began:.0f} s)")
    print_rows(rows)


def print_rows(rows: list[Row]) -> None:
    """The figures as a table, each with its verdict."""
    header = ("figure", "value", "baseline", "ratio", "target", "")
    widths = [max(len(header[0]), *(len(r.figure) for r in rows)),
              max(len(header[1]), *(len(r.value) for r in rows)),
              max(len(header[2]), *(len(r.baseline) for r in rows)),
              max(len(header[3]), *(len(r.ratio) for r in rows)),
              max(len(header[4]), *(len(r.target) for r in rows))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)))
    for r in rows:
        cells = (r.figure, r.value, r.baseline, r.ratio, r.target)
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
              + f"  {verdict(r.met)}".rstrip())


if __name__ == "__main__":
    main()
