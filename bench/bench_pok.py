"""Boot to every partition's END banner: real POK under QEMU against ``pvgen boot``.

Issue 17, point 7. hello and multi are built once against POK's own system calls
(``examples/hypervisors/pok_x86.def``): the image for the emulator and, from the same
partitions, the POK system, built by POK's make rules in a private copy of the POK tree.
Then, taking turns, each is booted: ``qemu-system-i386`` (TCG, ``-icount``) from its start
until POK's console has shown the END banner of every partition, and the whole
``pvgen boot`` process until it exits (every partition ended). Figures: median, min and
max wall seconds of a few runs of each, and their ratio. ticker needs POK's virtual timer
(issue 17, point 4) and is reported as skipped. Without a POK tree or QEMU the bench says
what is missing and stops.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pvgen.diagnostics import PvgenError
from pvgen.image.builder import build_image
from pvgen.pok.check import build_system
from pvgen.pok.qemu import Progress, boot
from pvgen.pok.tree import locate, work_tree

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = ROOT / "examples" / "hypervisors" / "pok_x86.def"
SYSTEMS = ("hello", "multi")
SKIPPED = {"ticker": "needs POK's virtual timer (issue 17, point 4)"}
RUNS = 5


def until_every_end(names: list[str]) -> Callable[[str], Progress]:
    banners = [f"*** END OF TEST {name} ***" for name in names]

    def progress(console: str) -> Progress:
        return Progress.DONE if all(b in console for b in banners) else Progress.RUNNING

    return progress


def spread(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):6.2f} s ({min(seconds):.2f}-{max(seconds):.2f})"


def main() -> int:
    try:
        source = locate(None, ROOT)
    except PvgenError as exc:
        print(f"bench_pok: skipped: {exc}")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-pok-") as scratch:
        work = Path(scratch)
        tree = work_tree(source, work)
        print(f"{'system':8} {'POK + QEMU':>24} {'pvgen boot':>24} {'ratio':>8}")
        for name in SYSTEMS:
            built = build_image(ROOT / "examples" / name / "module.xml", work / f"{name}.img",
                                DEFINITION, work / "gen")
            build_system(built.pok_dir, tree)
            names = [p.name for p in built.manifest.partitions]
            pok: list[float] = []
            emulated: list[float] = []
            for _ in range(RUNS):
                run = boot(built.pok_dir / "pok.elf", until_every_end(names), 60.0)
                if run.done_seconds is None:
                    print(f"{name}: POK did not print every END banner ({run.ended_by})")
                    return 1
                pok.append(run.done_seconds)
                started = time.monotonic()
                subprocess.run([sys.executable, "-m", "pvgen.cli", "boot", str(built.image),
                                "--def", str(DEFINITION), "--gen", str(work / "gen")],
                               check=True, capture_output=True)
                emulated.append(time.monotonic() - started)
            ratio = statistics.median(pok) / statistics.median(emulated)
            print(f"{name:8} {spread(pok):>24} {spread(emulated):>24} {ratio:7.1f}x")
        for name, why in SKIPPED.items():
            print(f"{name:8} skipped: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
