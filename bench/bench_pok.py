"""Boot to every partition's END banner: real POK under QEMU against ``pvgen boot``.

Issue 17, point 7. Each system is built once: the image for the emulator and, from the
same partitions, the POK system, built by POK's make rules in a private copy of the POK
tree. hello and multi are built against POK's own system calls
(``examples/hypervisors/pok_x86.def``, the unmodified kernel), and hello, multi and ticker
against ``hypercalls.def`` (a tree given its kernel side by ``pvgen pok-patch``; ticker
runs 35 virtual seconds on the virtual timer). Then, taking turns, each is booted:
``qemu-system-i386`` (TCG, ``-icount``) from its start until POK's console has shown the END
banner of every partition, and the whole ``pvgen boot`` process until it exits (every
partition ended). Figures: median, min and max wall seconds of a few runs of each, and their
ratio. Without a POK tree or QEMU the bench says what is missing and stops.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pvgen.definition import load
from pvgen.diagnostics import PvgenError
from pvgen.image.builder import build_image
from pvgen.pok.check import build_system
from pvgen.pok.qemu import BootProgress, boot
from pvgen.pok.tree import locate, work_tree

ROOT = Path(__file__).resolve().parent.parent
# (definition, its systems): POK's own system calls, then pvgen's paravirtual interface
CASES = ((ROOT / "examples" / "hypervisors" / "pok_x86.def", ("hello", "multi")),
         (ROOT / "hypercalls.def", ("hello", "multi", "ticker")))
RUNS = 5
LONG_RUNS = {"ticker": 2}  # about 45 s each on POK under QEMU
LIMIT_SECONDS = 120.0


def until_every_end(partitions: int) -> Callable[[str], BootProgress]:
    """Done when every partition has printed its END banner (ticker's names its test)."""

    def progress(console: str) -> BootProgress:
        ended = console.count("*** END OF TEST ")
        return BootProgress.DONE if ended >= partitions else BootProgress.RUNNING

    return progress


def spread(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):6.2f} s ({min(seconds):.2f}-{max(seconds):.2f})"


def bench_system(definition: Path, name: str, work: Path, tree: Path) -> bool:
    """Print one system's figures; False if POK did not print every END banner."""
    built = build_image(ROOT / "examples" / name / "module.xml", work / f"{name}.img",
                        definition, work / "gen")
    build_system(built.pok_dir, tree)
    pok: list[float] = []
    emulated: list[float] = []
    every_end = until_every_end(len(built.manifest.partitions))
    for _ in range(LONG_RUNS.get(name, RUNS)):
        run = boot(built.pok_dir / "pok.elf", every_end, LIMIT_SECONDS)
        if run.done_seconds is None:
            print(f"{name}: POK did not print every END banner ({run.ended_by})")
            return False
        pok.append(run.done_seconds)
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "pvgen.cli", "boot", str(built.image),
                        "--def", str(definition), "--gen", str(work / "gen")],
                       check=True, capture_output=True)
        emulated.append(time.monotonic() - started)
    ratio = statistics.median(pok) / statistics.median(emulated)
    label = f"{name} ({definition.name})"
    print(f"{label:24} {spread(pok):>24} {spread(emulated):>24} {ratio:7.1f}x", flush=True)
    return True


def main() -> int:
    try:
        source = locate(None, ROOT)
    except PvgenError as exc:
        print(f"bench_pok: skipped: {exc}")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-pok-") as scratch:
        print(f"{'system':24} {'POK + QEMU':>24} {'pvgen boot':>24} {'ratio':>8}")
        for definition, systems in CASES:
            work = Path(scratch) / definition.stem
            tree = work_tree(source, work, load(definition))
            for name in systems:
                if not bench_system(definition, name, work, tree):
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
