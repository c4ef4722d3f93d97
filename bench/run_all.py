"""Run every benchmark in bench/ and print their figures (`invoke bench`)."""

from __future__ import annotations

import runpy
from pathlib import Path

BENCHMARKS = ("bench_gen.py", "bench_image.py", "bench_emulator.py", "bench_irq.py",
              "bench_ports.py", "bench_rtems.py", "bench_pok.py", "bench_limits.py",
              "bench_builds.py")

if __name__ == "__main__":
    for name in BENCHMARKS:
        print(f"== {name}")
        runpy.run_path(str(Path(__file__).parent / name), run_name="__main__")
