"""How long `pvgen gen` takes on a synthetic 500-hypercall definition.

Prints each stage (parse, resolve, render, write) in process, and the whole
command as a fresh process (what a user waits for), next to the repository's
own definition for scale. Target: the whole command under 1 s for 500 calls.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from synthetic import write_synthetic  # bench/ is on sys.path when run as a script

from pvgen.diagnostics import SourceText
from pvgen.generate import render_all, write_artifacts
from pvgen.parse import parse_text
from pvgen.resolve import resolve

ROOT = Path(__file__).resolve().parent.parent
CALLS = 500
TARGET_SECONDS = 1.0


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def stages(definition: Path, out: Path) -> dict[str, float]:
    source = SourceText.read(definition)
    items = parse_text(source)
    interface = resolve(items, source)
    artifacts = render_all(interface)
    return {
        "parse": best_of(5, lambda: parse_text(source)),
        "resolve": best_of(5, lambda: resolve(items, source)),
        "render": best_of(5, lambda: render_all(interface)),
        "write": best_of(5, lambda: write_artifacts(artifacts, out)),
    }


def whole_command(definition: Path, out: Path, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pvgen.cli", "gen", "--def", str(definition), "--out",
             str(out), "--lock", str(out / "lock.json")],
            check=True, capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        synth = write_synthetic(tmpdir, CALLS)
        real = ROOT / "hypercalls.def"
        rows = []
        for label, definition in ((f"synthetic, {CALLS} calls", synth), ("hypercalls.def", real)):
            out = tmpdir / label.split(",")[0]
            st = stages(definition, out)
            total = whole_command(definition, out)
            rows.append((label, st, total))
        print("pvgen gen benchmark (best of 5 per stage; whole process: median of 5)")
        print(f"{'definition':<26}{'parse':>9}{'resolve':>9}{'render':>9}{'write':>9}"
              f"{'process':>10}")
        for label, st, total in rows:
            print(f"{label:<26}" + "".join(f"{st[k] * 1000:>7.1f}ms" for k in st)
                  + f"{total * 1000:>8.0f}ms")
        synth_total = rows[0][2]
        print(f"target: {CALLS} calls under {TARGET_SECONDS:.1f} s -> "
              f"{synth_total:.2f} s = {synth_total / TARGET_SECONDS:.2f} x target "
              f"({'met' if synth_total < TARGET_SECONDS else 'MISSED'})")


if __name__ == "__main__":
    main()
