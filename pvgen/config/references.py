"""The partitions by identifier, and the elements that refer to them.

Partition_Memory, Partition_Schedule, Partition_HM_Table and a channel's
Standard_Partition all name a partition by PartitionIdentifier, optionally
with its PartitionName too (as ARINC 653 files often do). Resolving them in one
place gives every such reference the same checks and the same messages.
"""

from __future__ import annotations

from collections.abc import Iterable

from pvgen.config.problems import Problems, line_of
from pvgen.config.unique import FirstSeen
from pvgen.config.xmltree import XmlElement


class PartitionIndex:
    """The first <Partition> declared with each identifier; repeats are reported."""

    def __init__(self, partitions: Iterable[XmlElement], problems: Problems) -> None:
        self.elements: dict[int, XmlElement] = {}
        self._owned: dict[str, FirstSeen[int]] = {}  # per tag: a partition has one such element
        self._repeated = False  # some partition repeats another's identifier
        identifiers: FirstSeen[int] = FirstSeen()
        names: FirstSeen[str] = FirstSeen()
        for element in partitions:
            identifier = int(element.attrib["PartitionIdentifier"])
            name = element.attrib["PartitionName"]
            earlier = identifiers.earlier(identifier, element)
            if earlier is None:
                self.elements[identifier] = element
            else:
                self._repeated = True
                used = f"used by partition '{earlier.attrib['PartitionName']}'"
                problems.at(element, f"identifier {identifier} is already {used} "
                            f"({line_of(earlier)})", "PartitionIdentifier")
            earlier = names.earlier(name, element)
            if earlier is not None:
                used = f"used by partition {int(earlier.attrib['PartitionIdentifier'])}"
                problems.at(element, f"name '{name}' is already {used} ({line_of(earlier)})",
                            "PartitionName")

    def name(self, identifier: int) -> str:
        return self.elements[identifier].attrib["PartitionName"]

    def resolve(self, reference: XmlElement, problems: Problems) -> int | None:
        """The identifier of the partition ``reference`` names; None (reported) if none has it.

        A PartitionName that disagrees is reported, but the identifier still decides which
        partition is meant, so the reference's other checks go on. While a partition repeats
        another's identifier (reported), an unknown identifier is not: it is most likely the
        one the repeat was meant to have.
        """
        identifier = int(reference.attrib["PartitionIdentifier"])
        if identifier not in self.elements:
            if not self._repeated:
                problems.at(reference, f"no partition has identifier {identifier}",
                            "PartitionIdentifier")
            return None
        name = reference.get("PartitionName")
        if name is not None and name != self.name(identifier):
            problems.at(reference, f"partition {identifier} is named '{self.name(identifier)}'",
                        "PartitionName")
        return identifier


    def resolve_own(self, element: XmlElement, problems: Problems) -> int | None:
        """Like resolve, for an element a partition has at most one of (its Partition_Memory,
        Partition_Schedule or Partition_HM_Table): a second one is reported and gives None."""
        identifier = self.resolve(element, problems)
        if identifier is None:
            return None
        earlier = self._owned.setdefault(element.tag, FirstSeen()).earlier(identifier, element)
        if earlier is not None:
            problems.at(element, f"partition '{self.name(identifier)}' already has a "
                        f"<{element.tag}> ({line_of(earlier)})", "PartitionIdentifier")
            return None
        return identifier
