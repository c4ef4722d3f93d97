"""What a hypercall does to its caller besides answering, as values.

A handler (``pvgen.emulator.services``) decides and returns one of these in place of its
answer; the generated dispatcher hands it back unread (its ``Effect``), and the call server
(``pvgen.emulator.calls``) acts on it between the trap and the window loop. So a handler
never stops a CPU, writes a register or blocks a partition itself, and what a call did is
one value to read, not flags left on the partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StopReason(StrEnum):
    """Why a partition's CPU stopped before its window's time ran out."""

    IDLE = "idle"  # it asked to idle until its next window
    MODE = "mode"  # it changed its operating mode
    END = "end"  # its program ended (a `when ... end` rule of the definition)
    FAULT = "fault"  # a CPU exception or a refused call the health monitor acts on
    SHUTDOWN = "shutdown"  # it shut the module down
    STOP = "stop"  # it stopped itself with an error code
    HM = "hm"  # the health monitor acted on it
    WAIT = "wait"  # it waits for a port, until a deadline


@dataclass(frozen=True, slots=True)
class Halt:
    """The caller's CPU stops now, for `reason`; `answer` is the result it finds when it goes
    on (an idle partition resumes after its call), None if it does not go on from there."""

    reason: StopReason
    detail: str = ""
    answer: int | None = None


@dataclass(frozen=True, slots=True)
class Block:
    """The call cannot go on yet: the caller waits in it for at most `timeout_ns`
    (negative: for good), and the call is served again until it answers."""

    timeout_ns: int


@dataclass(frozen=True, slots=True)
class Deliver:
    """The call returns `answer` into the caller's upcall handler for `line` (irq_flash): the
    frame holds the answer, and the handler returns to the caller with interrupts
    enabled again or not (`resumes_enabled`)."""

    line: int
    answer: int
    resumes_enabled: bool


@dataclass(frozen=True, slots=True)
class Resume:
    """The call restored an interrupted context (irq_return): the registers stay as it left
    them, no answer is written."""
