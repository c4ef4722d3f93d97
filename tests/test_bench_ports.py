"""bench/bench_ports.py's check of examples/ports (issue 6, point 8): the checker that says no
message was lost or repeated must see it when one is.

The console and trace are real: the example is built the way the benchmark builds it (its
ROUNDS given on the compiler's command line, here 3) and run in the emulator; the doctored
consoles are that output with a line dropped, repeated, moved or changed.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pvgen.emulator.loader import load
from pvgen.emulator.module import Module
from pvgen.emulator.run import RunOptions
from tests.conftest import ROOT

ROUNDS = 3


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """bench/bench_ports.py, imported as its directory's scripts import each other."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT / "bench"))
        yield importlib.import_module("bench_ports")


@pytest.fixture(scope="module")
def example(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The example's console and trace for ROUNDS rounds."""
    work = tmp_path_factory.mktemp("ports")
    image, dispatcher = load(bench.build_example(work, ROUNDS), work / "gen")
    console, trace = io.StringIO(), work / "trace.json"
    result = Module(image, dispatcher, RunOptions(out=console, trace=trace)).run()
    assert result.ended_by == "all stopped" and result.exit_status == 0, result
    assert result.frames == ROUNDS + 2  # the ROUNDS from the command line took, after one
    # frame in which the partitions create their ports
    return console.getvalue(), trace


def test_the_real_run_has_no_problem(bench: ModuleType, example: tuple[str, Path]) -> None:
    console, trace = example
    assert bench.example_problems(console, ROUNDS) == []
    assert bench.trace_problems(trace, ROUNDS) == []
    assert bench.trace_problems(trace, ROUNDS + 2)  # and the trace's counts are its own


def doctored(console: str, pattern: str, change: str) -> str:
    """The console with the one line that contains `pattern` dropped ("drop"), written twice
    ("repeat") or moved to the end ("move")."""
    lines = console.splitlines()
    (at,) = [n for n, line in enumerate(lines) if pattern in line]
    line = lines.pop(at)
    if change == "repeat":
        lines[at:at] = [line, line]
    elif change == "move":
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("pattern", "change", "problem"), [
    ('logger: 2 "set fan 2"', "drop", "command logged 2 lost"),
    ('logger: 2 "set fan 2"', "repeat", "command logged 2 seen 2 times"),
    ('read "temp 26", sent "set fan 2"', "drop", "reading read 2 lost"),
    ('read "temp 26", sent "set fan 2"', "repeat", "reading read 2 seen 2 times"),
    ('wrote "temp 29"', "drop", "reading written 3 lost"),
    ('wrote "temp 23"', "move", "reading 1 read before it was written"),
    ('logger: 1 "set fan 1"', "move", "command logged out of order"),
    ("*** END OF TEST logger ***", "drop", "no '[logger] *** END OF TEST logger ***'"),
])
def test_a_lost_repeated_or_misplaced_message_is_a_problem(
        bench: ModuleType, example: tuple[str, Path], pattern: str, change: str,
        problem: str) -> None:
    problems = bench.example_problems(doctored(example[0], pattern, change), ROUNDS)
    assert problem in problems, problems


def test_a_command_for_the_wrong_reading_or_a_stale_window_is_a_problem(
        bench: ModuleType, example: tuple[str, Path]) -> None:
    console = example[0]
    wrong = console.replace('sent "set fan 2"', 'sent "set fan 3"', 1)
    assert "reading 2 answered by command 3" in bench.example_problems(wrong, ROUNDS)
    stale = console.replace("[logger] *** END OF TEST",
                            "[controller] controller: no fresh reading (return code 4)\n"
                            "[logger] *** END OF TEST", 1)
    assert bench.example_problems(stale, ROUNDS) == [
        "1 window(s) of the controller found no fresh reading"]
