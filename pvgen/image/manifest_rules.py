"""The rules a manifest's values keep, checked before anything of an image runs.

`pvgen image` writes only manifests that keep them (its configuration checks are the same
rules, said of XML), but an image is a file a user may be handed: each rule here stands
between a hand-made value and the emulator, which trusts a checked manifest. The rules are
those of values one by one (names, ranges, the words an enumeration has) and those between
them (references from windows and channels to partitions and ports, uniqueness, windows that
do not overlap, the limits of pvgen.limits). Each broken rule is a sentence naming the
element; ``read_manifest`` joins them into its one error.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from enum import Enum

from pvgen.config.model import (
    ErrorCode,
    ErrorLevel,
    ModuleAction,
    PartitionAction,
    PortDirection,
    PortKind,
)
from pvgen.image.manifest import (
    MANIFEST_FORMAT,
    ChannelEntry,
    Manifest,
    ManifestError,
    PartitionEntry,
    PortEntry,
)
from pvgen.image.typed_json import ShapeError, decode
from pvgen.limits import MAX_TIME_NS, beyond_limits, too_short

# What `pvgen image` writes for names (pvgen/config/module.xsd's Name; the definition's and the
# module's identifiers): an image's names become file names (--console-dir) and C identifiers.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,29}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_SECTION = re.compile(r"\.?[A-Za-z0-9_.$-]{1,64}")
_WORD = 1 << 32  # an address, a size or an identifier is a 32-bit word


def broken_rules(manifest: Manifest) -> list[str]:
    """Every rule the manifest breaks, a sentence each (none: it may be booted)."""
    return [*_names(manifest), *_interface(manifest),
            *(problem for p in manifest.partitions for problem in _partition(p)),
            *_tables(manifest), *_windows(manifest), *_channels(manifest), *_limits(manifest)]


def _names(manifest: Manifest) -> Iterator[str]:
    named = [("module", manifest.module, _IDENTIFIER),
             ("interface", manifest.interface, _IDENTIFIER),
             ("ABI", manifest.abi, _IDENTIFIER),
             *(("partition", p.name, _NAME) for p in manifest.partitions),
             *(("port", port.name, _NAME) for p in manifest.partitions for port in p.ports)]
    for what, name, pattern in named:
        if not pattern.fullmatch(name):
            yield (f"the {what} name {name[:64]!r} is not a name (a letter or _, then letters, "
                   "digits and _)")
    yield from _repeated("partition identifier", (p.identifier for p in manifest.partitions))
    yield from _repeated("partition name", (p.name for p in manifest.partitions))


def _interface(manifest: Manifest) -> Iterator[str]:
    if not _FINGERPRINT.fullmatch(manifest.fingerprint):
        yield "the interface fingerprint is not 16 hexadecimal digits"
    if not 0 <= manifest.interface_version < _WORD:
        yield f"the interface version {manifest.interface_version} is not a 32-bit word"


def _partition(p: PartitionEntry) -> Iterator[str]:
    where = f"partition '{p.name[:30]}'"
    for field, value in (("identifier", p.identifier), ("memory_size", p.memory_size),
                         ("stack_size", p.stack_size), ("entry", p.entry),
                         ("image_end", p.image_end), ("archive_offset", p.archive_offset),
                         ("file_size", p.file_size)):
        if not 0 <= value < _WORD:
            yield f"{where}: {field} {value} is not a 32-bit word"
    if not 0 < p.stack_size < p.memory_size:
        yield f"{where}: a stack of {p.stack_size} bytes does not fit its {p.memory_size} bytes"
    if not p.entry < p.memory_size or not p.image_end <= p.memory_size:
        yield f"{where}: its program (entry {p.entry:#x}, end {p.image_end:#x}) lies outside " \
              f"its {p.memory_size} bytes"
    for kept in p.warm_start_keeps:
        if not _SECTION.fullmatch(kept.section):
            yield f"{where}: a kept section's name {kept.section[:64]!r} is not a section name"
        if min(kept.address, kept.size) < 0 or kept.address + kept.size > p.memory_size:
            yield (f"{where}: the section '{kept.section[:64]}' a warm start keeps, at "
                   f"{kept.address:#x}, does not fit its {p.memory_size} bytes")
    yield from _times(where, (("period", p.period_ns), ("duration", p.duration_ns),
                              ("timer period", p.timer_period_ns)))
    if p.duration_ns > p.period_ns:
        yield f"{where}: a duration of {p.duration_ns} ns is longer than its period"
    yield from _repeated(f"{where}: port name", (port.name for port in p.ports))
    for port in p.ports:
        yield from _port(f"{where}: port '{port.name[:30]}'", port)
    yield from _table(f"{where}: HM action", p.hm_actions, PartitionAction)


def _port(where: str, port: PortEntry) -> Iterator[str]:
    yield from _words(where, "kind", [port.kind], PortKind)
    yield from _words(where, "direction", [port.direction], PortDirection)
    if not 0 < port.max_message_size < _WORD:
        yield f"{where}: a message size of {port.max_message_size} bytes"
    sampling = port.kind == PortKind.SAMPLING.value
    if sampling != (port.refresh_period_ns is not None):
        yield f"{where}: a refresh period is for sampling ports, and every one has one"
    if sampling == (port.max_nb_messages is not None):
        yield f"{where}: a message count is for queuing ports, and every one has one"
    if port.max_nb_messages is not None and not 0 < port.max_nb_messages < _WORD:
        yield f"{where}: a queue of {port.max_nb_messages} messages"
    yield from _times(where, (("refresh period", port.refresh_period_ns),))


def _tables(manifest: Manifest) -> Iterator[str]:
    yield from _table("System HM level", manifest.hm_levels, ErrorLevel)
    yield from _table("module HM action", manifest.module_hm_actions, ModuleAction)


def _table(what: str, table: dict[str, str], actions: type[Enum]) -> Iterator[str]:
    yield from _words(what, "error", table, ErrorCode)
    yield from _words(what, "value", table.values(), actions)


def _words(where: str, what: str, words: Iterable[str], kind: type[Enum]) -> Iterator[str]:
    known = {member.value for member in kind}
    for word in words:
        if word not in known:
            yield f"{where}: the {what} {word[:40]!r} is not one of {', '.join(sorted(known))}"


def _times(where: str, times: Iterable[tuple[str, int | None]]) -> Iterator[str]:
    for what, ns in times:
        if ns is not None and not 0 <= ns <= MAX_TIME_NS:
            yield f"{where}: a {what} of {ns} ns is not a time pvgen counts ({0}..{MAX_TIME_NS})"


def _repeated(what: str, values: Iterable[object]) -> Iterator[str]:
    for value, count in Counter(values).items():
        if count > 1:
            yield f"{what} {str(value)[:40]!r} is given {count} times"


def _windows(manifest: Manifest) -> Iterator[str]:
    partitions = {p.identifier for p in manifest.partitions}
    yield from _repeated("window identifier", (w.identifier for w in manifest.windows))
    yield from _times("the module", (("major frame", manifest.major_frame_ns),))
    ends = 0
    for w in sorted(manifest.windows, key=lambda w: w.start_ns):
        where = f"window {w.identifier}"
        if w.partition not in partitions:
            yield f"{where}: no partition has identifier {w.partition}"
        short = too_short(where, w.duration_ns)
        if short:
            yield short
        if w.start_ns < 0 or w.start_ns + w.duration_ns > manifest.major_frame_ns:
            yield f"{where} does not lie in the major frame"
        elif w.start_ns < ends:
            yield f"{where} overlaps the window before it"
        ends = max(ends, w.start_ns + w.duration_ns)


def _channels(manifest: Manifest) -> Iterator[str]:
    ports = {(p.identifier, port.name): port for p in manifest.partitions for port in p.ports}
    yield from _repeated("channel identifier", (c.identifier for c in manifest.channels))
    ends = Counter(end for c in manifest.channels for end in (c.source, *c.destinations))
    for (partition, name), count in ends.items():
        if count > 1:
            yield f"port {name[:30]!r} of partition {partition} is in {count} channels"
    for channel in manifest.channels:
        yield from _channel(channel, ports)


def _channel(channel: ChannelEntry, ports: dict[tuple[int, str], PortEntry]) -> Iterator[str]:
    where = f"channel {channel.identifier}"
    source = ports.get(channel.source)
    ends = [(channel.source, PortDirection.SOURCE)] + [
        (end, PortDirection.DESTINATION) for end in channel.destinations]
    for (partition, name), direction in ends:
        port = ports.get((partition, name))
        if port is None:
            yield f"{where}: partition {partition} has no port named {name[:30]!r}"
        elif port.direction != direction.value:
            yield f"{where}: port {name!r} of partition {partition} is not a {direction.value}"
        elif source is not None and (port.kind, port.max_message_size) != (
                source.kind, source.max_message_size):
            yield f"{where}: port {name!r} of partition {partition} does not carry the " \
                  "source's messages (kind and size)"
    if not channel.destinations:
        yield f"{where} has no destination"
    elif source is not None and source.kind == PortKind.QUEUING.value \
            and len(channel.destinations) > 1:
        yield f"{where} is a queuing channel: it has one destination"


def _limits(manifest: Manifest) -> list[str]:
    problems = beyond_limits(manifest.partitions, len(manifest.windows))
    short = too_short("the major frame", manifest.major_frame_ns)
    return problems + ([short] if short else [])


def read_manifest(data: bytes) -> Manifest:
    """The manifest in ``data``, every field of the type and in the range it must be, and
    every reference leading somewhere: else a ManifestError saying what is wrong."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
        raise ManifestError(f"manifest is not JSON ({exc})") from None
    if not isinstance(document, dict) or document.pop("format", None) != MANIFEST_FORMAT:
        raise ManifestError(f"manifest format is not {MANIFEST_FORMAT}")
    try:
        manifest = decode(Manifest, document)
    except ShapeError as exc:
        raise ManifestError(f"manifest is corrupt: {exc}") from None
    problems = broken_rules(manifest)
    if problems:
        raise ManifestError("manifest is corrupt: " + "; ".join(problems[:_SHOWN]) + (
            f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""))
    return manifest


_SHOWN = 8  # broken rules shown in one error: a hand-made manifest may break thousands
