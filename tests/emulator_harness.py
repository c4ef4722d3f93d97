"""Small modules of tiny partitions, built into images and booted in the emulator.

Every partition runs ``tests/harness/behaviours.c``, whose behaviour is its
identifier modulo 100 (the table is at the top of that file). It is compiled
once per architecture, through ``pvgen image``, and then packed as a prebuilt
ELF (``<Guest Elf=...>``) into as many images as the tests need. Images are
built and booted through the commands' own entry points (``pvgen.cli.main``
and ``emulator.cli.main``, what ``python -m pvgen.cli image`` and ``python -m
emulator`` run) in the test's process, which costs a fraction of a subprocess.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from emulator.cli import main as emulator_main
from pvgen.cli import main as pvgen_main
from pvgen.image.read import read_image
from tests.conftest import DEFINITION

PROGRAM = Path(__file__).parent / "harness" / "behaviours.c"
MEMORY = 65536  # every partition's size: the ELF is linked for it
WINDOW_MS = 5


@dataclass(frozen=True)
class Part:
    """A partition: its identifier (which picks its behaviour), name and HM table."""

    identifier: int
    name: str
    hm: Mapping[str, str] = field(default_factory=dict)  # error -> Partition_HM_Table action


def module_xml(
    name: str,
    parts: Sequence[Part],
    guest: str,
    arch: str = "x86",
    compiler: str | None = None,
    levels: Mapping[str, str] | None = None,
    module_actions: Mapping[str, str] | None = None,
) -> str:
    """A module configuration: each partition one WINDOW_MS window, in the order given."""
    frame = len(parts) * WINDOW_MS
    toolchain = f"Arch={quoteattr(arch)}" + (f" Compiler={quoteattr(compiler)}" if compiler else "")
    lines = [f'<ARINC_653_Module ModuleName="{name}">', f"  <Toolchain {toolchain}/>"]
    lines += [f'  <Partition PartitionIdentifier="{p.identifier}" PartitionName="{p.name}">'
              f"<Guest {guest}/></Partition>" for p in parts]
    lines += [f'  <Partition_Memory PartitionIdentifier="{p.identifier}"><Memory_Requirements '
              f'Type="DATA" SizeBytes="{MEMORY}"/></Partition_Memory>' for p in parts]
    lines.append(f'  <Module_Schedule MajorFrameSeconds="{frame / 1000}">')
    lines += [f'    <Partition_Schedule PartitionIdentifier="{p.identifier}"><Window_Schedule '
              f'WindowIdentifier="{i + 1}" WindowStartSeconds="{i * WINDOW_MS / 1000}" '
              f'WindowDurationSeconds="{WINDOW_MS / 1000}"/></Partition_Schedule>'
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
    """What a boot printed and returned."""

    status: int
    stdout: str
    stderr: str

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
    """Builds images of the behaviours program for one architecture, below ``root``.

    ``compiler`` is the Toolchain's Compiler command, when not the architecture's default.
    """

    def __init__(self, root: Path, arch: str = "x86", compiler: str | None = None) -> None:
        self.root = root
        self.arch = arch
        self.compiler = compiler
        self.gen = root / "gen"
        shutil.copy(PROGRAM, root / PROGRAM.name)
        built = self._build("program", [Part(100, "program")], f'Sources="{PROGRAM.name}"')
        self.elf = root / f"behaviours-{arch}.elf"
        self.elf.write_bytes(read_image(built).partition_elf(0))

    def _build(
        self, name: str, parts: Sequence[Part], guest: str,
        levels: Mapping[str, str] | None = None, module_actions: Mapping[str, str] | None = None,
    ) -> Path:
        config = self.root / f"{name}.xml"
        config.write_text(
            module_xml(name, parts, guest, self.arch, self.compiler, levels, module_actions),
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
        return self._build(name, parts, f'Elf="{self.elf.name}"', levels, module_actions)

    def boot(self, image: Path, *options: str) -> Run:
        """``python -m emulator IMAGE --gen GEN OPTIONS...``, in this process."""
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = emulator_main([str(image), "--gen", str(self.gen), *options])
        return Run(status, out.getvalue(), err.getvalue())
