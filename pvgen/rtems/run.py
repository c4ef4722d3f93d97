"""RTEMS test programs run as partitions, judged by the RTEMS tester's rules.

Each program becomes a one-partition module (``module_xml``): the partition is as large as
the BSP was built for (``BSP_POKPV_PARTITION_SIZE``), alone in its major frame. It is
packed by ``pvgen image`` (the image builder's checks and relocation) and booted by the
emulator in this process, for at most ``limit_ns`` of virtual time; the BSP shuts the
module down when the test ends (``BSP_POKPV_RESET_SHUTS_DOWN_MODULE``). Several programs
run side by side in worker processes.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pvgen.bsp import DEFAULT_PARTITION_SIZE
from pvgen.diagnostics import PvgenError
from pvgen.tester import Verdict, judge, read

WINDOW_SECONDS = 0.02  # the partition's window: the whole major frame
DEFAULT_LIMIT_NS = 120_000_000_000  # virtual time a test may take (the tester allows 180 s)
CODE_BYTES = 0x100000  # of the partition, the part the configuration calls CODE
# POK's console is the PC's first serial port at 38400 baud: what a test prints takes the
# time it takes there (the times ticker prints depend on it, as on POK and on QEMU's pc686)
CONSOLE_BAUD = 38400


@dataclass(frozen=True)
class SuiteProgram:
    suite: str
    name: str
    elf: Path


@dataclass(frozen=True)
class ProgramRun:
    """One program's run: its verdict, what it printed, and what it cost."""

    suite: str
    name: str
    verdict: Verdict
    console: tuple[str, ...]
    health: tuple[str, ...]  # the health monitor's reports about it
    ended_by: str  # how the emulator's run ended
    virtual_ns: int
    host_seconds: float


def module_xml(name: str, elf: Path, partition_size: int) -> str:
    """A module of one partition running the program `elf` for the whole major frame."""
    return f"""<ARINC_653_Module ModuleName={quoteattr(name)}>
  <Partition PartitionIdentifier="1" PartitionName={quoteattr(name)}>
    <Guest Elf={quoteattr(str(elf))}/>
  </Partition>
  <Partition_Memory PartitionIdentifier="1">
    <Memory_Requirements Type="CODE" SizeBytes="{CODE_BYTES}" Access="READ_ONLY"/>
    <Memory_Requirements Type="DATA" SizeBytes="{partition_size - CODE_BYTES}"
                         Access="READ_WRITE"/>
  </Partition_Memory>
  <Module_Schedule MajorFrameSeconds="{WINDOW_SECONDS}">
    <Partition_Schedule PartitionIdentifier="1" PeriodSeconds="{WINDOW_SECONDS}"
                        PeriodDurationSeconds="{WINDOW_SECONDS}">
      <Window_Schedule WindowIdentifier="1" WindowStartSeconds="0"
                       WindowDurationSeconds="{WINDOW_SECONDS}"/>
    </Partition_Schedule>
  </Module_Schedule>
</ARINC_653_Module>
"""


@dataclass(frozen=True)
class Runner:
    """How the programs run: the definition and generated directory they were built for,
    where their images go, the partition size the BSP was built with, the time limit."""

    definition: Path
    gen: Path
    work: Path
    partition_size: int = DEFAULT_PARTITION_SIZE
    limit_ns: int = DEFAULT_LIMIT_NS
    console_baud: int | None = CONSOLE_BAUD

    def run(self, program: SuiteProgram) -> ProgramRun:
        """Pack the program into an image and boot it; a program that cannot be packed or
        booted is INVALID, with the reason (the worker processes return it, not raise)."""
        started = time.monotonic()
        try:
            return self._run(program, started)
        except PvgenError as exc:
            return ProgramRun(program.suite, program.name, Verdict.INVALID, (), (exc.render(),),
                           "not run", 0, time.monotonic() - started)

    def _run(self, program: SuiteProgram, started: float) -> ProgramRun:
        from emulator.loader import load
        from emulator.module import Module, RunOptions
        from pvgen.image.builder import build_image

        partition = re.sub(r"[^A-Za-z0-9_]", "_", program.name)  # a C identifier
        directory = self.work / program.suite / program.name
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "module.xml"
        config.write_text(module_xml(partition, program.elf.resolve(), self.partition_size),
                          encoding="utf-8")
        image = build_image(config, directory / f"{partition}.img", self.definition,
                            self.gen).image
        loaded, dispatcher = load(image, self.gen)
        out = io.StringIO()
        result = Module(loaded, dispatcher, RunOptions(time_ns=self.limit_ns, out=out,
                                                         console_baud=self.console_baud)).run()
        prefix = f"[{partition}] "
        lines = [line[len(prefix):] for line in out.getvalue().splitlines()
                 if line.startswith(prefix)]
        console = tuple(line for line in lines if not line.startswith("HM: "))
        health = tuple(line[4:] for line in lines if line.startswith("HM: "))
        verdict = judge(read(console), timed_out=result.ended_by == "time", name=program.name,
                        ended=result.ended_by in ("shutdown", "all stopped"))
        return ProgramRun(program.suite, program.name, verdict, console, health, result.ended_by,
                       result.now_ns, time.monotonic() - started)

    def run_all(self, programs: Sequence[SuiteProgram], jobs: int = 1) -> list[ProgramRun]:
        """Every program, `jobs` at a time, in the order given."""
        if jobs <= 1 or len(programs) <= 1:
            return [self.run(p) for p in programs]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(self.run, programs))


def counts(runs: Iterable[ProgramRun]) -> dict[Verdict, int]:
    """How many runs had each verdict (every verdict listed, in the tester's order)."""
    table = dict.fromkeys(Verdict, 0)
    for run in runs:
        table[run.verdict] += 1
    return table
