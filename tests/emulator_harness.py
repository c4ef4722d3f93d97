"""Small modules of tiny partitions, built into images and booted in the emulator.

By default every partition runs ``tests/harness/behaviours.c``, whose behaviour
is its identifier modulo 100 (the table is at the top of that file); a Builder
can compile other programs too (``programs``), and a partition names the one it
runs (``Part.program``). They are compiled once per architecture, through
``pvgen image``, and then packed as prebuilt ELFs (``<Guest Elf=...>``) into as
many images as the tests need. Images are built and booted through the
commands' own entry points (``pvgen.cli.main`` and ``pvgen.emulator.cli.main``, what
``python -m pvgen.cli image`` and ``python -m pvgen.emulator`` run) in the test's
process, which costs a fraction of a subprocess; ``Builder.run`` boots through
``pvgen.emulator.module.Module`` itself, for what only its ``RunResult`` says.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from pvgen.cli import main as pvgen_main
from pvgen.emulator.cli import main as emulator_main
from pvgen.emulator.cli import summary
from pvgen.emulator.loader import load
from pvgen.emulator.module import Module
from pvgen.emulator.run import RunOptions, RunResult
from pvgen.image.builder import build_image
from pvgen.image.read import read_image
from pvgen.pipeline import generate
from tests.conftest import DEFINITION

PROGRAM = Path(__file__).parent / "harness" / "behaviours.c"
MEMORY = 65536  # every partition's size: the ELF is linked for it
WINDOW_MS = 5


@dataclass(frozen=True)
class Part:
    """A partition: its identifier (which picks its behaviour), name and HM table; the
    program it runs (a Builder's, by file stem; None: the Builder's first), its window and
    what a warm start keeps of it."""

    identifier: int
    name: str
    hm: Mapping[str, str] = field(default_factory=dict)  # error -> Partition_HM_Table action
    program: str | None = None
    window_ms: int = WINDOW_MS  # its one window in the major frame
    keeps: tuple[str, ...] = ()  # the sections a warm start keeps (Warm_Start_Keeps)
    system: bool = False  # a SystemPartition


def module_xml(
    name: str,
    parts: Sequence[Part],
    guest: str,
    arch: str = "x86",
    compiler: str | None = None,
    levels: Mapping[str, str] | None = None,
    module_actions: Mapping[str, str] | None = None,
    guests: Mapping[int, str] | None = None,
) -> str:
    """A module configuration: each partition one window (Part.window_ms), in the order given,
    back to back in the major frame; every partition's <Guest> has the attributes `guest`,
    unless `guests` gives its own (by identifier)."""
    frame = sum(p.window_ms for p in parts)
    starts = [sum(p.window_ms for p in parts[:i]) for i in range(len(parts))]
    guests = guests or {}
    toolchain = f"Arch={quoteattr(arch)}" + (f" Compiler={quoteattr(compiler)}" if compiler else "")
    lines = [f'<ARINC_653_Module ModuleName="{name}">', f"  <Toolchain {toolchain}/>"]
    lines += [f'  <Partition PartitionIdentifier="{p.identifier}" PartitionName="{p.name}"'
              + (' SystemPartition="true"' if p.system else "")
              + f"><Guest {guests.get(p.identifier, guest)}/></Partition>" for p in parts]
    lines += [f'  <Partition_Memory PartitionIdentifier="{p.identifier}"><Memory_Requirements '
              f'Type="DATA" SizeBytes="{MEMORY}"/>'
              + "".join(f"<Warm_Start_Keeps Section={quoteattr(k)}/>" for k in p.keeps)
              + "</Partition_Memory>" for p in parts]
    lines.append(f'  <Module_Schedule MajorFrameSeconds="{frame / 1000}">')
    lines += [f'    <Partition_Schedule PartitionIdentifier="{p.identifier}"><Window_Schedule '
              f'WindowIdentifier="{i + 1}" WindowStartSeconds="{starts[i] / 1000}" '
              f'WindowDurationSeconds="{p.window_ms / 1000}"/></Partition_Schedule>'
              for i, p in enumerate(parts)]
    lines.append("  </Module_Schedule>")
    if levels:
        lines.append("  <System_HM_Table><System_State_Entry>")
        lines += [f'    <Error_ID_Level ErrorIdentifier="{e}" ErrorLevel="{level}"/>'
                  for e, level in levels.items()]
        lines.append("  </System_State_Entry></System_HM_Table>")
    if module_actions:
        lines.append("  <Module_HM_Table>")
        lines += [f'    <Error_ID_Action ErrorIdentifier="{e}" Action="{action}"/>'
                  for e, action in module_actions.items()]
        lines.append("  </Module_HM_Table>")
    for p in parts:
        if p.hm:
            lines.append(f'  <Partition_HM_Table PartitionIdentifier="{p.identifier}">')
            lines += [f'    <Error_ID_Action ErrorIdentifier="{e}" Action="{action}"/>'
                      for e, action in p.hm.items()]
            lines.append("  </Partition_HM_Table>")
    lines.append("</ARINC_653_Module>")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Run:
    """What a boot printed and returned (and, from ``Builder.run``, the run's result)."""

    status: int
    stdout: str
    stderr: str
    result: RunResult | None = None

    def console(self, partition: str) -> list[str]:
        """The partition's console lines, without the emulator's HM reports."""
        prefix = f"[{partition}] "
        return [line[len(prefix):] for line in self.stdout.splitlines()
                if line.startswith(prefix) and not line.startswith(prefix + "HM: ")]

    def hm(self, partition: str) -> list[str]:
        """The emulator's HM reports about the partition: 'ERROR (detail) -> LEVEL ACTION'."""
        prefix = f"[{partition}] HM: "
        return [line[len(prefix):] for line in self.stdout.splitlines()
                if line.startswith(prefix)]

    @property
    def summary(self) -> list[str]:
        """The run's summary: its first line says how it ended, then one line per partition."""
        lines = self.stdout.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("run ended ("))
        return lines[first:]


class Builder:
    """Builds images of programs (by default the behaviours program) for one architecture,
    below ``root``.

    ``compiler`` is the Toolchain's Compiler command, when not the architecture's default.
    ``programs`` are C files, each compiled with the headers of its directory and of
    tests/harness to ``root/<stem>-<arch>.elf`` (``elves``; the first is ``elf``), as the
    partitions of a few ``pvgen image`` builds (``build_image``, what the command runs)
    side by side.
    """

    def __init__(self, root: Path, arch: str = "x86", compiler: str | None = None,
                 programs: Sequence[Path] = (PROGRAM,)) -> None:
        self.root = root
        self.arch = arch
        self.compiler = compiler
        self.gen = root / "gen"
        for program in programs:
            shutil.copy(program, root / program.name)
            for header in program.parent.glob("*.h"):
                shutil.copy(header, root / header.name)
        for header in PROGRAM.parent.glob("*.h"):  # the harness's own, e.g. xtf.h
            shutil.copy(header, root / header.name)
        generate(DEFINITION, self.gen)  # first, so that the builds below find it unchanged
        jobs = min(len(programs), os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            built = pool.map(self._compile, [programs[i::jobs] for i in range(jobs)])
            self.elves = {stem: elf for group in built for stem, elf in group.items()}
        self.elf = self.elves[programs[0].stem]

    def _compile(self, programs: Sequence[Path]) -> dict[str, Path]:
        """Build the programs as the partitions of one image; their ELFs, by stem."""
        name = f"programs_{programs[0].stem}"
        parts = [Part(100 + i, p.stem) for i, p in enumerate(programs)]
        config = self.root / f"{name}.xml"
        config.write_text(module_xml(
            name, parts, "", self.arch, self.compiler,
            guests={part.identifier: f"Sources={quoteattr(p.name)}"
                    for part, p in zip(parts, programs, strict=True)}), encoding="utf-8")
        image = read_image(build_image(config, self.root / f"{name}.img", DEFINITION,
                                       self.gen).image)
        elves = {p.stem: self.root / f"{p.stem}-{self.arch}.elf" for p in programs}
        for i, p in enumerate(programs):
            elves[p.stem].write_bytes(image.partition_elf(i))
        return elves

    def _build(
        self, name: str, parts: Sequence[Part], guest: str,
        levels: Mapping[str, str] | None = None, module_actions: Mapping[str, str] | None = None,
        guests: Mapping[int, str] | None = None,
    ) -> Path:
        config = self.root / f"{name}.xml"
        config.write_text(
            module_xml(name, parts, guest, self.arch, self.compiler, levels, module_actions,
                       guests),
            encoding="utf-8")
        image = self.root / f"{name}.img"
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = pvgen_main(["image", "--config", str(config), "--out", str(image),
                                 "--def", str(DEFINITION), "--gen", str(self.gen)])
        assert status == 0, err.getvalue()
        return image

    def image(
        self, name: str, parts: Sequence[Part],
        levels: Mapping[str, str] | None = None, module_actions: Mapping[str, str] | None = None,
    ) -> Path:
        """An image of these partitions, with the System_HM_Table and Module_HM_Table given."""
        guests = {p.identifier: f"Elf={quoteattr(self.elves[p.program].name)}"
                  for p in parts if p.program is not None}
        return self._build(name, parts, f'Elf="{self.elf.name}"', levels, module_actions,
                           guests)

    def boot(self, image: Path, *options: str) -> Run:
        """``python -m pvgen.emulator IMAGE --gen GEN OPTIONS...``, in this process."""
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = emulator_main([str(image), "--gen", str(self.gen), *options])
        return Run(status, out.getvalue(), err.getvalue())

    def run(self, image: Path, frames: int | None = None, trace: Path | None = None,
            wall_clock: bool = False) -> Run:
        """Boot the image with ``pvgen.emulator.module.Module`` in this process, as ``boot`` does
        with ``--frames``, ``--trace`` and ``--wall-clock``; its stdout ends with the same
        summary, and the Run carries the RunResult (ticks due and raised, the HM log)."""
        loaded, dispatcher = load(image, self.gen)
        out = io.StringIO()
        options = RunOptions(frames=frames, trace=trace, wall_clock=wall_clock, out=out)
        result = Module(loaded, dispatcher, options).run()
        out.write(summary(result) + "\n")
        return Run(result.exit_status, out.getvalue(), "", result)


def rule_suite(request: pytest.FixtureRequest, factory: pytest.TempPathFactory, suite: Path,
               programs: Sequence[str]) -> Builder:
    """A Builder of a rule suite's programs (``suite/<name>.c``) for the architecture a
    fixture is parametrized with (``request.param``); ARM needs zig's clang (the arm extra)."""
    arch: str = request.param
    if arch == "arm":
        pytest.importorskip("ziglang", reason="ARM guests need zig's clang (the arm extra)")
    return Builder(factory.mktemp(f"{suite.name}_{arch}"), arch,
                   programs=[suite / f"{name}.c" for name in programs])
