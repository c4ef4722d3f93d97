"""Partition_Memory: how many bytes each partition's address space has.

A partition's memory size is the sum of its Memory_Requirements; POK gives it
one region [0, size) (code, data and stack together), so the CODE/DATA split
and Access are recorded by ARINC 653 tools but do not change the layout.
Each requirement is a whole number of 4 KiB pages: the emulator maps partition
memory with Unicorn, which maps whole pages, and an exact page multiple keeps
an access past the end of the partition a fault there as on POK.
"""

from __future__ import annotations

from collections.abc import Iterable

from pvgen.config.errors import Problems
from pvgen.config.references import PartitionIndex
from pvgen.config.xmltree import XmlElement

PAGE_SIZE = 4096


def read_memory(
    elements: Iterable[XmlElement], index: PartitionIndex, problems: Problems
) -> dict[int, int]:
    """Memory size in bytes by partition identifier, for the partitions that have one."""
    sizes = {}
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
            sizes[partition] = total
    return sizes
