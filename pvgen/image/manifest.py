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
import re
from dataclasses import asdict, dataclass
from typing import Any

from pvgen.limits import beyond_limits, too_short

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

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data)
            if document.pop("format") != MANIFEST_FORMAT:
                raise ManifestError(f"manifest format is not {MANIFEST_FORMAT}")
            return _build(document)
        except ManifestError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"manifest is corrupt ({exc.__class__.__name__}: {exc})") from None


# What `pvgen image` writes for names (pvgen/config/module.xsd's Name; the definition's and the
# module's identifiers): an image is untrusted input, and its names become file names
# (--console-dir) and C identifiers, so a name that is not one of these is a corrupt manifest.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,29}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _check_names(manifest: Manifest) -> Manifest:
    named = [("module", manifest.module, _IDENTIFIER), ("interface", manifest.interface,
                                                          _IDENTIFIER),
             ("ABI", manifest.abi, _IDENTIFIER),
             *(("partition", p.name, _NAME) for p in manifest.partitions),
             *(("port", port.name, _NAME) for p in manifest.partitions for port in p.ports)]
    for what, name, pattern in named:
        if not pattern.fullmatch(name):
            raise ManifestError(f"the {what} name {name[:64]!r} is not a name (a letter or _, "
                                "then letters, digits and _)")
    return manifest


def _check_limits(manifest: Manifest) -> Manifest:
    """A manifest within pvgen.limits, and whose windows lie in its major frame."""
    problems = beyond_limits(
        len(manifest.partitions), len(manifest.windows),
        sum(len(p.ports) for p in manifest.partitions),
        sum(p.memory_size for p in manifest.partitions))
    problems += [short for short in (too_short("the major frame", manifest.major_frame_ns),
                                     *(too_short(f"window {w.identifier}", w.duration_ns)
                                       for w in manifest.windows)) if short]
    problems += [f"window {w.identifier} does not lie in the major frame"
                 for w in manifest.windows
                 if w.start_ns < 0 or w.start_ns + w.duration_ns > manifest.major_frame_ns]
    if problems:
        raise ManifestError("; ".join(problems))
    return manifest


def _build(d: dict[str, Any]) -> Manifest:
    return _check_limits(_check_names(Manifest(
        module=str(d["module"]),
        arch=str(d["arch"]),
        interface=str(d["interface"]),
        interface_version=int(d["interface_version"]),
        fingerprint=str(d["fingerprint"]),
        abi=str(d["abi"]),
        major_frame_ns=int(d["major_frame_ns"]),
        partitions=tuple(
            PartitionEntry(
                **{**p, "ports": tuple(PortEntry(**port) for port in p["ports"]),
                   "warm_start_keeps": tuple(KeptRange(**kept)
                                             for kept in p.get("warm_start_keeps", ()))}
            )
            for p in d["partitions"]
        ),
        windows=tuple(WindowEntry(**w) for w in d["windows"]),
        channels=tuple(
            ChannelEntry(
                identifier=int(c["identifier"]),
                source=(int(c["source"][0]), str(c["source"][1])),
                destinations=tuple((int(p), str(n)) for p, n in c["destinations"]),
            )
            for c in d["channels"]
        ),
        hm_levels=dict(d["hm_levels"]),
        module_hm_actions=dict(d["module_hm_actions"]),
    )))
