"""A run as a JUnit XML report, the format CI systems read (Jenkins, GitLab, GitHub's test
reporters): the module is a test suite, each partition a test case.

A case's verdict is the RTEMS tester's (``pvgen.tester``): a pass has no child; a verdict
that counts against the run (failed, timeout, fatal, no test) is a ``<failure>`` whose message
names the health-monitor event that ended the partition, if one did; the tester's states that
are neither (expected-fail, user-input, indeterminate, benchmark) are ``<skipped>``. Its
console is its ``<system-out>`` and its health-monitor events its ``<system-err>``, as the run
printed them (control characters escaped, so the XML stays valid whatever a guest wrote).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from pvgen.emulator.console import printable
from pvgen.emulator.hm import HmEvent
from pvgen.emulator.run import PartitionSummary, RunResult
from pvgen.tester import Verdict

# What a verdict that is neither a pass nor a failure is: skipped, with the tester's word.
_SKIPPED = (Verdict.EXPECTED_FAIL, Verdict.USER_INPUT, Verdict.INDETERMINATE,
            Verdict.BENCHMARK)


def junit_report(result: RunResult, module: str) -> bytes:
    """The run's report (its consoles: the run's transcripts, RunOptions.transcripts)."""
    cases = [_case(p, module, result) for p in result.partitions]
    suite = ET.Element("testsuite", {
        "name": module, "tests": str(len(cases)),
        "failures": str(sum(p.verdict.bad for p in result.partitions)), "errors": "0",
        "skipped": str(sum(p.verdict in _SKIPPED for p in result.partitions)),
        "time": f"{result.now_ns / 1e9:.6f}",
    })
    suite.extend(cases)
    ET.indent(suite)
    report: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return report + b"\n"


def _case(p: PartitionSummary, module: str, result: RunResult) -> ET.Element:
    case = ET.Element("testcase", {"name": p.name, "classname": module})
    events = [e for e in result.hm_log if e.partition == p.name]
    if p.verdict.bad:
        ending = next((e for e in reversed(events) if e.action != "IGNORE"), None)
        why = "" if ending is None else f": {_event(ending)}"
        ET.SubElement(case, "failure", {"type": p.verdict.value,
                                        "message": f"{p.verdict.value}{why}"})
    elif p.verdict in _SKIPPED:
        ET.SubElement(case, "skipped", {"message": p.verdict.value})
    ET.SubElement(case, "system-out").text = _lines(result.consoles.get(p.name, ()))
    if events:
        ET.SubElement(case, "system-err").text = _lines([
            f"{e.at_ns / 1e9:.6f} s HM: {_event(e)}" for e in events])
    return case


def _event(e: HmEvent) -> str:
    return f"{e.error} ({printable(e.detail)}) -> {e.level} {e.action}"


def _lines(lines: Sequence[str]) -> str:
    return "".join(f"{printable(line)}\n" for line in lines)
