"""The upcall fast path (pvgen.emulator.fastpath, pvupcall.c) changes nothing but the host time.

One program (tests/harness/fastcycle.c) takes a tick every 40 virtual microseconds and
leaves the steady state in every way the fast path must hand over to Python: calls in the
handler before and after its acknowledge, a handler running past the next tick, interrupts
disabled and the line masked across ticks, windows ending anywhere. Two partitions run it,
in 5 ms windows, until they end; the same image is run with the fast path and without it, and
the runs must end in the same state byte for byte: every partition's memory and
registers, its vCPU and timer, the console, the summary and the virtual time. The run
with the fast path must have used it: most ticks taken natively, and cycles handed back
in both phases. A second program (tests/harness/fasthostile.c) does what a well-behaved
guest never does (its vCPU area inside its stack, where frames land; the hypervisor's
words scribbled on; its frame edited; its timer re-phased and its area moved from the
handler; a restart mid-cycle), and must end alike too.
"""

from __future__ import annotations

import ctypes
import io
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pvgen.emulator.loader import load
from pvgen.emulator.module import Module
from pvgen.emulator.native import PHASE_ACKED, PHASE_DELIVERED, library
from pvgen.emulator.native.layout import FastHeader
from pvgen.emulator.run import RunOptions, RunResult
from pvgen.image.elfview import read_view
from tests.emulator_harness import PROGRAM, Builder, Part

FASTCYCLE = PROGRAM.with_name("fastcycle.c")
FASTHOSTILE = PROGRAM.with_name("fasthostile.c")
RUN_NS = 200_000_000
HOSTILE_NS = 60_000_000


@dataclass(frozen=True)
class Images:
    workout: Path
    hostile: Path
    gen: Path


@pytest.fixture(scope="module", params=["x86", "arm", "thumb"])
def images(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Images:
    """Two-partition images of each program for an architecture, and their generated code."""
    arch: str = request.param
    compiler = None
    if arch != "x86":
        pytest.importorskip("ziglang", reason="ARM guests need zig's clang (the arm extra)")
    if arch == "thumb":  # svc_arm passes the call in r7: no frame pointer
        compiler = shlex.join([sys.executable, "-m", "ziglang", "cc", "-target",
                               "thumb-freestanding-eabi", "-mcpu=cortex_a15",
                               "-fomit-frame-pointer"])
    builder = Builder(tmp_path_factory.mktemp(f"fastpath_{arch}"),
                      "x86" if arch == "x86" else "arm", compiler,
                      programs=[FASTCYCLE, FASTHOSTILE])

    def image(program: str) -> Path:
        return builder.image(program, [Part(1, "first", program=program),
                                       Part(2, "second", program=program)])

    return Images(image("fastcycle"), image("fasthostile"), builder.gen)


@dataclass(frozen=True)
class Ended:
    """Everything a run leaves that the guests or the user can see."""

    result: RunResult
    console: str
    state: list[dict[str, Any]]  # per partition
    taken: int  # ticks the fast path took, all partitions
    handed_back: dict[int, int]  # cycles it handed to Python, by phase


def run(image: Path, gen: Path, fast_upcalls: bool, inputs: Mapping[str, int] | None = None,
        time_ns: int = RUN_NS) -> Ended:
    """Run the image, every partition's `inputs` variables set first."""
    loaded, dispatcher = load(image, gen)
    out = io.StringIO()
    module = Module(loaded, dispatcher,
                    RunOptions(out=out, time_ns=time_ns, fast_upcalls=fast_upcalls))
    for i, p in enumerate(module.partitions):
        view = read_view(p.name, loaded.partition_elf(i))
        symbols = {s.name: s.value for t in view.sections if t.type == "SHT_SYMTAB"
                   for s in view.symbols(t)}
        for name, value in (inputs or {}).items():
            p.write_word(symbols[name], value)
            assert p.read_word(symbols[name]) == value
    result = module.run()
    state, taken, handed_back = [], 0, {PHASE_DELIVERED: 0, PHASE_ACKED: 0}
    for p in module.partitions:
        v, t = p.vcpu, p.timer
        state.append({
            "memory": bytes(p.cpu.ram),
            "registers": p.read_registers(v.convention.frame_registers),
            "vcpu": (v.handler, v.requested, v.unmasked, v.pending, v.in_service, v.frames,
                     v.ticks, v.delivered, v.enabled),
            "timer": (t.period, t.set_at, t.due, t.next_due),
        })
        if p.fast is not None:
            taken += p.fast.taken
            for phase, count in p.fast.handed_back.items():
                handed_back[phase] += count
    return Ended(result, out.getvalue(), state, taken, handed_back)


def test_the_native_and_python_layouts_of_the_fast_path_agree() -> None:
    assert library().pv_fast_size() == ctypes.sizeof(FastHeader)


def assert_alike(fast: Ended, slow: Ended) -> None:
    """The two runs end in the same state, byte for byte."""
    assert slow.taken == 0
    assert fast.console == slow.console
    assert fast.result == slow.result
    for fast_part, slow_part in zip(fast.state, slow.state, strict=True):
        assert fast_part["memory"] == slow_part["memory"]
        for key in ("registers", "vcpu", "timer"):
            assert fast_part[key] == slow_part[key], key


def test_a_run_with_the_fast_path_ends_exactly_as_one_without(images: Images) -> None:
    fast = run(images.workout, images.gen, fast_upcalls=True)
    slow = run(images.workout, images.gen, fast_upcalls=False)
    assert_alike(fast, slow)
    handled = [int(line.split()[2].rstrip(",")) for line in slow.console.splitlines()
               if "handled" in line]
    assert len(handled) == 2 and min(handled) > 300, slow.console  # the workout ran
    # the fast path did most of the work, and handed cycles back in both of its phases
    delivered = sum(p["vcpu"][7] for p in fast.state)
    assert fast.taken > delivered // 2, (fast.taken, delivered)
    assert all(count > 0 for count in fast.handed_back.values()), fast.handed_back


@pytest.mark.parametrize("mode", range(2, 9))
def test_a_hostile_guest_ends_alike_with_and_without_the_fast_path(images: Images,
                                                                    mode: int) -> None:
    fast, slow = (run(images.hostile, images.gen, each, {"fh_mode": mode}, HOSTILE_NS)
                  for each in (True, False))
    assert_alike(fast, slow)
    assert fast.taken > 0  # it was armed, and taken, before the guest misbehaved


def test_an_area_inside_the_stack_ends_alike_with_and_without_the_fast_path(
        images: Images) -> None:
    """Frames and the handler's stack land on the area's words: the fast path writes them
    when and as the Python path does."""
    for offset in range(8, 200, 12):
        inputs = {"fh_mode": 1, "fh_offset": offset}
        fast, slow = (run(images.hostile, images.gen, each, inputs, HOSTILE_NS)
                      for each in (True, False))
        assert_alike(fast, slow)
