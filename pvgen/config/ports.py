"""A partition's sampling and queuing ports."""

from __future__ import annotations

from pvgen.config.model import Port, PortDirection, PortKind
from pvgen.config.problems import Problems, line_of
from pvgen.config.unique import FirstSeen
from pvgen.config.values import seconds, token
from pvgen.config.xmltree import XmlElement

_KINDS = {"Sampling_Port": PortKind.SAMPLING, "Queuing_Port": PortKind.QUEUING}


def read_ports(partition: XmlElement, problems: Problems) -> tuple[Port, ...]:
    """The ports of one <Partition>, in the order written; names are unique in a partition."""
    names: FirstSeen[str] = FirstSeen()
    ports = []
    for element in partition.children():
        kind = _KINDS.get(element.tag)
        if kind is None:
            continue
        name = element.attrib["Name"]
        earlier = names.earlier(name, element)
        if earlier is not None:
            owner = partition.attrib["PartitionName"]
            problems.at(element, f"partition '{owner}' already has a port named '{name}' "
                        f"({line_of(earlier)})", "Name")
            continue
        sampling = kind is PortKind.SAMPLING
        ports.append(
            Port(
                name=name,
                kind=kind,
                direction=PortDirection(token(element.attrib["Direction"])),
                max_message_size=int(element.attrib["MaxMessageSize"]),
                refresh_period_ns=(
                    seconds(element, "RefreshRateSeconds", problems) if sampling else None
                ),
                max_nb_messages=None if sampling else int(element.attrib["MaxNbMessages"]),
                location=element.location,
            )
        )
    return tuple(ports)
