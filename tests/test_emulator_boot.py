"""Booting the bundled examples in the emulator, through the real commands."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pvgen.emulator.errors import EmulatorError
from pvgen.emulator.loader import carried_gen_dir
from pvgen.image.read import read_image
from tests.conftest import DEFINITION, ROOT

EXAMPLES = ROOT / "examples"

HELLO = "\n".join([
    "[hello] ",  # the program's leading blank lines, prefixed
    "[hello] ",
    "[hello] *** BEGIN OF TEST hello ***",
    "[hello] Hello World",
    "[hello] ",
    "[hello] *** END OF TEST hello ***",
    "run ended (all stopped) at 0.020000 s virtual, 1 major frame(s)",
    "  hello: passed, mode IDLE, 6 hypercalls, 0 restart(s)",
    "",
])


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False,
                          cwd=cwd, env={**os.environ})


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("images")
    built = {}
    for name in ("hello", "multi", "ticker", "ports", "health"):
        result = run("-m", "pvgen.cli", "image", "--config", str(EXAMPLES / name / "module.xml"),
                     "--out", str(out / f"{name}.img"), "--def", str(DEFINITION),
                     "--gen", str(out / "gen"))
        assert result.returncode == 0, result.stderr
        built[name] = out / f"{name}.img"
    return built


def boot(image: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run("-m", "pvgen.emulator", str(image), "--gen", str(image.parent / "gen"), *extra)


def test_hello_prints_exactly_its_banners_and_passes(images: dict[str, Path]) -> None:
    result = boot(images["hello"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == HELLO


def test_three_partitions_run_in_their_windows(images: dict[str, Path]) -> None:
    result = boot(images["multi"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[alpha] *** BEGIN OF TEST alpha ***"
    assert "[alpha] alpha: fib(9) = 34" in lines
    assert "[beta] beta: sum = 31, bss clear" in lines
    assert "[gamma] gamma: marker = 42" in lines
    # alpha's window comes first, then beta's, then gamma's
    firsts = [next(i for i, line in enumerate(lines) if line.startswith(f"[{name}]"))
              for name in ("alpha", "beta", "gamma")]
    assert firsts == sorted(firsts)
    for name in ("alpha", "beta", "gamma"):
        assert f"  {name}: passed, mode IDLE" in result.stdout


def test_ports_carry_readings_and_commands_between_three_partitions(
        images: dict[str, Path], tmp_path: Path) -> None:
    """examples/ports: a sampling reading each window from the sensor, a command about each
    fresh one from the controller, and the logger draining them, in window order."""
    trace = tmp_path / "ports.json"
    result = boot(images["ports"], "--trace", str(trace))
    assert result.returncode == 0, result.stderr
    rounds = [
        [f'[sensor] sensor: wrote "temp {20 + 3 * k}"',
         f'[controller] controller: read "temp {20 + 3 * k}", sent "set fan {k}"',
         f'[logger] logger: {k} "set fan {k}"'] for k in range(1, 6)]
    banners = [f"[{name}] *** BEGIN OF TEST {name} ***" for name in ("sensor", "controller",
                                                                    "logger")]
    # the first frame creates the ports (examples/ports/ports.h: wait_for_ports)
    expected = [*banners, *(line for each in rounds for line in each),
                "[logger] *** END OF TEST logger ***", "[sensor] *** END OF TEST sensor ***",
                "[controller] *** END OF TEST controller ***",
                "run ended (all stopped) at 0.140000 s virtual, 7 major frame(s)"]
    assert result.stdout.splitlines()[:len(expected)] == expected
    for name in ("sensor", "controller", "logger"):
        assert f"  {name}: passed, mode IDLE" in result.stdout
    events = json.loads(trace.read_text())["traceEvents"]
    traffic = [(e["name"], e["args"]["status"]) for e in events if e.get("cat") == "port"
               and e["name"].startswith(("sampling_write", "queuing_send", "queuing_receive"))]
    assert traffic.count(("queuing_send command_out", "OK")) == 5, traffic


HEALTH = [  # examples/health's console; the code addresses, which depend on the compiler, as @
    "[fault] fault: COLD_START after NORMAL_START",
    "[fault] HM: APPLICATION_ERROR (sensor value out of range) -> PARTITION IGNORE",
    "[fault] fault: RAISE_APPLICATION_ERROR returned 0; going on",
    "[fault] HM: ILLEGAL_REQUEST (hypercall 310 refused: bad_value) -> MODULE IGNORE",
    "[fault] fault: raise_os_error(ILLEGAL_REQUEST) returned 3; going on",
    "[fault] fault: 3 faults so far; dividing by zero",
    "[fault] HM: NUMERIC_ERROR (CPU exception 0 at @) -> PARTITION WARM_START",
    "[watchdog] watchdog: COLD_START after NORMAL_START",
    '[watchdog] watchdog: heartbeat "first start"',
    "[fault] fault: WARM_START after HM_PARTITION_RESTART",
    "[fault] fault: 3 faults kept across the warm start; writing outside the partition",
    "[fault] HM: MEMORY_VIOLATION (CPU exception 14 at @ accessing @) -> "
    "PARTITION COLD_START",
    '[watchdog] watchdog: heartbeat "warm start"',
    "[fault] fault: COLD_START after HM_PARTITION_RESTART",
    "[fault] fault: 0 faults kept across the cold start; a breakpoint",
    "[fault] HM: HARDWARE_FAULT (CPU exception 3 at @) -> MODULE RESET",
    "[watchdog] watchdog: COLD_START after HM_MODULE_RESTART",
    '[watchdog] watchdog: heartbeat "cold start"',
    "[fault] fault: COLD_START after HM_MODULE_RESTART",
    "[fault] fault: the OS reports a stack overflow",
    "[fault] HM: STACK_OVERFLOW (task 3 overflowed its stack) -> PARTITION IDLE",
    '[watchdog] watchdog: heartbeat "module restart"',
    "[watchdog] watchdog: the heartbeat is stale",
    "[watchdog] HM: DEADLINE_MISSED (no heartbeat from fault within 8 ms) -> MODULE SHUTDOWN",
    "run ended (shutdown) at 0.045005 s virtual, 5 major frame(s)",
    "  fault: no test, mode IDLE, 37 hypercalls, 3 restart(s)",
    "  watchdog: no test, mode NORMAL, 27 hypercalls, 1 restart(s)",
    "  health monitor: 7 event(s)",
]


def test_the_fault_partition_triggers_every_health_monitor_action(
        images: dict[str, Path], tmp_path: Path) -> None:
    """examples/health: each partition action (IGNORE, WARM_START keeping .warm, COLD_START,
    IDLE) and module action (IGNORE, RESET, SHUTDOWN) of its tables, in the order its comment
    tells, with the heartbeat the watchdog reads surviving every restart but the last."""
    trace = tmp_path / "health.json"
    result = boot(images["health"], "--trace", str(trace))
    assert result.returncode == 1, result.stderr  # a demonstration of the HM: no test
    lines = [re.sub(r" (at|accessing) 0x[0-9a-f]+\b", r" \1 @", line)
             for line in result.stdout.splitlines()]
    assert lines[:len(HEALTH)] == HEALTH, result.stdout
    logged = [line.split(" s ", 1)[1] for line in lines[len(HEALTH):]]
    assert logged == [line.removeprefix("[").replace("] HM: ", ": ") for line in HEALTH
                      if "] HM: " in line]
    actions = [(e["args"]["level"], e["args"]["action"]) for e in
               json.loads(trace.read_text())["traceEvents"] if e.get("cat") == "hm"]
    assert sorted(set(actions)) == sorted(
        [("PARTITION", a) for a in ("IGNORE", "IDLE", "COLD_START", "WARM_START")]
        + [("MODULE", a) for a in ("IGNORE", "RESET", "SHUTDOWN")])


def test_like_pok_the_health_monitor_applies_no_tables(images: dict[str, Path]) -> None:
    """--like-pok: as on POK with pvgen's kernel side, an event that can be resumed is only
    logged (a MODULE level or a restart in the tables notwithstanding), and a fault idles the
    partition for good."""
    result = boot(images["health"], "--like-pok", "--time", "0.1")
    lines = [re.sub(r" (at|accessing) 0x[0-9a-f]+\b", r" \1 @", line)
             for line in result.stdout.splitlines()]
    assert [line for line in lines if "] HM: " in line] == [
        "[fault] HM: APPLICATION_ERROR (sensor value out of range) -> PARTITION IGNORE",
        "[fault] HM: ILLEGAL_REQUEST (hypercall 310 refused: bad_value) -> PARTITION IGNORE",
        "[fault] HM: NUMERIC_ERROR (CPU exception 0 at @) -> PARTITION IDLE"]
    assert "  fault: no test, mode IDLE, 12 hypercalls, 0 restart(s)" in lines


def test_ticker_wakes_its_activities_on_virtual_ticks_beside_a_busy_partition(
    images: dict[str, Path], tmp_path: Path
) -> None:
    """RTEMS's ticker: TA1, TA2, TA3 every 5, 10, 15 virtual s until 35 s, on a 10 ms timer,
    though the ticker runs only in the first half of each 100 ms frame."""
    result = boot(images["ticker"], "--trace", str(tmp_path / "ticker.json"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    woken = [line.removeprefix("[ticker] ") for line in lines
             if line.startswith("[ticker] TA")]
    expected = [(name, seconds) for seconds in range(0, 36, 5)
                for name, every in (("TA1", 5), ("TA2", 10), ("TA3", 15)) if seconds % every == 0]
    assert woken == [f"{name}  - virtual time 00:00:{seconds:02} (tick {seconds * 100})"
                     for name, seconds in expected]
    assert "[ticker] *** END OF TEST CLOCK TICK ***" in lines
    assert "[worker] *** END OF TEST worker ***" in lines
    assert "  ticker: passed, mode IDLE" in result.stdout
    assert "0 restart(s), timer ticks 3500 due / 3500 raised" in result.stdout
    assert "  worker: passed, mode IDLE" in result.stdout
    # Its ticks fell every 10 ms, the worker's windows included: five there, raised together
    # at the start of the ticker's next window, the rest one by one as they fell.
    events = json.loads((tmp_path / "ticker.json").read_text())["traceEvents"]
    ticks = [e for e in events if e.get("cat") == "tick" and e["tid"] == 1]
    assert sum(e["args"]["count"] for e in ticks) == 3500
    late = [e for e in ticks if e["args"]["count"] > 1]
    assert late and all(e["args"]["count"] == 5 and e["ts"] % 100_000 == 0 for e in late)
    delivered = [e for e in events if e.get("cat") == "irq" and e["tid"] == 1]
    assert len(delivered) == len(ticks)


def test_two_runs_print_the_same_bytes_and_the_same_trace(
    images: dict[str, Path], tmp_path: Path
) -> None:
    first = boot(images["multi"], "--trace", str(tmp_path / "a.json"))
    second = boot(images["multi"], "--trace", str(tmp_path / "b.json"))
    assert first.stdout == second.stdout
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    events = json.loads((tmp_path / "a.json").read_text())["traceEvents"]
    windows = [e for e in events if e.get("cat") == "window"]
    assert [(e["tid"], e["ts"], e["dur"]) for e in windows] == [
        (1, 0.0, 5000.0), (2, 5000.0, 5000.0), (3, 10000.0, 10000.0)]
    # each: vcpu_register and vcpu_share at start, then its program's own calls
    assert sum(e.get("cat") == "hypercall" for e in events) == 15 + 6 + 7


def test_a_dispatcher_of_another_interface_is_refused(
    images: dict[str, Path], tmp_path: Path
) -> None:
    gen = tmp_path / "gen" / "python"
    gen.mkdir(parents=True)
    source = (images["hello"].parent / "gen" / "python" / "pv_dispatch.py").read_text()
    fingerprint = source.split("FINGERPRINT = '")[1][:16]
    (gen / "pv_dispatch.py").write_text(source.replace(fingerprint, "0123456789abcdef"))
    result = run("-m", "pvgen.emulator", str(images["hello"]), "--gen", str(tmp_path / "gen"))
    assert result.returncode == 2
    assert f"no generated dispatcher for interface fingerprint {fingerprint}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_dispatcher_an_older_pvgen_generated_is_refused_naming_what_it_lacks(
    images: dict[str, Path], tmp_path: Path
) -> None:
    """Its ABIs lack a field this pvgen's emulator reads (block_bytes, exported since the
    native fast path fetches as the dispatcher does): one line, no traceback."""
    gen = tmp_path / "gen" / "python"
    gen.mkdir(parents=True)
    source = (images["hello"].parent / "gen" / "python" / "pv_dispatch.py").read_text()
    old = re.sub(r"\n\s*block_bytes(: int  #.*|=\d+,)", "", source)
    assert old != source
    (gen / "pv_dispatch.py").write_text(old)
    result = run("-m", "pvgen.emulator", str(images["hello"]), "--gen", str(tmp_path / "gen"))
    assert result.returncode == 2
    assert "not a dispatcher this pvgen generates (it lacks the ABIs' block_bytes)" in \
        result.stderr
    assert "generate it again with pvgen gen" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_image_s_fingerprint_never_becomes_a_path(images: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """The dispatcher is found by the image's fingerprint among the generated ones; a
    fingerprint that is not one (here a path) is a corrupt image, and nothing is imported."""
    data = images["hello"].read_bytes()
    source = (images["hello"].parent / "gen" / "python" / "pv_dispatch.py").read_text()
    fingerprint = source.split("FINGERPRINT = '")[1][:16].encode()
    bad = tmp_path / "bad.img"
    bad.write_bytes(data.replace(fingerprint, b"../../../tmp/x_y"))
    result = boot(bad)
    assert result.returncode == 2
    assert "fingerprint is not 16 hexadecimal digits" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_corrupt_image_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "bad.img").write_bytes(b"\x7fELF" + bytes(40))
    result = run("-m", "pvgen.emulator", str(tmp_path / "bad.img"))
    assert result.returncode == 2
    assert result.stderr.startswith("pvgen: error: ")
    assert "bad.img: not a readable image" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_trace_that_cannot_be_written_is_said_before_the_run(images: dict[str, Path],
                                                               tmp_path: Path) -> None:
    """The trace goes to its file as the run makes it, so the file is opened first."""
    result = boot(images["hello"], "--trace", str(tmp_path / "missing" / "t.json"))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"pvgen: error: {tmp_path / 'missing' / 't.json'}: cannot "
                                     "write the trace: No such file or directory")
    assert "BEGIN OF TEST" not in result.stdout


def test_an_image_boots_from_any_directory_without_its_generated_directory(
        images: dict[str, Path], tmp_path: Path) -> None:
    """It carries its definition: the dispatcher is generated from it, once, in the cache."""
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in range(2):  # generated, then found
        done = subprocess.run([sys.executable, "-m", "pvgen.cli", "boot", str(images["hello"])],
                              capture_output=True, text=True, cwd=tmp_path, env=environment,
                              check=False, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "  hello: passed" in done.stdout
    [generated] = (tmp_path / "cache" / "pvgen" / "dispatchers").glob("*/python/*_dispatch.py")
    built_with = images["hello"].parent / "gen" / "python" / "pv_dispatch.py"
    # the same file, but for the name of the definition's source its banner gives
    assert generated.read_text(encoding="utf-8").split("\n")[3:] == built_with.read_text(
        encoding="utf-8").split("\n")[3:]


@pytest.mark.parametrize(("damage", "message"), [
    (lambda text: text.replace(b"interface pv ", b"interface pv{ "),
     r"the definition the image carries does not load: .*:\d+:\d+: error: "),
    (lambda text: text.replace(b"interface pv version 1", b"interface pv version 2"),
     r"the definition the image carries has fingerprint [0-9a-f]{16}, not the image's "
     r"[0-9a-f]{16}: the image is corrupt"),
], ids=["unreadable", "another"])
def test_a_carried_definition_that_is_not_the_image_s_is_refused(
        images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        damage: object, message: str) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    image = read_image(images["hello"])
    assert callable(damage)
    spoiled = dataclasses.replace(image, definition=damage(image.definition))
    assert spoiled.definition != image.definition
    with pytest.raises(EmulatorError, match=message):
        carried_gen_dir(spoiled)
