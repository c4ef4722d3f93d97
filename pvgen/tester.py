"""The RTEMS tester's rules: what a test's console says about it.

RTEMS's tester (``rtems-test``) reads the lines of a test's console that begin with
``*** ``: ``BEGIN OF TEST``, ``END OF TEST``, and ``TEST STATE: STATE``, the state the
test expects of itself on this BSP (compiled in from the BSP's test-state items:
EXPECTED_FAIL, USER_INPUT, INDETERMINATE, BENCHMARK). From them, and from whether its
time ran out, it counts each test as one of the states below; the emulator's verdicts
and the RTEMS harness both use ``judge``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

BEGIN, END, STATE, FATAL = "*** BEGIN OF ", "*** END OF ", "*** TEST STATE:", "*** FATAL"
# A test that prints nothing at all, by design: it passes by ending (the tester's list).
SILENT_TESTS = frozenset({"minimum"})


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    USER_INPUT = "user-input"
    EXPECTED_FAIL = "expected-fail"
    INDETERMINATE = "indeterminate"
    BENCHMARK = "benchmark"
    TIMEOUT = "timeout"
    INVALID = "invalid"  # no test began
    # The emulator's own, not the tester's: a ``*** FATAL`` line (the bare-metal runtime's
    # fatal error), whatever else the console says.
    FATAL = "fatal"

    @property
    def label(self) -> str:
        """Its name in the tester's summary table ("Expected Fail")."""
        return self.value.replace("-", " ").title()

    @property
    def bad(self) -> bool:
        """Whether it counts against the run."""
        return self in (Verdict.FAILED, Verdict.TIMEOUT, Verdict.INVALID, Verdict.FATAL)


# The verdicts of the tester's summary table, in its order (FATAL is the emulator's own).
TESTER_VERDICTS = tuple(v for v in Verdict if v is not Verdict.FATAL)


# What a test's own TEST STATE makes of it: these whatever its run did; these unless it
# passed (an expected failure that passes is a pass).
WHATEVER_THE_RUN = {"USER_INPUT": Verdict.USER_INPUT, "BENCHMARK": Verdict.BENCHMARK}
UNLESS_IT_PASSED = {"EXPECTED_FAIL": Verdict.EXPECTED_FAIL,
                    "INDETERMINATE": Verdict.INDETERMINATE}


@dataclass(frozen=True)
class Reading:
    """What a console's banner lines say."""

    began: bool = False
    ended: bool = False
    state: str | None = None  # the test's own TEST STATE, if it printed one
    fatal: bool = False  # a *** FATAL line: a fatal error, which the tester does not judge

    def line(self, text: str) -> Reading:
        """This reading with one more console line."""
        if not text.startswith("*** "):
            return self
        return Reading(self.began or text.startswith(BEGIN), self.ended or text.startswith(END),
                       text[len(STATE):].strip() if text.startswith(STATE) else self.state,
                       self.fatal or text.startswith(FATAL))


def read(lines: Iterable[str]) -> Reading:
    reading = Reading()
    for text in lines:
        reading = reading.line(text)
    return reading


def judge(reading: Reading, *, timed_out: bool, name: str = "", ended: bool = True) -> Verdict:
    """The tester's verdict: `timed_out` if the run's time ran out before the test ended;
    `ended`, whether the test's program ended (a silent test passes only by ending)."""
    state = reading.state or ""
    if state in WHATEVER_THE_RUN:
        return WHATEVER_THE_RUN[state]
    if reading.began and reading.ended:
        return Verdict.PASSED
    if state in UNLESS_IT_PASSED:
        return UNLESS_IT_PASSED[state]
    if timed_out:
        return Verdict.TIMEOUT
    if reading.began:
        return Verdict.FAILED
    if name.split(".")[0] in SILENT_TESTS and ended:
        return Verdict.PASSED
    return Verdict.INVALID
