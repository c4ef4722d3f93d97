"""A traced run names each hypercall as its definition does, with the arguments its handler
was given and its answer (pvgen/emulator/calltrace.py), booted through pvgen's own pytest
fixture."""

from __future__ import annotations

from pathlib import Path

from pvgen.definition import load
from pvgen.testing import Booter
from tests.conftest import DEFINITION, ROOT

EXAMPLES = ROOT / "examples"


def test_a_console_write_shows_its_text_and_its_answer(pvgen_boot: Booter) -> None:
    booted = pvgen_boot(config=EXAMPLES / "hello" / "module.xml", definition=DEFINITION,
                        trace=True)
    calls = booted.events("hypercall")
    numbers = {h.name: h.number for h in load(DEFINITION).hypercalls}
    assert all(e["args"]["number"] == numbers[e["name"]] for e in calls)
    hello = next(e for e in calls if e["name"] == "console_write"
                 and "Hello" in e["args"]["arguments"]["buf"]["text"])
    assert hello["args"]["arguments"] == {"buf": {"text": "Hello World\\x0a", "length": 12},
                                          "len": 12}
    assert hello["args"]["answer"] == 0  # OK


def test_a_refused_call_shows_no_arguments_and_what_the_guest_got(pvgen_boot: Booter) -> None:
    """examples/health reports an error that is not the OS's own: the dispatcher refuses it
    (bad_value) before any handler runs."""
    booted = pvgen_boot(config=EXAMPLES / "health" / "module.xml", definition=DEFINITION,
                        trace=True)
    refused = [e for e in booted.events("hypercall") if e["name"] == "raise_os_error"
               and not e["args"]["arguments"]]
    assert refused and refused[0]["args"]["answer"] == 3  # INVALID_PARAM, as the console says
    assert "fault: raise_os_error(ILLEGAL_REQUEST) returned 3; going on" in \
        booted.console("fault")


def test_a_call_that_stops_its_caller_shows_what_it_did(pvgen_boot: Booter) -> None:
    booted = pvgen_boot(config=EXAMPLES / "hello" / "module.xml", definition=DEFINITION,
                        trace=True)
    last = booted.events("hypercall")[-1]
    assert (last["name"], last["args"]["answer"]) == ("partition_set_mode", "halt")


def test_threads_are_numbered_from_1_whatever_the_identifiers(pvgen_boot: Booter,
                                                              tmp_path: Path) -> None:
    """A partition may have identifier 0: its thread is still 1 (a viewer treats thread 0 as
    the process's own), and the trace's metadata keeps the identifier."""
    config = tmp_path / "module.xml"
    config.write_text((EXAMPLES / "hello" / "module.xml").read_text(encoding="utf-8").replace(
        'PartitionIdentifier="1"', 'PartitionIdentifier="0"'), encoding="utf-8")
    (tmp_path / "hello.c").write_bytes((EXAMPLES / "hello" / "hello.c").read_bytes())
    booted = pvgen_boot(config=config, definition=DEFINITION, trace=True)
    threads = [e for e in booted.trace if e["name"] == "thread_name"]
    assert [(e["tid"], e["args"]) for e in threads] == [(1, {"name": "hello", "identifier": 0})]
    # the module's own track (thread 0) holds only the major frames
    assert {e["tid"] for e in booted.trace if e["ph"] != "M" and e.get("cat") != "frame"} == {1}
    assert {e["tid"] for e in booted.events("frame")} == {0}


def test_major_frames_and_what_each_window_ran(pvgen_boot: Booter) -> None:
    """A module track marks each major frame; each window ends with counters of the
    instructions and hypercalls it ran, the hypercalls those of its events."""
    booted = pvgen_boot(config=EXAMPLES / "multi" / "module.xml", definition=DEFINITION,
                        trace=True)
    frames = booted.events("frame")
    assert [(e["name"], e["tid"], e["s"], e["ts"]) for e in frames] == [
        (f"major frame {n}", 0, "p", n * 20_000.0) for n in range(len(frames))]
    assert frames  # the module ran one at least (multi: 20 ms frames)
    counters = [e for e in booted.trace if e["ph"] == "C"]
    for tid, name in ((1, "alpha"), (2, "beta"), (3, "gamma")):
        calls = [e for e in booted.events("hypercall") if e["tid"] == tid]
        counted = [e["args"]["value"] for e in counters if e["name"] == f"{name} hypercalls"]
        assert sum(counted) == len(calls)
        ran = [e["args"]["value"] for e in counters if e["name"] == f"{name} instructions"]
        assert len(ran) == len(counted) and ran[0] > 0


def test_each_message_received_or_read_is_linked_to_where_it_was_sent(
        pvgen_boot: Booter) -> None:
    """examples/ports: a flow starts at each send or write and ends at each receive or read
    of that message, on the other partition's thread, never before it began."""
    booted = pvgen_boot(config=EXAMPLES / "ports" / "module.xml", definition=DEFINITION,
                        trace=True, seconds=0.2)
    starts = {e["id"]: e for e in booted.trace if e["ph"] == "s"}
    ends = [e for e in booted.trace if e["ph"] == "f"]
    assert len(starts) > 5 and len(ends) > 5
    for end in ends:
        start = starts[end["id"]]
        assert start["tid"] != end["tid"] and start["ts"] <= end["ts"], (start, end)
    moved = [e for e in booted.events("port") if e["args"]["status"] == "OK"
             and e["name"].split()[0] in ("queuing_receive", "sampling_read")]
    assert len(moved) == len(ends)
