"""Partition_Memory: how many bytes each partition's address space has.

A partition's memory size is the sum of its Memory_Requirements; POK gives it
one region [0, size) (code, data and stack together), so the CODE/DATA split
and Access are recorded by ARINC 653 tools but do not change the layout.
Each requirement is a whole number of 4 KiB pages: the emulator maps partition
memory with Unicorn, which maps whole pages, and an exact page multiple keeps
an access past the end of the partition a fault there as on POK.

What a warm start keeps is also the partition's memory: each Warm_Start_Keeps
names an ELF section whose bytes survive a warm start (a cold start, and a
warm one by default, reload everything from the image, as POK does). The
section is found in the partition's ELF when the image is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pvgen.config.model import KeptSection
from pvgen.config.problems import Problems
from pvgen.config.references import PartitionIndex
from pvgen.config.xmltree import XmlElement

PAGE_SIZE = 4096


@dataclass(frozen=True)
class PartitionMemory:
    size: int  # bytes
    warm_start_keeps: tuple[KeptSection, ...]


def read_memory(
    elements: Iterable[XmlElement], index: PartitionIndex, problems: Problems
) -> dict[int, PartitionMemory]:
    """Each partition's memory by identifier, for the partitions that have one."""
    memories = {}
    for element in elements:
        total = 0
        for requirement in element.children("Memory_Requirements"):
            size = int(requirement.attrib["SizeBytes"])
            if size % PAGE_SIZE:
                problems.at(requirement, f"not a multiple of {PAGE_SIZE} bytes (a page)",
                            "SizeBytes")
            total += size
        if total == 0:
            problems.at(element, "no memory: its Memory_Requirements add up to 0 bytes")
        partition = index.resolve_own(element, problems)
        if partition is not None:
            memories[partition] = PartitionMemory(total, _kept_sections(element, problems))
    return memories


def _kept_sections(element: XmlElement, problems: Problems) -> tuple[KeptSection, ...]:
    """The sections a warm start keeps, each named once."""
    kept: dict[str, KeptSection] = {}
    for keep in element.children("Warm_Start_Keeps"):
        name = keep.attrib["Section"]
        if name in kept:
            problems.at(keep, f"section '{name}' is already kept (line "
                        f"{kept[name].location.line})", "Section")
        else:
            kept[name] = KeptSection(name, keep.attribute_location("Section"))
    return tuple(kept.values())
