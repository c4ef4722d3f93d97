"""The partitions: identity, program, memory, ports and health-monitor actions together.

A partition's description is spread over the file (its <Partition>, its
Partition_Memory, its Partition_HM_Table); this joins them into the model's
Partition, checking that each partition has memory and that its stack fits.
"""

from __future__ import annotations

from pathlib import Path

from pvgen.config.guest import read_guest
from pvgen.config.health import read_partition_actions
from pvgen.config.memory import read_memory
from pvgen.config.model import PartitionConfig
from pvgen.config.ports import read_ports
from pvgen.config.problems import Problems
from pvgen.config.references import PartitionIndex
from pvgen.config.values import boolean, token
from pvgen.config.xmltree import XmlElement

DEFAULT_CRITICALITY = "LEVEL_E"


def read_partitions(
    root: XmlElement, directory: Path, problems: Problems
) -> tuple[tuple[PartitionConfig, ...], PartitionIndex]:
    """The partitions sorted by identifier, and the index that resolves references to them.

    A partition whose identifier repeats an earlier one is reported and left out, but its own
    contents are still checked.
    """
    index = PartitionIndex(root.children("Partition"), problems)
    memory = read_memory(root.children("Partition_Memory"), index, problems)
    actions = read_partition_actions(root.children("Partition_HM_Table"), index, problems)
    partitions = []
    for element in root.children("Partition"):
        guest_element = element.child("Guest")
        assert guest_element is not None  # required by the XSD
        guest = read_guest(guest_element, directory, problems)
        ports = read_ports(element, problems)
        identifier = int(element.attrib["PartitionIdentifier"])
        if index.elements[identifier] is not element:
            continue
        name = element.attrib["PartitionName"]
        if "EntryPoint" in element.attrib:
            problems.at(element, "a partition starts at its ELF's entry point (e_entry), which "
                        "POK's loader jumps to: link the program with that entry instead "
                        "(e.g. -e SYMBOL)", "EntryPoint")
        own_memory = memory.get(identifier)
        memory_size = None if own_memory is None else own_memory.size
        if memory_size is None:
            problems.at(element, f"partition '{name}' has no <Partition_Memory>")
        elif 0 < memory_size <= guest.stack_size:
            problems.at(guest_element, f"the stack ({guest.stack_size} bytes) leaves no room "
                        f"for the program in the {memory_size} bytes of partition '{name}'",
                        "StackSize")
        partitions.append(
            PartitionConfig(
                identifier=identifier,
                name=name,
                memory_size=memory_size or 0,
                stack_size=guest.stack_size,
                system=boolean(element.get("SystemPartition", "false")),
                criticality=token(element.get("Criticality", DEFAULT_CRITICALITY)),
                image=guest.image,
                ports=ports,
                hm_actions=actions.get(identifier, {}),
                timer_period_ns=guest.timer_period_ns,
                location=element.location,
                warm_start_keeps=() if own_memory is None else own_memory.warm_start_keeps,
            )
        )
    return tuple(sorted(partitions, key=lambda p: p.identifier)), index
