"""A kernel linked the way POK's make rules link one, for tests of the --kernel rewrite.

It is not POK: just enough of its layout (``sizes.o`` with ``.archive2`` added
by objcopy, placed inside ``.data`` between ``__archive2_begin`` and
``__archive2_end``, and the system's ``kernel/deployment.h`` beside it) to be a faithful
target, built with the real binutils. tests/test_pok_system.py rewrites a real one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pvgen.image.container import pack_archive


def link_fake_pok(tmp_path: Path, partitions: list[bytes], memory: int = 131072) -> Path:
    """A kernel linked the way POK's make rules link one (sizes.o + .archive2 inside .data),
    its partitions `memory` bytes each."""
    blob, sizes = pack_archive(partitions)
    (tmp_path / "types.h").write_text("#include <stdint.h>\n")
    (tmp_path / "sizes.c").write_text(
        "#include <types.h>\nuint32_t part_sizes[] = {" + ",".join(map(str, sizes)) + "};\n")
    (tmp_path / "kernel").mkdir(exist_ok=True)
    (tmp_path / "kernel" / "deployment.h").write_text(
        "#define POK_CONFIG_PARTITIONS_SIZE \\\n  { "
        + ", ".join(str(memory) for _ in partitions) + " }\n")
    (tmp_path / "partitions.bin").write_bytes(blob)
    (tmp_path / "kernel.c").write_text(
        "extern unsigned int part_sizes[];\nunsigned int kernel_main(void);\n"
        "unsigned int kernel_main(void) { return part_sizes[0]; }\n"
    )
    (tmp_path / "kernel.ld").write_text(
        "ENTRY(kernel_main)\nSECTIONS {\n . = 0x100000;\n .text : { *(.text*) }\n"
        " .data : { *(.data) __archive2_begin = .; *(.archive2) __archive2_end = .; }\n"
        " .bss : { *(.bss) }\n}\n"
    )
    def run(*args: str) -> None:
        subprocess.run(args, check=True, cwd=tmp_path)
    run("gcc", "-m32", "-ffreestanding", "-c", "-I.", "sizes.c", "-o", "sizes.o")
    run("objcopy", "--add-section", ".archive2=partitions.bin", "sizes.o")
    run("gcc", "-m32", "-ffreestanding", "-c", "kernel.c", "-o", "kernel.o")
    run("ld", "-m", "elf_i386", "-T", "kernel.ld", "kernel.o", "sizes.o", "-o", "pok.elf")
    return tmp_path / "pok.elf"
