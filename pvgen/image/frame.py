"""The configured schedule at a glance (`pvgen inspect --schedule`), without running it.

A module configuration or an image's manifest becomes one ``Frame``: the major frame, each
partition's ARINC period and duration (which its windows give it in every period: the
configuration's checks and the manifest's rules hold them to it), and its windows. From it
come each partition's share of the frame and of its period, an SVG of one major frame, a row
per partition, and the same windows as a Trace Event Format document, to open in Perfetto
beside a run's trace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from xml.sax.saxutils import escape

from pvgen.config.model import ModuleConfig
from pvgen.image.manifest import Manifest


@dataclass(frozen=True)
class FramePartition:
    identifier: int
    name: str
    period_ns: int
    duration_ns: int  # what ARINC 653's DURATION promises in each period
    windows: tuple[tuple[int, int], ...]  # (start, duration) in the major frame

    @property
    def time_ns(self) -> int:
        """Its windows' time in a major frame."""
        return sum(duration for _, duration in self.windows)


@dataclass(frozen=True)
class Frame:
    module: str
    major_frame_ns: int
    partitions: tuple[FramePartition, ...]

    @classmethod
    def of_config(cls, config: ModuleConfig) -> Frame:
        schedule = config.schedule
        return cls(config.name, schedule.major_frame_ns, tuple(
            FramePartition(p.identifier, p.name, schedule.period_of(p.identifier).period_ns,
                           schedule.period_of(p.identifier).duration_ns,
                           tuple((w.start_ns, w.duration_ns)
                                 for w in schedule.windows_of(p.identifier)))
            for p in config.partitions))

    @classmethod
    def of_manifest(cls, manifest: Manifest) -> Frame:
        def windows(identifier: int) -> tuple[tuple[int, int], ...]:
            return tuple((w.start_ns, w.duration_ns) for w in manifest.windows
                         if w.partition == identifier)

        return cls(manifest.module, manifest.major_frame_ns, tuple(
            FramePartition(p.identifier, p.name, p.period_ns or manifest.major_frame_ns,
                           p.duration_ns or sum(d for _, d in windows(p.identifier)),
                           windows(p.identifier))
            for p in manifest.partitions))

    def shares(self) -> str:
        """Each partition's share of the major frame and of its period, as text."""
        rows = [("partition", "windows", "of the frame", "period ms", "duration ms",
                 "of its period")]
        rows += [(p.name, str(len(p.windows)), f"{p.time_ns / self.major_frame_ns:.1%}",
                  _ms(p.period_ns), _ms(p.duration_ns), f"{p.duration_ns / p.period_ns:.1%}")
                 for p in self.partitions]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                 for r in rows]
        idle = self.major_frame_ns - sum(p.time_ns for p in self.partitions)
        return "\n".join([f"module {self.module}: major frame {_ms(self.major_frame_ns)} ms, "
                          f"{idle / self.major_frame_ns:.1%} of it in no window", *lines]) + "\n"

    def svg(self) -> str:
        """One major frame, a row per partition, its windows as bars, a millisecond axis."""
        width, left, row = 800, 120, 28
        scale = width / self.major_frame_ns
        height = row * (len(self.partitions) + 1) + 10
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" '
                 f'height="{height}" font-family="sans-serif" font-size="12">',
                 f"<title>{escape(self.module)}: major frame {_ms(self.major_frame_ns)} "
                 f"ms</title>"]
        for i, p in enumerate(self.partitions):
            y = 10 + i * row
            parts.append(f'<text x="4" y="{y + 17}">{escape(p.name)}</text>')
            parts += [f'<rect x="{left + start * scale:.2f}" y="{y}" '
                      f'width="{max(duration * scale, 0.5):.2f}" height="{row - 6}" '
                      f'fill="{_COLOURS[i % len(_COLOURS)]}"><title>{escape(p.name)}: '
                      f"{_ms(start)} ms + {_ms(duration)} ms</title></rect>"
                      for start, duration in p.windows]
        axis = 10 + len(self.partitions) * row
        parts.append(f'<line x1="{left}" y1="{axis}" x2="{left + width}" y2="{axis}" '
                     'stroke="black"/>')
        for tick in _ticks(self.major_frame_ns):
            x = left + tick * scale
            parts.append(f'<line x1="{x:.2f}" y1="{axis}" x2="{x:.2f}" y2="{axis + 4}" '
                         f'stroke="black"/><text x="{x:.2f}" y="{axis + 16}" '
                         f'text-anchor="middle">{_ms(tick)}</text>')
        return "\n".join([*parts, "</svg>"]) + "\n"

    def trace(self) -> str:
        """The windows of one major frame as a Trace Event Format document: a thread per
        partition, numbered from 1 in the configuration's order (never 0)."""
        events: list[dict[str, object]] = [
            {"ph": "M", "name": "process_name", "pid": 1, "tid": 0,
             "args": {"name": f"{self.module} (configured)"}}]
        for tid, p in enumerate(self.partitions, start=1):
            events.append({"ph": "M", "name": "thread_name", "pid": 1, "tid": tid,
                           "args": {"name": p.name}})
            events += [{"ph": "X", "cat": "window", "name": p.name, "pid": 1, "tid": tid,
                        "ts": start / 1000, "dur": duration / 1000}
                       for start, duration in p.windows]
        return json.dumps({"displayTimeUnit": "ns", "traceEvents": events}, indent=0) + "\n"


_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
            "#ff9da7")


def _ms(ns: int) -> str:
    return f"{ns / 1_000_000:g}"


def _ticks(frame_ns: int) -> list[int]:
    """At most eleven round ticks over the frame: a step of 1, 2 or 5 times a power of ten ns."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if frame_ns <= 10 * step:
                return list(range(0, frame_ns + 1, step))
        power *= 10
