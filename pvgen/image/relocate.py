"""Plan the rebase of a partition linked elsewhere to address 0, from the relocations it carries.

POK copies a partition's segments to the partition's base and applies no
relocations: the file must already hold the values it will run with at 0. A
guest linked at B can be moved to 0 when the link kept its relocations, either
every one of them (``--emit-relocs``: .rel.text, .rel.data, ... describing the
linked output) or the dynamic ones a PIE needs (R_*_RELATIVE in .rel.dyn).

Each relocated field holds S + A (absolute) or S + A - P (PC-relative). A
rebase by -B moves S when the symbol is defined in an allocated section (not
an absolute or undefined one) and moves P when the field lies in an allocated
section, so the field changes by the difference: an absolute reference to
moving code changes by -B, a branch between two moving places does not
change, a branch from moving code to a fixed absolute address changes by +B.

This module only computes: the header and table rewrite is
pvgen.image.rewrite's (lief), the field values are the byte patches of the
plan.
"""

from __future__ import annotations

import bisect
import itertools
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from elftools.elf.enums import ENUM_RELOC_TYPE_ARM, ENUM_RELOC_TYPE_i386

from pvgen.image.elfview import (
    SHN_LORESERVE,
    ElfError,
    ElfView,
    Relocation,
    Section,
    Symbol,
)

MASK32 = 0xFFFF_FFFF


class RelocationField(Enum):
    """How a relocated value is encoded in its 4 bytes."""

    NONE = "none"
    WORD = "word"  # a whole 32-bit word
    PREL31 = "prel31"  # ARM exception tables: 31-bit signed offset, bit 31 kept
    BRANCH24 = "branch24"  # ARM B/BL/BLX: signed word offset in bits 0-23
    MOVW = "movw"  # ARM MOVW: the low 16 bits of the value
    MOVT = "movt"  # ARM MOVT: the high 16 bits of the value


@dataclass(frozen=True)
class RelocationKind:
    field: RelocationField
    pc_relative: bool = False
    base_relative: bool = False  # R_*_RELATIVE: image base + A, no symbol


def _by_number(names: Mapping[str, int], kinds: dict[str, RelocationKind]
               ) -> dict[int, RelocationKind]:
    return {names[name]: kind for name, kind in kinds.items()}


_ABS = RelocationKind(RelocationField.WORD)
_PC = RelocationKind(RelocationField.WORD, pc_relative=True)
_RELATIVE = RelocationKind(RelocationField.WORD, base_relative=True)
_NONE = RelocationKind(RelocationField.NONE)
_BRANCH = RelocationKind(RelocationField.BRANCH24, pc_relative=True)

KINDS: dict[str, dict[int, RelocationKind]] = {
    "x86": _by_number(ENUM_RELOC_TYPE_i386, {
        "R_386_NONE": _NONE, "R_386_32": _ABS, "R_386_PC32": _PC, "R_386_RELATIVE": _RELATIVE,
    }),
    "arm": _by_number(ENUM_RELOC_TYPE_ARM, {
        "R_ARM_NONE": _NONE, "R_ARM_ABS32": _ABS, "R_ARM_REL32": _PC,
        "R_ARM_RELATIVE": _RELATIVE,
        # .init_array entries; an absolute word for arm-*-eabi linkers (ld, lld) by default.
        "R_ARM_TARGET1": _ABS,
        "R_ARM_PC24": _BRANCH, "R_ARM_CALL": _BRANCH, "R_ARM_JUMP24": _BRANCH,
        "R_ARM_PREL31": RelocationKind(RelocationField.PREL31, pc_relative=True),
        "R_ARM_MOVW_ABS_NC": RelocationKind(RelocationField.MOVW),
        "R_ARM_MOVT_ABS": RelocationKind(RelocationField.MOVT),
    }),
}
_TYPE_NAMES = {
    "x86": {number: name for name, number in ENUM_RELOC_TYPE_i386.items()},
    "arm": {number: name for name, number in ENUM_RELOC_TYPE_ARM.items()},
}


@dataclass(frozen=True)
class Patch:
    """Bytes to write at a file offset of the rewritten file."""

    offset: int
    data: bytes


@dataclass(frozen=True)
class RebasePlan:
    """Everything that changes when the image moves down by ``delta``.

    The indices are those of the file's own tables (pyelftools' and lief's
    order alike); patches are the relocated fields and the relocation entries.
    """

    delta: int
    segments: tuple[int, ...]
    sections: tuple[int, ...]
    symtab: tuple[int, ...]
    dynsym: tuple[int, ...]
    patches: tuple[Patch, ...]


class _Unencodable(Exception):
    """The adjusted value cannot be written into its field."""


def plan_rebase(view: ElfView, arch: str, delta: int) -> RebasePlan:
    """What rebasing ``view`` down by ``delta`` changes; ElfError if it cannot be done."""
    segments = _moved_segments(view, delta)
    _check_disjoint(view)
    sections = tuple(s.index for s in view.sections if s.alloc)
    for index in sections:
        _check_placed(view, view.sections[index], delta)
    symbols = _SymbolTables(view)
    tables = [s for s in view.sections if s.type in ("SHT_REL", "SHT_RELA")]
    # A PIE's dynamic relocations are the complete set (they alone cover its GOT);
    # an executable relies on the relocations --emit-relocs kept, if it has them.
    use_dynamic = view.type == "ET_DYN" or all(t.alloc for t in tables)
    patches: list[Patch] = []
    for table in tables:
        rebaser = _Rebaser(view, arch, delta, table, symbols.linked_to(table))
        rebaser.run(patches, apply=table.alloc == use_dynamic)
    return RebasePlan(
        delta, segments, sections,
        _moved_symbols(view, symbols, "SHT_SYMTAB", delta),
        _moved_symbols(view, symbols, "SHT_DYNSYM", delta),
        tuple(patches),
    )


def has_relocations(view: ElfView) -> bool:
    return any(s.type in ("SHT_REL", "SHT_RELA") for s in view.sections)


def _check_disjoint(view: ElfView) -> None:
    """No two sections share file bytes, as no linker lays them out; lief would move them."""
    placed = sorted((s.offset, s.offset + s.size, s.name) for s in view.sections
                    if s.type != "SHT_NOBITS" and s.size)
    for (_, end, name), (start, _, other) in itertools.pairwise(placed):
        if end > start:
            raise view.error(f"sections {name} and {other} overlap in the file")


def _check_placed(view: ElfView, section: Section, delta: int) -> None:
    """An allocated section must sit where its segment maps it: the rewrite moves both."""
    if section.addr < delta:
        raise view.error(
            f"section {section.name} at {section.addr:#x} would lie below 0 after "
            f"rebasing by {delta:#x}"
        )
    if section.type != "SHT_NOBITS" and not _mapped(view, section.addr, section.size,
                                                     section.offset):
        raise view.error(
            f"section {section.name} [{section.addr:#x}, {section.addr + section.size:#x}) at "
            f"file offset {section.offset:#x} is not where a PT_LOAD segment maps it"
        )


def _mapped(view: ElfView, addr: int, size: int, offset: int) -> bool:
    """Whether file bytes [offset, offset + size) are those a PT_LOAD puts at addr."""
    return size == 0 or any(
        s.type == "PT_LOAD" and s.vaddr <= addr and addr + size <= s.vaddr + s.filesz
        and s.offset + addr - s.vaddr == offset
        for s in view.segments
    )


def _moved_segments(view: ElfView, delta: int) -> tuple[int, ...]:
    """Segments describing memory (not GNU_STACK and its like) move with the image."""
    moved = []
    for segment in view.segments:
        if segment.memsz == 0 and segment.type != "PT_LOAD":
            continue
        if segment.vaddr < delta:
            raise view.error(
                f"{segment.describe()} would lie below 0 after rebasing by {delta:#x}"
            )
        if segment.type != "PT_LOAD" and not _mapped(view, segment.vaddr, segment.filesz,
                                                     segment.offset):
            raise view.error(f"{segment.describe()} is not where a PT_LOAD segment maps it")
        moved.append(segment.index)
    return tuple(moved)


def _moves(view: ElfView, symbol: Symbol) -> bool:
    """Whether a symbol is defined in an allocated section, and so moves with the image."""
    defined = 0 < symbol.shndx < min(SHN_LORESERVE, len(view.sections))
    return defined and view.sections[symbol.shndx].alloc


class _SymbolTables:
    """Each symbol table decoded once, however many relocation tables use it."""

    def __init__(self, view: ElfView) -> None:
        self.view = view
        self.decoded: dict[int, list[Symbol]] = {}

    def of(self, table: Section) -> list[Symbol]:
        if table.index not in self.decoded:
            self.decoded[table.index] = self.view.symbols(table)
        return self.decoded[table.index]

    def linked_to(self, relocations: Section) -> list[Symbol]:
        return self.of(self.view.linked(relocations)) if relocations.link else []


def _moved_symbols(
    view: ElfView, symbols: _SymbolTables, table_type: str, delta: int
) -> tuple[int, ...]:
    table = next((s for s in view.sections if s.type == table_type), None)
    if table is None:
        return ()
    moved = []
    for index, symbol in enumerate(symbols.of(table)):
        if not _moves(view, symbol):
            continue
        if symbol.value < delta:
            raise view.error(
                f"symbol {symbol.name or index} at {symbol.value:#x} would lie below 0 after "
                f"rebasing by {delta:#x}"
            )
        moved.append(index)
    return tuple(moved)


class _Rebaser:
    """The patches of one relocation table: its entries' offsets and, if applied, its fields."""

    def __init__(
        self, view: ElfView, arch: str, delta: int, table: Section, symbols: list[Symbol]
    ) -> None:
        self.view = view
        self.arch = arch
        self.delta = delta
        self.table = table
        self.dynamic = table.alloc  # a dynamic table's offsets are addresses in the image
        self.target = None if self.dynamic else self._target_section()
        self.symbols = symbols
        self.relocations = view.relocations(table)
        self.movw: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def run(self, patches: list[Patch], apply: bool) -> None:
        """Shift the entries; with ``apply``, also adjust the fields they relocate."""
        if apply and self.arch == "arm":
            self.movw = self._movw_index()
        for relocation in self.relocations:
            kind = KINDS[self.arch].get(relocation.type)
            if kind is None:
                raise self._error(relocation, "is not supported by the rebase; link the guest at 0")
            place_moves = self.dynamic or (self.target is not None and self.target.alloc)
            if place_moves:
                patches.append(_word_patch(relocation.entry_offset,
                                           relocation.offset - self.delta))
            if kind.base_relative and relocation.addend is not None:
                # RELA: the field may hold anything; the new value is the new addend.
                value = (relocation.addend - self.delta) & MASK32
                patches.append(_word_patch(relocation.entry_offset + 8, value))
                if apply:
                    patches.append(_word_patch(self._field_offset(relocation), value))
            elif apply and kind.field is not RelocationField.NONE:
                change = self._change(relocation, kind, place_moves)
                if change:
                    patches.append(self._adjusted(relocation, kind, change))

    def _change(self, relocation: Relocation, kind: RelocationKind, place_moves: bool) -> int:
        """How much the relocated value changes: -delta per moving S, +delta per moving P."""
        if kind.base_relative:
            symbol_moves = True
        else:
            symbol = self._symbol(relocation)
            symbol_moves = symbol is not None and _moves(self.view, symbol)
        change = -self.delta if symbol_moves else 0
        if kind.pc_relative and place_moves:
            change += self.delta
        return change

    def _adjusted(self, relocation: Relocation, kind: RelocationKind, change: int) -> Patch:
        offset = self._field_offset(relocation)
        (word,) = struct.unpack_from("<I", self.view.data, offset)
        try:
            if kind.field is RelocationField.MOVT:
                new = _movt(word, change, self._paired_movw(relocation))
            else:
                new = _ENCODERS[kind.field](word, change)
        except _Unencodable as exc:
            raise self._error(relocation, f"cannot be rebased by {self.delta:#x}: {exc}") from None
        return _word_patch(offset, new)

    def _paired_movw(self, relocation: Relocation) -> int | None:
        """The low half loaded by the MOVW before this MOVT (same symbol, same register)."""
        places = self.movw.get((relocation.symbol, _rd(self._word_at(relocation))), [])
        at = bisect.bisect_left(places, (relocation.offset, -1)) - 1
        return places[at][1] if at >= 0 else None

    def _movw_index(self) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """MOVW immediates by (symbol, register), sorted by place, for pairing MOVTs."""
        movw = ENUM_RELOC_TYPE_ARM["R_ARM_MOVW_ABS_NC"]
        index: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for relocation in self.relocations:
            if relocation.type == movw:
                word = self._word_at(relocation)
                index.setdefault((relocation.symbol, _rd(word)), []).append(
                    (relocation.offset, _imm16(word)))
        for places in index.values():
            places.sort()
        return index

    def _word_at(self, relocation: Relocation) -> int:
        (word,) = struct.unpack_from("<I", self.view.data, self._field_offset(relocation))
        return int(word)

    def _symbol(self, relocation: Relocation) -> Symbol | None:
        if relocation.symbol == 0:
            return None
        if relocation.symbol >= len(self.symbols):
            raise self._error(relocation, f"names symbol {relocation.symbol}, which does not exist")
        return self.symbols[relocation.symbol]

    def _target_section(self) -> Section:
        if not 0 < self.table.info < len(self.view.sections):
            raise self.view.error(
                f"relocation section {self.table.name} applies to section {self.table.info}, "
                "which does not exist"
            )
        return self.view.sections[self.table.info]

    def _field_offset(self, relocation: Relocation) -> int:
        """Where the 4 relocated bytes lie in the file."""
        offset = None
        if self.target is not None:
            within = relocation.offset - self.target.addr  # 0 for a non-allocated section
            if self.target.type != "SHT_NOBITS" and 0 <= within <= self.target.size - 4:
                offset = self.target.offset + within
        else:
            offset = next((
                s.offset + relocation.offset - s.vaddr for s in self.view.segments
                if s.type == "PT_LOAD" and 0 <= relocation.offset - s.vaddr <= s.filesz - 4
            ), None)
        if offset is None or offset + 4 > len(self.view.data):
            raise self._error(relocation, "relocates bytes that are not in the file")
        return offset

    def _error(self, relocation: Relocation, what: str) -> ElfError:
        name = _TYPE_NAMES[self.arch].get(relocation.type, f"type {relocation.type}")
        return self.view.error(
            f"relocation {name} at {relocation.offset:#x} (in {self.table.name}) {what}"
        )


def _word_patch(offset: int, value: int) -> Patch:
    return Patch(offset, struct.pack("<I", value & MASK32))


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value & (1 << (bits - 1)) else value


def _word(word: int, change: int) -> int:
    return (word + change) & MASK32


def _prel31(word: int, change: int) -> int:
    value = _signed(word & 0x7FFF_FFFF, 31) + change
    if not -(1 << 30) <= value < 1 << 30:
        raise _Unencodable(f"offset {value:#x} does not fit 31 bits")
    return (word & 0x8000_0000) | (value & 0x7FFF_FFFF)


def _branch24(word: int, change: int) -> int:
    offset = (_signed(word & 0xFF_FFFF, 24) << 2) + change
    if offset % 4 or not -(1 << 25) <= offset < 1 << 25:
        raise _Unencodable(f"branch offset {offset:#x} is out of range")
    return (word & 0xFF00_0000) | ((offset >> 2) & 0xFF_FFFF)


def _rd(word: int) -> int:
    return (word >> 12) & 0xF


def _imm16(word: int) -> int:
    return ((word >> 4) & 0xF000) | (word & 0xFFF)


def _with_imm16(word: int, value: int) -> int:
    return (word & 0xFFF0_F000) | ((value & 0xF000) << 4) | (value & 0xFFF)


def _movw(word: int, change: int) -> int:
    return _with_imm16(word, _imm16(word) + change)


def _movt(word: int, change: int, low: int | None) -> int:
    """The high half of value + change: needs the low half unless change keeps it."""
    if change & 0xFFFF == 0:
        return _with_imm16(word, _imm16(word) + (change >> 16))
    if low is None:
        raise _Unencodable(
            "no R_ARM_MOVW_ABS_NC of the same symbol and register before it gives the low half "
            "(a multiple of 0x10000 would not need it)"
        )
    value = ((_imm16(word) << 16) | low) + change
    return _with_imm16(word, value >> 16)


_ENCODERS: dict[RelocationField, Callable[[int, int], int]] = {
    RelocationField.WORD: _word,
    RelocationField.PREL31: _prel31,
    RelocationField.BRANCH24: _branch24,
    RelocationField.MOVW: _movw,
}
