"""Load a partition's ELF file the way POK will load it: checked, and linked at 0.

POK copies each PT_LOAD segment of a partition's ELF to the partition's base
plus p_vaddr, zero-fills it to p_memsz, and jumps to e_entry: the file must be
an ELF32 executable for the right machine, linked at 0, whose segments and
stack fit the partition's memory. Everything else is refused here, with the
file named, before it could fault inside a running kernel.

A guest linked elsewhere is moved to 0 when it carries its relocations
(pvgen.image.relocate plans it, pvgen.image.rewrite writes it with lief); the
result is read back and checked before it is used.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pvgen.image.elfview import ElfError, ElfView, Segment, read_view
from pvgen.image.relocate import RebasePlan, has_relocations, plan_rebase
from pvgen.image.rewrite import rewrite

__all__ = ["ElfError", "LoadSegment", "PartitionElf", "load_partition_elf"]

# The machine each architecture's partitions must be built for, as pyelftools names it.
MACHINES = {"x86": "EM_386", "arm": "EM_ARM"}
_STT_SECTION = 3
_STT_FILE = 4
_STB_LOCAL = 0


@dataclass(frozen=True)
class LoadSegment:
    """A PT_LOAD segment as POK copies it: ``data`` to vaddr, zeros up to memsz."""

    vaddr: int
    memsz: int
    filesz: int
    flags: int
    data: bytes


@dataclass(frozen=True)
class PartitionElf:
    """A partition ELF ready for the image: ``data`` is a file linked at 0."""

    path: Path
    arch: str
    entry: int
    segments: tuple[LoadSegment, ...]  # sorted by vaddr
    image_end: int  # the highest vaddr + memsz: the partition memory the image takes
    data: bytes
    symbols: dict[str, int]  # .symtab's defined symbols; a global wins over a local namesake
    sections: dict[str, tuple[int, int]]  # the allocated sections' (address, size) by name
    rebased_from: int | None  # the address it was linked at, when it was rewritten


def load_partition_elf(
    path: Path, arch: str, memory_size: int, stack_size: int
) -> PartitionElf:
    """Read, check and if need be rebase the ELF of a partition of ``memory_size`` bytes."""
    file = str(path)
    machine = MACHINES.get(arch)
    if machine is None:
        raise ElfError(file, f"no partition ELF support for architecture '{arch}' "
                             f"(supported: {', '.join(MACHINES)})")
    data = _read(path)
    view = read_view(file, data)
    _check_kind(view, arch, machine)
    loads = _checked_loads(view)
    base = loads[0].vaddr
    _check_entry(view, loads)
    _check_fits(view, max(s.end for s in loads) - base, stack_size, memory_size)
    if base == 0 and not _has_dynamic_rela(view):
        return _partition(path, arch, view, None)
    if not has_relocations(view):
        raise view.error(
            f"linked at {base:#x} and carries no relocations; link at 0 or with --emit-relocs"
        )
    # RELA dynamic relocations leave their fields to the loader, which POK does not
    # have: even a PIE linked at 0 is rewritten (by 0) so the fields hold their values.
    plan = plan_rebase(view, arch, base)
    rebased = read_view(file, rewrite(file, data, plan))
    _verify(view, rebased, plan)
    return _partition(path, arch, rebased, base)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ElfError(str(path), "no such file") from None
    except OSError as exc:
        raise ElfError(str(path), f"cannot read: {exc.strerror}") from None


def _check_kind(view: ElfView, arch: str, machine: str) -> None:
    if view.type == "ET_REL":
        raise view.error("relocatable object file (ET_REL), not a linked partition: link it first")
    if view.type == "ET_CORE":
        raise view.error("core dump (ET_CORE), not a partition executable")
    if view.type not in ("ET_EXEC", "ET_DYN"):
        raise view.error(f"ELF type {view.type} is not an executable (ET_EXEC or ET_DYN)")
    if view.machine != machine:
        raise view.error(f"machine is {view.machine}, but {arch} partitions are {machine}")


def _checked_loads(view: ElfView) -> list[Segment]:
    """The PT_LOAD segments that occupy memory, sorted by address, each loadable and none
    overlapping. An empty one (p_memsz 0: a linker script's data segment when the program has
    no data) loads nothing and overlaps nothing, so it is left out.

    Every segment's file bytes must be in the file, loaded or not: a PT_DYNAMIC
    pointing 3 GB past the end made lief allocate 14 GB.
    """
    loads = sorted((s for s in view.segments if s.type == "PT_LOAD"), key=lambda s: s.vaddr)
    if not loads:
        raise view.error("no PT_LOAD segment: nothing to load")
    for segment in view.segments:
        if segment.offset + segment.filesz > len(view.data):
            raise view.error(
                f"{segment.describe()}: its file bytes [{segment.offset:#x}, "
                f"{segment.offset + segment.filesz:#x}) lie beyond the end of the file "
                f"({len(view.data)} bytes)"
            )
    for segment in loads:
        if segment.filesz > segment.memsz:
            raise view.error(
                f"{segment.describe()} has p_filesz {segment.filesz:#x} > "
                f"p_memsz {segment.memsz:#x}"
            )
        if segment.end > 1 << 32:
            raise view.error(f"{segment.describe()} wraps around the 32-bit address space")
    loads = _occupying(loads)
    if not loads:
        raise view.error("its PT_LOAD segments are all empty: nothing to load")
    for first, second in itertools.pairwise(loads):
        if first.end > second.vaddr:
            raise view.error(f"{first.describe()} and {second.describe()} overlap")
    return loads


def _occupying(segments: Iterable[Segment]) -> list[Segment]:
    """The PT_LOAD segments that occupy memory: an empty one (p_memsz 0) loads nothing."""
    return [s for s in segments if s.type == "PT_LOAD" and s.memsz]


def _check_entry(view: ElfView, loads: list[Segment]) -> None:
    if not any(s.vaddr <= view.entry < s.end for s in loads):
        ranges = ", ".join(f"[{s.vaddr:#x}, {s.end:#x})" for s in loads)
        raise view.error(f"entry point {view.entry:#x} is outside the loaded segments ({ranges})")


def _check_fits(view: ElfView, span: int, stack_size: int, memory_size: int) -> None:
    need = span + stack_size
    if need > memory_size:
        raise view.error(
            f"image ({span:#x} bytes) and stack ({stack_size:#x} bytes) need {need:#x} bytes, "
            f"{need - memory_size:#x} more than the partition's {memory_size:#x}"
        )


def _has_dynamic_rela(view: ElfView) -> bool:
    return any(s.type == "SHT_RELA" and s.alloc for s in view.sections)


def _verify(before: ElfView, after: ElfView, plan: RebasePlan) -> None:
    """Re-read the rewritten file: every address moved as planned, nothing was laid out anew.

    Sizes are compared for PT_LOAD segments only: lief rebuilds .shstrtab (merging
    name suffixes) and .dynamic (dropping the DT_NULL padding), which shrinks
    both in place and changes nothing that is loaded or named.
    """
    delta = plan.delta
    problems = []
    if len(after.data) != len(before.data):
        problems.append(f"the file size changed from {len(before.data)} to {len(after.data)}")
    if after.entry != before.entry - delta:
        problems.append(f"the entry point is {after.entry:#x}, not {before.entry - delta:#x}")
    if [_placed(s, plan.segments, delta) for s in before.segments] != [
        _placed(s, (), 0) for s in after.segments
    ]:
        problems.append("the program headers are not the planned ones")
    if [(s.name, s.offset, s.addr - (delta if s.index in plan.sections else 0))
            for s in before.sections] != [(s.name, s.offset, s.addr) for s in after.sections]:
        problems.append("the section headers are not the planned ones")
    if min(s.vaddr for s in _occupying(after.segments)) != 0:
        problems.append("the lowest PT_LOAD segment is not at 0")
    symtab = next((s for s in before.sections if s.type == "SHT_SYMTAB"), None)
    if symtab is not None:
        moved = set(plan.symtab)
        expected = [(s.name, s.value - (delta if i in moved else 0))
                    for i, s in enumerate(before.symbols(symtab))]
        after_symbols = after.symbols(after.sections[symtab.index])
        if [(s.name, s.value) for s in after_symbols] != expected:
            problems.append("the symbol values are not the planned ones")
    if problems:
        raise after.error(
            "the rebased file does not check out (is the input corrupt?): " + "; ".join(problems)
        )


def _placed(segment: Segment, moved: tuple[int, ...], delta: int) -> tuple[object, ...]:
    """What must survive the rewrite of a segment, at its planned address."""
    vaddr = segment.vaddr - (delta if segment.index in moved else 0)
    if segment.type == "PT_LOAD":
        return segment.type, segment.offset, vaddr, segment.filesz, segment.memsz
    return segment.type, segment.offset, vaddr


def _partition(path: Path, arch: str, view: ElfView, rebased_from: int | None) -> PartitionElf:
    loads = sorted(_occupying(view.segments), key=lambda s: s.vaddr)
    return PartitionElf(
        path=path,
        arch=arch,
        entry=view.entry,
        segments=tuple(
            LoadSegment(s.vaddr, s.memsz, s.filesz, s.flags,
                        view.data[s.offset : s.offset + s.filesz])
            for s in loads
        ),
        image_end=max(s.end for s in loads),
        data=view.data,
        symbols=_symbols(view),
        sections={s.name: (s.addr, s.size) for s in view.sections if s.alloc and s.name},
        rebased_from=rebased_from,
    )


def _symbols(view: ElfView) -> dict[str, int]:
    table = next((s for s in view.sections if s.type == "SHT_SYMTAB"), None)
    if table is None:
        return {}
    named = [
        s for s in view.symbols(table)
        if s.name and s.shndx != 0 and s.type not in (_STT_SECTION, _STT_FILE)
    ]
    # Locals first, so that a global overrides a static namesake of some other file.
    return {s.name: s.value for s in sorted(named, key=lambda s: s.binding != _STB_LOCAL)}
