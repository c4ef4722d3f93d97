"""RTEMS test programs run as partitions, judged by the RTEMS tester's rules.

Each program becomes a one-partition module (``module_xml``): the partition is as large as
the BSP was built for (``BSP_POKPV_PARTITION_SIZE``), alone in its major frame. It is
packed by ``pvgen image`` (the image builder's checks and relocation) and booted by the
emulator in this process (``pvgen.emulated``), for at most ``limit_ns`` of virtual time;
the test's end ends its partition, and the run ends when every partition has. Several
programs run side by side in worker processes; several partitions can share a module
(``module_xml`` of several members), each in its window of the major frame.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pvgen.bsp import DEFAULT_PARTITION_SIZE
from pvgen.diagnostics import PvgenError
from pvgen.emulated import CONSOLE_BAUD, boot_module
from pvgen.rtems import DEFAULT_LIMIT_NS
from pvgen.tester import TESTER_VERDICTS, Verdict

WINDOW_SECONDS = 0.02  # each partition's window in the major frame
CODE_BYTES = 0x100000  # of the partition, the part the configuration calls CODE


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


@dataclass(frozen=True)
class Member:
    """A partition of a module: its name, its <Guest> element's attributes (``Elf=...`` for
    a built program, ``Sources=...`` for one pvgen builds) and its memory."""

    name: str
    guest: str
    size: int


def module_xml(name: str, members: Sequence[Member], window_seconds: float = WINDOW_SECONDS,
               extra: str = "") -> str:
    """A module of the members, each one window of `window_seconds` in the major frame, in
    the order given; a member larger than CODE_BYTES has that much of it read-only (its
    code), the rest read-write. `extra`: more of the module's elements (ports' channels)."""
    frame = window_seconds * len(members)
    lines = [f"<ARINC_653_Module ModuleName={quoteattr(name)}>"]
    for number, member in enumerate(members, 1):
        lines.append(f'  <Partition PartitionIdentifier="{number}" '
                     f"PartitionName={quoteattr(member.name)}><Guest {member.guest}/>"
                     "</Partition>")
    for number, member in enumerate(members, 1):
        code = CODE_BYTES if member.size > CODE_BYTES else 0
        lines.append(f'  <Partition_Memory PartitionIdentifier="{number}">')
        if code:
            lines.append(f'    <Memory_Requirements Type="CODE" SizeBytes="{code}" '
                         'Access="READ_ONLY"/>')
        lines.append(f'    <Memory_Requirements Type="DATA" SizeBytes="{member.size - code}" '
                     'Access="READ_WRITE"/>')
        lines.append("  </Partition_Memory>")
    lines.append(f'  <Module_Schedule MajorFrameSeconds="{frame:.6g}">')
    for number in range(1, len(members) + 1):
        lines.append(f'    <Partition_Schedule PartitionIdentifier="{number}">'
                     f'<Window_Schedule WindowIdentifier="{number}" '
                     f'WindowStartSeconds="{window_seconds * (number - 1):.6g}" '
                     f'WindowDurationSeconds="{window_seconds:.6g}"/></Partition_Schedule>')
    lines += ["  </Module_Schedule>", *([extra] if extra else []), "</ARINC_653_Module>"]
    return "\n".join(lines) + "\n"


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
            return self._not_run(program, exc.render(), started)
        except Exception as exc:  # one program's crash is its verdict, not the run's
            return self._not_run(program, f"{type(exc).__name__}: {exc}", started)

    @staticmethod
    def _not_run(program: SuiteProgram, reason: str, started: float) -> ProgramRun:
        return ProgramRun(program.suite, program.name, Verdict.INVALID, (), (reason,),
                          "not run", 0, time.monotonic() - started)

    def _run(self, program: SuiteProgram, started: float) -> ProgramRun:
        partition = re.sub(r"[^A-Za-z0-9_]", "_", program.name)  # a C identifier
        directory = self.work / program.suite / program.name
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "module.xml"
        member = Member(partition, f"Elf={quoteattr(str(program.elf.resolve()))}",
                        self.partition_size)
        config.write_text(module_xml(partition, [member]), encoding="utf-8")
        run = boot_module(config, directory / f"{partition}.img", self.definition, self.gen,
                          self.limit_ns, self.console_baud)
        return ProgramRun(program.suite, program.name, run.verdict(partition, program.name),
                          run.consoles[partition], run.health[partition], run.ended_by,
                          run.virtual_ns, time.monotonic() - started)

    def run_all(self, programs: Sequence[SuiteProgram], jobs: int = 1) -> list[ProgramRun]:
        """Every program, `jobs` at a time, in the order given. The generated side is written
        first, once, so that the workers only read it; a worker that dies (a crash in native
        code) makes its program INVALID, not the run."""
        from pvgen.pipeline import generate

        generate(self.definition, self.gen)
        if jobs <= 1 or len(programs) <= 1:
            return [self.run(p) for p in programs]
        started = time.monotonic()
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(self.run, p) for p in programs]
            return [self._outcome(future, program, started)
                    for future, program in zip(futures, programs, strict=True)]

    def _outcome(self, future: Future[ProgramRun], program: SuiteProgram,
                 started: float) -> ProgramRun:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            return self._not_run(program, f"its worker process died: {exc}", started)


def counts(runs: Iterable[ProgramRun]) -> dict[Verdict, int]:
    """How many runs had each verdict (every verdict listed, in the tester's order)."""
    table: dict[Verdict, int] = dict.fromkeys(TESTER_VERDICTS, 0)
    for run in runs:
        table[run.verdict] += 1
    return table
