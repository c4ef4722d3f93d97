"""Partition ELFs: real guests built by gcc -m32 and zig's clang/lld, loaded, rebased and run.

A guest linked at 0 is taken as it is. A guest linked at 0x80000 (or at a
page that is not 64 KiB aligned, which moves the low halves of ARM's MOVW/MOVT
pairs) with its relocations kept is rebased to 0, and the proof that the
rebase is right is that it runs: the original is mapped at its link address,
the rebased file at 0, a reference linked at 0 beside them, all three on
Unicorn, and every result that depends on an absolute address (a function
pointer table, a pointer to a string, a pointer to a global, .init_array,
PC-relative data words, a call out to a fixed "ROM" address) must agree.
"""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.descriptions import describe_reloc_type
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unicorn import UC_ARCH_ARM, UC_ARCH_X86, UC_MODE_32, UC_MODE_ARM, Uc, arm_const, x86_const

from pvgen.image.elf import ElfError, LoadSegment, PartitionElf, load_partition_elf
from tests.cc import CLANG_ARM, GCC_X86, STRICT

MEMORY = 0x100000  # the partition size the guests are loaded for
STACK = 0x1000
ROM = 0x70000  # fixed addresses outside every image: rom_fn and rom_word
RESULTS = 16
ZIG = (sys.executable, "-m", "ziglang")

GUEST = r"""
typedef unsigned int u32;
typedef __UINTPTR_TYPE__ uptr;

u32 add(u32 a, u32 b);
u32 mul(u32 a, u32 b);
u32 sub(u32 a, u32 b);
void done(void);
void _start(void);
u32 add(u32 a, u32 b) { return a + b; }
u32 mul(u32 a, u32 b) { return a * b; }
u32 sub(u32 a, u32 b) { return a - b; }

u32 (*const table[3])(u32, u32) = { add, mul, sub };
const char *const greeting = "hello, partition";
u32 counter;
u32 *const counter_ptr = &counter;
volatile u32 selector = 3;
volatile u32 results[16];
u32 constructed;
extern const int pcrel_words[4];
extern void (*const __init_array_start[])(void);
extern void (*const __init_array_end[])(void);
#ifndef PIE
extern u32 rom_fn(u32);
extern const u32 rom_word[];
#define FAR "rom_fn"
#else
#define FAR "mul"
#endif
#ifdef __arm__
#define PREL31(sym) ".word " sym "(prel31)\n"
#else
#define PREL31(sym) ".long " sym " - .\n"
#endif

/* PC-relative data: R_386_PC32 / R_ARM_REL32, and R_ARM_PREL31 as in .ARM.exidx. */
__asm__(".section .rodata\n.balign 4\n.globl pcrel_words\npcrel_words:\n"
        ".long add - .\n.long " FAR " - .\n" PREL31("add") PREL31(FAR) ".text\n");

static void construct(void) __attribute__((constructor));
static void construct(void) { constructed = 0xC0DEu + selector - 3u; } /* not foldable */

static u32 hash(const char *p)
{
    u32 h = 5381u;
    while (*p) h = h * 33u + (u32)(unsigned char)*p++;
    return h;
}

static u32 prel31(const int *word)
{
    return (u32)(uptr)word + (u32)(((int)((u32)*word << 1)) >> 1);
}

__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }
#ifndef PIE
__attribute__((noinline)) u32 tail(u32 x);
__attribute__((noinline)) u32 tail(u32 x) { return rom_fn(x + 1u); } /* b: R_ARM_JUMP24 */
#endif

void _start(void)
{
    void (*const *ctor)(void);
    u32 i;
    for (ctor = __init_array_start; ctor < __init_array_end; ctor++) (*ctor)();
    for (i = 0; i < selector; i++) results[i] = table[i](7u, 3u);
    *counter_ptr = 42u;
    results[3] = hash(greeting);
    results[4] = (u32)(uptr)greeting;
    results[5] = counter;
    results[6] = (u32)(uptr)&results[0];
    results[7] = (u32)(uptr)table[selector - 2u];
    results[8] = (u32)(uptr)&pcrel_words[0] + (u32)pcrel_words[0];
    results[9] = (u32)(uptr)&pcrel_words[1] + (u32)pcrel_words[1];
    results[10] = prel31(&pcrel_words[2]);
    results[11] = prel31(&pcrel_words[3]);
    results[12] = constructed;
#ifndef PIE
    results[13] = rom_fn(5u);
    results[14] = (u32)(uptr)rom_word;
    results[15] = tail(5u);
#endif
    done();
    for (;;) {}
}
"""
# Results holding an address in the image: they move with it. 9, 11 and 14 hold fixed ROM
# addresses in the non-PIE guest, which must not move; in the PIE guest 9 and 11 are "mul".
MOVING = {4, 6, 7, 8, 10}
MOVING_PIE = MOVING | {9, 11}

SCRIPT = """ENTRY(_start)
rom_fn = {rom:#x};
rom_word = {rom:#x} + 0x10;
SECTIONS {{
  . = {base:#x};
  .text : {{ *(.text*) }}
  .rodata : {{ *(.rodata*) }}
  .ARM.exidx : {{ *(.ARM.exidx*) }}
  .init_array : {{ __init_array_start = .; KEEP(*(.init_array*)) __init_array_end = .; }}
  .data : {{ *(.data*) }}
  .bss : {{ *(.bss*) *(COMMON) }}
}}
"""


def _run(args: Sequence[str]) -> None:
    result = subprocess.run(list(args), capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stderr}"


def _script(work: Path, base: int) -> Path:
    script = work / f"at_{base:x}.ld"
    script.write_text(SCRIPT.format(base=base, rom=ROM))
    return script


def _source(work: Path, text: str = GUEST, name: str = "guest.c") -> Path:
    source = work / name
    source.write_text(text)
    return source


def build_x86(work: Path, name: str, base: int, *flags: str, pie: bool = False) -> Path:
    """gcc -m32: a static executable from the linker script, or a static PIE."""
    out = work / name
    source = _source(work)
    if pie:
        link = ["-fpie", "-static-pie", "-DPIE", "-Wl,-e,_start"]
        if base:
            link.append(f"-Wl,-Ttext-segment={base:#x}")
    else:
        link = ["-fno-pie", "-no-pie", "-static", "-T", str(_script(work, base))]
    _run([*GCC_X86.command, *STRICT, "-nostdlib", "-Wl,--build-id=none", *link, *flags,
          str(source), "-o", str(out)])
    return out


def build_arm(work: Path, name: str, base: int, *flags: str, pie: bool = False,
              cflags: Sequence[str] = ()) -> Path:
    """zig cc compiles, zig's ld.lld links (zig cc passes neither -q nor -pie through)."""
    obj = work / f"{name}.o"
    out = work / name
    source = _source(work)
    pic = ["-fPIE", "-DPIE"] if pie else []
    _run([*CLANG_ARM.command, *STRICT, *pic, *cflags, "-c", str(source), "-o", str(obj)])
    link = ["-pie", "--no-dynamic-linker"] if pie else []
    # 4 KiB pages: with lld's 64 KiB, a base like 0x7ff000 leaves room for the ELF
    # headers below it, and lld loads them in a PT_LOAD at 0x7f0000.
    _run([*ZIG, "ld.lld", "-z", "max-page-size=4096", *link, *flags,
          "-T", str(_script(work, base)), str(obj), "-o", str(out)])
    return out


BUILDERS = {"x86": build_x86, "arm": build_arm}


@dataclass(frozen=True)
class Machine:
    uc_arch: int
    uc_mode: int
    sp: int
    rom: bytes  # rom_fn: return the argument + 100


MACHINES = {
    # mov eax, [esp+4]; add eax, 100; ret
    "x86": Machine(UC_ARCH_X86, UC_MODE_32, x86_const.UC_X86_REG_ESP,
                   bytes.fromhex("8b44240483c064c3")),
    # add r0, r0, #100; bx lr
    "arm": Machine(UC_ARCH_ARM, UC_MODE_ARM, arm_const.UC_ARM_REG_SP,
                   bytes.fromhex("640080e21eff2fe1")),
}


def execute(elf: PartitionElf) -> list[int]:
    """Run the guest with each segment at its own address, as POK would (no relocation)."""
    machine = MACHINES[elf.arch]
    uc = Uc(machine.uc_arch, machine.uc_mode)
    uc.mem_map(0, 0x900000)
    uc.mem_write(ROM, machine.rom)
    for segment in elf.segments:
        uc.mem_write(segment.vaddr, segment.data)
    uc.reg_write(machine.sp, 0x8F0000)
    uc.emu_start(elf.entry, elf.symbols["done"], count=100_000)
    raw = bytes(uc.mem_read(elf.symbols["results"], 4 * RESULTS))
    return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, len(raw), 4)]


def load(path: Path, arch: str, memory: int = 1 << 24) -> PartitionElf:
    return load_partition_elf(path, arch, memory, STACK)


def unloaded(path: Path, arch: str) -> PartitionElf:
    """A file as the linker wrote it, read by pyelftools alone: to run an original as linked."""
    with path.open("rb") as f:
        elf = ELFFile(f)
        segments = tuple(sorted(
            (LoadSegment(s["p_vaddr"], s["p_memsz"], s["p_filesz"], s["p_flags"], s.data())
             for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"),
            key=lambda s: s.vaddr,
        ))
        symtab = elf.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        symbols = {s.name: s["st_value"] for s in symtab.iter_symbols() if s.name}
        sections = {s.name: (s["sh_addr"], s["sh_size"]) for s in elf.iter_sections()
                    if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s.name}
        return PartitionElf(path, arch, elf.header["e_entry"], segments,
                            max(s.vaddr + s.memsz for s in segments), path.read_bytes(),
                            symbols, sections, None)


def expected_results(elf: PartitionElf, pie: bool = False) -> list[int]:
    s = elf.symbols
    far = s["mul"] if pie else ROM
    rom_results = [0, 0, 0] if pie else [105, ROM + 0x10, 106]
    results = [10, 21, 4, _hash(b"hello, partition"), None, 42, s["results"], s["mul"],
               s["add"], far, s["add"], far, 0xC0DE, *rom_results]
    return [r for r in results if r is not None]


def _hash(text: bytes) -> int:
    h = 5381
    for byte in text:
        h = (h * 33 + byte) & 0xFFFF_FFFF
    return h


def _words(elf: PartitionElf, address: int, count: int) -> list[int]:
    for segment in elf.segments:
        if segment.vaddr <= address and address + 4 * count <= segment.vaddr + segment.filesz:
            raw = segment.data[address - segment.vaddr : address - segment.vaddr + 4 * count]
            return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, len(raw), 4)]
    raise AssertionError(f"no words at {address:#x}")


def _string_at(elf: PartitionElf, address: int) -> bytes:
    for segment in elf.segments:
        if segment.vaddr <= address < segment.vaddr + segment.filesz:
            data = segment.data[address - segment.vaddr :]
            return data[: data.index(b"\0")]
    raise AssertionError(f"no string at {address:#x}")


def check_runs(elf: PartitionElf, results: list[int], pie: bool = False) -> None:
    """The results of a run at 0 are those the guest's own symbols predict."""
    assert _string_at(elf, results[4]) == b"hello, partition"
    assert results[:4] + results[5:] == expected_results(elf, pie)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("guests")


ARCHES = ["x86", "arm"]


@pytest.mark.parametrize("arch", ARCHES)
def test_a_guest_linked_at_0_is_taken_as_it_is(work: Path, arch: str) -> None:
    path = BUILDERS[arch](work, f"{arch}_at_0.elf", 0)
    elf = load(path, arch)
    assert elf.rebased_from is None
    assert elf.data == path.read_bytes()
    assert elf.segments[0].vaddr == 0
    assert elf.image_end == max(s.vaddr + s.memsz for s in elf.segments)
    assert elf.entry == elf.symbols["_start"]
    check_runs(elf, execute(elf))


@pytest.mark.parametrize("base", [0x80000, 0x7FF000], ids=["0x80000", "0x7ff000"])
@pytest.mark.parametrize("arch", ARCHES)
def test_a_guest_linked_elsewhere_with_its_relocations_is_rebased(
    work: Path, arch: str, base: int
) -> None:
    flags = ("-Wl,-q",) if arch == "x86" else ("--emit-relocs",)
    build = BUILDERS[arch]
    original_path = build(work, f"{arch}_q_{base:x}.elf", base, *flags)
    reference = load(build(work, f"{arch}_q_0.elf", 0, *flags), arch)
    elf = load(original_path, arch)

    assert elf.rebased_from == base
    assert elf.segments[0].vaddr == 0
    original = unloaded(original_path, arch)
    assert elf.entry == original.entry - base
    # Byte for byte what the linker makes of the same guest linked at 0.
    assert [(s.vaddr, s.memsz, s.flags, s.data) for s in elf.segments] == [
        (s.vaddr, s.memsz, s.flags, s.data) for s in reference.segments
    ]
    assert elf.symbols == reference.symbols
    assert elf.image_end == reference.image_end
    # And it runs: the rebased file at 0 computes what the original computes at its address.
    rebased_results = execute(elf)
    check_runs(elf, rebased_results)
    assert rebased_results == execute(reference)
    original_results = execute(original)
    assert original_results == [
        r + base if i in MOVING else r for i, r in enumerate(rebased_results)
    ]


@pytest.mark.parametrize("arch", ARCHES)
def test_rebase_reproduces_every_section_of_the_link_at_0(work: Path, arch: str) -> None:
    """Code, data, debug info, unwind tables and the kept relocations: all as linked at 0.

    Only the string tables differ (lief lays out .strtab and .shstrtab anew), so
    the symbol tables are compared entry by entry instead.
    """
    flags = ("-Wl,-q", "-g") if arch == "x86" else ("--emit-relocs",)  # zig cc emits -g itself
    rebased = load(BUILDERS[arch](work, f"{arch}_exact_80000.elf", 0x80000, *flags), arch)
    reference = BUILDERS[arch](work, f"{arch}_exact_0.elf", 0, *flags)
    ours, theirs = _sections(rebased.data), _sections(reference.read_bytes())
    assert ours.keys() == theirs.keys()
    assert any(name.startswith(".rel.debug") for name in ours)
    for name in ours.keys() - {".strtab", ".shstrtab", ".symtab"}:
        assert ours[name] == theirs[name], name
    assert _symbol_table(rebased.data) == _symbol_table(reference.read_bytes())


def _sections(data: bytes) -> dict[str, tuple[int, bytes]]:
    elf = ELFFile(io.BytesIO(data))
    return {s.name: (s["sh_addr"], s.data()) for s in elf.iter_sections() if s.name}


def _symbol_table(data: bytes) -> list[tuple[object, ...]]:
    symtab = ELFFile(io.BytesIO(data)).get_section_by_name(".symtab")
    assert isinstance(symtab, SymbolTableSection)
    return [(s.name, s["st_value"], s["st_size"], s["st_info"], s["st_shndx"])
            for s in symtab.iter_symbols()]


def test_x86_static_pie_at_0_is_taken_as_it_is(work: Path) -> None:
    path = build_x86(work, "pie_0.elf", 0, pie=True)
    elf = load(path, "x86")
    assert elf.rebased_from is None
    check_runs(elf, execute(elf), pie=True)


def test_x86_static_pie_linked_elsewhere_is_rebased_by_its_dynamic_relocations(
    work: Path,
) -> None:
    path = build_x86(work, "pie_80000.elf", 0x80000, pie=True)
    elf = load(path, "x86")
    assert elf.rebased_from == 0x80000
    results = execute(elf)
    check_runs(elf, results, pie=True)
    assert execute(unloaded(path, "x86")) == [
        r + 0x80000 if i in MOVING_PIE else r for i, r in enumerate(results)
    ]


@pytest.mark.parametrize("kind", ["rel", "rela"])
def test_arm_pie_linked_elsewhere_is_rebased(work: Path, kind: str) -> None:
    flags = ("-z", "rela") if kind == "rela" else ()
    path = build_arm(work, f"arm_pie_{kind}_80000.elf", 0x80000, *flags, pie=True)
    elf = load(path, "arm")
    assert elf.rebased_from == 0x80000
    results = execute(elf)
    check_runs(elf, results, pie=True)
    if kind == "rel":  # REL fields hold their link-time values: the original runs at 0x80000
        assert execute(unloaded(path, "arm")) == [
            r + 0x80000 if i in MOVING_PIE else r for i, r in enumerate(results)
        ]


def test_arm_rela_pie_at_0_gets_its_fields_filled(work: Path) -> None:
    """lld's RELA leaves the fields to a loader; POK has none, so they are written in."""
    path = build_arm(work, "arm_pie_rela_0.elf", 0, "-z", "rela", pie=True)
    original = unloaded(path, "arm")
    elf = load(path, "arm")
    assert elf.rebased_from == 0
    check_runs(elf, execute(elf), pie=True)
    functions = [elf.symbols[name] for name in ("add", "mul", "sub")]
    assert _words(elf, elf.symbols["table"], 3) == functions
    assert _words(original, elf.symbols["table"], 3) != functions  # as lld left them


def test_symbols_prefer_globals_and_skip_files_and_sections(work: Path) -> None:
    twin = work / "twin.c"
    twin.write_text("int twin = 1;\n")  # a global namesake of guest.c's static below
    source = _source(work, GUEST + "static int twin(void) { return 2; }\n"
                     "int (*twin_ptr)(void) = twin;\n", "twins.c")
    path = work / "twins.elf"
    _run([*GCC_X86.command, *STRICT, "-nostdlib", "-fno-pie", "-no-pie", "-static",
          "-T", str(_script(work, 0)), str(source), str(twin), "-o", str(path)])
    elf = load(path, "x86")
    assert "guest.c" not in elf.symbols and ".text" not in elf.symbols and "" not in elf.symbols
    assert elf.symbols["construct"] in range(elf.image_end)  # locals are kept
    assert elf.symbols["rom_fn"] == ROM  # absolute symbols as they are
    assert elf.symbols["twin"] == _global_address(path, "twin")


def _global_address(path: Path, name: str) -> int:
    symtab = ELFFile(io.BytesIO(path.read_bytes())).get_section_by_name(".symtab")
    assert isinstance(symtab, SymbolTableSection)
    (value,) = {s["st_value"] for s in symtab.get_symbol_by_name(name) or []
                if s["st_info"]["bind"] == "STB_GLOBAL"}
    return int(value)


def test_eight_partitions_load_fast(work: Path) -> None:
    """An image of 8 partitions must build in under 2 s: loading is a small part of it."""
    paths = [BUILDERS[arch](work, f"{arch}_at_0.elf", 0) for arch in ARCHES]
    start = time.perf_counter()
    for i in range(8):
        load(paths[i % 2], ARCHES[i % 2])
    assert time.perf_counter() - start < 0.5


# --- Files POK must never be handed: each refused with its exact message. ---------------

PT_LOAD, PT_NOTE = 1, 4


def craft(
    segments: Sequence[tuple[int, int, int, int, int]] | None = None,
    *, entry: int = 0, e_type: int = 2, machine: int = 3, phentsize: int = 32,
    payload: bytes = b"\x90" * 16,
) -> bytes:
    """A minimal ELF32 by hand: header, program headers (type, offset, vaddr, filesz, memsz)."""
    count = 1 if segments is None else len(segments)
    data_at = 52 + 32 * count
    if segments is None:
        segments = [(PT_LOAD, data_at, 0, len(payload), 0x100)]
    ident = b"\x7fELF\x01\x01\x01" + bytes(9)
    header = struct.pack("<16sHHIIIIIHHHHHH", ident, e_type, machine, 1, entry, 52, 0, 0,
                         52, phentsize, count, 40, 0, 0)
    phdrs = b"".join(struct.pack("<8I", t, offset, vaddr, vaddr, filesz, memsz, 7, 0x1000)
                     for t, offset, vaddr, filesz, memsz in segments)
    return header + phdrs + payload


def _patched(path: Path, offset: int, fmt: str, *values: int) -> bytes:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, *values)
    return bytes(data)


def test_the_crafted_minimal_elf_itself_loads(tmp_path: Path) -> None:
    path = tmp_path / "minimal.elf"
    path.write_bytes(craft())
    elf = load_partition_elf(path, "x86", 0x1000, 0x100)
    assert (elf.entry, elf.image_end, elf.symbols, elf.rebased_from) == (0, 0x100, {}, None)
    assert elf.segments[0].data == b"\x90" * 16


def test_an_empty_load_segment_overlaps_nothing(tmp_path: Path) -> None:
    """A linker script's data segment, empty for a program without data, sits at address 0
    with the code: it loads nothing, so it is no overlap."""
    path = tmp_path / "empty_data.elf"
    path.write_bytes(craft([(PT_LOAD, 116, 0, 16, 0x100), (PT_LOAD, 132, 0, 0, 0)]))
    elf = load_partition_elf(path, "x86", 0x1000, 0x100)
    assert [(s.vaddr, s.data) for s in elf.segments] == [(0, b"\x90" * 16)]


def _first_unsupported(path: Path, supported: set[str]) -> tuple[str, int, str]:
    """The first relocation of a type the rebase does not handle, found by pyelftools."""
    with path.open("rb") as f:
        elf = ELFFile(f)
        for section in elf.iter_sections():
            if isinstance(section, RelocationSection):
                for relocation in section.iter_relocations():
                    name = describe_reloc_type(relocation["r_info_type"], elf)
                    if name not in supported:
                        return name, relocation["r_offset"], section.name
    raise AssertionError(f"{path.name} has only supported relocations")


X86_SUPPORTED = {"R_386_NONE", "R_386_32", "R_386_PC32", "R_386_RELATIVE"}
ARM_SUPPORTED = {"R_ARM_ABS32", "R_ARM_MOVW_ABS_NC", "R_ARM_MOVT_ABS", "R_ARM_CALL",
                 "R_ARM_JUMP24", "R_ARM_REL32", "R_ARM_PREL31", "R_ARM_TARGET1"}
MOVT_ALONE = """.syntax unified
.text
.globl _start
_start: movt r0, #:upper16:counter
    b .
.data
counter: .word 0
"""


BadCase = tuple[str, bytes | Path, str, int, str]  # name, file, arch, partition memory, message


def _bad_cases(work: Path) -> list[BadCase]:
    x86_0 = build_x86(work, "x86_at_0.elf", 0)
    x86_q = build_x86(work, "x86_q_80000.elf", 0x80000, "-Wl,-q")
    arm_0 = build_arm(work, "arm_at_0.elf", 0)
    x86_obj = work / "guest_x86.o"
    _run([*GCC_X86.command, *STRICT, "-c", str(_source(work)), "-o", str(x86_obj)])
    elf64 = work / "elf64.elf"
    _run(["gcc", "-O2", "-ffreestanding", "-nostdlib", "-static", "-DPIE", "-Wl,-e,_start",
          str(_source(work)), "-o", str(elf64)])
    x86_pic = build_x86(work, "x86_pic_80000.elf", 0x80000, "-fpic", "-Wl,-q")
    arm_thumb = build_arm(work, "arm_thumb_80000.elf", 0x80000, "--emit-relocs",
                          cflags=["-target", "thumb-freestanding-eabi"])
    gnu_stack = next(i for i, s in enumerate(ELFFile(io.BytesIO(x86_q.read_bytes()))
                                             .iter_segments()) if s["p_type"] == "PT_GNU_STACK")
    _, phoff = struct.unpack_from("<II", x86_q.read_bytes(), 24)
    good_load = (PT_LOAD, 84, 0, 16, 0x100)
    comment, text, data = (_section(path, name) for path, name in
                           ((x86_0, ".comment"), (x86_q, ".text"), (x86_q, ".data")))
    x86_pic_reloc = _first_unsupported(x86_pic, X86_SUPPORTED)
    thumb_reloc = _first_unsupported(arm_thumb, ARM_SUPPORTED)
    return [
        ("empty", b"", "x86", MEMORY, "empty file, not an ELF file"),
        ("random", random.Random(653).randbytes(300), "x86", MEMORY,
         r"not an ELF file (no \x7fELF magic number)"),
        ("truncated_header", craft()[:30], "x86", MEMORY,
         "truncated ELF header (30 bytes, an ELF32 header has 52)"),
        ("truncated_program_headers", craft()[:70], "x86", MEMORY,
         "truncated program header table: [0x34, 0x54) lies beyond the end of the file "
         "(70 bytes)"),
        ("program_header_size", craft(phentsize=40), "x86", MEMORY,
         "program header entries are 40 bytes, ELF32 has 32"),
        ("elf64", elf64, "x86", MEMORY, "ELF64 file: POK partitions are ELF32"),
        ("big_endian", _patched(x86_0, 5, "<B", 2), "x86", MEMORY,
         "big-endian ELF file: partitions are little-endian"),
        ("arm_for_x86", arm_0, "x86", MEMORY, "machine is EM_ARM, but x86 partitions are EM_386"),
        ("x86_for_arm", x86_0, "arm", MEMORY, "machine is EM_386, but arm partitions are EM_ARM"),
        ("object_file", x86_obj, "x86", MEMORY,
         "relocatable object file (ET_REL), not a linked partition: link it first"),
        ("core_dump", craft(e_type=4), "x86", MEMORY,
         "core dump (ET_CORE), not a partition executable"),
        ("no_pt_load", craft([(PT_NOTE, 84, 0, 16, 16)]), "x86", MEMORY,
         "no PT_LOAD segment: nothing to load"),
        ("overlap", craft([(PT_LOAD, 116, 0, 16, 0x100), (PT_LOAD, 116, 0x80, 16, 0x100)]),
         "x86", MEMORY,
         "segment 0 (PT_LOAD) [0x0, 0x100) and segment 1 (PT_LOAD) [0x80, 0x180) overlap"),
        ("only_empty_loads", craft([(PT_LOAD, 84, 0, 0, 0)]), "x86", MEMORY,
         "its PT_LOAD segments are all empty: nothing to load"),
        ("filesz_over_memsz", craft([(PT_LOAD, 84, 0, 16, 8)]), "x86", MEMORY,
         "segment 0 (PT_LOAD) [0x0, 0x8) has p_filesz 0x10 > p_memsz 0x8"),
        ("file_bytes_outside", craft([(PT_LOAD, 0x1000, 0, 16, 0x100)]), "x86", MEMORY,
         "segment 0 (PT_LOAD) [0x0, 0x100): its file bytes [0x1000, 0x1010) lie beyond the end "
         "of the file (100 bytes)"),
        ("wraps", craft([(PT_LOAD, 84, 0xFFFFF000, 16, 0x2000)], entry=0xFFFFF000), "x86",
         MEMORY, "segment 0 (PT_LOAD) [0xfffff000, 0x100001000) wraps around the 32-bit "
         "address space"),
        ("entry_outside", craft([good_load], entry=0x5000), "x86", MEMORY,
         "entry point 0x5000 is outside the loaded segments ([0x0, 0x100))"),
        ("too_big", craft(), "x86", 0x1000,
         "image (0x100 bytes) and stack (0x1000 bytes) need 0x1100 bytes, 0x100 more than the "
         "partition's 0x1000"),
        ("no_relocations_x86", build_x86(work, "x86_80000.elf", 0x80000), "x86", MEMORY,
         "linked at 0x80000 and carries no relocations; link at 0 or with --emit-relocs"),
        ("no_relocations_arm", build_arm(work, "arm_80000.elf", 0x80000), "arm", MEMORY,
         "linked at 0x80000 and carries no relocations; link at 0 or with --emit-relocs"),
        ("unsupported_x86", x86_pic, "x86", MEMORY,
         f"relocation {x86_pic_reloc[0]} at {x86_pic_reloc[1]:#x} (in {x86_pic_reloc[2]}) is "
         "not supported by the rebase; link the guest at 0"),
        ("unsupported_arm_thumb", arm_thumb, "arm", MEMORY,
         f"relocation {thumb_reloc[0]} at {thumb_reloc[1]:#x} (in {thumb_reloc[2]}) is "
         "not supported by the rebase; link the guest at 0"),
        ("below_0_after_rebase",
         _patched_segment(x86_q, phoff + 32 * gnu_stack, vaddr=0x1000, memsz=0x10), "x86", MEMORY,
         f"segment {gnu_stack} (PT_GNU_STACK) [0x1000, 0x1010) would lie below 0 after "
         "rebasing by 0x80000"),
        ("movt_without_movw", _asm_guest(work, "movt_7ff000.elf", MOVT_ALONE, 0x7FF000), "arm",
         MEMORY,
         "relocation R_ARM_MOVT_ABS at 0x7ff000 (in .rel.text) cannot be rebased by 0x7ff000: "
         "no R_ARM_MOVW_ABS_NC of the same symbol and register before it gives the low half "
         "(a multiple of 0x10000 would not need it)"),
        ("segment_outside_file", craft([good_load, (PT_NOTE, 0xDF002F64, 0, 16, 16)]), "x86",
         MEMORY, "segment 1 (PT_NOTE) [0x0, 0x10): its file bytes [0xdf002f64, 0xdf002f74) lie "
         "beyond the end of the file (132 bytes)"),
        ("section_outside_file", _patched_section(x86_0, ".comment", "sh_offset", 0x7FFF0000),
         "x86", MEMORY, f"section .comment [0x7fff0000, {0x7FFF0000 + comment.size:#x}) lies "
         f"beyond the end of the file ({x86_0.stat().st_size} bytes)"),
        ("sections_overlap", _patched_section(x86_q, ".comment", "sh_offset", text.offset),
         "x86", MEMORY, "sections .comment and .text overlap in the file"),
        ("section_not_mapped", _patched_section(x86_q, ".data", "sh_addr", data.addr + 0x10),
         "x86", MEMORY, f"section .data [{data.addr + 0x10:#x}, {data.addr + 0x14:#x}) at file "
         f"offset {data.offset:#x} is not where a PT_LOAD segment maps it"),
        ("corrupt_section_names", _patched(x86_0, 50, "<H", 200), "x86", MEMORY,
         "corrupt ELF file (ELFParseError: String Table not found)"),
        ("unknown_architecture", x86_0, "riscv32", MEMORY,
         "no partition ELF support for architecture 'riscv32' (supported: x86, arm)"),
    ]


@dataclass(frozen=True)
class _Shdr:
    header_at: int
    addr: int
    offset: int
    size: int


def _section(path: Path, name: str) -> _Shdr:
    elf = ELFFile(io.BytesIO(path.read_bytes()))
    index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == name)
    section = elf.get_section(index)
    return _Shdr(elf.header["e_shoff"] + 40 * index, section["sh_addr"], section["sh_offset"],
                 section["sh_size"])


_SHDR_FIELDS = {"sh_addr": 12, "sh_offset": 16}


def _patched_section(path: Path, name: str, field: str, value: int) -> bytes:
    return _patched(path, _section(path, name).header_at + _SHDR_FIELDS[field], "<I", value)


def _patched_segment(path: Path, at: int, vaddr: int, memsz: int) -> bytes:
    data = bytearray(path.read_bytes())
    struct.pack_into("<II", data, at + 8, vaddr, vaddr)
    struct.pack_into("<I", data, at + 20, memsz)
    return bytes(data)


def _asm_guest(work: Path, name: str, text: str, base: int) -> Path:
    source = work / f"{name}.s"
    source.write_text(text)
    obj = work / f"{name}.o"
    out = work / name
    _run([*CLANG_ARM.command, "-c", str(source), "-o", str(obj)])
    _run([*ZIG, "ld.lld", "-z", "max-page-size=4096", "--emit-relocs",
          "-T", str(_script(work, base)), str(obj), "-o", str(out)])
    return out


BAD = [
    "empty", "random", "truncated_header", "truncated_program_headers", "program_header_size",
    "elf64", "big_endian", "arm_for_x86", "x86_for_arm", "object_file", "core_dump",
    "no_pt_load", "overlap", "only_empty_loads", "filesz_over_memsz", "file_bytes_outside", "wraps",
    "entry_outside", "too_big", "no_relocations_x86", "no_relocations_arm", "unsupported_x86",
    "unsupported_arm_thumb", "below_0_after_rebase", "movt_without_movw",
    "segment_outside_file", "section_outside_file", "sections_overlap", "section_not_mapped",
    "corrupt_section_names", "unknown_architecture",
]


@pytest.fixture(scope="module")
def bad_cases(work: Path) -> dict[str, BadCase]:
    cases = {case[0]: case for case in _bad_cases(work)}
    assert list(cases) == BAD
    return cases


@pytest.mark.parametrize("name", BAD)
def test_a_bad_partition_elf_is_refused_with_its_message(
    bad_cases: dict[str, BadCase], tmp_path: Path, name: str
) -> None:
    _, source, arch, memory, message = bad_cases[name]
    if isinstance(source, Path):
        path = source
    else:
        path = tmp_path / f"{name}.elf"
        path.write_bytes(source)
    with pytest.raises(ElfError) as caught:
        load_partition_elf(path, arch, memory, STACK)
    assert caught.value.message == message
    assert str(caught.value) == f"pvgen: error: {path}: {message}"
    assert caught.value.exit_status == 2


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ElfError, match=r"^pvgen: error: .*missing\.elf: no such file$"):
        load_partition_elf(tmp_path / "missing.elf", "x86", MEMORY, STACK)


def test_a_lone_movt_is_rebased_by_a_multiple_of_64k(work: Path) -> None:
    """The low half is then unchanged: MOVT alone can take the new high half."""
    elf = load(_asm_guest(work, "movt_80000.elf", MOVT_ALONE, 0x80000), "arm")
    (movt,) = _words(elf, elf.symbols["_start"], 1)
    assert ((movt >> 4) & 0xF000) | (movt & 0xFFF) == elf.symbols["counter"] >> 16 == 0


# --- Whatever the bytes, an ElfError or a partition: never a traceback. ----------------

@pytest.fixture(scope="module")
def seeds(work: Path) -> dict[str, bytes]:
    return {
        "x86_at_0": build_x86(work, "x86_at_0.elf", 0).read_bytes(),
        "x86_q": build_x86(work, "x86_q_80000.elf", 0x80000, "-Wl,-q").read_bytes(),
        "arm_q": build_arm(work, "arm_q_80000.elf", 0x80000, "--emit-relocs").read_bytes(),
        "x86_pie": build_x86(work, "pie_80000.elf", 0x80000, pie=True).read_bytes(),
    }


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.sampled_from(["x86_at_0", "x86_q", "arm_q", "x86_pie"]),
    mutations=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)),
                       min_size=1, max_size=6),
    headers_only=st.booleans(),
    cut=st.one_of(st.none(), st.integers(0, 1 << 16)),
)
def test_mutated_guests_never_raise_anything_but_elf_error(
    seeds: dict[str, bytes], tmp_path: Path, seed: str,
    mutations: list[tuple[int, int]], headers_only: bool, cut: int | None,
) -> None:
    data = bytearray(seeds[seed])
    for at, value in mutations:
        # Half the mutations hit the ELF and program headers, where most decisions are made.
        data[at % (0x200 if headers_only else len(data))] = value
    path = tmp_path / "mutant.elf"
    path.write_bytes(bytes(data[:cut]))
    arch = "arm" if seed.startswith("arm") else "x86"
    try:
        elf = load_partition_elf(path, arch, MEMORY, STACK)
    except ElfError as error:
        assert error.message and "\n" not in error.message
    else:
        assert elf.segments[0].vaddr == 0
