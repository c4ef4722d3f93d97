"""What a module may hold: the limits `pvgen image` refuses a configuration beyond, and the
emulator's loader an image beyond (an image is untrusted input, and may be hand-made).

Each bounds a resource of the run: time that must advance (a major frame and a window of
less than a microsecond would make the run all overhead, and one of 0 ns never ends it) and
the emulator's memory (a CPU per partition, each with its memory mapped, a table entry per
window and port).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

MIN_TIME_NS = 1_000  # the shortest major frame and window
MAX_PARTITIONS = 64
MAX_WINDOWS = 4096  # in the major frame, all partitions together
MAX_PORTS = 1024  # all partitions together
MAX_MODULE_MEMORY = 1 << 30  # the partitions' memory together, in bytes
# What the ports may hold together: for each, its message size times the messages it holds
# (one for a sampling port), in bytes. The emulator's memory for messages stays under it.
MAX_PORT_MEMORY = 1 << 26
MAX_TIME_NS = (1 << 63) - 1  # any time, period or duration: what a signed 64-bit count holds
# A configuration's XML: what reading it may cost is bounded before any check runs.
MAX_ELEMENTS = 16_384  # a module within the limits below has fewer than 8000
MAX_ATTRIBUTES = 64  # on one element


def too_short(what: str, ns: int) -> str | None:
    """Why a major frame or a window of `ns` is refused, if it is."""
    if ns < MIN_TIME_NS:
        return f"{what} lasts {ns} ns, less than the shortest a module may have ({MIN_TIME_NS} ns)"
    return None


class PortSize(Protocol):
    """A port as the limits see it: a configuration's, or an image manifest's."""

    @property
    def max_message_size(self) -> int: ...

    @property
    def max_nb_messages(self) -> int | None: ...  # None: a sampling port, which holds one


class PartitionSize(Protocol):
    """A partition as the limits see it: a configuration's, or an image manifest's."""

    @property
    def memory_size(self) -> int: ...

    @property
    def ports(self) -> Sequence[PortSize]: ...


def beyond_limits(partitions: Sequence[PartitionSize], windows: int) -> list[str]:
    """What of a module's size is beyond the limits, a sentence each (none: within them)."""
    ports = [port for p in partitions for port in p.ports]
    memory = sum(p.memory_size for p in partitions)
    port_bytes = sum(port.max_message_size * (port.max_nb_messages or 1) for port in ports)
    problems = [f"{count} {what}, more than a module may have ({most})"
                for what, count, most in (("partitions", len(partitions), MAX_PARTITIONS),
                                          ("windows", windows, MAX_WINDOWS),
                                          ("ports", len(ports), MAX_PORTS))
                if count > most]
    if memory > MAX_MODULE_MEMORY:
        problems.append(f"the partitions' memory adds up to {memory} bytes, more than a module "
                        f"may have ({MAX_MODULE_MEMORY})")
    if port_bytes > MAX_PORT_MEMORY:
        problems.append(f"the ports may hold {port_bytes} bytes together, more than a module's "
                        f"may ({MAX_PORT_MEMORY})")
    return problems
