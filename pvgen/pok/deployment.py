"""What a real POK build of the same system needs, and rewriting a linked POK kernel.

- ``deployment.h`` / ``deployment.c``: POK's configuration (partitions, sizes,
  the schedule in nanoseconds, ports) for the module.
- ``partitions.bin`` + ``sizes.c``: exactly what POK's make rules produce from
  the partition ELFs (with POK's padding quirk).
- ``rewrite_kernel``: put new partitions into an already linked ``pok.elf``,
  where the blob sits inside ``.data`` between ``__archive2_begin`` and
  ``__archive2_end`` and ``part_sizes`` is a bare uint32 array.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pvgen import lang_c
from pvgen.config.model import Module, PortKind
from pvgen.diagnostics import PvgenError
from pvgen.image.container import pack_archive
from pvgen.model import Interface

# POK's port kinds (middleware/port.h).
_POK_PORT_KIND = {PortKind.QUEUING: "POK_PORT_KIND_QUEUEING", PortKind.SAMPLING:
                  "POK_PORT_KIND_SAMPLING"}
# POK_NEEDS_* a port kind needs.
_POK_PORT_NEEDS = {PortKind.QUEUING: "POK_NEEDS_PORTS_QUEUEING", PortKind.SAMPLING:
                   "POK_NEEDS_PORTS_SAMPLING"}
_BASE_NEEDS = ("POK_NEEDS_TIME", "POK_NEEDS_THREADS", "POK_NEEDS_PARTITIONS", "POK_NEEDS_SCHED",
               "POK_NEEDS_CONSOLE", "POK_NEEDS_DEBUG")


class PokError(PvgenError):
    """The system cannot be expressed for, or written into, a real POK kernel."""

    exit_status = 2


@dataclass(frozen=True)
class PokPort:
    identifier: str  # the C enumerator, <partition>_<port>
    name: str
    partition_index: int
    kind: str  # POK_PORT_KIND_*
    destinations: tuple[str, ...]  # identifiers


@dataclass(frozen=True)
class PokDeployment:
    """The module as POK's configuration macros and tables see it."""

    needs: tuple[str, ...]
    partition_names: tuple[str, ...]
    partition_sizes: tuple[int, ...]
    slots_ns: tuple[int, ...]
    slot_partitions: tuple[int, ...]  # partition index (not identifier) per slot
    major_frame_ns: int
    ports: tuple[PokPort, ...]
    fingerprint: str

    @property
    def nthreads(self) -> tuple[int, ...]:
        """One POK thread per partition: the guest schedules its own threads."""
        return tuple(1 for _ in self.partition_names)

    @property
    def threads(self) -> int:
        """The partitions' threads plus POK's kernel and idle threads."""
        return sum(self.nthreads) + 2

    def ports_of(self, index: int) -> tuple[PokPort, ...]:
        return tuple(p for p in self.ports if p.partition_index == index)

    @property
    def ports_by_partition(self) -> tuple[tuple[str, tuple[PokPort, ...]], ...]:
        """(partition name, its ports) in partition order."""
        return tuple((name, self.ports_of(i)) for i, name in enumerate(self.partition_names))


def deployment(module: Module, iface: Interface) -> PokDeployment:
    """POK's view of the module; refuses what POK's scheduler cannot express."""
    index = {p.identifier: i for i, p in enumerate(module.partitions)}
    cursor = 0
    for window in module.schedule.windows:
        if window.start_ns != cursor:
            raise PokError(
                f"{module.source}: error: POK's schedule has no idle slots, but the windows leave "
                f"{cursor}..{window.start_ns} ns of the major frame unassigned"
            )
        cursor = window.end_ns
    if cursor != module.schedule.major_frame_ns:
        raise PokError(
            f"{module.source}: error: POK's slots must add up to the major frame; the windows end "
            f"at {cursor} ns, the major frame is {module.schedule.major_frame_ns} ns"
        )
    ident = {(p.identifier, port.name): f"{p.name}_{port.name}" for p in module.partitions
             for port in p.ports}
    destinations: dict[str, tuple[str, ...]] = {
        ident[(c.source.partition, c.source.port)]: tuple(
            ident[(d.partition, d.port)] for d in c.destinations)
        for c in module.channels
    }
    ports = tuple(
        PokPort(ident[(p.identifier, port.name)], port.name, index[p.identifier],
                _POK_PORT_KIND[port.kind], destinations.get(ident[(p.identifier, port.name)], ()))
        for p in module.partitions for port in p.ports
    )
    kinds = {port.kind for p in module.partitions for port in p.ports}
    needs = (*_BASE_NEEDS, *sorted(_POK_PORT_NEEDS[k] for k in kinds), *iface.features)
    return PokDeployment(
        needs=tuple(dict.fromkeys(needs)),
        partition_names=tuple(p.name for p in module.partitions),
        partition_sizes=tuple(p.memory_size for p in module.partitions),
        slots_ns=tuple(w.duration_ns for w in module.schedule.windows),
        slot_partitions=tuple(index[w.partition] for w in module.schedule.windows),
        major_frame_ns=module.schedule.major_frame_ns,
        ports=ports,
        fingerprint=iface.fingerprint,
    )


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pvgen.image", "templates"),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False,
    )
    env.filters.update(lang_c.FILTERS)
    return env


def deployment_sources(module: Module, iface: Interface) -> dict[str, str]:
    """deployment.h and deployment.c for a real POK build of the module."""
    pok = deployment(module, iface)
    return {
        name: _templates().get_template(f"{name}.j2").render(pok=pok, module=module.name)
        for name in ("deployment.h", "deployment.c")
    }


def sizes_c(part_sizes: Sequence[int]) -> str:
    """POK's generated sizes.c: the bare array, nothing else."""
    return "#include <types.h>\nuint32_t part_sizes[] = {" + ",".join(
        str(s) for s in part_sizes) + "};\n"


def partitions_bin(partitions: Sequence[bytes]) -> tuple[bytes, str]:
    """partitions.bin and sizes.c, as POK's make rules produce them."""
    blob, sizes = pack_archive(partitions)
    return blob, sizes_c(sizes)


def rewrite_kernel(kernel: Path, partitions: Sequence[bytes]) -> bytes:
    """A linked pok.elf with its partitions replaced; refuses unless counts and room fit."""
    try:
        data = kernel.read_bytes()
        elf = ELFFile(io.BytesIO(data))
        symbols = _symbols(elf)
    except OSError as exc:
        raise PokError(f"{kernel}: error: cannot read: {exc.strerror}") from None
    except (ELFError, struct.error, ValueError) as exc:
        raise PokError(f"{kernel}: error: not a readable ELF file ({exc})") from None
    relink = "relink the kernel with the emitted partitions.bin and sizes.c"
    missing = [s for s in ("__archive2_begin", "__archive2_end", "part_sizes") if s not in symbols]
    if missing:
        raise PokError(f"{kernel}: error: no symbol {', '.join(missing)}: not a linked POK kernel")
    begin, end = symbols["__archive2_begin"], symbols["__archive2_end"]
    blob, sizes = pack_archive(partitions)
    count = _part_sizes_count(data, elf, symbols, begin, end)
    if count != len(partitions):
        raise PokError(
            f"{kernel}: error: the kernel was linked for {count} partition(s), the module has "
            f"{len(partitions)}; {relink}"
        )
    if len(blob) > end - begin:
        raise PokError(
            f"{kernel}: error: the partitions need {len(blob)} bytes, the kernel's archive holds "
            f"{end - begin}; {relink}"
        )
    out = bytearray(data)
    start = _file_offset(elf, begin)
    out[start : start + (end - begin)] = blob + bytes(end - begin - len(blob))
    sizes_at = _file_offset(elf, symbols["part_sizes"])
    out[sizes_at : sizes_at + 4 * count] = struct.pack(f"<{count}I", *sizes)
    return bytes(out)


def _symbols(elf: ELFFile) -> dict[str, int]:
    table = elf.get_section_by_name(".symtab")
    if not isinstance(table, SymbolTableSection):
        return {}
    return {s.name: s["st_value"] for s in table.iter_symbols() if s.name}


def _part_sizes_count(
    data: bytes, elf: ELFFile, symbols: dict[str, int], begin: int, end: int
) -> int:
    """part_sizes has no count: its entries add up to the blob's size (and the blob may be padded).

    The symbol's st_size, when the linker kept it, gives the count directly.
    """
    table = elf.get_section_by_name(".symtab")
    assert isinstance(table, SymbolTableSection)
    size_symbol = next(s for s in table.iter_symbols() if s.name == "part_sizes")
    if size_symbol["st_size"]:
        return int(size_symbol["st_size"]) // 4
    offset, total, count = _file_offset(elf, symbols["part_sizes"]), 0, 0
    while total < end - begin:
        (size,) = struct.unpack_from("<I", data, offset + 4 * count)
        if size == 0:
            break
        total, count = total + size, count + 1
    return count


def _file_offset(elf: ELFFile, address: int) -> int:
    for segment in elf.iter_segments():
        start = segment["p_vaddr"]
        if segment["p_type"] == "PT_LOAD" and start <= address < start + segment["p_filesz"]:
            return int(segment["p_offset"] + address - start)
    raise PokError(f"address {address:#x} is not in the kernel's file")
