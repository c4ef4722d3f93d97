"""RTEMS 6 on the emulator: issue 16's figures, each printed with what it is measured against.

(a) ``pvgen boot`` of RTEMS's hello sample to its END OF TEST, the whole process, against
    the bare-metal hello example's boot (paired runs taking turns; medians and their ratio);
(b) RTEMS's ticker sample: virtual seconds per host second (35 virtual s of ticks);
(c) the whole sptests suite run as partitions, one process per processor: host minutes,
    and the tester's counts;
(d) an RTEMS context switch and an interrupt disable/enable pair, in guest instructions,
    hypercalls and host time: ``bench/rtems/switch.c`` built with pvgen rtems app three
    times (a baseline, YIELDS yields, PAIRS pairs), each run in process taking turns; a
    figure is the difference to the baseline over the count (virtual time from the guest's
    CPU counter, hypercalls from the emulator's count, host time around the run). Beside
    them, what RTEMS's own tm26 says in the same build (CPU counter nanoseconds, less
    tmck's cost of reading the timer).

It needs what tests/test_rtems.py needs (the RTEMS and newlib sources: PVGEN_RTEMS_SRC and
PVGEN_NEWLIB_SRC, else ../shared/rtems); without them it says so and stops. The toolchain
and RTEMS's build come from pvgen's cache (built there the first time).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pvgen.definition import load
from pvgen.emulated import boot_module
from pvgen.emulator.clock import HYPERCALL_NS
from pvgen.emulator.run import RunOptions
from pvgen.image.builder import build_image
from pvgen.pipeline import generate
from pvgen.rtems import SUITES
from pvgen.rtems.app import build_application
from pvgen.rtems.build import RtemsBuild, build_rtems
from pvgen.rtems.run import Member, Runner, SuiteProgram, counts, module_xml
from pvgen.rtems.sources import NEWLIB, RTEMS, find, locate
from pvgen.rtems.toolchain import Toolchain, zig_toolchain
from pvgen.tester import Verdict

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "rtems"
DEFINITION = ROOT / "hypercalls.def"
SWITCH = Path(__file__).parent / "rtems" / "switch.c"
COUNT = 100_000  # yields, and interrupt pairs
TURNS = 5
MIPS = RunOptions().mips  # the emulator's default virtual CPU rate


def _quiet(message: str) -> None:
    """Build logs go nowhere: the bench prints its figures."""


def paired(first: Callable[[], float], second: Callable[[], float],
           turns: int = TURNS) -> tuple[list[float], list[float]]:
    """Each measurement `turns` times, the two taking turns."""
    a, b = [], []
    for _ in range(turns):
        a.append(first())
        b.append(second())
    return a, b


def process_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def hello_boot(built: RtemsBuild, runner: Runner, work: Path) -> None:
    rtems_config = work / "rtems_hello.xml"
    hello = built.executables("samples")["hello"]
    rtems_config.write_text(module_xml("hello", [Member(
        "hello", f"Elf={quoteattr(str(hello))}", runner.partition_size)]), encoding="utf-8")
    images = {"rtems": work / "rtems_hello.img", "bare": work / "bare_hello.img"}
    build_image(rtems_config, images["rtems"], DEFINITION, runner.gen)
    build_image(ROOT / "examples" / "hello" / "module.xml", images["bare"], DEFINITION,
                runner.gen)

    def boot(image: Path) -> Callable[[], float]:
        return lambda: process_seconds([sys.executable, "-m", "pvgen.cli", "boot", str(image),
                                        "--gen", str(runner.gen)])

    rtems, bare = paired(boot(images["rtems"]), boot(images["bare"]))
    print(f"(a) pvgen boot, RTEMS hello to END OF TEST, whole process: median "
          f"{statistics.median(rtems) * 1000:.0f} ms (min {min(rtems) * 1000:.0f}); the "
          f"bare-metal hello {statistics.median(bare) * 1000:.0f} ms: "
          f"{statistics.median(rtems) / statistics.median(bare):.2f}x")


def ticker(built: RtemsBuild, runner: Runner) -> None:
    runs = [runner.run(SuiteProgram("samples", "ticker", built.executables("samples")["ticker"]))
            for _ in range(3)]
    assert all(r.verdict is Verdict.PASSED for r in runs), runs[0].console
    rates = [r.virtual_ns / 1e9 / r.host_seconds for r in runs]
    print(f"(b) ticker: {runs[0].virtual_ns / 1e9:.2f} virtual s in "
          f"{min(r.host_seconds for r in runs):.2f}-{max(r.host_seconds for r in runs):.2f} "
          f"host s: {min(rates):.1f}-{max(rates):.1f} virtual s per host s (3 runs, image "
          "packing included)")


def sptests(built: RtemsBuild, runner: Runner) -> None:
    programs = [SuiteProgram("sptests", name, elf)
                for name, elf in built.executables("sptests").items()]
    jobs = os.cpu_count() or 1
    started = time.perf_counter()
    runs = runner.run_all(programs, jobs)
    minutes = (time.perf_counter() - started) / 60
    table = counts(runs)
    verdicts = ", ".join(f"{v.value} {n}" for v, n in table.items() if n)
    print(f"(c) sptests: {len(runs)} programs in {minutes:.2f} host minutes with {jobs} "
          f"processes ({verdicts}); {sum(r.virtual_ns for r in runs) / 1e9:.1f} virtual s")


def _switch_run(elf: Path, work: Path, runner: Runner) -> tuple[float, int, int, int]:
    """Host seconds, the yields' and the pairs' virtual ns, and the hypercalls of a run."""
    config = work / f"{elf.stem}.xml"
    config.write_text(module_xml("switch", [Member(
        "switch", f"Elf={quoteattr(str(elf))}", runner.partition_size)]), encoding="utf-8")
    started = time.perf_counter()
    run = boot_module(config, work / f"{elf.stem}.img", DEFINITION, runner.gen,
                      console_baud=None)
    seconds = time.perf_counter() - started
    found = next(re.fullmatch(r"\d+ yields (\d+) ns, \d+ pairs (\d+) ns", line)
                 for line in run.consoles["switch"] if " yields " in line)
    assert found, run.consoles["switch"]
    return seconds, int(found[1]), int(found[2]), run.hypercalls["switch"]


def switch(built: RtemsBuild, toolchain: Toolchain, runner: Runner, work: Path) -> None:
    variants = {"base": (0, 0), "yields": (COUNT, 0), "pairs": (0, COUNT)}
    elves = {name: build_application(built, toolchain, [SWITCH], work / f"switch_{name}.exe",
                                     (f"-DYIELDS={y}", f"-DPAIRS={p}"))
             for name, (y, p) in variants.items()}
    results: dict[str, list[tuple[float, int, int, int]]] = {name: [] for name in variants}
    for _ in range(3):
        for name, elf in elves.items():
            results[name].append(_switch_run(elf, work, runner))
    base_host = min(r[0] for r in results["base"])
    base_calls = results["base"][0][3]
    # a yield to the other task and its yield back are two context switches
    for name, what, index, operations in (
            ("yields", "a context switch (half a yield and back)", 1, 2 * COUNT),
            ("pairs", "an interrupt disable/enable pair", 2, COUNT)):
        host = (min(r[0] for r in results[name]) - base_host) / operations
        virtual = results[name][0][index] / operations
        calls = (results[name][0][3] - base_calls) / operations
        instructions = (virtual - calls * HYPERCALL_NS) * MIPS / 1000
        print(f"(d) {what}: {instructions:.0f} guest instructions, {calls:.2f} hypercalls, "
              f"{virtual:.0f} virtual ns, {host * 1e6:.2f} host us (over {operations}, less "
              "the baseline)")


def tm26(built: RtemsBuild, runner: Runner) -> None:
    runs = {name: runner.run(SuiteProgram("tmtests", name, built.executables("tmtests")[name]))
            for name in ("tm26", "tmck")}
    null = next(int(line.rsplit(" ", 1)[1]) for line in runs["tmck"].console
                if line.startswith("Time Check: NULL timer stopped at"))
    figures = {}
    for line in runs["tm26"].console:
        label, _, value = line.rpartition(" - ")
        if label.endswith(("_ISR_Local_disable", "_ISR_Local_enable",
                           "context switch to another task")):
            figures[label.split(": ", 1)[1]] = int(value) - null
    print("(d) RTEMS's tm26, CPU counter ns less tmck's timer read (" f"{null} ns): "
          + ", ".join(f"{label} {ns} ns" for label, ns in figures.items()))


def main() -> None:
    rtems, newlib = find(RTEMS, SHARED), find(NEWLIB, SHARED)
    if rtems is None or newlib is None:
        print(f"skipped: needs the RTEMS and newlib sources ({RTEMS.variable}, "
              f"{NEWLIB.variable}, or their archives in {SHARED})")
        return
    toolchain = zig_toolchain(locate(NEWLIB, newlib), log=_quiet)
    built = build_rtems(load(DEFINITION), locate(RTEMS, rtems), toolchain, tuple(SUITES),
                        log=_quiet)
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        generate(DEFINITION, work / "gen")
        runner = Runner(DEFINITION, work / "gen", work / "images")
        hello_boot(built, runner, work)
        ticker(built, runner)
        sptests(built, runner)
        switch(built, toolchain, runner, work)
        tm26(built, runner)


if __name__ == "__main__":
    main()
