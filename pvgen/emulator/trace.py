"""A Chrome/Perfetto trace of a run: windows, hypercalls, health-monitor events.

The JSON object format (``traceEvents``) opens in ui.perfetto.dev and
chrome://tracing. Timestamps are virtual microseconds; each partition is a
thread of the module's process, so its windows line up on one track.

Events go to the file as they happen, through its buffer: a run that makes millions of
hypercalls keeps none of them in the emulator's memory, and the file is opened before the
run, so a path that cannot be written is said at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pvgen.emulator.errors import EmulatorError


class Trace:
    def __init__(self, path: Path | None, module: str, partitions: list[tuple[int, str]]
                 ) -> None:
        """`path` None: a run without a trace (its callers ask for none: nothing is written)."""
        try:
            self._file = None if path is None else path.open("w", encoding="utf-8")
        except OSError as exc:
            raise EmulatorError(f"pvgen: error: {path}: cannot write the trace: "
                                f"{exc.strerror}") from None
        if self._file is not None:
            self._file.write('{"displayTimeUnit":"ns","traceEvents":[')
        self._first = True
        # a thread per partition, numbered from 1 in the configuration's order (a viewer
        # treats thread 0 as the process's own, and an identifier may be 0)
        self._tids = {identifier: tid for tid, (identifier, _) in enumerate(partitions, 1)}
        self._event({"ph": "M", "name": "process_name", "pid": 1, "tid": 0,
                     "args": {"name": module}})
        for (identifier, name), tid in zip(partitions, self._tids.values(), strict=True):
            self._event({"ph": "M", "name": "thread_name", "pid": 1, "tid": tid,
                         "args": {"name": name, "identifier": identifier}})

    @property
    def enabled(self) -> bool:
        """Whether the run is traced (a run without a trace writes nothing)."""
        return self._file is not None

    def _event(self, event: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(("" if self._first else ",") + json.dumps(event, separators=(",", ":")))
        self._first = False

    def window(self, partition: int, start_ns: int, end_ns: int, name: str) -> None:
        """A window of the partition with this identifier."""
        self._event({"ph": "X", "cat": "window", "name": name, "pid": 1,
                     "tid": self._tids[partition], "ts": start_ns / 1000,
                     "dur": (end_ns - start_ns) / 1000})

    def instant(self, partition: int, at_ns: int, category: str, name: str, **args: Any
                ) -> None:
        """An event of the partition with this identifier."""
        self._event({"ph": "i", "s": "t", "cat": category, "name": name, "pid": 1,
                     "tid": self._tids[partition], "ts": at_ns / 1000, "args": args})

    def frame(self, number: int, start_ns: int) -> None:
        """The start of a major frame, on the module's own track."""
        self._event({"ph": "i", "s": "p", "cat": "frame", "name": f"major frame {number}",
                     "pid": 1, "tid": 0, "ts": start_ns / 1000})

    def counter(self, partition: int, at_ns: int, name: str, value: int) -> None:
        """A value of the partition's at a time, drawn as a counter track of its own."""
        self._event({"ph": "C", "name": name, "pid": 1, "tid": self._tids[partition],
                     "ts": at_ns / 1000, "args": {"value": value}})

    def flow(self, partition: int, at_ns: int, message: int, sent: bool) -> None:
        """One end of a port message's flow: where it was sent or written (`sent`), or where
        it was received or read (a sampling message may be read many times)."""
        event: dict[str, Any] = {"ph": "s" if sent else "f", "cat": "flow", "name": "message",
                                 "id": message, "pid": 1, "tid": self._tids[partition],
                                 "ts": at_ns / 1000}
        if not sent:
            event["bp"] = "e"  # bound to the receive's own instant
        self._event(event)

    def close(self) -> None:
        """End the document (a trace whose run broke off is not valid JSON)."""
        if self._file is not None:
            self._file.write("]}\n")
            self._file.close()
