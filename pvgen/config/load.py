"""Load a module configuration: XML → checked Module, or every error found at once.

The stages run in order, and a stage only runs on what the previous one
accepted: well-formed XML, then the structure module.xsd describes, then the
meaning (references, uniqueness, the schedule, channels, memory, files). Each
stage reports all of its own errors together.
"""

from __future__ import annotations

from pathlib import Path

from pvgen.config.channels import read_channels
from pvgen.config.health import read_health_monitor
from pvgen.config.model import ModuleConfig
from pvgen.config.partitions import read_partitions
from pvgen.config.problems import Problems
from pvgen.config.schedule import read_schedule
from pvgen.config.schema import check_structure
from pvgen.config.toolchain import read_toolchain
from pvgen.config.xmltree import XmlElement, parse_xml
from pvgen.diagnostics import Location, SourceText
from pvgen.limits import beyond_limits


def load_module(path: Path) -> ModuleConfig:
    """The module described by the XML file at ``path``.

    Raises ConfigError (every error, each with file:line:col) for a configuration that is not
    well-formed, does not follow module.xsd or does not make sense; PvgenError when the file
    cannot be read.
    """
    source = SourceText.read(path)
    root = parse_xml(source)
    problems = Problems(source)
    check_structure(root, problems)
    problems.raise_if_any()
    module = _read_module(root, path.resolve(), problems)
    problems.raise_if_any()
    return module


def _read_module(root: XmlElement, path: Path, problems: Problems) -> ModuleConfig:
    toolchain = read_toolchain(root.child("Toolchain"), problems)
    partitions, index = read_partitions(root, path.parent, problems)
    schedule_element = root.child("Module_Schedule")
    assert schedule_element is not None  # required by the XSD
    schedule = read_schedule(schedule_element, index, problems)
    by_identifier = {p.identifier: p for p in partitions}
    channels = read_channels(root.child("Connection_Table"), by_identifier, index, problems)
    for problem in beyond_limits(partitions, len(schedule.windows)):
        problems.at(root, problem)
    return ModuleConfig(
        name=root.attrib["ModuleName"],
        source=path,
        partitions=partitions,
        schedule=schedule,
        channels=channels,
        health_monitor=read_health_monitor(root, problems),
        toolchain=toolchain,
        locations=_locations(root),
    )


def _locations(root: XmlElement) -> dict[str, Location]:
    """Module.locations: "<Tag>" or "<Tag>:<PartitionIdentifier>" → where it is written."""
    locations: dict[str, Location] = {}
    schedules = [s for m in root.children("Module_Schedule") for s in m.children()]
    for element in root.children() + schedules:
        identifier = element.get("PartitionIdentifier")
        suffix = "" if identifier is None else f":{int(identifier)}"
        locations.setdefault(element.tag + suffix, element.location)
        guest = element.child("Guest")
        if guest is not None:
            locations.setdefault("Guest" + suffix, guest.location)
    return locations
