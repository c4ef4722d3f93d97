"""Sampling and queuing ports in the emulator (issue 6, points 1-3), in the style of the Xen
Test Framework.

Five tiny guest partitions (``tests/port_rules/*.c``, built with the bare-metal runtime through
``pvgen image``) make one module whose configuration declares their ports and channels
(``MODULE`` below). Each checks APEX rules from inside its partition with the generated stubs
and prints one verdict line between the RTEMS banners. The module is built and booted once per
architecture, in the real emulator with a trace; the tests read each partition's verdict, the
run's HM log, and the trace's ``port`` instants (the call, the port, the length, the status; a
read's validity), whose virtual times show why a message was VALID or INVALID.

The frame: producer 0-5 ms, reader_a 5-10, reader_b 10-15, creator 15-20, restarter 20-25. The
producer writes and sends once, in frame 0; the readers read in later frames too.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pvgen.cli import main as pvgen_main
from pvgen.emulator.loader import load
from pvgen.emulator.ports import ModulePorts, PortCalls
from tests.conftest import DEFINITION
from tests.emulator_harness import MEMORY, Builder, Run, rule_suite

RULES = Path(__file__).parent / "port_rules"
PROGRAMS = ("producer", "reader_a", "reader_b", "creator", "restarter")
MS = 1_000_000
FRAME_MS = 5 * len(PROGRAMS)
TID = {name: i + 1 for i, name in enumerate(PROGRAMS)}  # partition identifiers, trace threads

# Each partition's ports: (element, name, direction, max size, refresh seconds or depth).
PORTS: dict[str, list[tuple[str, str, str, int, str]]] = {
    "producer": [("Sampling_Port", "temp_out", "SOURCE", 16, "0.01"),
                 ("Queuing_Port", "cmd_out", "SOURCE", 8, "4"),
                 ("Queuing_Port", "reset_out", "SOURCE", 8, "4")],
    "reader_a": [("Sampling_Port", "temp_in_a", "DESTINATION", 16, "0.008"),
                 ("Queuing_Port", "cmd_in", "DESTINATION", 8, "3")],
    "reader_b": [("Sampling_Port", "temp_in_b", "DESTINATION", 16, "0.04"),
                 ("Sampling_Port", "never_in", "DESTINATION", 4, "0.01")],
    "creator": [("Sampling_Port", "s_out", "SOURCE", 16, "0.01"),
                ("Sampling_Port", "s_in", "DESTINATION", 16, "0.01"),
                ("Queuing_Port", "q_out", "SOURCE", 8, "2"),
                ("Queuing_Port", "q_in", "DESTINATION", 8, "2"),
                ("Sampling_Port", "silent_out", "SOURCE", 4, "0.01")],
    "restarter": [("Queuing_Port", "r_in", "DESTINATION", 8, "4"),
                  ("Sampling_Port", "r_temp_in", "DESTINATION", 16, "0.01")],
}
# Channels: source (partition, port) -> destinations.
CHANNELS = [
    (("producer", "temp_out"),
     [("reader_a", "temp_in_a"), ("reader_b", "temp_in_b"), ("restarter", "r_temp_in")]),
    (("producer", "cmd_out"), [("reader_a", "cmd_in")]),
    (("producer", "reset_out"), [("restarter", "r_in")]),
    (("creator", "silent_out"), [("reader_b", "never_in")]),
]
REFRESH_NS = {"temp_in_a": 8 * MS, "temp_in_b": 40 * MS}


def module_xml(elves: dict[str, Path], arch: str) -> str:
    """The module configuration: each program its partition, ports and 5 ms window."""
    def port(element: str, name: str, direction: str, size: int, last: str) -> str:
        extra = (f'RefreshRateSeconds="{last}"' if element == "Sampling_Port"
                 else f'MaxNbMessages="{last}"')
        return (f'    <{element} Name="{name}" Direction="{direction}" '
                f'MaxMessageSize="{size}" {extra}/>')

    def end(tag: str, partition: str, name: str) -> str:
        return (f'<{tag}><Standard_Partition PartitionIdentifier="{TID[partition]}" '
                f'PortName="{name}"/></{tag}>')

    lines = ['<ARINC_653_Module ModuleName="ports">', f'  <Toolchain Arch="{arch}"/>']
    for name in PROGRAMS:
        lines.append(f'  <Partition PartitionIdentifier="{TID[name]}" PartitionName="{name}">')
        lines.append(f'    <Guest Elf="{elves[name].name}"/>')
        lines += [port(*p) for p in PORTS[name]]
        lines.append("  </Partition>")
    lines += [f'  <Partition_Memory PartitionIdentifier="{TID[name]}"><Memory_Requirements '
              f'Type="DATA" SizeBytes="{MEMORY}"/></Partition_Memory>' for name in PROGRAMS]
    lines.append(f'  <Module_Schedule MajorFrameSeconds="{FRAME_MS / 1000}">')
    lines += [f'    <Partition_Schedule PartitionIdentifier="{TID[name]}"><Window_Schedule '
              f'WindowIdentifier="{TID[name]}" WindowStartSeconds="{i * 5 / 1000}" '
              f'WindowDurationSeconds="0.005"/></Partition_Schedule>'
              for i, name in enumerate(PROGRAMS)]
    lines.append("  </Module_Schedule>")
    lines.append("  <Connection_Table>")
    for number, (source, destinations) in enumerate(CHANNELS, start=1):
        lines.append(f'    <Channel ChannelIdentifier="{number}">{end("Source", *source)}'
                     + "".join(end("Destination", *d) for d in destinations) + "</Channel>")
    lines.append("  </Connection_Table>")
    lines.append("</ARINC_653_Module>")
    return "\n".join(lines) + "\n"


def ns(event: dict[str, Any]) -> int:
    """An event's virtual time in ns (the trace writes microseconds)."""
    at: float = event["ts"]
    return round(at * 1000)


@dataclass(frozen=True)
class Booted:
    """The module's image, one run of it, and its trace."""

    builder: Builder
    image: Path
    run: Run
    events: list[dict[str, Any]]

    def ports(self, partition: str) -> list[dict[str, Any]]:
        """The partition's `port` instants: the call and port as `call`, args, and `at` (ns)."""
        return [{"call": e["name"], "at": ns(e), **e["args"]} for e in self.events
                if e["ph"] == "i" and e["cat"] == "port" and e["tid"] == TID[partition]]

    def traffic(self, partition: str, call: str) -> list[tuple[str, int, str]]:
        """(port, length, status) of each of the partition's instants of this call."""
        return [(e["port"], e["length"], e["status"]) for e in self.ports(partition)
                if e["call"].split()[0] == call]

    def assert_success(self, name: str, hm: int = 0) -> None:
        """The program printed its banners around SUCCESS, and the emulator agrees; `hm`: how
        many refused calls it made on purpose (each an ignored ILLEGAL_REQUEST)."""
        assert self.run.console(name) == [f"*** BEGIN OF TEST {name} ***",
                                          "Test result: SUCCESS",
                                          f"*** END OF TEST {name} ***"], self.run.stdout
        assert self.run.result is not None
        summary = next(p for p in self.run.result.partitions if p.name == name)
        assert summary.verdict == "passed"
        assert len(self.run.hm(name)) == hm, self.run.stdout


@pytest.fixture(scope="module", params=["x86", "arm"])
def booted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Booted:
    """The programs compiled (ARM with zig's clang), the module built and booted, traced."""
    builder = rule_suite(request, tmp_path_factory, RULES, PROGRAMS)
    arch = builder.arch
    config = builder.root / "ports.xml"
    config.write_text(module_xml(builder.elves, arch), encoding="utf-8")
    image = builder.root / "ports.img"
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        status = pvgen_main(["image", "--config", str(config), "--out", str(image),
                             "--def", str(DEFINITION), "--gen", str(builder.gen)])
    assert status == 0, err.getvalue()
    trace = builder.root / "ports.json"
    run = builder.run(image, frames=10, trace=trace)
    assert run.result is not None and run.result.ended_by == "all stopped", run.stdout
    events: list[dict[str, Any]] = json.loads(trace.read_text(encoding="utf-8"))["traceEvents"]
    return Booted(builder, image, run, events)


def test_creation_follows_the_configuration_and_the_mode(booted: Booted) -> None:
    """Wrong name, kind, direction, size, refresh period, depth, another partition's port:
    INVALID_CONFIG; ids from 1 in creation order; created twice: NO_ACTION, same id; created
    in NORMAL mode: INVALID_MODE; unknown ids: INVALID_PARAM."""
    booted.assert_success("creator")
    created = booted.traffic("creator", "sampling_create")
    created += booted.traffic("creator", "queuing_create")
    assert sorted(status for _, _, status in created) == sorted(
        ["INVALID_CONFIG"] * 12 + ["OK"] * 4 + ["NO_ACTION"] * 3 + ["INVALID_MODE"])
    [normal] = [e for e in booted.ports("creator") if e["status"] == "INVALID_MODE"]
    assert (normal["call"], normal["reason"]) == ("sampling_create silent_out",
                                                  "created in NORMAL mode")
    reasons = {e["reason"] for e in booted.ports("creator") if e["status"] == "INVALID_CONFIG"}
    assert {"no sampling port 'temp_in_a' here", "no sampling port 'nope' here",
            "direction DESTINATION, configured SOURCE", "max message size 15, configured 16",
            "refresh period 20000000, configured 10000000", "depth 3, configured 2",
            "no queuing port 's_out' here", "no sampling port 'q_out' here",
            "connected to no destination"} <= reasons


def test_the_source_side_refuses_bad_writes_and_sends(booted: Booted) -> None:
    """Zero length: INVALID_PARAM; longer than the port: INVALID_CONFIG; the wrong direction:
    INVALID_MODE; a port not created or of the other kind: INVALID_PARAM."""
    booted.assert_success("producer", hm=2)
    assert booted.traffic("producer", "sampling_write") == [
        ("temp_out", 0, "INVALID_PARAM"), ("temp_out", 17, "INVALID_CONFIG"),
        ("", 7, "INVALID_PARAM"), ("", 7, "INVALID_PARAM"), ("", 7, "INVALID_PARAM"),
        ("temp_out", 7, "OK")]  # the write from outside the partition never reached it
    assert booted.traffic("producer", "sampling_read") == [("temp_out", 0, "INVALID_MODE")]
    assert booted.traffic("producer", "queuing_receive") == [("cmd_out", 0, "INVALID_MODE")]


def test_buffers_outside_the_partition_are_refused_before_the_handler(booted: Booted) -> None:
    """The generated checks answer INVALID_PARAM and report an ILLEGAL_REQUEST, which the
    configuration (no entry) ignores: the partition goes on."""
    assert booted.run.result is not None
    refused = [(e.partition, e.error, e.detail, e.action) for e in booted.run.result.hm_log]
    assert refused == [
        ("producer", "ILLEGAL_REQUEST", "hypercall 104 refused: bad_pointer", "IGNORE"),
        ("producer", "ILLEGAL_REQUEST", "hypercall 111 refused: bad_pointer", "IGNORE"),
        ("reader_a", "ILLEGAL_REQUEST", "hypercall 102 refused: bad_pointer", "IGNORE")]


def test_a_sampling_message_reaches_two_destinations_and_ages(booted: Booted) -> None:
    """One write, read by reader_a (8 ms refresh) in frames 0 and 1 and reader_b (40 ms) in
    frames 0, 1 and 2: VALID exactly while the message's age is at most the reader's refresh
    period, judged at the virtual times the trace shows."""
    booted.assert_success("reader_a", hm=1)
    booted.assert_success("reader_b")
    [written] = [e["at"] for e in booted.ports("producer")
                 if e["call"] == "sampling_write temp_out" and e["status"] == "OK"]
    for reader, port, frames in (("reader_a", "temp_in_a", 2), ("reader_b", "temp_in_b", 3)):
        reads = [e for e in booted.ports(reader)
                 if e["call"] == f"sampling_read {port}" and e["status"] == "OK"]
        assert [(e["length"], e["at"] // (FRAME_MS * MS)) for e in reads] == [
            (7, frame) for frame in range(frames)]
        for e in reads:
            valid = e["at"] - written <= REFRESH_NS[port]
            assert e["validity"] == ("VALID" if valid else "INVALID"), (reader, e)
    validities = {reader: [e["validity"] for e in booted.ports(reader)
                           if e["call"].startswith("sampling_read temp") and e["status"] == "OK"]
                  for reader in ("reader_a", "reader_b")}
    assert validities == {"reader_a": ["VALID", "INVALID"],
                          "reader_b": ["VALID", "VALID", "INVALID"]}
    # never written: NO_ACTION, length 0, INVALID
    [never] = [e for e in booted.ports("reader_b") if e["call"] == "sampling_read never_in"]
    assert (never["status"], never["length"], never["validity"]) == ("NO_ACTION", 0, "INVALID")
    # too small a buffer: refused with the message's length, nothing copied (the guest checks)
    assert ("temp_in_a", 7, "INVALID_PARAM") in booted.traffic("reader_a", "sampling_read")


def test_queuing_is_fifo_with_a_full_queue_and_an_empty_one(booted: Booted) -> None:
    """Three messages fill the destination's queue of 3 (the source's depth of 4 does not
    count); the fourth is NOT_AVAILABLE and sets the overflow flag; they come out in order, a
    buffer too small leaves the oldest queued, and the empty queue is NOT_AVAILABLE."""
    booted.assert_success("reader_a", hm=1)
    assert booted.traffic("producer", "queuing_send") == [
        ("cmd_out", 0, "INVALID_PARAM"), ("cmd_out", 9, "INVALID_CONFIG"),
        ("", 1, "INVALID_PARAM"),
        ("cmd_out", 3, "OK"), ("cmd_out", 3, "OK"), ("cmd_out", 5, "OK"),
        ("cmd_out", 4, "NOT_AVAILABLE"),
        ("reset_out", 2, "OK"), ("reset_out", 2, "OK")]
    assert booted.traffic("reader_a", "queuing_receive") == [
        ("cmd_in", 3, "INVALID_PARAM"),
        ("cmd_in", 3, "OK"), ("cmd_in", 3, "OK"), ("cmd_in", 5, "OK"),
        ("cmd_in", 0, "NOT_AVAILABLE")]


def test_a_restart_forgets_ports_and_empties_the_queues_it_receives(booted: Booted) -> None:
    """restarter saw r1 and r2 queued, restarted itself (COLD_START), and found its ports
    gone, its queue empty and the sampling message still there."""
    booted.assert_success("restarter")
    assert booted.run.result is not None
    summary = next(p for p in booted.run.result.partitions if p.name == "restarter")
    assert (summary.restarts, summary.mode) == (1, "IDLE")
    calls = [(e["call"], e["status"]) for e in booted.ports("restarter")]
    assert calls == [
        ("queuing_create r_in", "OK"), ("sampling_create r_temp_in", "OK"),  # first run
        ("queuing_port_id", "INVALID_CONFIG"), ("queuing_status", "INVALID_PARAM"),
        ("sampling_create r_temp_in", "OK"), ("queuing_create r_in", "OK"),
        ("queuing_receive r_in", "NOT_AVAILABLE"), ("sampling_read r_temp_in", "OK")]


def test_every_message_and_refusal_is_in_the_trace(booted: Booted) -> None:
    """Each instant names the port (when the call reached one), the length and the status;
    the quiet calls (ids and statuses) appear only when refused."""
    instants = [e for e in booted.events if e["ph"] == "i" and e["cat"] == "port"]
    assert instants
    for e in instants:
        assert {"port", "length", "status"} <= e["args"].keys(), e
        call = e["name"].split()[0]
        if call.endswith(("_status", "_port_id")):
            assert e["args"]["status"] != "OK", e
        if e["args"]["status"] not in ("OK", "NO_ACTION"):
            assert e["args"]["reason"], e
    moved = sum(1 for e in instants if e["args"]["status"] == "OK"
                and e["name"].split()[0] in ("sampling_write", "sampling_read", "queuing_send",
                                             "queuing_receive"))
    # producer: 1 write, 5 sends; readers: 2 + 3 reads, 3 receives; creator: 1 write;
    # restarter: 1 read
    assert moved == 16


def test_validity_turns_invalid_one_nanosecond_past_the_refresh_period(booted: Booted) -> None:
    """The rule at its boundary, on the module's own port state built from the image's
    manifest: age == refresh period is VALID, one nanosecond more is INVALID."""
    image, _ = load(booted.image, booted.builder.gen)
    ports = ModulePorts(image.manifest)
    producer = PortCalls(ports, TID["producer"])
    reader = PortCalls(ports, TID["reader_a"])
    outcome, source = producer.sampling_create("temp_out", 16, "SOURCE", 10 * MS, True)
    assert (outcome.status, source) == ("OK", 1)
    outcome, destination = reader.sampling_create("temp_in_a", 16, "DESTINATION", 8 * MS, True)
    assert (outcome.status, destination) == ("OK", 1)
    assert destination is not None and source is not None
    assert producer.sampling_write(source, b"x", 1000).status == "OK"
    for now, validity in ((1000, "VALID"), (1000 + 8 * MS, "VALID"),
                          (1001 + 8 * MS, "INVALID")):
        outcome, data, length, valid = reader.sampling_read(destination, 16, now)
        assert (outcome.status, data, length, valid) == ("OK", b"x", 1, validity)
        _, status = reader.sampling_status(destination)
        assert status is not None and status.last_msg_validity == validity


def test_like_pok_a_message_moves_at_the_end_of_the_sender_s_window(booted: Booted) -> None:
    """like_pok: a write or send waits in the source's outbox until its partition's
    window ends, and then moves, its age counted from the move."""
    image, _ = load(booted.image, booted.builder.gen)
    ports = ModulePorts(image.manifest, like_pok=True)
    producer = PortCalls(ports, TID["producer"])
    reader = PortCalls(ports, TID["reader_a"])
    _, temp_out = producer.sampling_create("temp_out", 16, "SOURCE", 10 * MS, True)
    _, cmd_out = producer.queuing_create("cmd_out", 8, 4, "SOURCE", True)
    _, temp_in = reader.sampling_create("temp_in_a", 16, "DESTINATION", 8 * MS, True)
    _, cmd_in = reader.queuing_create("cmd_in", 8, 3, "DESTINATION", True)
    assert None not in (temp_out, cmd_out, temp_in, cmd_in)
    assert producer.sampling_write(temp_out or 0, b"t", 1 * MS).status == "OK"
    assert producer.queuing_send(cmd_out or 0, b"c").status == "OK"
    assert reader.sampling_read(temp_in or 0, 16, 2 * MS)[0].status == "NO_ACTION"
    assert reader.queuing_receive(cmd_in or 0, 8)[0].status == "NOT_AVAILABLE"
    ports.flush(TID["producer"], 5 * MS)
    assert reader.sampling_read(temp_in or 0, 16, 13 * MS)[1:] == (b"t", 1, "VALID")
    assert reader.queuing_receive(cmd_in or 0, 8)[1] == b"c"


def test_like_pok_a_message_to_a_port_not_created_yet_is_lost(booted: Booted) -> None:
    """POK moves a message only to a destination port that exists; ARINC 653 keeps it."""
    image, _ = load(booted.image, booted.builder.gen)
    for like_pok, kept in ((True, False), (False, True)):
        ports = ModulePorts(image.manifest, like_pok=like_pok)
        producer = PortCalls(ports, TID["producer"])
        reader = PortCalls(ports, TID["reader_a"])
        _, cmd_out = producer.queuing_create("cmd_out", 8, 4, "SOURCE", True)
        assert producer.queuing_send(cmd_out or 0, b"early").status == "OK"
        ports.flush(TID["producer"], 5 * MS)
        _, cmd_in = reader.queuing_create("cmd_in", 8, 3, "DESTINATION", True)
        outcome, data, _ = reader.queuing_receive(cmd_in or 0, 8)
        assert (data == b"early") is kept, (like_pok, outcome)
