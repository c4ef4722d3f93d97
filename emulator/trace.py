"""A Chrome/Perfetto trace of a run: windows, hypercalls, health-monitor events.

The JSON object format (``traceEvents``) opens in ui.perfetto.dev and
chrome://tracing. Timestamps are virtual microseconds; each partition is a
thread of the module's process, so its windows line up on one track.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class Trace:
    def __init__(self, module: str, partitions: list[tuple[int, str]]) -> None:
        self.events: list[dict[str, Any]] = [
            {"ph": "M", "name": "process_name", "pid": 1, "tid": 0, "args": {"name": module}}
        ]
        for tid, name in partitions:
            self.events.append(
                {"ph": "M", "name": "thread_name", "pid": 1, "tid": tid, "args": {"name": name}}
            )

    def window(self, tid: int, start_ns: int, end_ns: int, name: str) -> None:
        self.events.append({"ph": "X", "cat": "window", "name": name, "pid": 1, "tid": tid,
                            "ts": start_ns / 1000, "dur": (end_ns - start_ns) / 1000})

    def instant(self, tid: int, at_ns: int, category: str, name: str, **args: Any) -> None:
        self.events.append({"ph": "i", "s": "t", "cat": category, "name": name, "pid": 1,
                            "tid": tid, "ts": at_ns / 1000, "args": args})

    def write(self, path: Path) -> None:
        document = {"traceEvents": self.events, "displayTimeUnit": "ns"}
        path.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")
