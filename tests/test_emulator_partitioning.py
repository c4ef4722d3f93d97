"""Partitioning in the emulator: space, time, the health monitor, the tester's exit status,
partition modes, the trace and the console logs, on tiny partitions built here.

Every partition runs tests/harness/behaviours.c, whose behaviour is its identifier modulo
100 (the table is in that file); the hundreds are the partition's window, in order. So
``part(2, UNDEFINED, "undefined")`` is partition 215, second in the major frame, executing
an undefined instruction.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pvgen.cli import main as pvgen_main
from tests.conftest import DEFINITION, ROOT
from tests.emulator_harness import WINDOW_MS, Builder, Part, Run, module_xml

MS = 1_000_000
CALM, QUICK, UNFINISHED, DOOMED, TICKER, HALF_LINE_END, POLL_TIME = 1, 2, 3, 4, 5, 6, 7
WAITS_FOR_USER, EXPECTED_TO_FAIL = 8, 9
READ_PAST_END, WRITE_PAST_END, READ_TOP, WRITE_TOP = 11, 12, 13, 14
UNDEFINED, DIVIDE, BAD_POINTER, UNKNOWN_CALL, STOP, RAISE, FAULTS_ALWAYS = range(15, 22)
HALF_LINE_FAULT, SOFTWARE_INTERRUPT, NOTHING_TO_RETURN_TO = 22, 23, 24
SET_NORMAL, SET_COLD_START, SET_WARM_START = 31, 32, 33
SPIN, SPIN_MASKED = 41, 42
SHUTDOWN = 29

FIRST_RUN = "run 41 mode 1 start 0"  # .data's counter from 40; COLD_START; NORMAL_START
INVALID_PARAM, NOT_AVAILABLE, ILLEGAL_REQUEST = 3, 2, 7  # status codes of hypercalls.def
ADDRESS = r"at 0x[0-9a-f]+"


def part(window: int, behaviour: int, name: str, hm: Mapping[str, str] | None = None) -> Part:
    return Part(window * 100 + behaviour, name, hm or {})


class TimeLine:
    """Equal to calm's ``window N at T ns`` line when T is `least` plus a few instructions.

    Virtual time is the window's start plus the hypercalls (1 µs each) plus the guest's
    instructions (10 ns each at 100 MIPS); how many instructions the guest runs before it
    reads the clock is the compiler's business, so they are bounded, not counted.
    """

    def __init__(self, window: int, least: int, instructions: int) -> None:
        self.window, self.least, self.most = window, least, least + 10 * instructions

    def __eq__(self, line: object) -> bool:
        found = re.fullmatch(rf"window {self.window} at (\d+) ns", str(line))
        return bool(found) and self.least <= int(found[1]) <= self.most and int(found[1]) % 10 == 0

    def __repr__(self) -> str:
        return f"'window {self.window} at [{self.least}, {self.most}] ns'"


def calm_lines(window: int, partitions: int) -> list[Any]:
    """What a calm partition prints in the given window of a frame of ``partitions`` windows."""
    start, frame = (window - 1) * WINDOW_MS * MS, partitions * WINDOW_MS * MS
    return [FIRST_RUN, "*** BEGIN OF TEST calm ***",
            TimeLine(0, start + 4000, 3000),  # four hypercalls, and starting up
            TimeLine(1, start + frame, 100), TimeLine(2, start + 2 * frame, 100),
            "*** END OF TEST calm ***"]


def summary_of(run: Run, name: str) -> str:
    return next(line.strip() for line in run.summary if line.startswith(f"  {name}: "))


def trace_events(path: Path) -> list[dict[str, Any]]:
    """The events of a Chrome trace file, checked to be what Perfetto and chrome://tracing read."""
    document = json.loads(path.read_text(encoding="utf-8"))
    events: list[dict[str, Any]] = document["traceEvents"]
    number = (int, float)
    for event in events:
        assert event["ph"] in ("M", "X", "i", "C", "s", "f"), event
        assert type(event["pid"]) is int and type(event["tid"]) is int, event
        assert isinstance(event["name"], str), event
        if event["ph"] == "M":  # metadata: no timestamp (Perfetto's advice)
            assert event["name"] in ("process_name", "thread_name"), event
            assert isinstance(event["args"]["name"], str), event
            continue
        assert type(event["ts"]) in number and event["ts"] >= 0, event
        if event["ph"] == "X":
            assert type(event["dur"]) in number and event["dur"] > 0, event
        elif event["ph"] == "C":  # a counter: its values by series name, numbers
            assert all(type(v) in number for v in event["args"].values()), event
        elif event["ph"] in ("s", "f"):  # a flow's ends, linked by their id
            assert type(event["id"]) is int and event.get("bp", "e") == "e", event
        else:
            assert event["s"] in ("g", "p", "t"), event
    return events


def assert_instants_in_windows(events: list[dict[str, Any]]) -> None:
    """Every hypercall and HM event of a partition happened in one of its windows."""
    windows: dict[int, list[tuple[float, float]]] = {}
    for w in events:
        if w["ph"] == "X":
            windows.setdefault(w["tid"], []).append((w["ts"], w["ts"] + w["dur"]))
    for event in events:
        if event["ph"] == "i" and event["s"] != "p":  # "p": the module's, a major frame
            assert any(start <= event["ts"] < end for start, end in windows[event["tid"]]), event


@pytest.fixture(scope="module")
def x86(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("x86"))


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("arm"), "arm")


@pytest.fixture(scope="module")
def thumb(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    """ARM partitions in Thumb state (no frame pointer: svc_arm passes the call in r7)."""
    return Builder(tmp_path_factory.mktemp("thumb"), "arm", shlex.join([
        sys.executable, "-m", "ziglang", "cc", "-target", "thumb-freestanding-eabi",
        "-mcpu=cortex_a15", "-fomit-frame-pointer"]))


# -- space partitioning -------------------------------------------------------------------

OUTSIDE = (("read_past_end", READ_PAST_END), ("write_past_end", WRITE_PAST_END),
           ("read_top", READ_TOP), ("write_top", WRITE_TOP))
# An x86 partition's access outside its pages is a page fault, with the address it tried
X86_PAGE_FAULT = rf"CPU exception 14 {ADDRESS} accessing 0x[0-9a-f]+"


def test_an_access_outside_the_partition_is_a_memory_violation_of_that_partition_only(
    x86: Builder,
) -> None:
    def module(quiet: bool) -> list[Part]:
        return [part(1, CALM, "calm"),
                *(part(i + 2, QUICK if quiet else b, n) for i, (n, b) in enumerate(OUTSIDE)),
                part(6, CALM, "after")]

    run = x86.boot(x86.image("space", module(quiet=False)))
    alone = x86.boot(x86.image("space_alone", module(quiet=True)))
    for name, _ in OUTSIDE:
        assert re.fullmatch(rf"MEMORY_VIOLATION \({X86_PAGE_FAULT}\) -> PARTITION IDLE",
                            "\n".join(run.hm(name))), run.stdout
        assert run.console(name) == [FIRST_RUN]  # the access did not complete
        assert summary_of(run, name).startswith(f"{name}: no test, mode IDLE,")
    assert run.console("calm") == alone.console("calm") == calm_lines(1, 6)
    assert run.console("after") == alone.console("after") == calm_lines(6, 6)
    assert alone.hm("calm") == alone.hm("after") == run.hm("calm") == run.hm("after") == []
    assert run.status == alone.status == 1  # the partitions between began no test


# -- time partitioning --------------------------------------------------------------------


def _window_0_at(run: Run, name: str) -> int:
    found = re.fullmatch(r"window 0 at (\d+) ns", run.console(name)[2])
    assert found, run.stdout
    return int(found[1])


def test_a_console_write_takes_the_serial_lines_time_and_owes_what_its_window_lacks(
    x86: Builder,
) -> None:
    """At 38400 baud a byte takes 10 bits' time, 260.4 µs: the 49 bytes calm prints before
    it reads the clock take 12.76 ms, more than two of its 5 ms windows, so the clock it
    reads is as far into its third window as its own time went past 10 ms: the time passes
    in its own windows, before it runs again, and the other partition's likewise."""
    parts = [part(1, CALM, "calm"), part(2, CALM, "other")]
    plain = x86.boot(x86.image("baud", parts))
    timed = x86.boot(x86.image("baud", parts), "--console-baud", "38400")
    printed = len(FIRST_RUN) + 1 + len("*** BEGIN OF TEST calm ***") + 1
    for slot, name in enumerate(("calm", "other")):
        window_start = slot * WINDOW_MS * MS
        own_time = _window_0_at(plain, name) - window_start + printed * 10 * 10**9 // 38400
        windows, into = divmod(own_time, WINDOW_MS * MS)
        assert windows == 2
        frame_start = windows * 2 * WINDOW_MS * MS
        assert abs(_window_0_at(timed, name) - (frame_start + window_start + into)) <= 20
        assert timed.console(name)[-1] == "*** END OF TEST calm ***"
    assert timed.status == 0


def test_a_spinning_partition_is_preempted_and_changes_nothing_for_the_others(
    x86: Builder,
) -> None:
    """Spinning, with virtual interrupts disabled or not: the others see the same run."""

    def module(quiet: bool) -> list[Part]:
        return [part(1, CALM, "calm"), part(2, QUICK if quiet else SPIN, "spinner"),
                part(3, CALM, "middle"), part(4, QUICK if quiet else SPIN_MASKED, "masked"),
                part(5, CALM, "last")]

    traces = x86.root / "spin.json", x86.root / "spin_alone.json"
    run = x86.boot(x86.image("spin", module(quiet=False)), "--frames", "3", "--trace",
                   str(traces[0]))
    alone = x86.boot(x86.image("spin_alone", module(quiet=True)), "--frames", "3", "--trace",
                     str(traces[1]))
    for name, window in (("calm", 1), ("middle", 3), ("last", 5)):
        assert run.console(name) == alone.console(name) == calm_lines(window, 5)

    def others(run: Run) -> list[str]:  # the other partitions' lines, in the order printed
        return [line for line in run.stdout.splitlines() if line.startswith(
            ("[calm] ", "[middle] ", "[last] "))]

    assert others(run) == others(alone)
    assert run.console("spinner") == [FIRST_RUN]
    assert run.console("masked") == [FIRST_RUN, "irq_disable returned 0"]
    assert "HM:" not in run.stdout
    assert run.summary[0] == "run ended (frames) at 0.075000 s virtual, 3 major frame(s)"
    assert alone.summary[0] == "run ended (all stopped) at 0.075000 s virtual, 3 major frame(s)"
    assert summary_of(run, "spinner").startswith("spinner: no test, mode COLD_START,")

    ran, quiet = trace_events(traces[0]), trace_events(traces[1])
    windows = [[(e["name"], e["ts"], e["dur"]) for e in events if e["ph"] == "X"]
               for events in (ran, quiet)]
    assert windows[0] == windows[1]
    assert len(windows[0]) == 15
    calm_tids = {101, 301, 501}
    assert [e for e in ran if e["tid"] in calm_tids] == [e for e in quiet if e["tid"] in calm_tids]


def test_hypercalls_spend_the_windows_time_and_time_never_goes_back(x86: Builder) -> None:
    """12000 reads of the clock at 1 µs each (and the loop's few instructions) take three 5 ms
    windows (they used to fit in one window, the time read going past its end and then back)."""
    trace = x86.root / "poll.json"
    run = x86.boot(x86.image("poll", [part(1, POLL_TIME, "poller"), part(2, CALM, "calm")]),
                   "--trace", str(trace))
    poller = run.console("poller")
    assert poller[0] == FIRST_RUN
    last = re.fullmatch(r"last read (\d+) ns, backwards 0 times", poller[1])
    assert last, poller
    assert 20 * MS + 2000 * 1000 < int(last[1]) < 25 * MS  # the third window: 0-5, 10-15, 20-25
    assert run.console("calm") == calm_lines(2, 2)
    assert run.stdout.splitlines().index(f"[poller] {poller[1]}") == 5
    assert_instants_in_windows(trace_events(trace))


def test_a_spinning_partition_is_preempted_on_the_host_clock_too(x86: Builder) -> None:
    image = x86.image("spin_wall", [part(1, CALM, "calm"), part(2, SPIN, "spinner")])
    run = x86.boot(image, "--wall-clock", "--frames", "3")
    # how far calm gets depends on the host; that the run ends, and calm runs, does not
    assert run.summary[0].startswith("run ended (frames) at ")
    assert run.console("calm")[0] == FIRST_RUN
    assert "HM:" not in run.stdout


# -- the health monitor -------------------------------------------------------------------

# name, behaviour, error, detail, what the guest prints when it goes on (None: it cannot)
FAULTS = (
    ("memory", READ_PAST_END, "MEMORY_VIOLATION", X86_PAGE_FAULT, None),
    ("undefined", UNDEFINED, "ILLEGAL_REQUEST",
     rf"Invalid instruction \(UC_ERR_INSN_INVALID\) {ADDRESS}", None),
    ("divide", DIVIDE, "NUMERIC_ERROR", rf"CPU exception 0 {ADDRESS}", None),
    # not the hypercall trap: it used to be a HARDWARE_FAULT (often a module-level error)
    ("interrupt", SOFTWARE_INTERRUPT, "ILLEGAL_REQUEST", rf"CPU exception 128 {ADDRESS}", None),
    ("pointer", BAD_POINTER, "ILLEGAL_REQUEST", r"hypercall 10 refused: bad_pointer",
     f"console_write returned {INVALID_PARAM}"),
    ("unknown", UNKNOWN_CALL, "ILLEGAL_REQUEST", r"hypercall 9999 refused: unknown_call",
     f"hypercall 9999 returned {ILLEGAL_REQUEST}"),
    ("stop", STOP, "APPLICATION_ERROR", r"stopped with error code 7", None),
    ("return", NOTHING_TO_RETURN_TO, "ILLEGAL_REQUEST",
     r"irq_return with no upcall to return from", None),
    ("raised", RAISE, "APPLICATION_ERROR", r"oops", "raise_application_error returned 0"),
)
ACTIONS = ("IGNORE", "IDLE", "COLD_START", "WARM_START")


@pytest.fixture(scope="module")
def hm_runs(x86: Builder) -> dict[str, Run]:
    """Each fault beside a calm partition, with each partition action; and with no fault."""
    runs = {}
    for action in (*ACTIONS, "none"):
        parts = [part(1, CALM, "calm")] + [
            part(i + 2, QUICK, name) if action == "none" else
            part(i + 2, behaviour, name, {error: action})
            for i, (name, behaviour, error, _, _) in enumerate(FAULTS)]
        image = x86.image(f"hm_{action}", parts)
        runs[action] = x86.boot(image, "--trace", str(x86.root / f"hm_{action}.json"),
                                "--console-dir", str(x86.root / f"hm_{action}"))
    return runs


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(("name", "error", "detail", "goes_on"),
                         [(f[0], *f[2:]) for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_each_error_takes_the_action_of_the_partitions_hm_table(
    hm_runs: dict[str, Run], x86: Builder, action: str, name: str, error: str, detail: str,
    goes_on: str | None,
) -> None:
    run = hm_runs[action]
    taken = "IDLE" if action == "IGNORE" and goes_on is None else action
    assert re.fullmatch(rf"{error} \({detail}\) -> PARTITION {taken}", "\n".join(run.hm(name)))
    after = {"IGNORE": [goes_on, "resumed"] if goes_on else [], "IDLE": [],
             "COLD_START": ["run 41 mode 1 start 3"],  # reloaded: .data is 40 again; HM restart
             # they fault before going NORMAL, and a cold start cannot become a warm one
             # (tests/test_partition_modes.py has the HM's warm start from NORMAL)
             "WARM_START": ["run 41 mode 1 start 3"]}[action]
    assert run.console(name) == [FIRST_RUN, *after]
    restarts = 1 if action.endswith("_START") else 0
    assert re.fullmatch(rf"{name}: no test, mode IDLE, \d+ hypercalls, {restarts} restart\(s\)",
                        summary_of(run, name))
    events = trace_events(x86.root / f"hm_{action}.json")
    [identifier] = [e["tid"] for e in events if e["ph"] == "M" and e["args"]["name"] == name]
    assert [(e["name"], e["args"]["action"]) for e in events
            if e.get("cat") == "hm" and e["tid"] == identifier] == [(error, taken)]
    # the HM log printed at exit, after the summary, has the event with its time
    logged = [line for line in run.summary if re.fullmatch(
        rf"    \d+\.\d{{6}} s {name}: {error} \({detail}\) -> PARTITION {taken}", line)]
    assert len(logged) == 1, run.summary


@pytest.mark.parametrize("action", ACTIONS)
def test_a_faulting_partitions_neighbour_prints_what_it_prints_alone(
    hm_runs: dict[str, Run], action: str
) -> None:
    assert hm_runs[action].console("calm") == hm_runs["none"].console("calm")
    assert hm_runs["none"].console("calm") == calm_lines(1, 1 + len(FAULTS))
    assert summary_of(hm_runs[action], "calm") == summary_of(hm_runs["none"], "calm")


@pytest.mark.parametrize(("name", "behaviour", "error", "detail"), [f[:4] for f in FAULTS],
                         ids=[f[0] for f in FAULTS])
def test_a_module_level_error_can_shut_the_module_down(
    x86: Builder, name: str, behaviour: int, error: str, detail: str
) -> None:
    image = x86.image(f"shutdown_{name}",
                      [part(1, CALM, "calm"), part(2, behaviour, name), part(3, CALM, "after")],
                      levels={error: "MODULE"}, module_actions={error: "SHUTDOWN"})
    trace = x86.root / f"shutdown_{name}.json"
    run = x86.boot(image, "--trace", str(trace))
    assert re.fullmatch(rf"{error} \({detail}\) -> MODULE SHUTDOWN", "\n".join(run.hm(name)))
    ended = re.fullmatch(r"run ended \(shutdown\) at (0\.0050\d\d) s virtual, 1 major frame\(s\)",
                         run.summary[0])
    assert ended, run.summary[0]
    windows = [(e["name"], e["ts"], e["ts"] + e["dur"]) for e in trace_events(trace)
               if e["ph"] == "X"]
    # the summary gives the time to the microsecond
    assert windows == [("calm", 0, 5000),
                       (name, 5000, pytest.approx(float(ended.group(1)) * 1e6, abs=0.5))]
    assert run.console("calm") == calm_lines(1, 3)[:3]
    assert run.console("after") == []  # its window never came
    assert run.status == 1  # calm began and never ended


def test_module_level_ignore_idles_a_partition_that_cannot_go_on(x86: Builder) -> None:
    """A fault or a stop cannot be resumed: IGNORE at module level idles the partition (it used
    to run the faulting instruction again in every window, or past the stop)."""
    image = x86.image(
        "module_ignore",
        [part(1, UNDEFINED, "undefined"), part(2, STOP, "stop"), part(3, BAD_POINTER, "pointer")],
        levels={"ILLEGAL_REQUEST": "MODULE", "APPLICATION_ERROR": "MODULE"},
        module_actions={"ILLEGAL_REQUEST": "IGNORE", "APPLICATION_ERROR": "IGNORE"})
    run = x86.boot(image, "--frames", "4")
    assert [line.split(" -> ")[1] for name in ("undefined", "stop", "pointer")
            for line in run.hm(name)] == ["MODULE IDLE", "MODULE IDLE", "MODULE IGNORE"]
    assert run.console("undefined") == run.console("stop") == [FIRST_RUN]
    assert run.console("pointer") == [FIRST_RUN, f"console_write returned {INVALID_PARAM}",
                                      "resumed"]
    assert run.summary[0] == "run ended (all stopped) at 0.015000 s virtual, 1 major frame(s)"


def test_a_module_level_error_without_an_action_shuts_down(x86: Builder) -> None:
    image = x86.image("module_default", [part(1, STOP, "stop"), part(2, CALM, "calm")],
                      levels={"APPLICATION_ERROR": "MODULE"})
    run = x86.boot(image)
    assert run.hm("stop") == ["APPLICATION_ERROR (stopped with error code 7) -> MODULE SHUTDOWN"]
    assert run.console("calm") == []
    assert run.summary[0].startswith("run ended (shutdown) at 0.000")


def test_module_reset_restarts_every_partition(x86: Builder) -> None:
    image = x86.image("module_reset", [part(1, CALM, "calm"), part(2, UNDEFINED, "undefined")],
                      levels={"ILLEGAL_REQUEST": "MODULE"},
                      module_actions={"ILLEGAL_REQUEST": "RESET"})
    run = x86.boot(image)
    assert run.hm("undefined")[0].endswith(" -> MODULE RESET")
    restarted = "run 41 mode 1 start 2"  # reloaded, HM_MODULE_RESTART
    assert run.console("calm") == [*calm_lines(1, 2)[:3], restarted]
    assert run.console("undefined") == [FIRST_RUN, restarted]
    for name in ("calm", "undefined"):
        assert summary_of(run, name).endswith(" 1 restart(s)")


def test_a_partition_that_faults_at_every_start_restarts_once_per_window(
    x86: Builder,
) -> None:
    image = x86.image("restart_loop", [
        part(1, FAULTS_ALWAYS, "looping", {"MEMORY_VIOLATION": "COLD_START"}),
        part(2, CALM, "calm")])
    run = x86.boot(image, "--frames", "3")
    assert run.console("looping") == [FIRST_RUN] + ["run 41 mode 1 start 3"] * 2
    assert [line.split(" -> ")[1] for line in run.hm("looping")] == ["PARTITION COLD_START"] * 3
    assert summary_of(run, "looping").startswith("looping: no test, mode COLD_START,")
    assert summary_of(run, "looping").endswith(" 3 restart(s)")
    assert run.console("calm") == calm_lines(2, 2)
    assert run.summary[0] == "run ended (frames) at 0.030000 s virtual, 3 major frame(s)"


def test_a_partition_that_ends_or_restarts_ends_its_unfinished_line_there(x86: Builder) -> None:
    """Its last words come before the HM report, and a reloaded partition starts a new line
    (they used to be printed at the end of the run, or glued to the reloaded one's first)."""
    image = x86.image("half_lines", [
        part(1, HALF_LINE_FAULT, "restarted", {"MEMORY_VIOLATION": "COLD_START"}),
        part(2, HALF_LINE_FAULT, "idled"), part(3, HALF_LINE_END, "ended"),
        part(4, QUICK, "quick")])
    run = x86.boot(image, "--console-dir", str(x86.root / "half_lines"))
    fault = "MEMORY_VIOLATION (CPU exception 14 at PC accessing ADDRESS)"
    assert re.sub(r"at 0x[0-9a-f]+ accessing 0x[0-9a-f]+\)", "at PC accessing ADDRESS)",
                  run.stdout).splitlines()[:11] == [
        "[restarted] run 41 mode 1 start 0", "[restarted] half a line",
        f"[restarted] HM: {fault} -> PARTITION COLD_START",
        "[idled] run 41 mode 1 start 0", "[idled] half a line",
        f"[idled] HM: {fault} -> PARTITION IDLE",
        "[ended] run 41 mode 1 start 0", "[ended] half a line",
        "[quick] run 41 mode 1 start 0",
        "[restarted] run 41 mode 1 start 3",
        "run ended (all stopped) at 0.040000 s virtual, 2 major frame(s)"]
    assert (x86.root / "half_lines" / "restarted.log").read_text() == (
        "run 41 mode 1 start 0\nhalf a line\nrun 41 mode 1 start 3\n")


# -- the exit status: the RTEMS tester's rules ----------------------------------------------


@pytest.mark.parametrize(("behaviour", "verdict", "status"),
                         [(CALM, "passed", 0), (UNFINISHED, "failed", 1), (DOOMED, "fatal", 1),
                          (QUICK, "no test", 1), (WAITS_FOR_USER, "user-input", 0),
                          (EXPECTED_TO_FAIL, "expected-fail", 0)])
def test_the_exit_status_follows_the_testers_rules(
    x86: Builder, behaviour: int, verdict: str, status: int
) -> None:
    run = x86.boot(x86.image(f"verdict_{behaviour}", [part(1, behaviour, "test")]))
    assert run.status == status
    assert summary_of(run, "test").startswith(f"test: {verdict}, mode IDLE,")


def test_a_partition_that_began_no_test_beside_a_passing_one_is_not_a_pass(
    x86: Builder,
) -> None:
    run = x86.boot(x86.image("verdict_quiet", [part(1, CALM, "test"), part(2, QUICK, "quiet")]))
    assert summary_of(run, "test").startswith("test: passed, mode IDLE,")
    assert summary_of(run, "quiet").startswith("quiet: no test, mode IDLE,")
    assert run.status == 1


def test_the_process_exits_with_the_status_and_prints_the_same(x86: Builder) -> None:
    image = x86.image("process", [part(1, UNFINISHED, "test"), part(2, QUICK, "quiet")])
    process = subprocess.run([sys.executable, "-m", "pvgen.emulator", str(image), "--gen",
                              str(x86.gen)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert process.returncode == 1, process.stderr
    assert process.stdout == x86.boot(image).stdout


@pytest.fixture(scope="module")
def ticker(x86: Builder) -> Path:
    """A partition printing a line per window forever, beside one that returns at once."""
    return x86.image("ticker", [part(1, TICKER, "ticker"), part(2, QUICK, "quick")])


@pytest.mark.parametrize(("option", "windows", "ended"), [
    (("--frames", "3"), 3, "(frames) at 0.030000 s virtual, 3 major frame(s)"),
    (("--time", "0.0125"), 2, "(time) at 0.012500 s virtual, 2 major frame(s)"),
    (("--time", "0.02"), 2, "(time) at 0.020000 s virtual, 2 major frame(s)"),
    (("--time", "0.001"), 1, "(time) at 0.001000 s virtual, 1 major frame(s)"),
])
def test_frames_and_time_end_the_run(
    ticker: Path, x86: Builder, tmp_path: Path, option: tuple[str, str], windows: int, ended: str
) -> None:
    run = x86.boot(ticker, *option, "--trace", str(tmp_path / "trace.json"))
    assert run.console("ticker") == [FIRST_RUN, *(f"window {i}" for i in range(windows))]
    assert run.summary[0] == f"run ended {ended}"
    assert run.status == 1  # ticker prints windows, not a test
    limit_us = float(option[1]) * 1e6 if option[0] == "--time" else 30_000
    last = max(e["ts"] + e["dur"] for e in trace_events(tmp_path / "trace.json")
               if e["ph"] == "X")
    assert last == min(limit_us, 30_000)


# -- partition modes ------------------------------------------------------------------------


def test_partition_modes_set_by_the_partition(x86: Builder) -> None:
    image = x86.image("modes", [part(1, SET_NORMAL, "normal"), part(2, SET_COLD_START, "cold"),
                                part(3, SET_WARM_START, "warm")])
    run = x86.boot(image)
    assert run.console("normal") == [
        FIRST_RUN, "set_mode NORMAL returned 0", "partition_get_status returned 0",
        "period 15000000 duration 5000000 identifier 131 mode 3 start 0 lock 0",
        "set_mode NORMAL returned 1",  # NO_ACTION; then IDLE stops it: nothing more
    ]
    assert run.console("cold") == [FIRST_RUN, "run 41 mode 1 start 1"]  # PARTITION_RESTART
    assert run.console("warm") == [
        FIRST_RUN, "set_mode WARM_START returned 5",  # INVALID_MODE: it was a cold start
        "set_mode NORMAL returned 0", "run 41 mode 2 start 1"]
    assert summary_of(run, "normal").endswith(" 0 restart(s)")
    for name in ("cold", "warm"):
        assert summary_of(run, name).endswith(" 1 restart(s)")
    assert "HM:" not in run.stdout and run.status == 1  # they print no test


def test_partition_status_reports_the_configured_period_and_duration(x86: Builder) -> None:
    """PeriodSeconds is the partition's period; its duration is its windows' time in a period
    (PeriodDurationSeconds where given: the configuration checks they agree)."""
    parts = [part(1, SET_NORMAL, "normal"), part(2, 1, "calm")]
    xml = module_xml("periods", parts, f'Elf="{x86.elf.name}"').replace(
        '<Partition_Schedule PartitionIdentifier="131">',
        '<Partition_Schedule PartitionIdentifier="131" PeriodSeconds="0.005" '
        'PeriodDurationSeconds="0.0025">').replace(
        'WindowIdentifier="1" WindowStartSeconds="0.0" WindowDurationSeconds="0.005"',
        'WindowIdentifier="1" WindowStartSeconds="0.0" WindowDurationSeconds="0.0025"/>'
        '<Window_Schedule WindowIdentifier="3" WindowStartSeconds="0.005" '
        'WindowDurationSeconds="0.0025"').replace(
        'WindowIdentifier="2" WindowStartSeconds="0.005" WindowDurationSeconds="0.005"',
        'WindowIdentifier="2" WindowStartSeconds="0.0025" WindowDurationSeconds="0.0025"')
    config = x86.root / "periods.xml"
    config.write_text(xml, encoding="utf-8")
    image = x86.root / "periods.img"
    assert pvgen_main(["image", "--config", str(config), "--out", str(image),
                       "--def", str(DEFINITION), "--gen", str(x86.gen)]) == 0
    run = x86.boot(image)
    assert "period 5000000 duration 2500000 identifier 131 mode 3 start 0 lock 0" in \
        run.console("normal"), run.stdout


# -- the trace and the console logs -----------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_the_trace_has_windows_hypercalls_and_hm_events_per_partition(
    hm_runs: dict[str, Run], x86: Builder, action: str
) -> None:
    run, events = hm_runs[action], trace_events(x86.root / f"hm_{action}.json")
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert sorted(names.values()) == sorted(["calm", *(f[0] for f in FAULTS)])
    frames = int(run.summary[0].rsplit(", ", 1)[1].split()[0])  # "…, N major frame(s)"
    for tid, name in names.items():
        mine = [e for e in events if e["tid"] == tid]
        assert sum(e["ph"] == "X" for e in mine) == frames
        hypercalls = sum(e.get("cat") == "hypercall" for e in mine)
        assert f", {hypercalls} hypercalls," in summary_of(run, name)
        assert [e["name"] for e in mine if e.get("cat") == "hm"] == [
            line.split(" (")[0] for line in run.hm(name)]
    assert_instants_in_windows(events)


@pytest.mark.parametrize("action", ACTIONS)
def test_console_logs_hold_exactly_each_partitions_lines(
    hm_runs: dict[str, Run], x86: Builder, action: str
) -> None:
    logs = x86.root / f"hm_{action}"
    names = ["calm", *(f[0] for f in FAULTS)]
    assert sorted(p.name for p in logs.iterdir()) == sorted(f"{n}.log" for n in names)
    for name in names:
        assert (logs / f"{name}.log").read_text(encoding="utf-8") == "".join(
            f"{line}\n" for line in hm_runs[action].console(name))


# -- ARM ------------------------------------------------------------------------------------


def test_arm_faults_map_to_the_same_errors(arm: Builder) -> None:
    image = arm.image("arm", [
        part(1, CALM, "calm"), part(2, READ_PAST_END, "read_past_end"),
        part(3, WRITE_TOP, "write_top"), part(4, UNDEFINED, "undefined"),
        part(5, STOP, "stop", {"APPLICATION_ERROR": "COLD_START"}),
        part(6, UNKNOWN_CALL, "unknown"), part(7, SPIN, "spinner")])
    run = arm.boot(image, "--frames", "3")
    for name, report in (
        ("read_past_end", rf"MEMORY_VIOLATION \(Invalid memory read \(UC_ERR_READ_UNMAPPED\) "
                          rf"{ADDRESS}\) -> PARTITION IDLE"),
        ("write_top", rf"MEMORY_VIOLATION \(Invalid memory write \(UC_ERR_WRITE_UNMAPPED\) "
                      rf"{ADDRESS}\) -> PARTITION IDLE"),
        ("undefined", rf"ILLEGAL_REQUEST \(Invalid instruction \(UC_ERR_INSN_INVALID\) "
                      rf"{ADDRESS}\) -> PARTITION IDLE"),
        ("stop", r"APPLICATION_ERROR \(stopped with error code 7\) -> PARTITION COLD_START"),
        ("unknown", r"ILLEGAL_REQUEST \(hypercall 9999 refused: unknown_call\) -> "
                    r"PARTITION IGNORE"),
    ):
        assert re.fullmatch(report, "\n".join(run.hm(name))), run.stdout
    assert run.console("stop") == [FIRST_RUN, "run 41 mode 1 start 3"]
    assert run.console("unknown") == [FIRST_RUN, f"hypercall 9999 returned {ILLEGAL_REQUEST}",
                                      "resumed"]
    assert run.console("calm") == calm_lines(1, 7)
    assert run.summary[0] == "run ended (frames) at 0.105000 s virtual, 3 major frame(s)"


def test_thumb_partitions_go_on_in_thumb_state(thumb: Builder) -> None:
    """After a window's end, an idle or a hypercall, a Thumb partition goes on in Thumb state
    (it used to be resumed in ARM state, and fault on its own code)."""
    image = thumb.image("thumb", [
        part(1, CALM, "calm"), part(2, TICKER, "ticker"), part(3, SPIN, "spinner"),
        part(4, UNDEFINED, "undefined"), part(5, READ_TOP, "read_top")])
    run = thumb.boot(image, "--frames", "3")
    assert run.console("calm") == calm_lines(1, 5)
    assert run.console("ticker") == [FIRST_RUN, "window 0", "window 1", "window 2"]
    assert run.hm("calm") == run.hm("ticker") == run.hm("spinner") == []
    assert run.hm("undefined")[0].startswith("ILLEGAL_REQUEST (Invalid instruction")
    assert run.hm("read_top")[0].startswith("MEMORY_VIOLATION (Invalid memory read")
    assert run.summary[0] == "run ended (frames) at 0.075000 s virtual, 3 major frame(s)"


# -- module-wide calls need the right ------------------------------------------------------


def test_only_a_system_partition_shuts_the_module_down(x86: Builder) -> None:
    """shutdown from a partition that is not a SystemPartition is an ILLEGAL_REQUEST that
    stops it (the call does not return), and the module runs on; from a SystemPartition it
    ends the run."""
    plain = x86.boot(x86.image("plain_shutdown", [part(1, SHUTDOWN, "rogue"),
                                                  part(2, CALM, "calm")]))
    assert plain.hm("rogue") == ["ILLEGAL_REQUEST (shutdown from a partition that is not a "
                                 "SystemPartition) -> PARTITION IDLE"]
    assert plain.console("calm") == calm_lines(2, 2)
    assert "run ended (all stopped)" in plain.stdout
    system = x86.boot(x86.image("system_shutdown", [
        Part(100 + SHUTDOWN, "owner", system=True), part(2, CALM, "calm")]))
    assert system.hm("owner") == []
    assert "run ended (shutdown)" in system.stdout
