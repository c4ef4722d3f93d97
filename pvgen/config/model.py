"""The semantic model of an ARINC 653 module configuration.

Produced by pvgen.config.load from the module XML (after XSD validation and the
semantic checks); read by the guest builder, the image packer, the POK
``deployment.h`` generator and the emulator. Times are integer nanoseconds,
sizes integer bytes. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from pvgen.diagnostics import Location


class PortKind(Enum):
    SAMPLING = "sampling"
    QUEUING = "queuing"


class PortDirection(Enum):
    SOURCE = "SOURCE"
    DESTINATION = "DESTINATION"


class ErrorCode(Enum):
    """ARINC 653 error identifiers the health monitor acts on."""

    DEADLINE_MISSED = "DEADLINE_MISSED"
    APPLICATION_ERROR = "APPLICATION_ERROR"
    NUMERIC_ERROR = "NUMERIC_ERROR"
    ILLEGAL_REQUEST = "ILLEGAL_REQUEST"
    STACK_OVERFLOW = "STACK_OVERFLOW"
    MEMORY_VIOLATION = "MEMORY_VIOLATION"
    HARDWARE_FAULT = "HARDWARE_FAULT"
    POWER_FAIL = "POWER_FAIL"


class ErrorLevel(Enum):
    MODULE = "MODULE"
    PARTITION = "PARTITION"


class PartitionAction(Enum):
    IGNORE = "IGNORE"
    IDLE = "IDLE"
    COLD_START = "COLD_START"
    WARM_START = "WARM_START"


class ModuleAction(Enum):
    IGNORE = "IGNORE"
    SHUTDOWN = "SHUTDOWN"
    RESET = "RESET"


@dataclass(frozen=True)
class Port:
    name: str
    kind: PortKind
    direction: PortDirection
    max_message_size: int
    refresh_period_ns: int | None  # SAMPLING only
    max_nb_messages: int | None  # QUEUING only
    location: Location


@dataclass(frozen=True)
class GuestImage:
    """Where a partition's program comes from: C sources to build, or a ready ELF."""

    sources: tuple[Path, ...]  # absolute paths; empty when elf is given
    elf: Path | None  # absolute path of a prebuilt partition ELF
    runtime: str  # the guest runtime to link sources with: "baremetal"


@dataclass(frozen=True)
class KeptSection:
    """An ELF section of a partition whose bytes a warm start keeps (Warm_Start_Keeps)."""

    name: str
    location: Location


@dataclass(frozen=True)
class PartitionConfig:
    identifier: int
    name: str
    memory_size: int  # bytes: the partition's whole address space [0, memory_size)
    stack_size: int  # bytes, at the top of the partition
    system: bool
    criticality: str
    image: GuestImage
    ports: tuple[Port, ...]
    hm_actions: dict[ErrorCode, PartitionAction]  # from its Partition_HM_Table
    timer_period_ns: int | None  # the virtual timer period the partition starts with
    location: Location
    warm_start_keeps: tuple[KeptSection, ...] = ()  # what survives a warm start

    def port(self, name: str) -> Port | None:
        return next((p for p in self.ports if p.name == name), None)


@dataclass(frozen=True)
class Window:
    identifier: int
    partition: int  # PartitionIdentifier
    start_ns: int  # from the start of the major frame
    duration_ns: int
    period_start: bool
    location: Location

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.duration_ns


# The module's tick: what get_ticks counts for a partition whose virtual timer never ran.
MODULE_TICK_NS = 1_000_000


@dataclass(frozen=True)
class PartitionPeriod:
    """ARINC 653's PERIOD and DURATION of a partition (what GET_PARTITION_STATUS reports)."""

    period_ns: int  # PeriodSeconds; the major frame by default
    duration_ns: int  # PeriodDurationSeconds; by default its windows' time in its first period


@dataclass(frozen=True)
class Schedule:
    major_frame_ns: int
    windows: tuple[Window, ...]  # sorted by start
    periods: dict[int, PartitionPeriod] = field(default_factory=dict)  # by PartitionIdentifier

    def period_of(self, partition: int) -> PartitionPeriod:
        """A partition's period and duration; without a Partition_Schedule's: the major frame,
        and its windows' time in it."""
        given = self.periods.get(partition)
        if given is not None:
            return given
        return PartitionPeriod(self.major_frame_ns,
                               sum(w.duration_ns for w in self.windows_of(partition)))

    def windows_of(self, partition: int) -> tuple[Window, ...]:
        return tuple(w for w in self.windows if w.partition == partition)


@dataclass(frozen=True)
class PortRef:
    partition: int  # PartitionIdentifier
    port: str


@dataclass(frozen=True)
class Channel:
    identifier: int
    source: PortRef
    destinations: tuple[PortRef, ...]
    location: Location


@dataclass(frozen=True)
class HealthMonitorConfig:
    """The System_HM_Table levels and the Module_HM_Table actions."""

    levels: dict[ErrorCode, ErrorLevel]
    module_actions: dict[ErrorCode, ModuleAction]

    def level(self, error: ErrorCode) -> ErrorLevel:
        return self.levels.get(error, ErrorLevel.PARTITION)


@dataclass(frozen=True)
class ToolchainConfig:
    """How guests are compiled: a C compiler command and its cross prefix, per architecture."""

    arch: str  # an architecture of pvgen.arch, e.g. "x86"
    cc: str | None = None  # None: the architecture's default (host gcc -m32 for x86)
    cross_prefix: str = ""


@dataclass(frozen=True)
class ModuleConfig:
    name: str
    source: Path  # the XML file; relative paths in it are relative to its directory
    partitions: tuple[PartitionConfig, ...]  # sorted by identifier
    schedule: Schedule
    channels: tuple[Channel, ...]
    health_monitor: HealthMonitorConfig
    toolchain: ToolchainConfig
    # Where the elements without a location field of their own are, for later stages' messages:
    # "<Tag>" for a module-level element (e.g. "Module_Schedule"), "<Tag>:<PartitionIdentifier>"
    # for a partition's (e.g. "Partition_Memory:1", "Guest:1", "Partition_HM_Table:1").
    locations: dict[str, Location] = field(default_factory=dict, compare=False)

    def partition(self, identifier: int) -> PartitionConfig | None:
        return next((p for p in self.partitions if p.identifier == identifier), None)
