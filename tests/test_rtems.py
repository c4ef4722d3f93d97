"""RTEMS 6 itself on the emulator: the rendered pokpv BSP built by RTEMS's own waf with the
samples and the sptests, psxtests and tmtests suites, and every program run as a partition.

The verdicts are the RTEMS tester's (``pvgen.tester``); the samples' output is compared
with RTEMS's expected output (``pvgen.rtems.expected``). The tests need the sources of
RTEMS 6 and of newlib at RTEMS 6's commit, checkouts or source archives, named by
``PVGEN_RTEMS_SRC`` and ``PVGEN_NEWLIB_SRC``, else found as the archives
``rtems-6*-src.tar.*`` and ``newlib-*-src.tar.*`` in ``../shared/rtems`` beside the
repository; without them each test skips with one line saying what is missing. The
toolchain (zig's clang and newlib, ~1.5 minutes) and RTEMS's build (~3 minutes) are
built once into pvgen's cache (``$XDG_CACHE_HOME/pvgen``) and then reused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pvgen.definition import load
from pvgen.rtems import SUITES
from pvgen.rtems.build import RtemsBuild, build_rtems
from pvgen.rtems.expected import NOT_COMPARED, RULES, compare
from pvgen.rtems.run import ProgramRun, Runner, SuiteProgram
from pvgen.rtems.sources import NEWLIB, NEWLIB_ENV, RTEMS, RTEMS_ENV, locate
from pvgen.rtems.toolchain import zig_toolchain
from pvgen.tester import Verdict
from tests.conftest import DEFINITION, ROOT

pytestmark = pytest.mark.rtems

SHARED = ROOT.parent / "shared" / "rtems"

# What each sample is, by the tester's rules: the ones that wait for a user are USER_INPUT
# (RTEMS's own test state); every other sample passes, minimum by ending.
SAMPLES = {"hello": Verdict.PASSED, "base_sp": Verdict.PASSED, "nsecs": Verdict.PASSED,
           "ticker": Verdict.PASSED, "unlimited": Verdict.PASSED, "paranoia": Verdict.PASSED,
           "minimum": Verdict.PASSED, "capture": Verdict.USER_INPUT,
           "fileio": Verdict.USER_INPUT}
# What the BSP's test states (tstpokpv.yml, each with its reason) make of the tests that do
# not pass: expected to fail, or indeterminate (the test's outcome is not its own).
NOT_PASSING = {
    "sptests": {"spfatal26": Verdict.EXPECTED_FAIL, "spfatal30": Verdict.EXPECTED_FAIL},
    "psxtests": {"psx09": Verdict.EXPECTED_FAIL, "psx13": Verdict.INDETERMINATE},
    "tmtests": {},
}


def _source(variable: str, pattern: str) -> Path | None:
    given = os.environ.get(variable)
    if given:
        return Path(given)
    return next(iter(sorted(SHARED.glob(pattern))), None)


@dataclass
class Harness:
    """RTEMS built with every suite, and the runs of its programs (each suite's, once)."""

    built: RtemsBuild
    runner: Runner
    done: dict[str, dict[str, ProgramRun]] = field(default_factory=dict)

    def runs(self, suite: str) -> dict[str, ProgramRun]:
        if suite not in self.done:
            programs = [SuiteProgram(suite, name, elf)
                        for name, elf in self.built.executables(suite).items()]
            runs = self.runner.run_all(programs, os.cpu_count() or 1)
            self.done[suite] = {run.name.split(".")[0]: run for run in runs}
        return self.done[suite]


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    rtems = _source(RTEMS_ENV, "rtems-6*-src.tar.*")
    newlib = _source(NEWLIB_ENV, "newlib-*-src.tar.*")
    missing = [f"{what} (set {variable} or put {pattern} in {SHARED})"
               for what, variable, pattern, found in (
                   ("RTEMS 6's source", RTEMS_ENV, "rtems-6*-src.tar.*", rtems),
                   ("newlib's source", NEWLIB_ENV, "newlib-*-src.tar.*", newlib))
               if found is None]
    if missing:
        pytest.skip(f"no {' and no '.join(missing)}")
    assert rtems is not None and newlib is not None
    toolchain = zig_toolchain(locate(NEWLIB, newlib))
    built = build_rtems(load(DEFINITION), locate(RTEMS, rtems), toolchain, tuple(SUITES))
    work = tmp_path_factory.mktemp("rtems")
    return Harness(built, Runner(DEFINITION, work / "gen", work / "images"))


def _log(harness: Harness) -> str:
    return harness.built.log.read_text(encoding="utf-8", errors="replace")


def test_every_test_program_builds_and_the_bsps_files_without_a_warning(
    harness: Harness,
) -> None:
    for suite in SUITES:
        assert harness.built.failed(suite) == [], suite
        assert harness.built.executables(suite), suite
    assert set(harness.built.executables("samples")) >= {"hello", "ticker", "minimum.norun"}
    warnings = re.findall(r"^.*bsps/i386/pokpv/.*warning:.*$", _log(harness), re.MULTILINE)
    assert warnings == []


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_a_sample_ends_as_rtems_expects_and_prints_its_expected_output(
    harness: Harness, sample: str,
) -> None:
    run = harness.runs("samples")[sample]
    assert run.verdict is SAMPLES[sample], "\n".join(run.console + run.health)
    assert run.health == ()  # nothing it did was a fault
    comparison = compare(harness.built.tree, run.name, run.console)
    if sample in RULES:
        assert comparison is not None and comparison.same, comparison and comparison.diff()
    else:
        assert comparison is None and sample in NOT_COMPARED


def test_ticker_takes_the_virtual_seconds_its_ticks_say(harness: Harness) -> None:
    """Its tasks wake every 5, 10 and 15 s of ticks and it ends at 09:00:35: 35 s."""
    ticker = harness.runs("samples")["ticker"]
    assert 35e9 <= ticker.virtual_ns < 35.5e9
    assert ticker.ended_by == "shutdown"  # the BSP's reset, after END OF TEST


def test_minimum_ends_in_the_fatal_error_it_is_made_for(harness: Harness) -> None:
    """Its idle body is its Init, which returns: RTEMS's INTERNAL_ERROR_THREAD_EXITTED."""
    minimum = harness.runs("samples")["minimum"]
    assert "fatal code: 5 (INTERNAL_ERROR_THREAD_EXITTED)" in minimum.console
    assert minimum.ended_by == "shutdown"


@pytest.mark.parametrize("suite", ["sptests", "psxtests", "tmtests"])
def test_a_suite_passes_by_the_testers_rules_but_for_the_bsps_test_states(
    harness: Harness, suite: str,
) -> None:
    runs = harness.runs(suite)
    bad = {name: f"{run.verdict.value}: {run.console[-3:]} {run.health}"
           for name, run in runs.items() if run.verdict.bad}
    assert bad == {}
    not_passing = {name: run.verdict for name, run in runs.items()
                   if run.verdict is not Verdict.PASSED}
    assert not_passing == NOT_PASSING[suite]
    assert len(runs) > 20  # the suite was built: not a handful of programs
