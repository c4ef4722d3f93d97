"""What each resource limit guarantees, measured: the time a hostile input costs before it is
refused or read, and the memory a guest that never stops writing or raising holds.

Issue 18, point 9. Inputs at and past pvgen.limits (a configuration of 100 000 siblings or
attributes, a manifest at every limit, thousands of random manifests, files that never end),
each timed as min / median / max of a few runs in this process; then the emulator's own
structures fed far more than any run makes (a million console lines, a hundred thousand HM
events, a million trace events), with the memory they grew by (tracemalloc). Figures only:
the tests check the rules themselves.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from pvgen.config import load_module
from pvgen.diagnostics import PvgenError
from pvgen.emulator.console import Console
from pvgen.emulator.hm import KEPT_EVENTS, HealthMonitor
from pvgen.emulator.trace import Trace
from pvgen.image.manifest import ManifestError
from pvgen.image.manifest_rules import read_manifest
from pvgen.image.read import MAX_IMAGE_BYTES, read_image
from pvgen.limits import MAX_PARTITIONS, MAX_PORTS, MAX_WINDOWS

RUNS = 5


def timed(action: Callable[[], object], runs: int = RUNS) -> tuple[float, float, float]:
    """Seconds of `action` (which may raise a PvgenError or ManifestError: a refusal)."""
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        with contextlib.suppress(PvgenError, ManifestError):
            action()
        seconds.append(time.perf_counter() - began)
    return min(seconds), statistics.median(seconds), max(seconds)


def grown(action: Callable[[], object]) -> int:
    """Bytes of Python memory what `action` returns holds, made by the action."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = action()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del held
    return after - before


def huge_configuration(directory: Path, body: str) -> Path:
    path = directory / "huge.xml"
    path.write_text(f'<ARINC_653_Module ModuleName="huge">{body}</ARINC_653_Module>\n',
                    encoding="utf-8")
    return path


def manifest_at_the_limits() -> dict[str, object]:
    """64 partitions, 4096 windows, 1024 ports in 512 channels: the largest manifest read."""
    ports_each = MAX_PORTS // MAX_PARTITIONS
    partitions = [{
        "identifier": p, "name": f"p{p}", "archive_offset": 0, "file_size": 0,
        "memory_size": 1 << 16, "stack_size": 8192, "entry": 0, "image_end": 4096,
        "timer_period_ns": None, "hm_actions": {"MEMORY_VIOLATION": "COLD_START"},
        "period_ns": 0, "duration_ns": 0, "warm_start_keeps": [], "system": False,
        "ports": [{"name": f"q{n}", "kind": "queuing", "max_message_size": 64,
                   "max_nb_messages": 8, "refresh_period_ns": None,
                   "direction": "SOURCE" if n % 2 == 0 else "DESTINATION"}
                  for n in range(ports_each)]} for p in range(MAX_PARTITIONS)]
    window_ns = 1000
    windows = [{"identifier": w, "partition": w % MAX_PARTITIONS, "start_ns": w * window_ns,
                "duration_ns": window_ns, "period_start": w < MAX_PARTITIONS}
               for w in range(MAX_WINDOWS)]
    channels = [{"identifier": c, "source": [p, f"q{2 * n}"],
                 "destinations": [[(p + 1) % MAX_PARTITIONS, f"q{2 * n + 1}"]]}
                for c, (p, n) in enumerate((p, n) for p in range(MAX_PARTITIONS)
                                           for n in range(ports_each // 2))]
    return {"format": 1, "module": "limits", "arch": "x86", "interface": "pv",
            "interface_version": 1, "fingerprint": "0123456789abcdef", "abi": "x86_int",
            "major_frame_ns": MAX_WINDOWS * window_ns, "partitions": partitions,
            "windows": windows, "channels": channels, "hm_levels": {},
            "module_hm_actions": {}}


def random_manifests(count: int) -> list[bytes]:
    """`count` changes of one field of the limits' manifest to a random JSON value."""
    chooser = random.Random(18)
    good = manifest_at_the_limits()
    values: list[object] = [None, True, -1, 0, 1 << 64, 2.5, "", "../x", [], {}, [1, "a"]]
    documents = []
    for _ in range(count):
        document = copy.deepcopy(good)
        node: object = document
        while isinstance(node, (dict, list)) and node:
            key = chooser.choice(list(node) if isinstance(node, dict) else range(len(node)))
            child = node[key]
            if not isinstance(child, (dict, list)) or chooser.random() < 0.3:
                node[key] = chooser.choice(values)
                break
            node = child
        documents.append(json.dumps(document).encode())
    return documents


def row(what: str, figures: tuple[float, float, float]) -> None:
    low, middle, high = (f"{value * 1000:9.1f}" for value in figures)
    print(f"  {what:58} {low} {middle} {high}")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        print("time before an input is refused or read (ms: min, median, max)")
        elements = huge_configuration(directory, "".join(
            f'<Partition PartitionIdentifier="{i}" PartitionName="p{i}"/>'
            for i in range(1, 100_001)))
        row("configuration, 100 000 sibling elements (refused)",
            timed(lambda: load_module(elements)))
        attributes = huge_configuration(directory, '<Toolchain Arch="x86" ' + " ".join(
            f'a{i}="x"' for i in range(100_000)) + "/>")
        row("configuration, 100 000 attributes on one element (refused)",
            timed(lambda: load_module(attributes)))
        largest = json.dumps(manifest_at_the_limits()).encode()
        read_manifest(largest)  # it is read: a manifest at the limits is a good one
        row(f"manifest at the limits ({len(largest) // 1024} KiB, read)",
            timed(lambda: read_manifest(largest)))
        corrupt = random_manifests(2000)
        each = []
        for document in corrupt:
            began = time.perf_counter()
            with contextlib.suppress(ManifestError):
                read_manifest(document)
            each.append(time.perf_counter() - began)
        row("2000 random changes of that manifest, each", (min(each), statistics.median(each),
                                                           max(each)))
        row("/dev/zero as an image (refused)", timed(lambda: read_image(Path("/dev/zero"))))
        fifo = directory / "fifo.img"
        os.mkfifo(fifo)
        row("a FIFO as an image (refused, no writer waited for)",
            timed(lambda: read_image(fifo)))
        junk = directory / "largest.img"
        with junk.open("wb") as stream:
            stream.truncate(MAX_IMAGE_BYTES)
        row(f"{MAX_IMAGE_BYTES >> 20} MiB of zeros as an image (read, refused)",
            timed(lambda: read_image(junk), runs=3))
        print("memory a guest can make the emulator hold (KiB grown)")

        def console_lines() -> Console:
            out = io.StringIO()
            console = Console("p", out)
            for _ in range(1000):
                console.write(b"*** a banner-like line\n" * 1000)
                out.seek(0)
                out.truncate()
            return console

        print(f"  {'a console, 1 000 000 lines (all banner-like)':58} "
              f"{grown(console_lines) / 1024:9.1f}")
        manifest = read_manifest(largest)

        def hm_flood() -> HealthMonitor:
            monitor = HealthMonitor(manifest)
            for n in range(100_000):
                monitor.decide(n, "p0", "APPLICATION_ERROR", f"flood {n}", resumable=True)
            return monitor

        print(f"  {f'the HM, 100 000 events ({KEPT_EVENTS} kept)':58} "
              f"{grown(hm_flood) / 1024:9.1f}")

        def trace_flood() -> Trace:
            trace = Trace(directory / "t.json", "m", [(0, "p0")])
            for n in range(1_000_000):
                trace.instant(0, n, "hypercall", "get_time")
            trace.close()
            return trace

        print(f"  {'a trace, 1 000 000 events (to its file)':58} "
              f"{grown(trace_flood) / 1024:9.1f}")


if __name__ == "__main__":
    main()
