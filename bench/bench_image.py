"""How long `pvgen image` takes for 8 partitions built from existing ELF files.

The partition ELF is built once (the hello example); the configuration then
names it 8 times with Guest Elf=..., so the figure is the image builder's own
cost: configuration, ELF checks, packing, POK outputs. Printed as the whole
process (median of 5) and per stage in process, against the 2 s target.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 8
TARGET_SECONDS = 2.0


def module_xml(elf: Path, count: int) -> str:
    frame_us = 20_000
    slot = frame_us // count
    parts, memory, schedule = [], [], []
    for n in range(1, count + 1):
        parts.append(f'<Partition PartitionIdentifier="{n}" PartitionName="p{n}">'
                     f'<Guest Elf="{elf}"/></Partition>')
        memory.append(f'<Partition_Memory PartitionIdentifier="{n}"><Memory_Requirements '
                      'Type="DATA" SizeBytes="131072"/></Partition_Memory>')
        schedule.append(
            f'<Partition_Schedule PartitionIdentifier="{n}" PeriodSeconds="0.02" '
            f'PeriodDurationSeconds="{slot / 1e6}"><Window_Schedule WindowIdentifier="{n}" '
            f'WindowStartSeconds="{(n - 1) * slot / 1e6}" WindowDurationSeconds="{slot / 1e6}"/>'
            "</Partition_Schedule>"
        )
    return (
        '<ARINC_653_Module ModuleName="eight">' + "".join(parts) + "".join(memory)
        + '<Module_Schedule MajorFrameSeconds="0.02">' + "".join(schedule)
        + "</Module_Schedule></ARINC_653_Module>\n"
    )


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pvgen.cli", *args], check=True, capture_output=True,
                   cwd=ROOT)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run("image", "--out", str(work / "hello.img"), "--gen", str(work / "gen"))
        elf = work / "hello.build" / "hello.elf"
        config = work / "eight.xml"
        config.write_text(module_xml(elf, PARTITIONS))
        args = ("image", "--config", str(config), "--out", str(work / "eight.img"),
                "--gen", str(work / "gen"))
        times = []
        for _ in range(5):
            (work / "eight.build" / "image.json").unlink(missing_ok=True)  # built, not reused
            start = time.perf_counter()
            run(*args)
            times.append(time.perf_counter() - start)
        whole = statistics.median(times)

        from pvgen.config import load_module
        from pvgen.definition import load
        from pvgen.image.elf import load_partition_elf
        from pvgen.image.pack import build_manifest, pack_image

        t0 = time.perf_counter()
        module = load_module(config)
        t1 = time.perf_counter()
        elves = [load_partition_elf(elf, "x86", p.memory_size, p.stack_size)
                 for p in module.partitions]
        t2 = time.perf_counter()
        iface = load(ROOT / "hypercalls.def")
        image = pack_image(build_manifest(module, elves, iface, "pok_x86"), elves)
        t3 = time.perf_counter()
    print(f"pvgen image, {PARTITIONS} partitions from existing ELFs ({len(image)} byte image)")
    print(f"  whole process (median of 5): {whole * 1000:.0f} ms")
    print(f"  in process: configuration {(t1 - t0) * 1000:.1f} ms, ELF checks "
          f"{(t2 - t1) * 1000:.1f} ms, definition + packing {(t3 - t2) * 1000:.1f} ms")
    verdict = "met" if whole < TARGET_SECONDS else "MISSED"
    print(f"target: under {TARGET_SECONDS:.1f} s -> {whole:.2f} s = "
          f"{whole / TARGET_SECONDS:.2f} x target ({verdict})")


if __name__ == "__main__":
    main()
