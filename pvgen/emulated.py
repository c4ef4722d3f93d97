"""A module booted by the bundled emulator in this process, and what each partition printed.

The RTEMS harness judges its tests from these runs and the POK harness compares real POK's
console with them: both need the consoles as data, partition by partition and, for a
single serial line's view, in the order they were printed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from pvgen.emulator.run import Ending
from pvgen.tester import Verdict, judge, read

# POK's console is the PC's first serial port at 38400 baud: what a test prints takes the
# time it takes there (the times ticker prints depend on it, as on POK and on QEMU's pc686)
CONSOLE_BAUD = 38400


@dataclass(frozen=True)
class ModuleRun:
    """What a module's run printed, partition by partition, and how it ended."""

    ended_by: Ending
    virtual_ns: int
    consoles: dict[str, tuple[str, ...]]
    health: dict[str, tuple[str, ...]]  # the health monitor's reports, by partition
    hypercalls: dict[str, int]  # how many each partition made
    modes: dict[str, str]  # each partition's operating mode at the end
    ended: dict[str, bool]  # whether it stopped: mode IDLE, or its program ended
    printed: tuple[tuple[str, str], ...]  # (partition, line) in the order they were printed

    def verdict(self, partition: str, test: str = "") -> Verdict:
        """The tester's verdict on the partition's console (`test`: the test's name): it
        ended if it stopped (or the module shut down), and timed out if the run's time ran
        out while it had not."""
        ended = self.ended[partition] or self.ended_by is Ending.SHUTDOWN
        return judge(read(self.consoles[partition]), name=test, ended=ended,
                     timed_out=not ended and self.ended_by.limited)


def boot_module(config: Path, image: Path, definition: Path, gen: Path,
                limit_ns: int | None = None,
                console_baud: int | None = CONSOLE_BAUD) -> ModuleRun:
    """Pack the module configuration into `image` and boot it (``boot_image``)."""
    from pvgen.image.builder import build_image

    return boot_image(build_image(config, image, definition, gen).image, gen, limit_ns,
                      console_baud)


def boot_image(image: Path, gen: Path | None, limit_ns: int | None = None,
               console_baud: int | None = CONSOLE_BAUD,
               like_pok: bool = False, trace: Path | None = None) -> ModuleRun:
    """Boot a built image in the emulator, in this process, until every partition has
    stopped or `limit_ns` of virtual time (None: the emulator's own limit); served as real
    POK serves it with `like_pok` (``RunOptions.like_pok``); its trace written to `trace`.
    `gen`: a directory `pvgen gen` wrote (None: the dispatcher of the definition the image
    carries)."""
    from pvgen.emulator.loader import load
    from pvgen.emulator.module import Module
    from pvgen.emulator.run import RunOptions

    loaded, dispatcher = load(image, gen)
    out = io.StringIO()
    module = Module(loaded, dispatcher, RunOptions(time_ns=limit_ns, out=out,
                                                     console_baud=console_baud,
                                                     like_pok=like_pok, trace=trace))
    try:
        result = module.run()
    finally:  # a worker boots hundreds of modules: their CPUs' native memory goes now
        for partition in module.partitions:
            partition.cpu.close()
    names = [p.name for p in result.partitions]
    health: dict[str, list[str]] = {name: [] for name in names}
    printed: list[tuple[str, str]] = []
    for line in out.getvalue().splitlines():
        name, _, text = line[1:].partition("] ")
        if line.startswith("[") and name in health:
            if text.startswith("HM: "):
                health[name].append(text[4:])
            else:
                printed.append((name, text))
    return ModuleRun(result.ended_by, result.now_ns,
                     {n: tuple(t for p, t in printed if p == n) for n in names},
                     {n: tuple(lines) for n, lines in health.items()},
                     {p.name: p.hypercalls for p in result.partitions},
                     {p.name: p.mode for p in result.partitions},
                     {p.name: p.ended for p in result.partitions},
                     tuple(printed))
