"""``pvgen pok-check``: the same system on real POK under QEMU and in the emulator.

For each module configuration: ``pvgen image`` builds the partitions, the image and the
POK system beside it; the emulator boots the image in this process, its consoles taking no
time, as QEMU's UART sends at once whatever its baud rate; POK's own make rules build the
system's kernel in the run's private POK tree (``pvgen.pok.tree``) and QEMU boots it
(``pvgen.pok.qemu``). POK has one serial console for all partitions, so its lines are
matched, in order, with the lines the emulator's partitions printed in order: a line goes
to the partition whose line the emulator printed at that place, which makes each
partition's console on POK comparable with its console in the emulator, and any difference
of order a difference too. POK's own ``[KERNEL]`` lines (its health monitor's reports) are
kept apart. The run on QEMU ends when POK has printed every line the emulator's partitions
printed (a moment later, to see anything extra), at the first line that differs, or at the
time limit.
"""

from __future__ import annotations

import difflib
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pvgen.emulated import ModuleRun, boot_image
from pvgen.image.builder import build_image
from pvgen.pok.errors import PokBuildError, PokError
from pvgen.pok.qemu import BootProgress, QemuRun, boot

KERNEL_PREFIX = "[KERNEL]"  # POK's own messages on the console
QEMU_LIMIT_SECONDS = 120.0  # ticker: 35 virtual seconds, about 45 s under QEMU


@dataclass(frozen=True)
class PartitionConsoles:
    name: str
    emulator: tuple[str, ...]
    pok: tuple[str, ...]

    @property
    def same(self) -> bool:
        return self.emulator == self.pok

    def diff(self) -> list[str]:
        return list(difflib.unified_diff(self.emulator, self.pok, "emulator", "POK",
                                         lineterm=""))


@dataclass(frozen=True)
class SystemCheck:
    """One module on both: each partition's two consoles, and how the POK run went."""

    module: str
    partitions: tuple[PartitionConsoles, ...]
    unexpected: tuple[str, ...]  # POK's lines after every line the emulator printed
    kernel_lines: tuple[str, ...]  # POK's [KERNEL] lines
    qemu: QemuRun
    build_seconds: float

    @property
    def same(self) -> bool:
        return all(p.same for p in self.partitions) and not self.unexpected


def partition_lines(console: str, final: bool = False) -> tuple[list[str], list[str]]:
    """POK's console lines, the partitions' and the kernel's own: the complete ones, and at
    the end of the run (`final`) an unterminated last one too."""
    lines = console.split("\n")
    if not final or lines[-1] == "":
        del lines[-1]
    ours = [line.rstrip("\r") for line in lines if not line.startswith(KERNEL_PREFIX)]
    kernel = [line for line in lines if line.startswith(KERNEL_PREFIX)]
    return ours, kernel


def watch(expected: Sequence[str]) -> Callable[[str], BootProgress]:
    """QEMU's progress rule: done at the last expected line, wrong at a differing one."""

    def progress(console: str) -> BootProgress:
        lines, _ = partition_lines(console)
        if any(got != want for got, want in zip(lines, expected, strict=False)):
            return BootProgress.WRONG
        return BootProgress.DONE if len(lines) >= len(expected) else BootProgress.RUNNING

    return progress


def compare(run: ModuleRun, qemu: QemuRun, module: str, build_seconds: float) -> SystemCheck:
    lines, kernel = partition_lines(qemu.console, final=True)
    owners = [name for name, _ in run.printed]
    pok: dict[str, list[str]] = {name: [] for name in run.consoles}
    for owner, line in zip(owners, lines, strict=False):
        pok[owner].append(line)
    return SystemCheck(
        module,
        tuple(PartitionConsoles(name, run.consoles[name], tuple(pok[name]))
              for name in run.consoles),
        tuple(lines[len(owners):]), tuple(kernel), qemu, build_seconds)


def build_system(system: Path, tree: Path) -> float:
    """Build the POK system directory with POK's make rules in `tree`; the seconds it took."""
    started = time.monotonic()
    for goal in ("clean", "all"):
        done = subprocess.run(["make", "-C", str(system), f"POK_PATH={tree}", goal],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (done.stdout + done.stderr).strip().splitlines()
            raise PokBuildError(f"pvgen: error: {system}: POK's make {goal} failed:\n  "
                           + "\n  ".join(log[-30:]))
    return time.monotonic() - started


def check_system(config: Path, definition: Path, work: Path, tree: Path) -> SystemCheck:
    """Build `config` for POK and for the emulator, run both, and compare the consoles."""
    name = config.parent.name if config.name == "module.xml" else config.stem
    built = build_image(config, work / f"{name}.img", definition, work / "gen")
    if built.pok_note:
        raise PokError(f"pvgen: error: {config}: no POK system: {built.pok_note}")
    # QEMU's UART takes no time; ports and health events go as on POK (RunOptions.like_pok)
    run = boot_image(built.image, work / "gen", console_baud=None, like_pok=True)
    build_seconds = build_system(built.pok_dir, tree)
    expected = [line for _, line in run.printed]
    qemu = boot(built.pok_dir / "pok.elf", watch(expected), QEMU_LIMIT_SECONDS)
    return compare(run, qemu, built.manifest.module, build_seconds)
