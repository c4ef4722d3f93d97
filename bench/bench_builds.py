"""How long `pvgen image` takes to build the 3-partition ports example from its sources,
and to build it again: cold with one compiler run at a time and with one per processor,
up to date (nothing changed, or sources touched without a change), and after one
partition's source changed. Each figure is the whole process, min / median / max of RUNS,
with its ratio to the cold build run one compiler at a time; an up-to-date build against
its 0.5 s target.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RUNS = 5
UP_TO_DATE_TARGET_SECONDS = 0.5


def pvgen(project: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pvgen.cli", *args], check=True,
                          capture_output=True, text=True, cwd=project)
    return done.stdout


def timed(before: Callable[[], None], project: Path, *args: str) -> list[float]:
    times = []
    for _ in range(RUNS):
        before()
        start = time.perf_counter()
        pvgen(project, "image", *args)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pvgen(Path(tmp), "examples", "ports", "ports")
        project = Path(tmp) / "ports"
        build = project / "build"

        def cold() -> None:
            shutil.rmtree(build, ignore_errors=True)

        def nothing() -> None:
            pass

        def touched() -> None:
            for source in project.glob("*.c"):
                os.utime(source)

        edits = iter(range(1_000_000))
        logger = project / "logger.c"
        original = logger.read_text(encoding="utf-8")

        def one_edited() -> None:
            logger.write_text(f"{original}\nint bench_edit = {next(edits)};\n", encoding="utf-8")

        figures = {
            "cold, one compiler run at a time (-j 1)": timed(cold, project, "-j", "1"),
            f"cold, one per processor (-j {os.cpu_count()})": timed(cold, project),
            "one partition's source changed": timed(one_edited, project),
        }
        pvgen(project, "image")
        assert "up to date" in pvgen(project, "image"), "the image should be up to date now"
        figures["up to date: nothing changed"] = timed(nothing, project)
        figures["up to date: every source touched, none changed"] = timed(touched, project)

    base = statistics.median(next(iter(figures.values())))
    print(f"pvgen image of examples/ports (3 partitions from sources), {RUNS} runs each "
          "(s: min / median / max; ratio of medians to the first)")
    for what, times in figures.items():
        median = statistics.median(times)
        print(f"  {what:50} {min(times):6.3f} {median:6.3f} {max(times):6.3f}  "
              f"{median / base:5.2f}x")
    up_to_date = statistics.median(figures["up to date: nothing changed"])
    verdict = "met" if up_to_date < UP_TO_DATE_TARGET_SECONDS else "MISSED"
    print(f"  up to date in {up_to_date:.3f} s: target < {UP_TO_DATE_TARGET_SECONDS} s {verdict}")


if __name__ == "__main__":
    main()
