"""What an image tells the emulator and `pvgen inspect` about the system it holds.

The manifest is the module configuration reduced to what runs (partitions with
their place in ``partitions.bin``, sizes, entry points, stacks, ports, windows,
channels, health-monitor tables) plus the interface it was built against. It
travels as canonical JSON in the image's ``.pvgen.manifest`` section. This
module only needs the standard library, so that booting an image never pays
for lief or the configuration tooling.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

MANIFEST_FORMAT = 1


class ManifestError(ValueError):
    """The manifest section is not one this version of pvgen can read."""


@dataclass(frozen=True)
class PortEntry:
    name: str
    kind: str  # "sampling" | "queuing"
    direction: str  # "SOURCE" | "DESTINATION"
    max_message_size: int
    refresh_period_ns: int | None
    max_nb_messages: int | None


@dataclass(frozen=True)
class KeptRange:
    """Bytes of a partition that a warm start keeps: an ELF section of its image."""

    section: str
    address: int
    size: int


@dataclass(frozen=True)
class PartitionEntry:
    identifier: int
    name: str
    archive_offset: int  # where its ELF starts in partitions.bin
    file_size: int  # its ELF's size, before POK's padding
    memory_size: int
    stack_size: int
    entry: int
    image_end: int  # highest address its PT_LOAD segments occupy
    timer_period_ns: int | None
    ports: tuple[PortEntry, ...]
    hm_actions: dict[str, str]  # error code -> IGNORE | IDLE | COLD_START | WARM_START
    period_ns: int = 0  # ARINC PERIOD and DURATION (0: an image from before they were recorded)
    duration_ns: int = 0
    warm_start_keeps: tuple[KeptRange, ...] = ()  # in address order; none: a warm start reloads all
    system: bool = False  # a SystemPartition: it may make the calls that act on the module


@dataclass(frozen=True)
class WindowEntry:
    identifier: int
    partition: int
    start_ns: int
    duration_ns: int
    period_start: bool


@dataclass(frozen=True)
class ChannelEntry:
    identifier: int
    source: tuple[int, str]  # (partition identifier, port name)
    destinations: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Manifest:
    module: str
    arch: str
    interface: str
    interface_version: int
    fingerprint: str
    abi: str  # the ABI the guests were built for
    major_frame_ns: int
    partitions: tuple[PartitionEntry, ...]
    windows: tuple[WindowEntry, ...]
    channels: tuple[ChannelEntry, ...]
    hm_levels: dict[str, str]  # error code -> MODULE | PARTITION
    module_hm_actions: dict[str, str]  # error code -> IGNORE | SHUTDOWN | RESET

    def to_json(self) -> bytes:
        document = {"format": MANIFEST_FORMAT, **asdict(self)}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
