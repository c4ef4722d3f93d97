"""Write the image file: an ELF32 relocatable object shaped like POK's ``sizes.o``.

POK's build adds ``partitions.bin`` to ``sizes.o`` as section ``.archive2``
and links that object into the kernel. The image is that object: ``.data``
holds the ``part_sizes`` array (one little-endian uint32 per partition, padded
sizes, no count), ``.archive2`` holds the partitions, and pvgen adds
``.pvgen.manifest`` (the system the emulator needs) and ``.pvgen.fingerprint``
(the hypercall interface it was built against). Written by hand with
``struct`` so that the same inputs give the same bytes, with no tool to install.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

ELF_MACHINES = {"x86": 3, "arm": 40}  # EM_386, EM_ARM
_ELF_FLAGS = {"x86": 0, "arm": 0x05000000}  # ARM: EABI version 5

ARCHIVE_SECTION = ".archive2"
MANIFEST_SECTION = ".pvgen.manifest"
FINGERPRINT_SECTION = ".pvgen.fingerprint"
# The text of the hypercall definition the image was built with: what boots it anywhere
# (the emulator generates its dispatcher from it), without the generated directory.
DEFINITION_SECTION = ".pvgen.definition"
SIZES_SYMBOL = "part_sizes"

_SHT_PROGBITS, _SHT_SYMTAB, _SHT_STRTAB = 1, 2, 3
_SHF_WRITE, _SHF_ALLOC = 0x1, 0x2
_EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
_SHDR = struct.Struct("<IIIIIIIIII")
_SYM = struct.Struct("<IIIBBH")


def pok_padded(size: int) -> int:
    """POK's rule for partitions.bin: always add 4 - size % 4 zero bytes (4 when aligned)."""
    return size + 4 - size % 4


def pack_archive(partitions: Sequence[bytes]) -> tuple[bytes, tuple[int, ...]]:
    """partitions.bin and part_sizes exactly as POK's make rules produce them."""
    blob = b"".join(p + bytes(pok_padded(len(p)) - len(p)) for p in partitions)
    return blob, tuple(pok_padded(len(p)) for p in partitions)


@dataclass(frozen=True)
class _Section:
    name: str
    type: int
    flags: int
    data: bytes
    align: int
    link: int = 0
    info: int = 0
    entsize: int = 0


def _strtab(names: Sequence[str]) -> tuple[bytes, dict[str, int]]:
    table = bytearray(b"\0")
    offsets: dict[str, int] = {}
    for name in names:
        offsets[name] = len(table)
        table += name.encode() + b"\0"
    return bytes(table), offsets


def write_image(
    arch: str, archive: bytes, part_sizes: Sequence[int], manifest: bytes, fingerprint: str,
    definition: bytes,
) -> bytes:
    """The bytes of the image file for one module."""
    sizes = b"".join(struct.pack("<I", s) for s in part_sizes)
    strtab, sym_names = _strtab([SIZES_SYMBOL])
    # index 0: null symbol; 1: the .data section symbol; 2: part_sizes (global object in .data)
    data_index = 1
    symtab = (
        _SYM.pack(0, 0, 0, 0, 0, 0)
        + _SYM.pack(0, 0, 0, 0x03, 0, data_index)  # STB_LOCAL, STT_SECTION
        + _SYM.pack(sym_names[SIZES_SYMBOL], 0, len(sizes), 0x11, 0, data_index)  # GLOBAL OBJECT
    )
    sections = [
        _Section(".data", _SHT_PROGBITS, _SHF_WRITE | _SHF_ALLOC, sizes, 4),
        _Section(ARCHIVE_SECTION, _SHT_PROGBITS, _SHF_WRITE | _SHF_ALLOC, archive, 4),
        _Section(MANIFEST_SECTION, _SHT_PROGBITS, 0, manifest, 1),
        _Section(FINGERPRINT_SECTION, _SHT_PROGBITS, 0, fingerprint.encode(), 1),
        _Section(DEFINITION_SECTION, _SHT_PROGBITS, 0, definition, 1),
        _Section(".symtab", _SHT_SYMTAB, 0, symtab, 4, link=7, info=2, entsize=_SYM.size),
        _Section(".strtab", _SHT_STRTAB, 0, strtab, 1),
    ]
    shstrtab, sh_names = _strtab([s.name for s in sections] + [".shstrtab"])
    sections.append(_Section(".shstrtab", _SHT_STRTAB, 0, shstrtab, 1))

    body = bytearray()
    offsets = []
    for section in sections:
        pad = -(_EHDR.size + len(body)) % section.align
        body += bytes(pad)
        offsets.append(_EHDR.size + len(body))
        body += section.data
    body += bytes(-(_EHDR.size + len(body)) % 4)
    shoff = _EHDR.size + len(body)

    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)  # ELFCLASS32, little-endian, v1
    header = _EHDR.pack(
        ident, 1, ELF_MACHINES[arch], 1, 0, 0, shoff, _ELF_FLAGS[arch],
        _EHDR.size, 0, 0, _SHDR.size, len(sections) + 1, len(sections),
    )
    table = bytes(_SHDR.size)  # the null section
    for section, offset in zip(sections, offsets, strict=True):
        table += _SHDR.pack(
            sh_names[section.name], section.type, section.flags, 0, offset, len(section.data),
            section.link, section.info, section.align, section.entsize,
        )
    return header + bytes(body) + table
