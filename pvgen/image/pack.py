"""Module configuration + built partitions → the image file's bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Protocol

from pvgen.config.model import ErrorCode, ModuleConfig
from pvgen.image.container import pack_archive, pok_padded, write_image
from pvgen.image.manifest import (
    ChannelEntry,
    Manifest,
    PartitionEntry,
    PortEntry,
    WindowEntry,
)
from pvgen.image.warm import kept_ranges
from pvgen.model import Interface


class BuiltPartition(Protocol):
    """What the packer needs of a partition ELF (pvgen.image.elf.PartitionElf has it)."""

    @property
    def data(self) -> bytes: ...
    @property
    def entry(self) -> int: ...
    @property
    def image_end(self) -> int: ...
    @property
    def path(self) -> Path: ...
    @property
    def sections(self) -> Mapping[str, tuple[int, int]]: ...
    @property
    def symbols(self) -> Mapping[str, int]: ...


def _by_value(table: Mapping[ErrorCode, Enum]) -> dict[str, str]:
    """An HM table keyed and valued by the enums' names, in a stable order."""
    return {error.value: action.value for error, action in sorted(
        table.items(), key=lambda item: item[0].value)}


def build_manifest(
    module: ModuleConfig, built: Sequence[BuiltPartition], iface: Interface, abi: str
) -> Manifest:
    partitions = []
    offset = 0
    for part, elf in zip(module.partitions, built, strict=True):
        partitions.append(
            PartitionEntry(
                identifier=part.identifier,
                name=part.name,
                archive_offset=offset,
                file_size=len(elf.data),
                memory_size=part.memory_size,
                stack_size=part.stack_size,
                entry=elf.entry,
                image_end=elf.image_end,
                timer_period_ns=part.timer_period_ns,
                system=part.system,
                ports=tuple(
                    PortEntry(
                        name=port.name,
                        kind=port.kind.value,
                        direction=port.direction.value,
                        max_message_size=port.max_message_size,
                        refresh_period_ns=port.refresh_period_ns,
                        max_nb_messages=port.max_nb_messages,
                    )
                    for port in part.ports
                ),
                hm_actions=_by_value(part.hm_actions),
                period_ns=module.schedule.period_of(part.identifier).period_ns,
                duration_ns=module.schedule.period_of(part.identifier).duration_ns,
                warm_start_keeps=kept_ranges(part, str(elf.path), elf.sections, elf.symbols),
            )
        )
        offset += pok_padded(len(elf.data))
    hm = module.health_monitor
    return Manifest(
        module=module.name,
        arch=module.toolchain.arch,
        interface=iface.name,
        interface_version=iface.version,
        fingerprint=iface.fingerprint,
        abi=abi,
        major_frame_ns=module.schedule.major_frame_ns,
        partitions=tuple(partitions),
        windows=tuple(
            WindowEntry(w.identifier, w.partition, w.start_ns, w.duration_ns, w.period_start)
            for w in module.schedule.windows
        ),
        channels=tuple(
            ChannelEntry(
                c.identifier,
                (c.source.partition, c.source.port),
                tuple((d.partition, d.port) for d in c.destinations),
            )
            for c in module.channels
        ),
        hm_levels=_by_value(hm.levels),
        module_hm_actions=_by_value(hm.module_actions),
    )


def pack_image(manifest: Manifest, built: Sequence[BuiltPartition], definition: bytes = b""
               ) -> bytes:
    """The image: the partitions, the manifest, and the text of the definition they were
    built against (empty: the image boots only with its generated directory)."""
    archive, sizes = pack_archive([elf.data for elf in built])
    return write_image(manifest.arch, archive, sizes, manifest.to_json(), manifest.fingerprint,
                       definition)
