"""Sampling and queuing ports across partitions: how many messages a second the emulator moves,
and whether the three-partition example loses or repeats any over 1000 major frames (issue 6,
point 8).

(i) messages per second of host time, 64 bytes each, between two partitions whose windows
    alternate (``bench/ports``: writer 0-1 ms, reader 1-2 ms of a 2 ms frame), for
    ``ROUNDS`` frames:

    - queuing: each window the writer sends ``PER_WINDOW`` messages on one queue as deep as
      that, and the reader, in the next window, receives until the queue answers
      NOT_AVAILABLE (one refused receive a window besides the messages). A message is a send
      and a receive, two hypercalls, in two partitions.
    - sampling: a sampling port holds one message, so a write and a read of the same port in
      one window each would move one message a frame, a window switch's worth: that measures
      switches, not ports. Instead the writer has ``PER_WINDOW`` sampling channels and each
      window writes one fresh message to each, and the reader reads each once in its window.
      A round trip across partitions is then a write in one partition and the read of that
      very message, fresh and VALID, in the other: two hypercalls, as for queuing.

    The messages counted are those the reader found intact and in their place: each carries
    its sequence number and words derived from it, and the reader checks every word, the
    order, and for sampling that it is the message of this frame (not the last frame's,
    which would be a repeat). Writer and reader count what they moved and sum the sequence
    numbers; the two must agree, with none refused, lost, repeated or damaged. The rate is
    the run's messages over its host seconds, windows and their switches included; the same
    frames with no messages are timed too, to show what the windows cost on their own. Set
    against the target, against the null hypercall rate in the same run (bench_emulator's
    (b) loop; a message is two hypercalls, so 0.5 is a message costing no more than two null
    calls), and sampling against queuing.
(j) ``examples/ports`` built with ``ROUNDS`` = ``EXAMPLE_ROUNDS`` (its ``ports.h`` takes the
    number from the compiler's command line; the build passes it through ``PVGEN_CC``) and
    run until every partition has ended: the sensor writes a reading a frame, the controller
    sends a command for each fresh reading, the logger logs each. The consoles are checked
    (``example_problems``): every reading written once, in order, read once by the
    controller in the frame it was written, one command sent for each, numbered in order,
    and each logged once, in order, after it was sent. The trace's port instants must count
    the same messages. A gap or a repeat is printed and the benchmark exits with status 1.

Partitions are built from source with ``pvgen image`` (gcc -m32, the bare-metal runtime) and
run in process (``Module.run``, timed around it); the rates are the best of a few runs taking
turns with their baseline.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench_emulator import (
    CALLS_C,
    DEFINITION,
    ROOT,
    RUNS,
    Links,
    Row,
    build_module,
    build_programs,
    emulator_runner,
    interleaved,
    print_rows,
    symbol_table,
)

from pvgen.config import load_module
from pvgen.emulator.loader import load
from pvgen.emulator.module import Module
from pvgen.emulator.run import RunOptions, RunResult
from pvgen.image.toolchain import ENV_VARIABLE, resolve_compiler

TARGET_MESSAGES = 100_000  # a second of host time
GUESTS = Path(__file__).resolve().parent / "ports"
MESSAGE_BYTES = 64
PER_WINDOW = 32  # messages a window: the queue's depth, the sampling channels (<= 48)
ROUNDS = 1500  # frames that move messages, a run
WINDOW_NS = 1_000_000
FRAME_NS = 2 * WINDOW_NS
KINDS = {"none": 1, "queuing": 2, "sampling": 3}  # bench_ports.h's KIND_*
EXAMPLE = ROOT / "examples" / "ports"
EXAMPLE_ROUNDS = 1000


# -- (i) messages per second ----------------------------------------------------------------
def links() -> Links:
    """The writer's and reader's ports: one queue ``PER_WINDOW`` deep, ``PER_WINDOW`` sampling
    channels whose messages stay VALID for a frame."""
    assert PER_WINDOW <= 48, "bench_ports.h's MAX_PER_WINDOW"
    refresh = f"{FRAME_NS / 1e9:g}"
    ends = {"writer": "SOURCE", "reader": "DESTINATION"}  # partitions 1 and 2
    ports = {
        name: f'<Queuing_Port Name="queue" Direction="{direction}" '
              f'MaxMessageSize="{MESSAGE_BYTES}" MaxNbMessages="{PER_WINDOW}"/>'
              + "".join(f'<Sampling_Port Name="s{k:02}" Direction="{direction}" '
                        f'MaxMessageSize="{MESSAGE_BYTES}" RefreshRateSeconds="{refresh}"/>'
                        for k in range(PER_WINDOW))
        for name, direction in ends.items()
    }
    names = ["queue", *(f"s{k:02}" for k in range(PER_WINDOW))]
    channels = "".join(
        f'<Channel ChannelIdentifier="{n}"><Source><Standard_Partition PartitionIdentifier="1" '
        f'PortName="{port}"/></Source><Destination><Standard_Partition PartitionIdentifier="2" '
        f'PortName="{port}"/></Destination></Channel>' for n, port in enumerate(names, start=1))
    return Links(ports, channels)


@dataclass(frozen=True)
class Images:
    """What (i) runs: the generated sides, the null-call image, the writer and reader's image."""

    gen: Path
    calls: Path
    ports: Path


def build_images(work: Path) -> Images:
    elves = build_programs(work, {"calls": (CALLS_C, 131072)})
    calls = build_module(work, "calls", [("calls", f'Elf="{elves / "calls.elf"}"', 131072)],
                         20_000_000)
    ports = build_module(work, "ports", [(name, f'Sources="{GUESTS / (name + ".c")}"', 131072)
                                         for name in ("writer", "reader")],
                         WINDOW_NS, ports=links())
    return Images(work / "gen", calls, ports)


@dataclass(frozen=True)
class Moved:
    """What one side of a run counted: messages moved, the sum of their sequence numbers, and
    those refused (writer) or lost, repeated, stale or damaged (reader)."""

    moved: int
    sum: int
    bad: int


def transfer(images: Images, kind: str) -> tuple[int, float]:
    """One run of the writer and reader moving `kind` messages; (messages, host seconds),
    after checking that both sides moved every message and agree on which."""
    image, dispatcher = load(images.ports, images.gen)
    module = Module(image, dispatcher, RunOptions(out=io.StringIO()))
    symbols = [symbol_table(p.name, image.partition_elf(n))
               for n, p in enumerate(module.partitions)]
    inputs = {"bench_kind": KINDS[kind], "bench_rounds": ROUNDS,
              "bench_per_window": PER_WINDOW, "bench_refresh_ns": FRAME_NS}
    for partition, table in zip(module.partitions, symbols, strict=True):
        for name, value in inputs.items():
            partition.write_word(table[name], value)
    start = time.perf_counter()
    result = module.run()
    seconds = time.perf_counter() - start
    writer, reader = (Moved(*(p.read_word(table[f"bench_{word}"])
                              for word in ("moved", "sum", "bad")))
                      for p, table in zip(module.partitions, symbols, strict=True))
    expected = 0 if kind == "none" else ROUNDS * PER_WINDOW
    total = expected * (expected + 1) // 2 % 2**32
    if (result.ended_by != "all stopped" or result.exit_status
            or writer != reader or writer != Moved(expected, total, 0)):
        raise SystemExit(f"(i) {kind}: the partitions did not move {expected} messages intact: "
                         f"writer {writer}, reader {reader}, {result}")
    return (expected or 1), seconds


def transfer_rows(images: Images) -> list[Row]:
    def runner(kind: str) -> Callable[[], tuple[int, float]]:
        return lambda: transfer(images, kind)

    (calls, calls_s), queuing, sampling, (_, empty_s) = interleaved(
        emulator_runner(images.calls, images.gen, "calls_count", time_ns=240_000_000),
        runner("queuing"), runner("sampling"), runner("none"),
    )
    null = calls / calls_s
    runs = {"queuing send+receive": queuing, "sampling write+read": sampling}
    print(f"(i) {ROUNDS} frames of {FRAME_NS / 1e6:g} ms, writer then reader, {PER_WINDOW} "
          f"messages of {MESSAGE_BYTES} bytes a window, every one found intact and in its place "
          f"at both ends; the same frames with no messages take {empty_s:.2f} s "
          f"({empty_s / ROUNDS * 1e6:.0f} us a frame); null hypercalls: {calls} in "
          f"{calls_s:.2f} s, {1e6 / null:.2f} us each, so a message of two hypercalls could "
          f"reach 0.5 of their rate at best")
    for label, (messages, seconds) in runs.items():
        print(f"(i) {label}: {messages} in {seconds:.2f} s, {seconds / messages * 1e6:.2f} us "
              f"a message ({(seconds - empty_s) / messages * 1e6:.2f} us beyond the bare "
              f"windows)")
    rates = {label: messages / seconds for label, (messages, seconds) in runs.items()}
    rows = [Row(f"(i) {label}, {MESSAGE_BYTES} B across partitions", f"{rate:,.0f} msgs/s",
                f"{null / 1e3:.0f} k null calls/s", f"{rate / null:.3f}",
                f">= {TARGET_MESSAGES:,} /s", rate >= TARGET_MESSAGES)
            for label, rate in rates.items()]
    sampled, queued = rates["sampling write+read"], rates["queuing send+receive"]
    rows.append(Row("(i) sampling against queuing", f"{sampled:,.0f} msgs/s",
                    f"{queued:,.0f} msgs/s", f"{sampled / queued:.2f}", "", None))
    return rows


# -- (j) the three-partition example over 1000 major frames -------------------------------
SENSOR = re.compile(r'\[sensor\] sensor: wrote "temp (\d+)"')
CONTROLLER = re.compile(r'\[controller\] controller: read "temp (\d+)", sent "set fan (\d+)"')
STALE = re.compile(r"\[controller\] controller: no fresh reading")
LOGGER = re.compile(r'\[logger\] logger: (\d+) "set fan (\d+)"')
ENDS = tuple(f"[{name}] *** END OF TEST {name} ***" for name in ("sensor", "controller",
                                                                  "logger"))


def reading_number(temperature: str) -> int:
    """The round a reading was written in: the sensor writes 20 + 3 x round."""
    value = int(temperature) - 20
    return value // 3 if value % 3 == 0 else -int(temperature)  # not a reading it writes


def sequence_problems(what: str, seen: Sequence[int], rounds: int) -> list[str]:
    """Why `seen` is not exactly 1..rounds, each once and in order: each number lost,
    repeated or unexpected, or the order."""
    counts = Counter(seen)
    problems = [f"{what} {n} lost" for n in range(1, rounds + 1) if counts[n] == 0]
    problems += [f"{what} {n} seen {count} times" for n, count in sorted(counts.items())
                 if count > 1]
    problems += [f"{what} {n} unexpected" for n in sorted(counts) if not 1 <= n <= rounds]
    if not problems and list(seen) != list(range(1, rounds + 1)):
        problems.append(f"{what} out of order")
    return problems


def example_problems(console: str, rounds: int) -> list[str]:
    """What the example's console shows lost, repeated or out of place in `rounds` rounds
    (empty when every message went through once): the checker of (j)."""
    lines = console.splitlines()
    written: list[tuple[int, int]] = []  # (line, reading)
    read: list[tuple[int, int, int]] = []  # (line, reading, command)
    logged: list[tuple[int, int, int]] = []  # (line, count, command)
    stale = 0
    for at, line in enumerate(lines):
        if found := SENSOR.fullmatch(line):
            written.append((at, reading_number(found[1])))
        elif found := CONTROLLER.fullmatch(line):
            read.append((at, reading_number(found[1]), int(found[2])))
        elif found := LOGGER.fullmatch(line):
            logged.append((at, int(found[1]), int(found[2])))
        elif STALE.match(line):
            stale += 1
    problems = sequence_problems("reading written", [r for _, r in written], rounds)
    problems += sequence_problems("reading read", [r for _, r, _ in read], rounds)
    problems += sequence_problems("command sent", [c for *_, c in read], rounds)
    problems += [f"reading {r} answered by command {c}" for _, r, c in read if r != c]
    problems += sequence_problems("command logged", [c for *_, c in logged], rounds)
    problems += [f"log entry {n} is command {c}" for _, n, c in logged if n != c]
    if stale:
        problems.append(f"{stale} window(s) of the controller found no fresh reading")
    # causality: a reading is read after it is written, a command logged after it is sent
    line_of = [{k: at for at, k, *_ in events} for events in (written, read)]
    problems += [f"reading {r} read before it was written" for at, r, _ in read
                 if at < line_of[0].get(r, at)]
    problems += [f"command {c} logged before it was sent" for at, _, c in logged
                 if at < line_of[1].get(c, at)]
    problems += [f"no '{end}'" for end in ENDS if end not in lines]
    return problems


def trace_problems(trace: Path, rounds: int) -> list[str]:
    """The trace's own count of the example's messages: each port instant that moved one."""
    events = json.loads(trace.read_text())["traceEvents"]
    moved = Counter(e["name"] for e in events if e.get("cat") == "port"
                    and e["args"]["status"] == "OK" and e["args"].get("validity", "VALID")
                    == "VALID")
    return [f"trace: {count} x {name}, not {rounds}" for name in
            ("sampling_write reading_out", "sampling_read reading_in",
             "queuing_send command_out", "queuing_receive command_in")
            if (count := moved[name]) != rounds]


def build_example(work: Path, rounds: int) -> Path:
    """examples/ports with its ROUNDS given on the compiler's command line, by ``pvgen image``
    as a user would build it (the configuration's compiler, or $PVGEN_CC's, plus the define)."""
    config = EXAMPLE / "module.xml"
    compiler = resolve_compiler(load_module(config).toolchain).command
    image = work / f"ports{rounds}.img"
    env = {**os.environ, ENV_VARIABLE: shlex.join((*compiler, f"-DROUNDS={rounds}u"))}
    built = subprocess.run([sys.executable, "-m", "pvgen.cli", "image", "--config", str(config),
                            "--out", str(image), "--def", str(DEFINITION), "--gen",
                            str(work / "gen")], capture_output=True, text=True, env=env, cwd=ROOT,
                           check=False)
    if built.returncode != 0:
        raise SystemExit(f"building examples/ports with ROUNDS={rounds} failed:\n"
                         f"{built.stdout}{built.stderr}")
    return image


def example_rows(work: Path, gen: Path) -> list[Row]:
    image_path = build_example(work, EXAMPLE_ROUNDS)
    image, dispatcher = load(image_path, gen)
    console, trace = io.StringIO(), work / "ports-example.json"
    module = Module(image, dispatcher, RunOptions(out=console, trace=trace))
    start = time.perf_counter()
    result: RunResult = module.run()
    seconds = time.perf_counter() - start
    problems = example_problems(console.getvalue(), EXAMPLE_ROUNDS)
    problems += trace_problems(trace, EXAMPLE_ROUNDS)
    if result.ended_by != "all stopped" or result.exit_status:
        problems.append(f"the run did not end with every partition passed: {result}")
    messages = 2 * EXAMPLE_ROUNDS  # a reading and a command each round
    print(f"(j) examples/ports, ROUNDS={EXAMPLE_ROUNDS}: {result.frames} major frames "
          f"({EXAMPLE_ROUNDS} moving messages, the last one for the END banners), "
          f"{result.now_ns / 1e9:.2f} s virtual, in {seconds:.1f} s of host time with the "
          f"trace; {EXAMPLE_ROUNDS} readings written and read, {EXAMPLE_ROUNDS} commands sent "
          f"and logged, checked on the consoles and in the trace: "
          + (f"{len(problems)} problem(s)" if problems else "none lost, repeated or out of order"))
    for problem in problems:
        print(f"(j) PROBLEM: {problem}")
    return [Row(f"(j) examples/ports, {result.frames} major frames",
                f"{messages} messages, {len(problems)} problems",
                f"{seconds:.1f} s host", f"{result.frames / seconds:.0f} frames/s",
                "none lost or repeated", not problems)]


def main() -> None:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        images = build_images(work)
        built = time.perf_counter() - began
        rows = transfer_rows(images) + example_rows(work, images.gen)
    print(f"ports benchmark (images built in {built:.1f} s; best of {RUNS} in process; "
          f"whole run {time.perf_counter() - began:.0f} s)")
    print_rows(rows)
    if not all(row.met for row in rows if row.figure.startswith("(j)")):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
