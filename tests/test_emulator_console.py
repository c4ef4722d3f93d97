"""A partition's console holds a bounded share of the emulator's memory, whatever its guest
writes: a line that never ends is printed in pieces, and no line is kept (the tester's
reading is taken as the lines come)."""

from __future__ import annotations

import io
import tracemalloc

from pvgen.emulator.console import LINE_LIMIT, Console, printable


def test_a_line_that_never_ends_holds_at_most_line_limit_bytes() -> None:
    out = io.StringIO()
    console = Console("p", out)
    for _ in range(3 * LINE_LIMIT):
        console.write(b"y")
        assert len(console.pending) < LINE_LIMIT
    assert out.getvalue().splitlines() == ["[p] " + "y" * LINE_LIMIT] * 3


def test_a_console_keeps_nothing_of_what_it_prints_but_its_verdict() -> None:
    """A million lines, a thousand of them the tester's own, then END: every one printed,
    the verdict read from them, and the console's memory what it was after the first."""
    console = Console("p", io.StringIO())
    console.write(b"*** BEGIN OF TEST p ***\n")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(1000):
        console.write(b"line\n" * 999 + b"*** TEST STATE: %d\n" % n)
        console.out.seek(0)
        console.out.truncate()  # the run's output, not the console's memory
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    console.write(b"*** END OF TEST p ***\n")
    assert grown < 64 * 1024
    assert console.reading.state == "999"
    assert console.verdict(ended=True) == "passed"


def test_printable_escapes_what_could_start_or_fake_a_line() -> None:
    assert printable("a\nb\rc\x1b[0m\u202ed\te") == "a\\x0ab\\x0dc\\x1b[0m\\u202ed\te"
    assert printable("plain text, ünïcödé") == "plain text, ünïcödé"
