"""Module_Schedule: the windows of the major frame, and whether they make a schedule.

Beyond the XSD: window identifiers are unique; no window overlaps another or
runs past the major frame; the major frame is a whole number of each
partition's periods; where PeriodDurationSeconds is given, the partition's
windows in each of its periods add up to it (a window counts in the period it
starts in); every partition has a window. PeriodSeconds defaults to the major
frame, and PartitionPeriodStart to true for the partition's first window in
each of its periods.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from pvgen.config.model import PartitionPeriod, Schedule, Window
from pvgen.config.problems import Problems, line_of
from pvgen.config.references import PartitionIndex
from pvgen.config.unique import FirstSeen
from pvgen.config.values import boolean, format_seconds, seconds
from pvgen.config.xmltree import XmlElement
from pvgen.limits import too_short


@dataclass(frozen=True)
class _Placed:
    """A window that was read, with its element for the messages about it."""

    window: Window
    element: XmlElement


def read_schedule(element: XmlElement, index: PartitionIndex, problems: Problems) -> Schedule:
    """The schedule, with its windows sorted by start."""
    major = seconds(element, "MajorFrameSeconds", problems)
    short = None if major is None else too_short("the major frame", major)
    if short:
        problems.at(element, short, "MajorFrameSeconds")
    identifiers: FirstSeen[int] = FirstSeen()
    placed: list[_Placed] = []
    scheduled: set[int] = set()
    periods: dict[int, PartitionPeriod] = {}
    for partition_schedule in element.children("Partition_Schedule"):
        period = _optional_seconds(partition_schedule, "PeriodSeconds", major, problems)
        duration = _optional_seconds(partition_schedule, "PeriodDurationSeconds", None, problems)
        own = _read_windows(partition_schedule, period, identifiers, problems)
        placed.extend(own)
        if len(own) < len(partition_schedule.children("Window_Schedule")):
            duration = None  # a window's time is wrong (reported): its sum would be too
        partition = index.resolve_own(partition_schedule, problems)
        if partition is None:
            continue
        scheduled.add(partition)
        if major is not None and period is not None:
            name = index.name(partition)
            _check_periods(partition_schedule, name, own, major, period, duration, problems)
            if duration is None:
                duration = sum(p.window.duration_ns for p in own if p.window.start_ns < period)
            periods[partition] = PartitionPeriod(period, duration)
    _check_timeline(placed, major, problems)
    for identifier, partition_element in index.elements.items():
        if identifier not in scheduled:
            problems.at(partition_element, f"partition '{index.name(identifier)}' has no window: "
                        "give it a <Partition_Schedule> in <Module_Schedule>")
    windows = sorted((p.window for p in placed), key=lambda w: (w.start_ns, w.identifier))
    return Schedule(major_frame_ns=major or 0, windows=tuple(windows), periods=periods)


def _optional_seconds(
    element: XmlElement, attribute: str, default: int | None, problems: Problems
) -> int | None:
    if attribute not in element.attrib:
        return default
    return seconds(element, attribute, problems)


def _read_windows(
    partition_schedule: XmlElement,
    period: int | None,
    identifiers: FirstSeen[int],
    problems: Problems,
) -> list[_Placed]:
    """The Window_Schedule elements of one Partition_Schedule whose times are valid."""
    partition = int(partition_schedule.attrib["PartitionIdentifier"])
    placed = []
    for element in partition_schedule.children("Window_Schedule"):
        identifier = int(element.attrib["WindowIdentifier"])
        earlier = identifiers.earlier(identifier, element)
        if earlier is not None:
            problems.at(element, f"window identifier {identifier} is already used "
                        f"({line_of(earlier)})", "WindowIdentifier")
        start = seconds(element, "WindowStartSeconds", problems)
        duration = seconds(element, "WindowDurationSeconds", problems)
        if start is None or duration is None:
            continue
        short = too_short(f"window {identifier}", duration)
        if short:
            problems.at(element, short, "WindowDurationSeconds")
        period_start = boolean(element.get("PartitionPeriodStart", "false"))
        window = Window(identifier, partition, start, duration, period_start, element.location)
        placed.append(_Placed(window, element))
    return _default_period_starts(placed, period)


def _default_period_starts(placed: list[_Placed], period: int | None) -> list[_Placed]:
    """Windows without PartitionPeriodStart start a period when they are its first window.

    Without a valid period the whole frame counts as one period.
    """

    def period_of(window: Window) -> int:
        return window.start_ns // period if period else 0

    firsts: dict[int, _Placed] = {}
    for p in sorted(placed, key=lambda p: p.window.start_ns):
        firsts.setdefault(period_of(p.window), p)
    return [
        p
        if "PartitionPeriodStart" in p.element.attrib
        else _Placed(replace(p.window, period_start=firsts[period_of(p.window)] is p), p.element)
        for p in placed
    ]


def _check_periods(
    partition_schedule: XmlElement,
    name: str,
    own: list[_Placed],
    major: int,
    period: int,
    duration: int | None,
    problems: Problems,
) -> None:
    """The major frame is a whole number of periods, each giving the partition ``duration``."""
    if major % period:
        problems.at(partition_schedule, f"the major frame ({format_seconds(major)}) is not a "
                    "whole number of these periods", "PeriodSeconds")
        return
    if duration is None:
        return
    totals: dict[int, int] = defaultdict(int)
    for p in own:
        if p.window.start_ns < major:  # a later start is reported as running past the frame
            totals[p.window.start_ns // period] += p.window.duration_ns
    # duration > 0, so this stops at the first period without a window at the latest.
    for number in range(major // period):
        if totals[number] != duration:
            problems.at(partition_schedule, f"the windows of partition '{name}' last "
                        f"{format_seconds(totals[number])} in its period from "
                        f"{format_seconds(number * period)}, not {format_seconds(duration)}",
                        "PeriodDurationSeconds")
            return


def _check_timeline(placed: list[_Placed], major: int | None, problems: Problems) -> None:
    """No window runs past the major frame or overlaps another."""
    latest: _Placed | None = None  # of the windows so far, the one that ends last
    for p in sorted(placed, key=lambda p: (p.window.start_ns, p.window.location)):
        window = p.window
        if major is not None and window.end_ns > major:
            problems.at(p.element, f"window {window.identifier} ({_span(window)}) runs past "
                        f"the end of the major frame ({format_seconds(major)})")
        if latest is not None and window.start_ns < latest.window.end_ns:
            problems.at(p.element, f"window {window.identifier} ({_span(window)}) overlaps "
                        f"window {latest.window.identifier} ({_span(latest.window)}, "
                        f"{line_of(latest.element)})")
        if latest is None or window.end_ns > latest.window.end_ns:
            latest = p


def _span(window: Window) -> str:
    return f"{format_seconds(window.start_ns)} to {format_seconds(window.end_ns)}"
