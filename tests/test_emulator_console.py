"""A partition's console holds a bounded share of the emulator's memory, whatever its guest
writes: a line that never ends is printed in pieces, and past KEPT_LINES lines only the
tester's lines are kept (the rest are printed and counted)."""

from __future__ import annotations

import io

from emulator.console import KEPT_LINES, LINE_LIMIT, Console, printable


def test_a_line_that_never_ends_holds_at_most_line_limit_bytes() -> None:
    console = Console("p", io.StringIO())
    for _ in range(3 * LINE_LIMIT):
        console.write(b"y")
        assert len(console.pending) < LINE_LIMIT
    assert console.lines == ["y" * LINE_LIMIT] * 3


def test_past_kept_lines_only_the_tester_s_lines_are_kept() -> None:
    out = io.StringIO()
    console = Console("p", out)
    console.write(b"*** BEGIN OF TEST p ***\n" + b"line\n" * (KEPT_LINES + 10)
                  + b"*** END OF TEST p ***\n")
    assert len(console.lines) == KEPT_LINES + 1
    assert console.lines[-1] == "*** END OF TEST p ***"
    assert console.unkept == 11
    assert out.getvalue().count("\n") == KEPT_LINES + 12  # every line was printed
    assert console.verdict(ended=True) == "passed"


def test_printable_escapes_what_could_start_or_fake_a_line() -> None:
    assert printable("a\nb\rc\x1b[0m\u202ed\te") == "a\\x0ab\\x0dc\\x1b[0m\\u202ed\te"
    assert printable("plain text, ünïcödé") == "plain text, ünïcödé"
