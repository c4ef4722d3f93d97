"""The health monitor tables: which level each error is handled at, and the actions.

System_HM_Table gives each error its level (MODULE or PARTITION) and
Module_HM_Table the module's action for module-level errors; each
Partition_HM_Table gives one partition's actions. pvgen has a single system
state, so the System_State_Entry groups of the system table are merged, and an
error may be listed once per table.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import TypeVar

from pvgen.config.model import (
    ErrorCode,
    ErrorLevel,
    HealthMonitorConfig,
    ModuleAction,
    PartitionAction,
)
from pvgen.config.problems import Problems, line_of
from pvgen.config.references import PartitionIndex
from pvgen.config.unique import FirstSeen
from pvgen.config.values import token
from pvgen.config.xmltree import XmlElement

E = TypeVar("E", bound=Enum)


def read_health_monitor(root: XmlElement, problems: Problems) -> HealthMonitorConfig:
    """The module-wide tables (absent tables are empty)."""
    levels: dict[ErrorCode, ErrorLevel] = {}
    system = root.child("System_HM_Table")
    if system is not None:
        entries = [
            entry
            for state in system.children("System_State_Entry")
            for entry in state.children("Error_ID_Level")
        ]
        levels = _table(system, entries, "ErrorLevel", ErrorLevel, problems)
    actions: dict[ErrorCode, ModuleAction] = {}
    module = root.child("Module_HM_Table")
    if module is not None:
        actions = _table(module, module.children("Error_ID_Action"), "Action", ModuleAction,
                         problems)
    return HealthMonitorConfig(levels=levels, module_actions=actions)


def read_partition_actions(
    tables: Iterable[XmlElement], index: PartitionIndex, problems: Problems
) -> dict[int, dict[ErrorCode, PartitionAction]]:
    """Each Partition_HM_Table's actions by partition identifier."""
    actions = {}
    for table in tables:
        own = _table(table, table.children("Error_ID_Action"), "Action", PartitionAction,
                     problems)
        partition = index.resolve_own(table, problems)
        if partition is not None:
            actions[partition] = own
    return actions


def _table(
    table: XmlElement,
    entries: Iterable[XmlElement],
    attribute: str,
    kind: type[E],
    problems: Problems,
) -> dict[ErrorCode, E]:
    """ErrorIdentifier → the entry's ``attribute`` (an XSD-checked value of ``kind``)."""
    values: dict[ErrorCode, E] = {}
    seen: FirstSeen[ErrorCode] = FirstSeen()
    for entry in entries:
        error = ErrorCode(token(entry.attrib["ErrorIdentifier"]))
        earlier = seen.earlier(error, entry)
        if earlier is not None:
            problems.at(entry, f"{error.value} is already listed in <{table.tag}> "
                        f"({line_of(earlier)})", "ErrorIdentifier")
            continue
        values[error] = kind(token(entry.attrib[attribute]))
    return values
