"""Ctrl-C and SIGTERM during `pvgen boot`: the run stops within 100 ms of host time whatever
its guest does (here: spin in a 20 s window, no hypercall), prints its summary so far,
leaves its trace and console files whole, and exits 128 + the signal; outside a run, Ctrl-C
is one line and no traceback; a reader that goes away is no error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.emulator_harness import Builder, Part

SPIN = 41  # the behaviours program: spins in its window, for ever
CALM = 1


@pytest.fixture(scope="module")
def spinner(tmp_path_factory: pytest.TempPathFactory) -> tuple[Builder, Path]:
    """A calm partition's 5 ms window, then one of 20 s in which a partition spins."""
    builder = Builder(tmp_path_factory.mktemp("interruption"))
    image = builder.image("spinner", [Part(100 + CALM, "calm"),
                                      Part(200 + SPIN, "spinner", window_ms=20_000)])
    return builder, image


def _boot(builder: Builder, image: Path, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pvgen.emulator", str(image), "--gen", str(builder.gen),
         "--trace", str(tmp_path / "trace.json"), "--console-dir", str(tmp_path / "consoles"),
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _interrupt_in_the_spin(process: subprocess.Popen[str], number: int) -> float:
    """Send the signal once the spinner's window has begun; the seconds until the process
    exited."""
    assert process.stdout is not None
    for line in process.stdout:  # the calm partition's first window is before the spin
        if line.startswith("[calm]"):
            break
    time.sleep(0.5)  # well inside the 20 s window (deterministic: about 4 s of host time)
    sent = time.perf_counter()
    process.send_signal(number)
    process.wait(timeout=10)
    return time.perf_counter() - sent


@pytest.mark.parametrize("clock", [(), ("--wall-clock",)], ids=["deterministic", "wall-clock"])
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_at_once_with_its_summary_and_whole_files(
    spinner: tuple[Builder, Path], tmp_path: Path, number: int, clock: tuple[str, ...],
) -> None:
    builder, image = spinner
    process = _boot(builder, image, tmp_path, *clock)
    seconds = _interrupt_in_the_spin(process, number)
    out, err = process.communicate()
    assert process.returncode == 128 + number, err
    assert seconds < 0.5, seconds  # the run's 100 ms, and the process's own exit
    assert "run ended (interrupted) at" in out
    assert "  spinner: " in out and "Traceback" not in err
    trace = json.loads((tmp_path / "trace.json").read_text(encoding="utf-8"))
    windows = [e for e in trace["traceEvents"] if e.get("cat") == "window"]
    assert windows[-1]["name"] == "spinner"  # the window the signal ended is recorded
    assert (tmp_path / "consoles" / "calm.log").read_text(encoding="utf-8").startswith("run 41")


def test_ctrl_c_outside_a_run_is_one_line(tmp_path: Path) -> None:
    """`pvgen gen` of a definition read from a FIFO nobody writes: it waits, and Ctrl-C
    ends it with one line."""
    fifo = tmp_path / "waits.def"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "pvgen.cli", "gen", "--def", str(fifo),
                                "--out", str(tmp_path / "gen")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # it has started and waits on the FIFO
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 128 + signal.SIGINT
    assert err == "pvgen: interrupted\n"


def test_a_reader_that_goes_away_is_no_error(spinner: tuple[Builder, Path]) -> None:
    """`pvgen boot | head -1`: the run stops when its output has nowhere to go, quietly."""
    builder, image = spinner
    command = (f"{sys.executable} -m pvgen.cli boot {image} --gen {builder.gen} --frames 2 "
               "| head -1")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.stdout.startswith("[calm]")
    assert done.stderr == ""
