"""`pvgen image`: module configuration → built guests → relocated ELFs → the image.

Also writes, beside the image, the same system as a POK system directory
(``NAME.pok/``, built by POK's own make rules) and, with a linked ``pok.elf``, that
kernel with its partitions replaced.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pvgen.arch import ARCHITECTURES
from pvgen.bsp import BaremetalRuntime, render_baremetal
from pvgen.config import load_module
from pvgen.config.model import Module, Partition, Toolchain
from pvgen.image.elf import PartitionElf, load_partition_elf
from pvgen.image.manifest import Manifest
from pvgen.image.pack import build_manifest, pack_image
from pvgen.image.toolchain import PROGRAM_FLAGS, Compiler, ToolchainError, resolve_compiler
from pvgen.model import Interface
from pvgen.pipeline import Generated, generate
from pvgen.pok.deployment import system_files
from pvgen.pok.errors import PokError
from pvgen.pok.kernel import rewrite_kernel


class BuildError(ToolchainError):
    """A guest did not compile or link; the compiler's own words follow."""


@dataclass(frozen=True)
class BuildResult:
    image: Path
    manifest: Manifest
    generated: Generated
    pok_dir: Path
    pok_note: str | None  # why no POK system directory was written, if it was not
    kernel: Path | None
    warnings: dict[str, str]  # what the compiler said of a partition it built, by partition


# More compiler flags for every partition built from sources, from the environment: -Werror
# to make warnings errors, -g for a debugger, a -D of one's own.
CFLAGS_VARIABLE = "PVGEN_CFLAGS"


def _compile(
    compiler: Compiler, partition: Partition, runtime: BaremetalRuntime, out: Path
) -> tuple[Path, str]:
    """Build one partition from its C sources and the guest runtime, linked at 0; the ELF,
    and what the compiler said (its warnings) if it succeeded."""
    elf = out / f"{partition.name}.elf"
    source_dirs = sorted({s.parent for s in partition.image.sources})
    defines = (*runtime.defines, *runtime.layout_defines(partition.memory_size,
                                                         partition.stack_size))
    args = [
        *compiler.command, *PROGRAM_FLAGS, *runtime.cflags,
        *shlex.split(os.environ.get(CFLAGS_VARIABLE, "")),
        *(f"-I{d}" for d in (*runtime.include_dirs, *source_dirs)),
        *(f"-D{d}" for d in defines),
        *(str(s) for s in (*partition.image.sources, *runtime.sources)),
        *runtime.link_flags,
        "-o", str(elf),
    ]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(
            f"error: building partition '{partition.name}' failed:\n  {' '.join(args)}\n"
            + result.stderr.rstrip()
        )
    return elf, result.stderr.rstrip()


def build_partitions(module: Module, iface: Interface, work: Path
                     ) -> tuple[list[Path], dict[str, str]]:
    """Each partition's ELF: its prebuilt file, or built from its sources; and the
    compiler's warnings, by partition."""
    work.mkdir(parents=True, exist_ok=True)
    to_build = [p for p in module.partitions if p.image.elf is None]
    compiler = resolve_compiler(module.toolchain) if to_build else None
    runtime = (
        render_baremetal(iface, module.toolchain.arch, work / "runtime")
        if to_build else None
    )
    paths, warnings = [], {}
    for partition in module.partitions:
        if partition.image.elf is not None:
            paths.append(partition.image.elf)
        else:
            assert compiler is not None and runtime is not None
            elf, said = _compile(compiler, partition, runtime, work)
            paths.append(elf)
            if said:
                warnings[partition.name] = said
    return paths, warnings


def _pok_system(
    module: Module, iface: Interface, elves: Sequence[PartitionElf], pok_dir: Path
) -> str | None:
    """Write the module's POK system directory; return why it could not be made, if so."""
    if module.toolchain.arch != "x86":
        return (f"{module.source}: the POK system is for x86 (POK's x86-qemu BSP), the guests "
                f"are built for {module.toolchain.arch}")
    try:
        files = system_files(module, iface, [e.data for e in elves])
    except PokError as exc:
        return str(exc)
    for name, data in files.items():
        (pok_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (pok_dir / name).write_bytes(data)
    return None


def build_image(
    config: Path,
    out: Path,
    definition: Path,
    gen_dir: Path,
    kernel: Path | None = None,
    arch: str | None = None,
) -> BuildResult:
    """Build the configuration's guests and pack them; `arch` builds them for another
    architecture than the configuration's Toolchain names (with that architecture's default
    compiler: a configured Compiler is for the configured architecture)."""
    generated = generate(definition, gen_dir)
    iface = generated.interface
    module = for_arch(load_module(config), arch, config)
    arch = module.toolchain.arch
    architecture = iface.architecture(arch)
    if architecture is None:
        raise ToolchainError(
            f"{config}: error: the interface {iface.name} has no ABI for architecture '{arch}'"
        )
    abi = iface.default_abi(architecture)
    work = out.parent / f"{out.stem}.build"
    elf_paths, warnings = build_partitions(module, iface, work)
    elves = [
        load_partition_elf(path, arch, p.memory_size, p.stack_size)
        for path, p in zip(elf_paths, module.partitions, strict=True)
    ]
    manifest = build_manifest(module, elves, iface, abi.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pack_image(manifest, elves, definition.read_bytes()))
    pok_dir = out.parent / f"{out.stem}.pok"
    note = _pok_system(module, iface, elves, pok_dir)
    kernel_out = None
    if kernel is not None:
        kernel_out = pok_dir / "pok.elf"
        rewritten = rewrite_kernel(kernel, [e.data for e in elves],
                                   [p.memory_size for p in module.partitions],
                                   [p.name for p in module.partitions])
        pok_dir.mkdir(parents=True, exist_ok=True)
        kernel_out.write_bytes(rewritten)
    return BuildResult(out, manifest, generated, pok_dir, note, kernel_out, warnings)


def for_arch(module: Module, arch: str | None, config: Path) -> Module:
    """The module with its guests built for `arch` (None or its own: unchanged)."""
    if arch is None or arch == module.toolchain.arch:
        return module
    if arch not in ARCHITECTURES:
        raise ToolchainError(f"{config}: error: --arch {arch}: pvgen knows no such architecture "
                             f"(it knows {', '.join(sorted(ARCHITECTURES))})")
    return replace(module, toolchain=Toolchain(arch=arch))
