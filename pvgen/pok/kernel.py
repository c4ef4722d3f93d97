"""An already linked POK kernel with its partitions replaced (``pvgen image --kernel``).

In a linked ``pok.elf`` the partitions sit inside ``.data`` between ``__archive2_begin``
and ``__archive2_end``, and ``part_sizes`` is a bare uint32 array (POK's make rules put
them there). What the kernel gives each partition is compiled into ``pok_partition_init``
as immediates, so it is read from the system's ``kernel/deployment.h`` beside the kernel,
where POK's make rules leave it: a kernel that gives a partition less memory than the
module does would let the guest's stack run over POK's kernel stack above it.
"""

from __future__ import annotations

import ast
import io
import re
import struct
from collections.abc import Sequence
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from pvgen.image.container import pack_archive
from pvgen.pok.errors import PokError

RELINK = "build the kernel from the emitted POK system (make POK_PATH=...)"


def rewrite_kernel(kernel: Path, partitions: Sequence[bytes], sizes: Sequence[int],
                   names: Sequence[str]) -> bytes:
    """`kernel` with `partitions` (of the given memory sizes) in place of its own; refuses a
    kernel linked for another count, with too little room, or smaller partitions."""
    try:
        data = kernel.read_bytes()
        elf = ELFFile(io.BytesIO(data))
        symbols = _symbols(elf)
    except OSError as exc:
        raise PokError(f"pvgen: error: {kernel}: cannot read: {exc.strerror}") from None
    except (ELFError, struct.error, ValueError) as exc:
        raise PokError(f"pvgen: error: {kernel}: not a readable ELF file ({exc})") from None
    missing = [s for s in ("__archive2_begin", "__archive2_end", "part_sizes") if s not in symbols]
    if missing:
        raise PokError(f"pvgen: error: {kernel}: no symbol {', '.join(missing)}: not a linked "
                       f"POK kernel")
    begin, end = symbols["__archive2_begin"], symbols["__archive2_end"]
    blob, padded = pack_archive(partitions)
    count = _part_sizes_count(data, elf, symbols, begin, end)
    if count != len(partitions):
        raise PokError(
            f"pvgen: error: {kernel}: the kernel was linked for {count} partition(s), the "
            f"module has {len(partitions)}; {RELINK}"
        )
    _check_partition_sizes(kernel, sizes, names)
    if len(blob) > end - begin:
        raise PokError(
            f"pvgen: error: {kernel}: the partitions need {len(blob)} bytes, the kernel's "
            f"archive holds {end - begin}; {RELINK}"
        )
    out = bytearray(data)
    start = _file_offset(elf, begin)
    out[start : start + (end - begin)] = blob + bytes(end - begin - len(blob))
    sizes_at = _file_offset(elf, symbols["part_sizes"])
    out[sizes_at : sizes_at + 4 * count] = struct.pack(f"<{count}I", *padded)
    return bytes(out)


def _check_partition_sizes(kernel: Path, sizes: Sequence[int], names: Sequence[str]) -> None:
    given = kernel_partition_sizes(kernel)
    if len(given) != len(sizes):
        raise PokError(f"pvgen: error: {kernel}: its kernel/deployment.h configures {len(given)} "
                       f"partition(s), the module has {len(sizes)}; {RELINK}")
    short = [f"{name} needs {size} bytes, the kernel gives {room}"
             for name, size, room in zip(names, sizes, given, strict=True) if room < size]
    if short:
        raise PokError(f"pvgen: error: {kernel}: the kernel's partitions are smaller than the "
                       f"module's: {'; '.join(short)}; {RELINK}")


def kernel_partition_sizes(kernel: Path) -> tuple[int, ...]:
    """POK_CONFIG_PARTITIONS_SIZE of the system `kernel` was built in."""
    header = kernel.parent / "kernel" / "deployment.h"
    try:
        text = header.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise PokError(
            f"pvgen: error: {kernel}: cannot tell the sizes of the kernel's partitions: {header}: "
            f"{exc.strerror} (--kernel takes a pok.elf in the POK system it was built in)"
        ) from None
    found = re.search(r"^\s*#\s*define\s+POK_CONFIG_PARTITIONS_SIZE\s+((?:.*\\\n)*.*)$", text,
                      re.MULTILINE)
    if found is None:
        raise PokError(f"pvgen: error: {header}: no POK_CONFIG_PARTITIONS_SIZE")
    body = found.group(1).replace("\\\n", " ").strip()
    try:
        return tuple(_integer(item) for item in body.strip("{} ").split(","))
    except (SyntaxError, ValueError):
        raise PokError(f"pvgen: error: {header}: POK_CONFIG_PARTITIONS_SIZE {body}: not a list of "
                       "integer expressions") from None


_ARITHMETIC = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add, ast.Sub,
               ast.Mult, ast.FloorDiv, ast.USub, ast.UAdd)


def _integer(expression: str) -> int:
    """A C integer constant expression of +, -, *, / and parentheses (``12 * 1024``)."""
    python = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", expression).replace("/", "//")
    tree = ast.parse(python.strip(), mode="eval")
    if not all(isinstance(node, _ARITHMETIC) for node in ast.walk(tree)):
        raise ValueError(expression)
    value = eval(compile(tree, "<deployment.h>", "eval"), {"__builtins__": {}})
    if not isinstance(value, int):
        raise ValueError(expression)
    return value


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
    raise PokError(f"pvgen: error: address {address:#x} is not in the kernel's file")
