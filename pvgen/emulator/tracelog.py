"""A run read back from its trace, for `pvgen inspect TRACE`: the HM log and the port traffic.

A trace (``pvgen boot --trace``, written by pvgen/emulator/trace.py) is what a run leaves behind,
so it is where its health-monitor log can be read again after the console has scrolled
away. Each ``hm`` instant becomes the HmEvent the run logged (the partition from the
thread's name, the time back in nanoseconds) and is printed by pvgen.emulator.hm.log_lines, the
rendering the run used at exit, so the two agree to the letter. The ``port`` instants are
counted per partition. Only the standard library and pvgen.emulator.hm: inspecting a trace never
loads Unicorn. A file that is not what pvgen/emulator/trace.py writes is an InputError saying why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pvgen.diagnostics import InputError
from pvgen.emulator.hm import KEPT_EVENTS, HmEvent, log_lines

_T = TypeVar("_T")

# The port calls that move a message, and the PortTraffic count each adds to when it does.
_MOVES = {"sampling_write": "written", "sampling_read": "read", "queuing_send": "sent",
          "queuing_receive": "received"}


@dataclass
class Refusal:
    """Port calls refused alike (the same call on the same port, status and reason): how
    many, and when the first was."""

    count: int
    first_ns: int


@dataclass
class PortTraffic:
    """A partition's messages through its ports, counted from the trace's ``port`` instants:
    the calls that moved one, and the calls of any kind refused (any status but OK), grouped
    by call, status and the reason the run gave."""

    written: int = 0
    read: int = 0
    sent: int = 0
    received: int = 0
    refused: int = 0
    refusals: dict[tuple[str, str, str], Refusal] = field(default_factory=dict)

    def refuse(self, call: str, status: str, reason: str, at_ns: int) -> None:
        self.refused += 1
        seen = self.refusals.setdefault((call, status, reason), Refusal(0, at_ns))
        seen.count += 1

    def __str__(self) -> str:
        return (f"{self.written} written, {self.read} read, {self.sent} sent, "
                f"{self.received} received, {self.refused} refused")

    def refusal_lines(self) -> list[str]:
        """Each kind of refusal, the earliest first: the call, its status and why."""
        return [f"refused {call}: {status}{f' ({reason})' if reason else ''}, "
                f"{seen.count} time(s), first at {seen.first_ns / 1e9:.6f} s"
                for (call, status, reason), seen
                in sorted(self.refusals.items(), key=lambda item: item[1].first_ns)]


@dataclass(frozen=True)
class RunLog:
    """What `pvgen inspect` tells of a run from its trace."""

    module: str
    partitions: tuple[str, ...]  # in the trace's order
    hm_log: tuple[HmEvent, ...]  # in the order the run logged them, the first KEPT_EVENTS
    hm_events: int  # all the trace holds
    ports: dict[str, PortTraffic] = field(default_factory=dict)  # partitions with port events


class _NotATrace(ValueError):
    """The document is JSON but not a pvgen trace; read_trace names the file."""


def read_trace(path: Path) -> RunLog:
    """The run's log from the trace file at ``path``; an InputError if it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text, so not a trace") from None
    except OSError as exc:
        raise InputError(path, f"cannot read it: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON (line {exc.lineno} column {exc.colno}: "
                         f"{exc.msg})") from None
    try:
        return parse_trace(document)
    except _NotATrace as exc:
        raise InputError(path, f"not a trace of `pvgen boot --trace`: {exc}") from None


def parse_trace(document: object) -> RunLog:
    """The run's log from a decoded trace document; _NotATrace says what is missing."""
    if not isinstance(document, dict) or not isinstance(document.get("traceEvents"), list):
        raise _NotATrace("no 'traceEvents' list")
    events: list[Any] = document["traceEvents"]
    module, names = _named(events)
    hm_log: list[HmEvent] = []
    hm_events = 0
    traffic: dict[str, PortTraffic] = {}
    for index, event in enumerate(events):
        if event.get("ph") != "i" or event.get("cat") not in ("hm", "port"):
            continue
        where = f"traceEvents[{index}] ({event['cat']})"
        tid = _get(event, "tid", int, where)
        if tid not in names:
            raise _NotATrace(f"{where} is on thread {tid}, which no 'thread_name' event names")
        args = _get(event, "args", dict, where)
        if event["cat"] == "hm":
            hm_events += 1
            if len(hm_log) == KEPT_EVENTS:
                continue  # kept as the run keeps them, so the two logs agree
            hm_log.append(HmEvent(
                _ns(event, where), names[tid], _get(event, "name", str, where),
                *(_get(args, key, str, f"{where}'s args") for key in ("detail", "level",
                                                                       "action"))))
        else:
            count = traffic.setdefault(names[tid], PortTraffic())
            name = _get(event, "name", str, where)
            call = name.split(" ", 1)[0]
            status = _get(args, "status", str, f"{where}'s args")
            if status != "OK":
                reason = args.get("reason")
                count.refuse(name, status, reason if isinstance(reason, str) else "",
                             _ns(event, where))
            elif call in _MOVES:
                setattr(count, _MOVES[call], getattr(count, _MOVES[call]) + 1)
    partitions = tuple(names.values())
    return RunLog(module, partitions, tuple(hm_log), hm_events,
                  {name: traffic[name] for name in partitions if name in traffic})


def _named(events: list[Any]) -> tuple[str, dict[int, str]]:
    """The module's name and each thread's (a partition's) from the metadata events."""
    module: str | None = None
    names: dict[int, str] = {}
    for index, event in enumerate(events):
        where = f"traceEvents[{index}]"
        if not isinstance(event, dict):
            raise _NotATrace(f"{where} is not an object")
        if event.get("ph") == "M" and event.get("name") in ("process_name", "thread_name"):
            name = _get(_get(event, "args", dict, where), "name", str, f"{where}'s args")
            if event["name"] == "process_name":
                module = name
            else:
                names[_get(event, "tid", int, where)] = name
    if module is None:
        raise _NotATrace("no 'process_name' event naming the module")
    return module, names


def format_run_log(path: Path, log: RunLog) -> str:
    """`pvgen inspect TRACE`'s report: a header, the HM log as the run printed it at exit, and
    each partition's port traffic if it had any."""
    lines = [f"trace {path}: module {log.module}, {len(log.partitions)} partition(s)",
             *log_lines(log.hm_log, log.hm_events)]
    if log.ports:
        lines.append("  port traffic:")
        for name, count in log.ports.items():
            lines += [f"    {name}: {count}", *(f"      {r}" for r in count.refusal_lines())]
    return "\n".join(lines) + "\n"


def _get(obj: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T:
    """obj[key] if it is a `kind` (a bool is no number here), else _NotATrace."""
    value = obj.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _NotATrace(f"{where} has no {key!r} {_KINDS.get(kind, kind.__name__)}")
    return value


def _ns(event: Mapping[str, Any], where: str) -> int:
    """The event's time in nanoseconds: the trace holds ns / 1000 as a double, which JSON
    carries exactly and which rounds back to the very nanosecond (runs are far below 2**53 ns)."""
    ts = event.get("ts")
    if not isinstance(ts, int | float) or isinstance(ts, bool) or ts < 0:
        raise _NotATrace(f"{where} has no 'ts' time")
    return round(ts * 1000)


_KINDS: dict[type, str] = {str: "string", int: "whole number", dict: "object"}
