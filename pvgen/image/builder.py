"""`pvgen image`: module configuration → built guests → relocated ELFs → the image.

Also writes, beside the image, the same system as a POK system directory
(``NAME.pok/``, built by POK's own make rules) and, with a linked ``pok.elf``, that
kernel with its partitions replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pvgen.abi_lock import lock_path_for
from pvgen.arch import ARCHITECTURES
from pvgen.config import load_module
from pvgen.config.model import ModuleConfig, ToolchainConfig
from pvgen.definition import carried, files
from pvgen.image.elf import PartitionElf, load_partition_elf
from pvgen.image.guests import build_partitions
from pvgen.image.manifest import Manifest
from pvgen.image.pack import build_manifest, pack_image
from pvgen.image.toolchain import ToolchainError
from pvgen.model import Interface
from pvgen.pipeline import Generated, generate
from pvgen.pok.deployment import system_files
from pvgen.pok.errors import PokError
from pvgen.pok.kernel import rewrite_kernel


@dataclass(frozen=True)
class BuildResult:
    image: Path
    manifest: Manifest
    generated: Generated
    pok_dir: Path
    pok_note: str | None  # why no POK system directory was written, if it was not
    kernel: Path | None
    warnings: dict[str, str]  # what the compiler said of a partition it built, by partition
    read: frozenset[Path]  # every file the image was made from (pvgen.image.uptodate)
    written: tuple[Path, ...]  # the image, the partitions' ELFs, the kernel
    compiler: tuple[str, ...]  # the command that built the guests (none: all prebuilt)


def _pok_system(
    module: ModuleConfig, iface: Interface, elves: Sequence[PartitionElf], pok_dir: Path
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
    jobs: int | None = None,
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
            f"pvgen: error: {config}: the interface {iface.name} has no ABI for architecture "
            f"'{arch}'"
        )
    abi = iface.default_abi(architecture)
    work = out.parent / f"{out.stem}.build"
    built = build_partitions(module, iface, work, jobs)
    elves = [
        load_partition_elf(path, arch, p.memory_size, p.stack_size)
        for path, p in zip(built.elves, module.partitions, strict=True)
    ]
    manifest = build_manifest(module, elves, iface, abi.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pack_image(manifest, elves, carried(definition)))
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
    read = {config, *map(Path, files(definition)), lock_path_for(definition), *built.read,
            *built.elves, *([kernel] if kernel else [])}
    written = (out, *built.elves, *([kernel_out] if kernel_out else []))
    return BuildResult(out, manifest, generated, pok_dir, note, kernel_out, built.warnings,
                       frozenset(read), written, built.compiler)


def for_arch(module: ModuleConfig, arch: str | None, config: Path) -> ModuleConfig:
    """The module with its guests built for `arch` (None or its own: unchanged)."""
    if arch is None or arch == module.toolchain.arch:
        return module
    if arch not in ARCHITECTURES:
        raise ToolchainError(f"pvgen: error: {config}: --arch {arch}: pvgen knows no such "
                             f"architecture (it knows {', '.join(sorted(ARCHITECTURES))})")
    return replace(module, toolchain=ToolchainConfig(arch=arch))
