"""A POK kernel booted headless under qemu-system-i386, its serial console read as it comes.

POK's console is the PC's first serial port; QEMU gives it to this process on a pipe. The
run ends when the caller's rule says the partitions are done (with a short wait after, so
that what they print after their end is seen too), when the console has gone wrong, when
QEMU exits (POK's shutdown powers the machine off; ``-no-reboot`` turns a triple fault
into an exit), or at the time limit, whichever comes first. TCG only: POK crashes under
KVM. ``-icount`` ties the guest's clock to its instructions, so that POK's 100 kHz timer
does not eat the slots of its partitions under TCG's slow interrupts.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pvgen.pok.errors import PokBuildError, PokError

READY = b"POK kernel initialized\n"  # POK prints it when its partitions start
ICOUNT_SHIFT = 4  # 16 ns of guest time an instruction: POK's slots progress under TCG
SETTLE_SECONDS = 1.0  # how long a run goes on once its partitions are done


class BootProgress(Enum):
    """What the caller makes of the console so far."""

    RUNNING = "running"
    DONE = "done"
    WRONG = "wrong"


@dataclass(frozen=True)
class QemuRun:
    console: str  # what POK printed after READY ("" if it never got there)
    boot_log: str  # everything before it: POK's boot messages
    ended_by: str  # "done" | "wrong" | "exited" | "time limit"
    seconds: float  # QEMU's wall time
    done_seconds: float | None = None  # when the caller's rule said DONE, from QEMU's start


def command(kernel: Path) -> list[str]:
    return ["qemu-system-i386", "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot", "-icount", f"shift={ICOUNT_SHIFT}", "-kernel", str(kernel)]


def boot(kernel: Path, progress: Callable[[str], BootProgress], limit_seconds: float) -> QemuRun:
    """Boot `kernel`, read its console until `progress` says DONE (and SETTLE_SECONDS
    more) or WRONG, QEMU exits, or `limit_seconds` pass."""
    started = time.monotonic()
    try:
        qemu = subprocess.Popen(command(kernel), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise PokError(f"pvgen: error: cannot run qemu-system-i386: {exc.strerror} "
                       "(Debian: apt-get install qemu-system-x86)") from None
    assert qemu.stdout is not None and qemu.stderr is not None
    received, ended_by, done_at = bytearray(), "", None
    with selectors.DefaultSelector() as selector:
        selector.register(qemu.stdout, selectors.EVENT_READ)
        while not ended_by:
            now = time.monotonic()
            end = started + limit_seconds
            if done_at is not None:
                end = min(end, done_at + SETTLE_SECONDS)
            if now >= end:
                ended_by = "time limit" if done_at is None else "done"
            elif selector.select(timeout=min(0.1, end - now)):
                chunk = os.read(qemu.stdout.fileno(), 65536)
                received += chunk
                state = progress(_after_ready(received).decode("utf-8", "replace"))
                if not chunk:
                    ended_by = "exited"
                elif state is BootProgress.WRONG:
                    ended_by = "wrong"
                elif state is BootProgress.DONE and done_at is None:
                    done_at = now
    qemu.kill()
    _, errors = qemu.communicate()
    seconds = time.monotonic() - started
    if ended_by == "exited" and qemu.returncode != 0 and READY not in received:
        raise PokBuildError(f"pvgen: error: {kernel}: QEMU failed: "
                       f"{errors.decode(errors='replace').strip()}")
    head, ready, tail = bytes(received).partition(READY)
    return QemuRun(tail.decode("utf-8", "replace") if ready else "",
                   head.decode("utf-8", "replace"), ended_by, seconds,
                   None if done_at is None else done_at - started)


def _after_ready(received: bytearray) -> bytes:
    _, ready, tail = bytes(received).partition(READY)
    return tail if ready else b""
