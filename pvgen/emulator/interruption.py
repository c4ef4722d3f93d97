"""SIGINT and SIGTERM during a run: the CPU stops at once, whatever its guest does.

While a partition runs, the main thread is inside Unicorn, where Python's signal handlers
do not run, and a guest that makes no hypercall never gives them a chance. So the handlers
here do nothing but exist: with them, the C-level handler writes the signal's number to a
wakeup pipe at once (``signal.set_wakeup_fd``), and a thread waiting on that pipe stops the
running CPU, and keeps stopping it until the run has taken notice (a stop that lands just
before a CPU starts would be lost otherwise, as for the watchdog). The run then ends where it
is, like a shutdown, with its summary, its trace and its consoles as far as they went.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
RESTOP_SECONDS = 0.005  # how often the thread stops the CPU again until the run notices


class Interruption:
    """A context in which SIGINT and SIGTERM stop the run: ``requested`` is the signal's
    number once one came (the run's exit status is 128 + it)."""

    def __init__(self, stop_running: Callable[[], None]) -> None:
        """`stop_running`: stops the CPU that runs now, if any (from another thread)."""
        self._stop_running = stop_running
        self.requested: int | None = None
        self._noticed = threading.Event()
        self._handlers: dict[int, object] = {}
        self._pipe: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._old_fd = -1

    def notice(self) -> bool:
        """Whether a signal came; the thread stops stopping the CPU once the run asks and
        the answer is yes."""
        if self.requested is None:
            return False
        self._noticed.set()
        return True

    def __enter__(self) -> Interruption:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach the main thread only: nothing to install here
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._pipe = (read, write)
        self._old_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        for number in SIGNALS:
            self._handlers[number] = signal.signal(number, self._python_handler)
        self._thread = threading.Thread(target=self._watch, name="pvgen-interruption",
                                        daemon=True)
        self._thread.start()
        return self

    def _python_handler(self, number: int, _frame: FrameType | None) -> None:
        """The main thread's own look at the signal, when it runs Python: the pipe has it."""
        self.requested = self.requested or number

    def _watch(self) -> None:
        assert self._pipe is not None
        while True:
            data = os.read(self._pipe[0], 1)
            if not data or data == b"\0":  # the pipe closed, or __exit__ woke the thread
                return
            self.requested = self.requested or data[0]
            while not self._noticed.wait(RESTOP_SECONDS):
                self._stop_running()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._pipe is None:
            return
        signal.set_wakeup_fd(self._old_fd)
        for number, handler in self._handlers.items():
            signal.signal(number, handler)  # type: ignore[arg-type]
        self._noticed.set()
        os.write(self._pipe[1], b"\0")
        assert self._thread is not None
        self._thread.join()
        for descriptor in self._pipe:
            os.close(descriptor)
        self._pipe = None
