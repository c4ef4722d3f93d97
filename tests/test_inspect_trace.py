"""`pvgen inspect TRACE` (issue 6, point 5): a run's HM log read back from its trace.

Real runs are booted with a trace (tiny partitions of tests/harness/behaviours.c through
tests/emulator_harness.py, and examples/ports), and the command's report is compared with
what the run printed at exit, line for line. The trace is told from an image by what the file
holds, and anything else is a one-line error with status 2, never a traceback.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pvgen.cli import main as pvgen_main
from pvgen.emulator.hm import KEPT_EVENTS, HealthMonitor, HmEvent, log_lines
from pvgen.emulator.trace import Trace
from pvgen.image.manifest_rules import read_manifest
from tests.conftest import DEFINITION, ROOT
from tests.emulator_harness import Builder, Part, Run
from tests.test_manifest_rules import GOOD

# Behaviours of tests/harness/behaviours.c (a partition's identifier modulo 100); the
# hundreds are its window.
CALM, UNDEFINED, DIVIDE, RAISE, FAULTS_ALWAYS = 1, 15, 16, 20, 21


def inspect(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """`pvgen inspect PATH` in this process: its status, stdout lines and stderr."""
    status = pvgen_main(["inspect", str(path)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def hm_block(lines: list[str]) -> list[str]:
    """The HM log in a report: from its heading to the next heading at its depth, or the end."""
    first = next(i for i, line in enumerate(lines) if line.startswith("  health monitor: "))
    rest = [i for i, line in enumerate(lines[first + 1:], first + 1)
            if not line.startswith("    ")]
    return lines[first:rest[0] if rest else None]


@pytest.fixture(scope="module")
def x86(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("inspect"))


@pytest.fixture(scope="module")
def faulty(x86: Builder) -> tuple[Run, Path]:
    """Four faulting partitions beside a calm one, at both levels and with each kind of
    action, for three frames: one faults again at every cold start."""
    parts = [Part(100 + CALM, "calm"),
             Part(200 + FAULTS_ALWAYS, "looping", {"MEMORY_VIOLATION": "COLD_START"}),
             Part(300 + UNDEFINED, "undefined", {"ILLEGAL_REQUEST": "IDLE"}),
             Part(400 + RAISE, "raised"),  # no entry: IGNORE, and it resumes
             Part(500 + DIVIDE, "divide")]
    image = x86.image("faulty", parts, levels={"NUMERIC_ERROR": "MODULE"},
                      module_actions={"NUMERIC_ERROR": "IGNORE"})
    trace = x86.root / "faulty.json"
    return x86.boot(image, "--frames", "3", "--trace", str(trace)), trace


def test_the_hm_log_of_a_trace_is_the_one_the_run_printed_at_exit(
    faulty: tuple[Run, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run, trace = faulty
    status, lines, err = inspect(trace, capsys)
    assert (status, err) == (0, "")
    assert lines[0] == f"trace {trace}: module faulty, 5 partition(s)"
    assert hm_block(lines) == hm_block(run.summary)
    logged = hm_block(lines)[1:]
    # every kind of event is there: both levels, each action, a repeated fault
    assert len(logged) == int(lines[1].split()[2]) >= 6
    for ending in (": MEMORY_VIOLATION", "-> PARTITION COLD_START", "-> PARTITION IDLE",
                   "-> PARTITION IGNORE", "-> MODULE IDLE"):
        assert any(ending in line for line in logged), (ending, logged)
    assert sum("looping: MEMORY_VIOLATION" in line for line in logged) == 3


def test_a_trace_is_recognised_by_its_content_and_an_image_still_by_its_own(
    faulty: tuple[Run, Path], x86: Builder, capsys: pytest.CaptureFixture[str]
) -> None:
    run, trace = faulty
    renamed = x86.root / "faulty_trace.img"
    renamed.write_bytes(trace.read_bytes())
    assert hm_block(inspect(renamed, capsys)[1]) == hm_block(run.summary)
    image = x86.root / "faulty_image.json"
    image.write_bytes((x86.root / "faulty.img").read_bytes())
    status, lines, _ = inspect(image, capsys)
    assert status == 0
    assert lines[0].startswith(f"image {image}: ")
    assert lines[1] == "module faulty: 5 partition(s), arch x86, ABI pok_x86"


def test_a_trace_without_hm_events_says_so(
    x86: Builder, capsys: pytest.CaptureFixture[str]
) -> None:
    image = x86.image("calm", [Part(100 + CALM, "calm")])
    trace = x86.root / "calm.json"
    run = x86.boot(image, "--trace", str(trace))
    assert run.status == 0, run.stdout
    assert not any("health monitor" in line for line in run.summary)
    assert inspect(trace, capsys) == (
        0, [f"trace {trace}: module calm, 1 partition(s)", "  health monitor: no events"], "")


def test_the_port_traffic_of_each_partition_is_counted_from_the_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/ports, booted to its end: each partition's messages moved and calls refused,
    against the trace's `port` instants counted here by call and status."""
    image, trace = tmp_path / "ports.img", tmp_path / "ports.json"
    assert pvgen_main(["image", "--config", str(ROOT / "examples/ports/module.xml"),
                       "--out", str(image), "--def", str(DEFINITION),
                       "--gen", str(tmp_path / "gen")]) == 0
    assert pvgen_main(["boot", str(image), "--gen", str(tmp_path / "gen"), "--def",
                       str(DEFINITION), "--trace", str(trace)]) == 0
    capsys.readouterr()
    events = json.loads(trace.read_text(encoding="utf-8"))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    calls = Counter((names[e["tid"]], e["name"].split()[0], e["args"]["status"] == "OK")
                    for e in events if e.get("cat") == "port")
    expected = ["  port traffic:"]
    for name in names.values():
        moved = [calls[name, call, True] for call in ("sampling_write", "sampling_read",
                                                      "queuing_send", "queuing_receive")]
        refused = sum(n for (who, _, ok), n in calls.items() if who == name and not ok)
        expected.append(f"    {name}: {moved[0]} written, {moved[1]} read, {moved[2]} sent, "
                        f"{moved[3]} received, {refused} refused")
    assert calls["sensor", "sampling_write", True] > 0
    assert calls["logger", "queuing_receive", True] > 0
    status, lines, err = inspect(trace, capsys)
    assert (status, err) == (0, "")
    traffic = lines[lines.index("  port traffic:"):]
    assert [line for line in traffic if not line.startswith("      refused ")] == expected


def test_refused_port_calls_of_any_kind_are_counted_and_creations_are_not_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = Trace(tmp_path / "t.json", "m", [(1, "a"), (2, "b"), (3, "quiet")])
    why = {"INVALID_CONFIG": "no such port", "NOT_AVAILABLE": "the queue is empty"}
    for at_us, tid, name, status in [
            (1, 1, "sampling_create out", "OK"), (2, 1, "sampling_write out", "OK"),
            (7, 1, "sampling_write out", "INVALID_CONFIG"),
            (8, 2, "queuing_port_id nope", "INVALID_CONFIG"),
            (3, 2, "queuing_receive in", "OK"), (4, 2, "queuing_receive in", "OK"),
            (5, 2, "queuing_receive in", "NOT_AVAILABLE"),
            (6, 2, "sampling_read temp", "OK"), (9, 2, "queuing_send cmd", "OK"),
            (10, 2, "queuing_port_id nope", "INVALID_CONFIG")]:
        reason = {"reason": why[status]} if tid == 2 and status in why else {}
        trace.instant(tid, at_us * 1000, "port", name, port=name.split()[1], length=4,
                      status=status, **reason)
    trace.close()
    assert inspect(tmp_path / "t.json", capsys)[1][2:] == [
        "  port traffic:",
        "    a: 1 written, 0 read, 0 sent, 0 received, 1 refused",
        "      refused sampling_write out: INVALID_CONFIG, 1 time(s), first at 0.000007 s",
        "    b: 0 written, 1 read, 1 sent, 2 received, 3 refused",
        "      refused queuing_receive in: NOT_AVAILABLE (the queue is empty), 1 time(s), first "
        "at 0.000005 s",
        "      refused queuing_port_id nope: INVALID_CONFIG (no such port), 2 time(s), first at "
        "0.000008 s",
    ]


@pytest.mark.parametrize("at_ns", [0, 1, 999, 1_001, 5_012_345, 123_456_789_123,
                                   59_999_999_999])
def test_times_come_back_from_the_trace_to_the_nanosecond(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at_ns: int
) -> None:
    """The trace keeps microseconds as doubles; the log is printed from nanoseconds, so a
    time read back a nanosecond off could round to another printed microsecond."""
    event = HmEvent(at_ns, "p", "NUMERIC_ERROR", "CPU exception 0 at 0x10", "MODULE", "IDLE")
    trace = Trace(tmp_path / "t.json", "m", [(7, "p")])
    trace.instant(7, at_ns, "hm", event.error, detail=event.detail, level=event.level,
                  action=event.action)
    trace.close()
    assert inspect(tmp_path / "t.json", capsys)[1][1:] == log_lines([event])


def test_a_flood_of_hm_events_is_counted_and_the_first_kept_in_the_run_and_the_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The health monitor keeps KEPT_EVENTS events and counts every one; `pvgen inspect`
    reads the trace (which has them all) back to the same report."""
    monitor = HealthMonitor(read_manifest(json.dumps(GOOD).encode()), tables=False)
    trace = Trace(tmp_path / "t.json", "m", [(7, "p")])
    for n in range(KEPT_EVENTS + 3):
        event = monitor.decide(n, "p", "APPLICATION_ERROR", f"error {n}", resumable=True)
        trace.instant(7, n, "hm", event.error, detail=event.detail, level=event.level,
                      action=event.action)
    trace.close()
    assert (len(monitor.log), monitor.count) == (KEPT_EVENTS, KEPT_EVENTS + 3)
    printed = log_lines(monitor.log, monitor.count)
    assert printed[0] == f"  health monitor: {KEPT_EVENTS + 3} event(s)"
    assert printed[-1] == f"    ... and 3 more, not kept (the first {KEPT_EVENTS} are)"
    assert inspect(tmp_path / "t.json", capsys)[1][1:] == printed


NOT_A_TRACE = "not a trace of `pvgen boot --trace`: "
NEITHER = ("neither an image made by `pvgen image` (an ELF file) nor a trace of "
           "`pvgen boot --trace` (a JSON document)")


@pytest.mark.parametrize(("content", "problem"), [
    (None, "cannot read it: No such file or directory"),
    (b"", NEITHER),
    (b"hello\n", NEITHER),
    (b"\x00\x01\x02\x03", NEITHER),
    (b'{"traceEvents": [', "not valid JSON (line 1 column 18: Expecting value)"),
    (b"\xff{", NEITHER),
    (b' {"tr\xffceEvents": []}', "not UTF-8 text, so not a trace"),
    (b'{"name": "a package.json"}', NOT_A_TRACE + "no 'traceEvents' list"),
    (b"[1, 2]", NOT_A_TRACE + "no 'traceEvents' list"),
    (b'{"traceEvents": [3]}', NOT_A_TRACE + "traceEvents[0] is not an object"),
    (b'{"traceEvents": []}', NOT_A_TRACE + "no 'process_name' event naming the module"),
    (b'{"traceEvents": [{"ph": "M", "name": "process_name", "args": {"name": 1}}]}',
     NOT_A_TRACE + "traceEvents[0]'s args has no 'name' string"),
    (b'{"traceEvents": [{"ph": "M", "name": "process_name", "args": {"name": "m"}},'
     b' {"ph": "i", "cat": "hm", "name": "E", "tid": 4, "ts": 1, "args": {}}]}',
     NOT_A_TRACE + "traceEvents[1] (hm) is on thread 4, which no 'thread_name' event names"),
    (b'{"traceEvents": [{"ph": "M", "name": "process_name", "args": {"name": "m"}},'
     b' {"ph": "M", "name": "thread_name", "tid": 4, "args": {"name": "p"}},'
     b' {"ph": "i", "cat": "hm", "name": "E", "tid": 4, "ts": 1,'
     b' "args": {"detail": "d", "action": "IDLE"}}]}',
     NOT_A_TRACE + "traceEvents[2] (hm)'s args has no 'level' string"),
    (b'{"traceEvents": [{"ph": "M", "name": "process_name", "args": {"name": "m"}},'
     b' {"ph": "M", "name": "thread_name", "tid": 4, "args": {"name": "p"}},'
     b' {"ph": "i", "cat": "hm", "name": "E", "tid": 4, "ts": true,'
     b' "args": {"detail": "d", "level": "MODULE", "action": "IDLE"}}]}',
     NOT_A_TRACE + "traceEvents[2] (hm) has no 'ts' time"),
], ids=["missing", "empty", "text", "binary", "broken JSON", "JSON after a bad byte",
        "not UTF-8", "other JSON", "array", "not an event", "no module", "module unnamed",
        "unnamed thread", "no level", "no time"])
def test_what_is_not_a_trace_or_an_image_is_one_line_of_error_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, problem: str
) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_bytes(content)
    assert inspect(path, capsys) == (2, [], f"pvgen: error: {path}: {problem}\n")


def test_a_directory_is_not_a_file_to_inspect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines, err = inspect(tmp_path, capsys)
    assert (status, lines) == (2, [])
    assert err.startswith(f"pvgen: error: {tmp_path}: cannot read it: ") and err.count("\n") == 1
