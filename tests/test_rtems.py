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
from xml.sax.saxutils import quoteattr

import pytest

from pvgen.cli import main as pvgen_main
from pvgen.definition import load
from pvgen.diagnostics import InputError
from pvgen.emulated import ModuleRun, boot_module
from pvgen.rtems import SUITES
from pvgen.rtems.app import build_application, compile_c
from pvgen.rtems.build import RtemsBuild, RtemsBuildError, build_rtems
from pvgen.rtems.expected import NOT_COMPARED, RULES, compare, normalized
from pvgen.rtems.run import Member, ProgramRun, Runner, SuiteProgram, module_xml
from pvgen.rtems.sources import NEWLIB, RTEMS, find, locate
from pvgen.rtems.toolchain import Toolchain, zig_toolchain
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


@dataclass
class Harness:
    """RTEMS built with every suite, and the runs of its programs (each suite's, once)."""

    built: RtemsBuild
    toolchain: Toolchain
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
    rtems, newlib = find(RTEMS, SHARED), find(NEWLIB, SHARED)
    missing = [f"{kind.name} source (set {kind.variable} or put {kind.archive} in {SHARED})"
               for kind, found in ((RTEMS, rtems), (NEWLIB, newlib)) if found is None]
    if missing:
        pytest.skip(f"no {' and no '.join(missing)}")
    assert rtems is not None and newlib is not None
    toolchain = zig_toolchain(locate(NEWLIB, newlib))
    built = build_rtems(load(DEFINITION), locate(RTEMS, rtems), toolchain, tuple(SUITES))
    work = tmp_path_factory.mktemp("rtems")
    return Harness(built, toolchain, Runner(DEFINITION, work / "gen", work / "images"))


def test_every_test_program_of_the_suites_builds(harness: Harness) -> None:
    for suite in SUITES:
        assert harness.built.failed(suite) == [], suite
        assert harness.built.executables(suite), suite
    assert set(harness.built.executables("samples")) >= {"hello", "ticker", "minimum.norun"}


def test_the_bsps_own_files_compile_without_a_warning_against_the_installed_rtems(
    harness: Harness, tmp_path: Path,
) -> None:
    """Each C file the BSP renders, with -Wall -Wextra -Werror, against the headers of the
    RTEMS it was built into (theirs as system headers: the warnings are the BSP's)."""
    sources = sorted((harness.built.tree / "bsps" / "i386" / "pokpv").rglob("*.c"))
    assert len(sources) > 10
    for source in sources:
        obj = tmp_path / f"{source.parent.name}-{source.stem}.o"
        compile_c(harness.built, harness.toolchain, source, obj, ("-Werror",))
        assert obj.stat().st_size > 0


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_a_sample_ends_as_rtems_expects_and_prints_its_expected_output(
    harness: Harness, sample: str,
) -> None:
    run = harness.runs("samples")[sample]
    assert run.verdict is SAMPLES[sample], "\n".join(run.console + run.health)
    # nothing it did was a fault; minimum's fatal error stops its partition, which the
    # health monitor reports (RTEMS's INTERNAL_ERROR_CORE, source 0, as code -1 - 0)
    assert run.health == (("APPLICATION_ERROR (stopped with error code -1) -> PARTITION IDLE",)
                          if sample == "minimum" else ())
    comparison = compare(harness.built.tree, run.name, run.console)
    if sample in RULES:
        assert comparison is not None and comparison.same, comparison and comparison.diff()
    else:
        assert comparison is None and sample in NOT_COMPARED


def test_ticker_takes_the_virtual_seconds_its_ticks_say(harness: Harness) -> None:
    """Its tasks wake every 5, 10 and 15 s of ticks and it ends at 09:00:35: 35 s."""
    ticker = harness.runs("samples")["ticker"]
    assert 35e9 <= ticker.virtual_ns < 35.5e9
    assert ticker.ended_by == "all stopped"  # the BSP's reset, after END OF TEST


def test_minimum_ends_in_the_fatal_error_it_is_made_for(harness: Harness) -> None:
    """Its idle body is its Init, which returns: RTEMS's INTERNAL_ERROR_THREAD_EXITTED."""
    minimum = harness.runs("samples")["minimum"]
    assert "fatal code: 5 (INTERNAL_ERROR_THREAD_EXITTED)" in minimum.console
    assert minimum.ended_by == "all stopped"


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


# -- several RTEMS partitions in one module -------------------------------------------------

EXAMPLE = ROOT / "examples" / "rtems"


def test_rtems_partitions_beside_each_other_print_what_they_print_alone(
    harness: Harness, tmp_path: Path,
) -> None:
    """ticker and base_sp, two whole RTEMS systems, and a bare-metal partition, each in its
    20 ms window of a 60 ms major frame: each prints what it printed alone. ticker's tasks
    that wake on the same tick may print in another order (pvgen.rtems.expected's rule for
    it): out of its window, the ticks due come together at the window's start."""
    samples = harness.built.executables("samples")
    size = harness.runner.partition_size
    rtems = [Member(name, f"Elf={quoteattr(str(samples[name]))}", size)
             for name in ("ticker", "base_sp")]
    hello = Member("hello", 'Sources="{}" Runtime="baremetal" StackSize="8192"'.format(
        ROOT / "examples" / "hello" / "hello.c"), 0x20000)

    def boot(name: str, members: list[Member]) -> ModuleRun:
        config = tmp_path / f"{name}.xml"
        config.write_text(module_xml(name, members), encoding="utf-8")
        return boot_module(config, tmp_path / f"{name}.img", DEFINITION,
                           harness.runner.gen)

    together = boot("together", [*rtems, hello])
    hello_alone = boot("hello_alone", [hello])
    alone = {name: harness.runs("samples")[name].console for name in ("ticker", "base_sp")}
    ticks = RULES["ticker"]
    assert ticks(normalized(together.consoles["ticker"])) == ticks(normalized(alone["ticker"]))
    assert together.consoles["base_sp"] == alone["base_sp"]
    assert together.verdict("ticker") is together.verdict("base_sp") is Verdict.PASSED
    assert together.consoles["hello"] == hello_alone.consoles["hello"]
    assert together.verdict("hello") is Verdict.PASSED
    assert all(reports == () for reports in together.health.values()), together.health
    assert together.ended_by == "all stopped"
    # ticker's 35 s, the others ended before; its last lines take three times as long as
    # alone, as a third of the frame is its (at 38400 baud, 0.26 ms a character)
    assert 35e9 <= together.virtual_ns < 36e9


def test_two_rtems_applications_talk_over_arinc_ports(harness: Harness, tmp_path: Path) -> None:
    """examples/rtems: the producer's readings (sampling) and commands (queuing) reach the
    consumer through the BSP's APEX layer, each application in its own window."""
    for name in ("producer", "consumer"):
        build_application(harness.built, harness.toolchain, [EXAMPLE / f"{name}.c"],
                          tmp_path / f"{name}.exe", cflags=("-Werror",))
    config = tmp_path / "module.xml"
    config.write_text((EXAMPLE / "module.xml").read_text(encoding="utf-8"), encoding="utf-8")
    run = boot_module(config, tmp_path / "rtems.img", DEFINITION, harness.runner.gen)
    rounds = range(1, 6)
    consumer = run.consoles["consumer"]
    assert [line for line in consumer if line.startswith("consumer: received ")] == [
        f'consumer: received "command {i}"' for i in rounds]
    assert [line for line in consumer if line.startswith("consumer: read ")] == [
        f'consumer: read "reading {7 * i}"' for i in rounds]
    assert [line for line in run.consoles["producer"] if line.startswith("producer: ")] == [
        f'producer: sent "command {i}"' for i in rounds]
    assert run.verdict("producer") is run.verdict("consumer") is Verdict.PASSED
    assert run.health == {"producer": (), "consumer": ()}


def test_an_application_that_does_not_compile_is_refused_with_the_compilers_words(
    harness: Harness, tmp_path: Path,
) -> None:
    source = tmp_path / "broken.c"
    source.write_text("#include <rtems.h>\nint broken(void) { return undeclared; }\n",
                      encoding="utf-8")
    with pytest.raises(RtemsBuildError) as raised:
        build_application(harness.built, harness.toolchain, [source], tmp_path / "broken.exe")
    message = str(raised.value)
    assert message.startswith(f"pvgen: error: {source}: clang failed")
    assert "undeclared identifier 'undeclared'" in message
    with pytest.raises(InputError, match=r"absent\.c: no such C file"):
        build_application(harness.built, harness.toolchain, [tmp_path / "absent.c"],
                          tmp_path / "absent.exe")


def test_pvgen_rtems_test_runs_the_tests_named_and_refuses_unknown_ones(
    harness: Harness, capsys: pytest.CaptureFixture[str],
) -> None:
    sources = ["--rtems-src", str(find(RTEMS, SHARED)), "--newlib-src", str(find(NEWLIB, SHARED)),
               "--def", str(DEFINITION), "--suites", "samples"]
    assert pvgen_main(["rtems", "test", *sources, "hello", "minimum.norun"]) == 0
    out = capsys.readouterr().out
    assert "  samples/hello: passed, as its .scn (exact)," in out
    assert "  samples/minimum.norun: passed" in out
    assert re.search(r"^Passed: +2$", out, re.MULTILINE)
    assert pvgen_main(["rtems", "test", *sources, "hello", "nosuch"]) == 2
    assert "no test program nosuch in the suites samples" in capsys.readouterr().err
