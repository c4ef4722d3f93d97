"""Write a rebased partition ELF with lief: the one module that touches lief.

lief rewrites the parts of the file its model holds addresses in: the entry
point, the program and section headers, .symtab, .dynsym and .dynamic. Every
other part of its builder is switched off. It does not write the relocation
sections of a linked file (an ``r_offset`` changed in its model is silently
dropped) and relocated fields are plain bytes to it, so the plan's byte
patches go onto lief's output afterwards; pvgen.image.elf then reads the
result back and checks it.

lief is imported lazily: importing it takes most of a second, and only a guest
that needs a rebase pays for it. Importing it here also silences its logging,
process-wide: its complaints about a file become ElfErrors or nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pvgen.image.elfview import ElfError
from pvgen.image.relocate import RebasePlan

if TYPE_CHECKING:
    import lief

# What lief's builder must leave as it is: relocation entries and array contents are
# the plan's patches, and the rest holds no address.
_UNTOUCHED = (
    "android_rela", "coredump_notes", "dt_hash", "dyn_str", "fini_array", "init_array",
    "interpreter", "jmprel", "notes", "preinit_array", "rela", "relr", "sym_verdef",
    "sym_verneed", "sym_versym",
)

# Dynamic tags whose value is an address in the image (the gABI's d_ptr ones).
_POINTER_TAGS = (
    "PLTGOT", "HASH", "GNU_HASH", "STRTAB", "SYMTAB", "RELA", "REL", "RELR", "JMPREL",
    "INIT", "FINI", "INIT_ARRAY", "FINI_ARRAY", "PREINIT_ARRAY", "SYMTAB_SHNDX",
    "VERSYM", "VERDEF", "VERNEED",
)


def rewrite(file: str, data: bytes, plan: RebasePlan) -> bytes:
    """The bytes of ``data`` moved down by ``plan.delta``."""
    try:
        written = _written(data, plan)
    except Exception as exc:  # lief raises whatever its C++ core throws; never a traceback
        raise ElfError(file, f"lief failed to rewrite the file ({exc})") from None
    if written is None:
        raise ElfError(file, "lief cannot parse the file, so it cannot be rebased")
    out = bytearray(written)
    for patch in plan.patches:
        out[patch.offset : patch.offset + len(patch.data)] = patch.data
    return bytes(out)


def _written(data: bytes, plan: RebasePlan) -> bytes | None:
    """lief's rewrite of the headers and tables it models; None if it cannot parse the file."""
    import lief

    lief.logging.disable()
    parsing = lief.ELF.ParserConfig()
    # Count dynamic symbols from .dynsym's size, not from a hash table a corrupt file
    # may have mangled (lief then divided by zero); the relocations are not lief's job.
    parsing.count_mtd = lief.ELF.ParserConfig.DYNSYM_COUNT.SECTION
    parsing.parse_relocations = False
    binary = lief.ELF.parse(data, parsing)
    if binary is None:
        return None
    _move(binary, plan, {getattr(lief.ELF.DynamicEntry.TAG, name) for name in _POINTER_TAGS})
    config = lief.ELF.Builder.config_t()
    for part in _UNTOUCHED:
        setattr(config, part, False)
    return bytes(binary.write_to_bytes(config))


def _move(
    binary: lief.ELF.Binary, plan: RebasePlan, pointers: set[lief.ELF.DynamicEntry.TAG]
) -> None:
    delta = plan.delta
    binary.header.entrypoint -= delta
    segments = list(binary.segments)
    for index in plan.segments:
        segment = segments[index]
        segment.virtual_address -= delta
        if segment.physical_address >= delta:  # a load address below the image stays
            segment.physical_address -= delta
    sections = list(binary.sections)
    for index in plan.sections:
        sections[index].virtual_address -= delta
    tables = ((binary.symtab_symbols, plan.symtab), (binary.dynamic_symbols, plan.dynsym))
    for table, moved in tables:
        symbols = list(table)
        for index in moved:
            symbols[index].value -= delta
    for entry in binary.dynamic_entries:
        if entry.tag in pointers and entry.value:
            entry.value -= delta
