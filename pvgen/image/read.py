"""Read an image file back: the partitions, their sizes, the manifest, the fingerprint.

Every way an image can be wrong (not an ELF, truncated, a missing section,
sizes that disagree with the manifest or with ``.archive2``) becomes an
ImageError naming the file, before anything runs. Uses pyelftools only, so the
emulator's boot path stays light.
"""

from __future__ import annotations

import io
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from pvgen.diagnostics import PvgenError
from pvgen.image.container import (
    ARCHIVE_SECTION,
    DEFINITION_SECTION,
    FINGERPRINT_SECTION,
    MANIFEST_SECTION,
    pok_padded,
)
from pvgen.image.manifest import Manifest, ManifestError
from pvgen.image.manifest_rules import read_manifest

# How pyelftools names the machines of pvgen.image.container.ELF_MACHINES.
_PYELFTOOLS_MACHINES = {"x86": "EM_386", "arm": "EM_ARM"}


class ImageError(PvgenError):
    """An image that cannot be booted or inspected; the message names the file."""


@dataclass(frozen=True)
class Image:
    path: Path
    manifest: Manifest
    fingerprint: str
    archive: bytes
    part_sizes: tuple[int, ...]
    definition: bytes = b""  # the definition's text it carries (none: an older image)

    def partition_elf(self, index: int) -> bytes:
        """The ELF file of the index-th partition, as POK's loader finds it."""
        entry = self.manifest.partitions[index]
        return self.archive[entry.archive_offset : entry.archive_offset + entry.file_size]


# The largest image read: an image is untrusted input, and a file that never ends (/dev/zero)
# or does not exist yet (a FIFO) must not hold the reader.
MAX_IMAGE_BYTES = 256 * 1024 * 1024


def _read_bounded(path: Path) -> bytes:
    """The file's bytes, if it is a regular file of at most MAX_IMAGE_BYTES (opened without
    waiting, so a FIFO is refused, not waited on)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _fail(path, "not a regular file")
        data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise _fail(path, f"larger than an image may be ({MAX_IMAGE_BYTES // 2**20} MiB)")
    return data


def read_image(path: Path) -> Image:
    try:
        data = _read_bounded(path)
    except OSError as exc:
        raise ImageError(f"pvgen: error: {path}: cannot read the image: {exc.strerror}") from None
    try:
        return _parse(path, data)
    except (ELFError, struct.error, ValueError, KeyError, IndexError) as exc:
        raise ImageError(f"pvgen: error: {path}: not a readable image ({exc})") from None


def _fail(path: Path, message: str) -> ImageError:
    return ImageError(f"pvgen: error: {path}: {message}")


def _section(elf: ELFFile, path: Path, name: str, required: bool = True) -> bytes:
    """The section's bytes; a missing one is a corrupt image, or empty if not `required`."""
    section = elf.get_section_by_name(name)
    if section is None and not required:
        return b""
    if section is None:
        raise _fail(path, f"no '{name}' section: not an image made by `pvgen image`")
    if section["sh_offset"] + section["sh_size"] > elf.stream.seek(0, io.SEEK_END):
        raise _fail(path, f"section '{name}' runs past the end of the file (truncated?)")
    content: bytes = section.data()
    return content


def _parse(path: Path, data: bytes) -> Image:
    if data[:4] != b"\x7fELF":
        raise _fail(path, "not an ELF file")
    elf = ELFFile(io.BytesIO(data))
    if elf.elfclass != 32 or not elf.little_endian:
        raise _fail(path, "not a little-endian ELF32 image")
    manifest_bytes = _section(elf, path, MANIFEST_SECTION)
    try:
        manifest = read_manifest(manifest_bytes)
    except ManifestError as exc:
        raise _fail(path, str(exc)) from None
    machine = _PYELFTOOLS_MACHINES.get(manifest.arch)
    if machine is None:
        raise _fail(path, f"unknown architecture '{manifest.arch}' in the manifest")
    if elf["e_machine"] != machine:
        raise _fail(path, f"ELF machine {elf['e_machine']} does not match arch {manifest.arch}")
    fingerprint = _section(elf, path, FINGERPRINT_SECTION).decode("ascii", "replace")
    if fingerprint != manifest.fingerprint:
        raise _fail(path, f"the {FINGERPRINT_SECTION} section does not hold the manifest's "
                    "interface fingerprint")
    archive = _section(elf, path, ARCHIVE_SECTION)
    sizes_blob = _section(elf, path, ".data")
    count = len(manifest.partitions)
    if len(sizes_blob) != 4 * count:
        raise _fail(path, f"part_sizes has {len(sizes_blob) // 4} entries for {count} partitions")
    part_sizes = struct.unpack(f"<{count}I", sizes_blob)
    offset = 0
    for entry, size in zip(manifest.partitions, part_sizes, strict=True):
        if entry.archive_offset != offset or pok_padded(entry.file_size) != size:
            raise _fail(path, f"partition '{entry.name}' disagrees with part_sizes")
        offset += size
    if offset != len(archive):
        raise _fail(
            path, f"{ARCHIVE_SECTION} holds {len(archive)} bytes, part_sizes add up to {offset}"
        )
    definition = _section(elf, path, DEFINITION_SECTION, required=False)  # older images: none
    return Image(path, manifest, fingerprint, archive, part_sizes, definition)
