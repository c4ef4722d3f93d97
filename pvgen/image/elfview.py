"""A read-only view of a little-endian ELF32 file: headers by pyelftools, tables by struct.

pyelftools parses the ELF, program and section headers and names what it
finds. The symbol and relocation tables are decoded here with ``struct``
instead: pyelftools builds one parsed container per entry, about 30 µs a
symbol, so a guest with 40 000 symbols took 1.3 s, and an image of eight
partitions must build in under two.

Every malformation pyelftools trips over becomes an ElfError naming the file;
the checks before it (magic, class, byte order, header and table bounds) give
the common cases a precise message instead of a parser's.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import NamedTuple

from elftools.elf.elffile import ELFFile

from pvgen.diagnostics import PvgenError

EHDR_SIZE = 52
PHDR_SIZE = 32
SHDR_SIZE = 40
SHF_ALLOC = 0x2
SHN_LORESERVE = 0xFF00
_SYM = struct.Struct("<IIIBBH")  # st_name, st_value, st_size, st_info, st_other, st_shndx
_REL = struct.Struct("<II")  # r_offset, r_info
_RELA = struct.Struct("<IIi")  # r_offset, r_info, r_addend


class ElfError(PvgenError):
    """A partition ELF that cannot be loaded; the message names the file and the fault."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"pvgen: error: {file}: {message}")
        self.file = file
        self.message = message


@dataclass(frozen=True)
class Segment:
    """One program header; ``type`` as pyelftools names it ("PT_LOAD")."""

    index: int
    type: str
    offset: int
    vaddr: int
    paddr: int
    filesz: int
    memsz: int
    flags: int

    @property
    def end(self) -> int:
        return self.vaddr + self.memsz

    def describe(self) -> str:
        return f"segment {self.index} ({self.type}) [{self.vaddr:#x}, {self.end:#x})"


@dataclass(frozen=True)
class Section:
    """One section header; ``type`` as pyelftools names it ("SHT_REL")."""

    index: int
    name: str
    type: str
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    info: int

    @property
    def alloc(self) -> bool:
        """Whether the section occupies memory, and so moves when the image is rebased."""
        return bool(self.flags & SHF_ALLOC)


class Symbol(NamedTuple):  # a tuple: tables of 10⁴ entries are decoded in milliseconds
    name: str
    value: int
    info: int
    shndx: int

    @property
    def type(self) -> int:
        return self.info & 0xF

    @property
    def binding(self) -> int:
        return self.info >> 4


class Relocation(NamedTuple):
    """One REL or RELA entry, with where the entry itself lies in the file."""

    offset: int
    type: int
    symbol: int
    addend: int | None  # None for REL: the addend is in the relocated field
    entry_offset: int


@dataclass(frozen=True)
class ElfView:
    file: str
    data: bytes
    type: str
    machine: str
    entry: int
    segments: tuple[Segment, ...]
    sections: tuple[Section, ...]

    def error(self, message: str) -> ElfError:
        return ElfError(self.file, message)

    def section_bytes(self, section: Section) -> bytes:
        """The file bytes of a section, which must lie inside the file."""
        if section.offset + section.size > len(self.data):
            raise self.error(
                f"section {section.name or section.index} [{section.offset:#x}, "
                f"{section.offset + section.size:#x}) lies beyond the end of the file "
                f"({len(self.data)} bytes)"
            )
        return self.data[section.offset : section.offset + section.size]

    def symbols(self, table: Section) -> list[Symbol]:
        """The entries of a SHT_SYMTAB or SHT_DYNSYM section, index 0 included."""
        strings = self.section_bytes(self.linked(table))
        raw = self.section_bytes(table)
        return [
            Symbol(_string(strings, name), value, info, shndx)
            for name, value, _size, info, _other, shndx in _SYM.iter_unpack(
                raw[: len(raw) - len(raw) % _SYM.size]
            )
        ]

    def relocations(self, table: Section) -> list[Relocation]:
        """The entries of a SHT_REL or SHT_RELA section."""
        layout = _RELA if table.type == "SHT_RELA" else _REL
        raw = self.section_bytes(table)
        entries = layout.iter_unpack(raw[: len(raw) - len(raw) % layout.size])
        return [
            Relocation(fields[0], fields[1] & 0xFF, fields[1] >> 8,
                       fields[2] if len(fields) == 3 else None, table.offset + index * layout.size)
            for index, fields in enumerate(entries)
        ]

    def linked(self, table: Section) -> Section:
        """The section a table's sh_link names: a symbol table's strings, a relocation's symbols."""
        if not 0 < table.link < len(self.sections):
            raise self.error(
                f"section {table.name} links to section {table.link}, which does not exist"
            )
        return self.sections[table.link]


def _string(table: bytes, offset: int) -> str:
    """The NUL-terminated name at ``offset``; empty when the offset is outside the table."""
    end = table.find(b"\0", offset)
    return table[offset:end].decode("utf-8", "replace") if end >= 0 else ""


def read_view(file: str, data: bytes) -> ElfView:
    """Check the identification and header bounds, then let pyelftools parse the headers."""
    _check_ident(file, data)
    e_phoff, e_shoff = struct.unpack_from("<II", data, 28)
    e_phentsize, e_phnum, e_shentsize, e_shnum = struct.unpack_from("<HHHH", data, 42)
    _check_table(file, "program header", e_phoff, e_phnum, e_phentsize, PHDR_SIZE, len(data))
    _check_table(file, "section header", e_shoff, e_shnum, e_shentsize, SHDR_SIZE, len(data))
    try:
        view = _view(file, data)
    except Exception as exc:  # pyelftools raises construct, struct, Key and Index errors alike
        raise ElfError(file, f"corrupt ELF file ({type(exc).__name__}: {exc})") from None
    for section in view.sections:
        if section.type != "SHT_NOBITS":
            view.section_bytes(section)  # raises when the section is not in the file
    return view


def _check_ident(file: str, data: bytes) -> None:
    if not data:
        raise ElfError(file, "empty file, not an ELF file")
    if not data.startswith(b"\x7fELF"):
        raise ElfError(file, "not an ELF file (no \\x7fELF magic number)")
    if len(data) < 6:
        raise ElfError(file, f"truncated ELF identification ({len(data)} bytes)")
    if data[4] == 2:
        raise ElfError(file, "ELF64 file: POK partitions are ELF32")
    if data[4] != 1:
        raise ElfError(file, f"invalid ELF class {data[4]}")
    if data[5] == 2:
        raise ElfError(file, "big-endian ELF file: partitions are little-endian")
    if data[5] != 1:
        raise ElfError(file, f"invalid ELF data encoding {data[5]}")
    if len(data) < EHDR_SIZE:
        raise ElfError(
            file, f"truncated ELF header ({len(data)} bytes, an ELF32 header has {EHDR_SIZE})"
        )


def _check_table(
    file: str, what: str, offset: int, count: int, entsize: int, expected: int, size: int
) -> None:
    if count == 0:
        return
    if entsize != expected:
        raise ElfError(file, f"{what} entries are {entsize} bytes, ELF32 has {expected}")
    end = offset + count * entsize
    if end > size:
        raise ElfError(
            file, f"truncated {what} table: [{offset:#x}, {end:#x}) lies beyond the end of "
            f"the file ({size} bytes)"
        )


def _view(file: str, data: bytes) -> ElfView:
    elf = ELFFile(io.BytesIO(data))
    header = elf.header
    segments = tuple(
        Segment(i, str(s["p_type"]), s["p_offset"], s["p_vaddr"], s["p_paddr"],
                s["p_filesz"], s["p_memsz"], s["p_flags"])
        for i, s in enumerate(elf.iter_segments())
    )
    sections = tuple(
        Section(i, s.name, str(s["sh_type"]), s["sh_flags"], s["sh_addr"], s["sh_offset"],
                s["sh_size"], s["sh_link"], s["sh_info"])
        for i, s in enumerate(elf.iter_sections())
    )
    return ElfView(file, data, str(header["e_type"]), str(header["e_machine"]),
                   header["e_entry"], segments, sections)
