"""RTEMS applications of one's own, built against the pokpv BSP that ``build`` installed.

RTEMS's test programs are built by RTEMS's waf; an application is built as RTEMS's
documentation has users build theirs: compiled with the BSP's ABI flags (from its
pkg-config file) and headers, linked with the BSP's start file, linker command file and
libraries (``Toolchain.application_link``). The ELF it gives is what a module
configuration's ``<Guest Elf=...>`` packs into an image.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pvgen.diagnostics import InputError
from pvgen.rtems import BSP
from pvgen.rtems.build import RtemsBuild, RtemsBuildError
from pvgen.rtems.toolchain import TARGET, Toolchain

CFLAGS = ("-O2", "-g", "-Wall", "-Wextra")


def abi_flags(built: RtemsBuild) -> list[str]:
    """The BSP's ABI flags, as its installed pkg-config file gives them."""
    pc = built.prefix / "lib" / "pkgconfig" / f"{TARGET}-{BSP.split('/')[1]}.pc"
    if not pc.is_file():
        raise RtemsBuildError(f"pvgen: error: {pc}: no pkg-config file of the installed BSP")
    found = re.search(r"^ABI_FLAGS=(.*)$", pc.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise RtemsBuildError(f"pvgen: error: {pc}: it has no ABI_FLAGS")
    return shlex.split(found[1])


def build_application(built: RtemsBuild, toolchain: Toolchain, sources: Sequence[Path],
                      elf: Path, cflags: Sequence[str] = ()) -> Path:
    """Compile and link `sources` into the RTEMS application `elf` (its objects beside it);
    a compiler's error is a RtemsBuildError with what the compiler said."""
    for source in sources:
        if not source.is_file():
            raise InputError(source, "no such C file")
    elf.parent.mkdir(parents=True, exist_ok=True)
    objects = [str(compile_c(built, toolchain, source,
                             elf.parent / f"{elf.stem}-{number}-{source.stem}.o", cflags))
               for number, source in enumerate(sources)]
    link = [flag.format(lib=built.installed) for flag in toolchain.application_link]
    _run([str(toolchain.bin / toolchain.cc), *abi_flags(built), *objects, "-o", str(elf),
          *link], toolchain, elf)
    return elf


def compile_c(built: RtemsBuild, toolchain: Toolchain, source: Path, obj: Path,
              cflags: Sequence[str] = ()) -> Path:
    """Compile one C file against the installed BSP's headers (as system headers: the
    warnings are the file's own)."""
    _run([str(toolchain.bin / toolchain.cc), *abi_flags(built), "-isystem",
          str(built.installed / "include"), *CFLAGS, *cflags, "-c", str(source), "-o",
          str(obj)], toolchain, source)
    return obj


def _run(command: list[str], toolchain: Toolchain, subject: Path) -> None:
    done = subprocess.run(command, env=toolchain.environment(), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RtemsBuildError(f"pvgen: error: {subject}: {Path(command[0]).name} failed "
                              f"(exit {done.returncode}):\n{done.stdout}{done.stderr}".rstrip())
