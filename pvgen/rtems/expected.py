"""RTEMS's expected output: a sample's console against the ``.scn`` file beside its source.

RTEMS's tester judges a test by its banners alone (``pvgen.tester``); the samples also
come with the output they print (``testsuites/samples/NAME/NAME.scn``), and the harness
compares it too. The ``.scn`` files were written on other targets over thirty years, so
each sample is compared by the rule that keeps what the sample means and drops what is
the machine's or the file's age:

- the banners compare as BEGIN and END, whatever their wording (RTEMS 6 prints
  ``*** BEGIN OF TEST X ***``, many ``.scn`` the older ``*** X TEST ***``), and the build
  information RTEMS 6 prints (``*** TEST VERSION: ...``) is left out;
- ``exact``: every other line as it is (hello);
- ``masked``: numbers masked (base_sp's object ids, whose RTEMS 6 form the ``.scn``
  predates; nsecs's times, which are the machine's);
- ``collapsed``: numbers masked and a run of lines alike counted as one (unlimited: how
  many tasks fit is the memory's, and so is whether its third test runs out of memory,
  ``unsatisfied``, or out of task objects first, ``too many``);
- ``ticks``: each ``TAn - ...clock_get_tod - TIME DATE`` line as its task and time, the
  times in order and the tasks of one time in any order (ticker's tasks wake on the same
  tick; which prints first is the scheduler's); the times exactly.

What is not compared says why (``NOT_COMPARED``).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_BANNER = re.compile(r"^\*\*\* (.+) \*\*\*$")
_TEST_INFO = ("*** TEST VERSION:", "*** TEST STATE:", "*** TEST BUILD:", "*** TEST TOOLS:")
_NUMBER = re.compile(r"\w*\d\w*")  # a word with a digit: a number, an id, a name like aa01
_TICK = re.compile(r"^(TA\d+)\s+-\s+\S*clock_get_tod\s+-\s+(\S+\s+\S+)$")


def normalized(lines: Iterable[str]) -> list[str]:
    """Console or .scn lines up to the test's end, as the rules compare them: banners as
    BEGIN and END, the build information left out, trailing blanks and empty lines dropped
    (what follows the end, RTEMS's shutdown report, is not the test's output)."""
    result: list[str] = []
    began = False
    for line in lines:
        text = line.rstrip()
        if not text or text.startswith(_TEST_INFO):
            continue
        banner = _BANNER.match(text)
        if banner and banner[1].startswith("END OF "):
            result.append("END")
            break
        if banner and not began:
            text, began = "BEGIN", True
        result.append(text)
    return result


def _masked(lines: Sequence[str]) -> list[str]:
    """Words with digits masked, and the blanks that pad numbers to a width with them."""
    return [" ".join(_NUMBER.sub("#", line).split()) for line in lines]


_OUT_OF = re.compile(r"failure, (too many|unsatisfied)\.$")


def _collapsed(lines: Sequence[str]) -> list[str]:
    runs_out = (_OUT_OF.sub("failure, too many or unsatisfied.", line) for line in lines)
    return [line for line, _ in itertools.groupby(_masked(list(runs_out)))]


def _ticks(lines: Sequence[str]) -> list[str]:
    """Each time the tasks printed, with the tasks that printed it, sorted."""
    result, ticks = [], []
    for line in [*lines, ""]:
        tick = _TICK.match(" ".join(line.split()))
        if tick:
            ticks.append((tick[2], tick[1]))
            continue
        for time, group in itertools.groupby(ticks, key=lambda t: t[0]):
            result.append(f"{time}: {' '.join(sorted(task for _, task in group))}")
        ticks = []
        if line:
            result.append(line)
    return result


def _exact(lines: Sequence[str]) -> list[str]:
    return list(lines)


RULES: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "hello": _exact, "base_sp": _masked, "nsecs": _masked,
    "unlimited": _collapsed, "ticker": _ticks,
}
NOT_COMPARED = {
    "minimum": "its .scn says it is not to be run: its idle body returns, into RTEMS's fatal "
    "error, by design (it passes by ending, the tester's rule)",
    "paranoia": "its .scn is a 53-bit double machine's; i386 computes in the x87's 64-bit "
    "registers, so paranoia finds another precision (judged by its banners)",
    "capture": "it waits for the user's commands (USER_INPUT)",
    "fileio": "it waits for the user's commands (USER_INPUT)",
}


@dataclass(frozen=True)
class Comparison:
    """A sample's console against its .scn, both as its rule sees them."""

    name: str
    rule: str
    expected: tuple[str, ...]
    actual: tuple[str, ...]

    @property
    def same(self) -> bool:
        return self.expected == self.actual

    def diff(self) -> str:
        return "\n".join(difflib.unified_diff(
            self.expected, self.actual, f"{self.name}.scn ({self.rule})",
            f"{self.name} console ({self.rule})", lineterm=""))


def compare(tree: Path, name: str, console: Sequence[str]) -> Comparison | None:
    """The sample `name`'s console against RTEMS's .scn in `tree`; None for a sample that
    has no rule (NOT_COMPARED says why) or no .scn."""
    stem = name.split(".")[0]  # minimum.norun's sample is minimum
    rule = RULES.get(stem)
    scn = tree / "testsuites" / "samples" / stem / f"{stem}.scn"
    if rule is None or not scn.is_file():
        return None
    expected = normalized(scn.read_text(encoding="utf-8", errors="replace").splitlines())
    return Comparison(stem, rule.__name__.lstrip("_"), tuple(rule(expected)),
                      tuple(rule(normalized(console))))
