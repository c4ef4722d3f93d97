"""Connection_Table: the channels between ports, and whether each can carry messages.

Beyond the XSD: channel identifiers are unique; each end names an existing
port of an existing partition; a channel's Source is a SOURCE port and its
Destinations DESTINATION ports of the same kind (sampling or queuing) and the
same MaxMessageSize; a queuing channel has one destination; a port belongs to
at most one channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pvgen.config.model import Channel, PartitionConfig, Port, PortDirection, PortKind, PortRef
from pvgen.config.problems import Problems, line_of
from pvgen.config.references import PartitionIndex
from pvgen.config.unique import FirstSeen
from pvgen.config.xmltree import XmlElement


@dataclass(frozen=True)
class _End:
    """One end of a channel as written, and its port when that exists."""

    reference: PortRef
    port: Port | None
    element: XmlElement  # the Standard_Partition
    description: str  # "port 'out' of partition 'alpha'"


class _Ends:
    """Resolves channel ends to ports, remembering which channel each port is in."""

    def __init__(
        self, partitions: Mapping[int, PartitionConfig], index: PartitionIndex, problems: Problems
    ) -> None:
        self._partitions = partitions
        self._index = index
        self._problems = problems
        self._connected: FirstSeen[tuple[int, str]] = FirstSeen()

    def resolve(self, end: XmlElement, direction: PortDirection, channel: XmlElement) -> _End:
        """The end of ``channel`` written in ``end``; problems with it are reported."""
        standard = end.child("Standard_Partition")
        assert standard is not None  # required by the XSD
        name = standard.attrib["PortName"]
        reference = PortRef(int(standard.attrib["PartitionIdentifier"]), name)
        identifier = self._index.resolve(standard, self._problems)
        if identifier is None:
            return _End(reference, None, standard, "")
        owner = self._index.name(identifier)
        description = f"port '{name}' of partition '{owner}'"
        port = self._partitions[identifier].port(name)
        if port is None:
            self._problems.at(standard, f"partition '{owner}' has no port named '{name}'",
                              "PortName")
        elif port.direction is not direction:
            self._problems.at(standard, f"a channel's <{end.tag}> must be a {direction.value} "
                              f"port, but {description} is a {port.direction.value} port",
                              "PortName")
        earlier = self._connected.earlier((identifier, name), channel)
        if port is not None and earlier is not None:
            self._problems.at(standard, f"{description} is already in channel "
                              f"{int(earlier.attrib['ChannelIdentifier'])} ({line_of(earlier)})",
                              "PortName")
        return _End(reference, port, standard, description)


def read_channels(
    table: XmlElement | None,
    partitions: Mapping[int, PartitionConfig],
    index: PartitionIndex,
    problems: Problems,
) -> tuple[Channel, ...]:
    """The channels sorted by identifier (none without a Connection_Table)."""
    if table is None:
        return ()
    ends = _Ends(partitions, index, problems)
    identifiers: FirstSeen[int] = FirstSeen()
    channels = []
    for channel in table.children("Channel"):
        identifier = int(channel.attrib["ChannelIdentifier"])
        earlier = identifiers.earlier(identifier, channel)
        if earlier is not None:
            problems.at(channel, f"channel identifier {identifier} is already used "
                        f"({line_of(earlier)})", "ChannelIdentifier")
        source_element = channel.child("Source")
        assert source_element is not None  # required by the XSD
        source = ends.resolve(source_element, PortDirection.SOURCE, channel)
        destinations = [
            ends.resolve(end, PortDirection.DESTINATION, channel)
            for end in channel.children("Destination")
        ]
        for destination in destinations:
            _check_match(source, destination, problems)
        if source.port is not None and source.port.kind is PortKind.QUEUING:
            for extra in channel.children("Destination")[1:]:
                problems.at(extra, f"channel {identifier} is a queuing channel: it has one "
                            "destination")
        references = tuple(d.reference for d in destinations)
        channels.append(Channel(identifier, source.reference, references, channel.location))
    return tuple(sorted(channels, key=lambda c: c.identifier))


def _check_match(source: _End, destination: _End, problems: Problems) -> None:
    """A destination carries the source's kind of messages, of the source's size."""
    if source.port is None or destination.port is None:
        return
    if destination.port.kind is not source.port.kind:
        problems.at(destination.element, f"{destination.description} is a "
                    f"{destination.port.kind.value} port, but the channel's source, "
                    f"{source.description}, is a {source.port.kind.value} port", "PortName")
    elif destination.port.max_message_size != source.port.max_message_size:
        problems.at(destination.element, f"{destination.description} has MaxMessageSize "
                    f"{destination.port.max_message_size}, but the channel's source, "
                    f"{source.description}, has {source.port.max_message_size}", "PortName")
