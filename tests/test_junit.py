"""`pvgen boot --junit FILE`: a test case per partition, for CI (pvgen/emulator/junit.py).
Real boots of the bundled examples, and a run result of every verdict the tester knows."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pvgen.emulator.hm import HmEvent
from pvgen.emulator.junit import junit_report
from pvgen.emulator.run import Ending, PartitionSummary, RunResult
from pvgen.tester import Verdict
from tests.conftest import DEFINITION, ROOT

EXAMPLES = ROOT / "examples"


def _pvgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pvgen.cli", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("junit")
    for name in ("multi", "health"):
        built = _pvgen("image", "--config", str(EXAMPLES / name / "module.xml"), "--out",
                       str(out / f"{name}.img"), "--def", str(DEFINITION), "--gen",
                       str(out / "gen"))
        assert built.returncode == 0, built.stderr
    return {name: out / f"{name}.img" for name in ("multi", "health")}


def _report(image: Path, tmp_path: Path, *extra: str) -> tuple[ET.Element, str]:
    report = tmp_path / "report.xml"
    booted = _pvgen("boot", str(image), "--gen", str(image.parent / "gen"), "--junit",
                    str(report), *extra)
    return ET.parse(report).getroot(), booted.stdout


def test_a_passing_module_is_one_case_a_partition_each_with_its_console(
        images: dict[str, Path], tmp_path: Path) -> None:
    suite, printed = _report(images["multi"], tmp_path)
    assert (suite.tag, suite.get("name"), suite.get("tests"), suite.get("failures"),
            suite.get("skipped")) == ("testsuite", "multi", "3", "0", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["alpha", "beta", "gamma"]
    for case in cases:
        assert case.find("failure") is None and case.find("skipped") is None
        out = case.findtext("system-out", "")
        assert out.splitlines() == [line.split("] ", 1)[1] for line in printed.splitlines()
                                    if line.startswith(f"[{case.get('name')}] ")]
        assert "*** END OF TEST" in out


def test_a_partition_the_health_monitor_stopped_fails_naming_the_event(
        images: dict[str, Path], tmp_path: Path) -> None:
    """examples/health begins no test (by design): both cases fail, each with its HM events
    as its system-err, and the failure names the last event that acted on the partition."""
    suite, printed = _report(images["health"], tmp_path)
    assert (suite.get("tests"), suite.get("failures")) == ("2", "2")
    fault = next(c for c in suite.findall("testcase") if c.get("name") == "fault")
    failure = fault.find("failure")
    assert failure is not None and failure.get("type") == "invalid"
    assert failure.get("message", "").startswith("invalid: STACK_OVERFLOW (task 3 overflowed")
    assert failure.get("message", "").endswith("-> PARTITION IDLE")
    errors = fault.findtext("system-err", "").splitlines()
    assert len(errors) == printed.count("[fault] HM: ") == 6


def test_every_tester_state_has_its_element() -> None:
    states = {Verdict.PASSED: None, Verdict.FAILED: "failure", Verdict.TIMEOUT: "failure",
              Verdict.INVALID: "failure", Verdict.FATAL: "failure",
              Verdict.EXPECTED_FAIL: "skipped", Verdict.USER_INPUT: "skipped",
              Verdict.INDETERMINATE: "skipped", Verdict.BENCHMARK: "skipped"}
    assert set(states) == set(Verdict)
    result = RunResult(Ending.TIME, 2_000_000_000, 100, tuple(
        PartitionSummary(v.value, v, "NORMAL", 0, 1) for v in states), (), 0,
        consoles={"failed": ("*** BEGIN OF TEST x ***", "\x1b[2Jcleared")})
    suite = ET.fromstring(junit_report(result, "m"))
    assert (suite.get("failures"), suite.get("skipped"), suite.get("time")) == (
        "4", "4", "2.000000")
    for case in suite.findall("testcase"):
        expected = states[Verdict(case.get("name"))]
        found = [child.tag for child in case if child.tag in ("failure", "skipped")]
        assert found == ([] if expected is None else [expected]), case.get("name")
    failed = next(c for c in suite.findall("testcase") if c.get("name") == "failed")
    assert failed.findtext("system-out") == "*** BEGIN OF TEST x ***\n\\x1b[2Jcleared\n"


def test_an_event_the_health_monitor_ignored_does_not_end_the_case() -> None:
    ignored = HmEvent(5, "p", "APPLICATION_ERROR", "said", "PARTITION", "IGNORE")
    result = RunResult(Ending.ALL_STOPPED, 10, 1, (
        PartitionSummary("p", Verdict.FAILED, "IDLE", 0, 3, ended=True),), (ignored,), 1)
    case = ET.fromstring(junit_report(result, "m")).find("testcase")
    assert case is not None
    assert case.find("failure") is not None and case.find("failure").get("message") == "failed"
    assert "HM: APPLICATION_ERROR (said) -> PARTITION IGNORE" in case.findtext("system-err", "")


def test_a_report_that_cannot_be_written_is_one_line(images: dict[str, Path],
                                                     tmp_path: Path) -> None:
    booted = _pvgen("boot", str(images["multi"]), "--gen", str(images["multi"].parent / "gen"),
                    "--junit", str(tmp_path / "missing" / "r.xml"))
    assert booted.returncode == 2
    assert booted.stderr.startswith("pvgen: error: ")
    assert "cannot write the JUnit report" in booted.stderr and "Traceback" not in booted.stderr
