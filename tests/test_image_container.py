"""The image file, the POK system beside it, and rewriting a linked POK kernel."""

from __future__ import annotations

import os
import struct
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pvgen.definition import load
from pvgen.image.container import pack_archive, pok_padded
from pvgen.image.pack import build_manifest, pack_image
from pvgen.image.read import MAX_IMAGE_BYTES, ImageError, read_image
from pvgen.pok.deployment import system_files
from pvgen.pok.errors import PokError
from pvgen.pok.kernel import kernel_partition_sizes, rewrite_kernel
from tests.conftest import DEFINITION
from tests.modules import three_partitions
from tests.pokfake import link_fake_pok


@dataclass(frozen=True)
class FakeBuilt:
    """Stands for a built partition ELF: the packer only moves its bytes (these partitions
    keep nothing across a warm start, so their sections and symbols are never looked at)."""

    data: bytes
    entry: int
    image_end: int
    path: Path = Path("fake.elf")
    sections: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    symbols: Mapping[str, int] = field(default_factory=dict)


BUILT = (
    FakeBuilt(b"A" * 100, 0, 0x400),
    FakeBuilt(b"B" * 7, 4, 0x800),
    FakeBuilt(b"C" * 9, 8, 0x10),
)


def test_pok_pads_every_partition_even_an_aligned_one() -> None:
    assert [pok_padded(n) for n in (100, 7, 9, 0)] == [104, 8, 12, 4]
    blob, sizes = pack_archive([b"A" * 100, b"B" * 7])
    assert sizes == (104, 8)
    assert blob == b"A" * 100 + bytes(4) + b"B" * 7 + bytes(1)


def _image(tmp_path: Path) -> Path:
    iface = load(DEFINITION)
    manifest = build_manifest(three_partitions(), BUILT, iface, "pok_x86")
    path = tmp_path / "system.img"
    path.write_bytes(pack_image(manifest, BUILT))
    return path


def test_image_round_trips_through_the_reader(tmp_path: Path) -> None:
    image = read_image(_image(tmp_path))
    assert image.fingerprint == load(DEFINITION).fingerprint
    assert image.part_sizes == (104, 8, 12)
    assert [image.partition_elf(i) for i in range(3)] == [b.data for b in BUILT]
    alpha = image.manifest.partitions[0]
    assert (alpha.name, alpha.memory_size, alpha.entry, alpha.image_end) == ("alpha", 0x20000, 0,
                                                                             0x400)
    assert image.manifest.channels[1].destinations == ((3, "cmd_in"),)
    assert image.manifest.hm_levels == {"POWER_FAIL": "MODULE"}


def test_image_is_an_object_binutils_reads_with_part_sizes(tmp_path: Path) -> None:
    path = _image(tmp_path)
    sections = subprocess.run(["readelf", "-SW", str(path)], capture_output=True, text=True,
                              check=True).stdout
    for name in (".data", ".archive2", ".pvgen.manifest", ".pvgen.fingerprint"):
        assert f" {name} " in sections
    symbols = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    assert "D part_sizes" in symbols


def test_same_inputs_same_image_bytes(tmp_path: Path) -> None:
    first = _image(tmp_path).read_bytes()
    assert _image(tmp_path).read_bytes() == first


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[:100], "not a readable image"),
        (lambda b: b"garbage" + b, "not an ELF file"),
        (lambda b: b.replace(b".pvgen.manifest", b".pvgen.manifesX"),
         "no '.pvgen.manifest' section"),
        (lambda b: b.replace(b'"file_size":7', b'"file_size":8'),
         "'beta' disagrees with part_sizes"),
        (lambda b: b.replace(b'"format":1', b'"format":9'), "manifest format is not 1"),
        (lambda b: b.replace(b'"major_frame_ns"', b'"major_frame_nX"'), "manifest is corrupt"),
        # names become file names and C identifiers: one that is not a name is corruption
        (lambda b: b.replace(b'"name":"beta"', b'"name":"../a"'),
         r"the partition name '\.\./a' is not a name"),
        (lambda b: b.replace(b'"interface":"pv"', b'"interface":".."'),
         r"the interface name '\.\.' is not a name"),
        # a schedule whose time cannot advance, or that the emulator would spend all on
        (lambda b: b.replace(b'"major_frame_ns":20000000', b'"major_frame_ns":       3'),
         r"the major frame lasts 3 ns, less than the shortest a module may have \(1000 ns\)"),
    ],
)
def test_damaged_images_are_refused_with_the_file_named(
    tmp_path: Path, damage: object, message: str
) -> None:
    path = _image(tmp_path)
    assert callable(damage)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ImageError, match=message) as caught:
        read_image(path)
    assert str(caught.value).startswith(f"pvgen: error: {path}: ")


SHIM = {
    "types.h": "#include <stdint.h>\n",
    "middleware/port.h": "#define POK_PORT_KIND_QUEUEING 1\n#define POK_PORT_KIND_SAMPLING 2\n",
}


def test_deployment_files_compile_and_say_what_the_module_says(tmp_path: Path) -> None:
    system = system_files(three_partitions(), load(DEFINITION), [b"a", b"b", b"c"])
    files = {name.removeprefix("kernel/"): data.decode() for name, data in system.items()
             if name.startswith("kernel/deployment")}
    for name, text in {**files, **SHIM}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    probe = tmp_path / "probe.c"
    probe.write_text(
        '#include <types.h>\n#include "deployment.h"\n'
        "static const uint64_t slots[] = POK_CONFIG_SCHEDULING_SLOTS;\n"
        "static const uint8_t alloc[] = POK_CONFIG_SCHEDULING_SLOTS_ALLOCATION;\n"
        "static const uint32_t sizes[] = POK_CONFIG_PARTITIONS_SIZE;\n"
        "typedef char check_frame[POK_CONFIG_SCHEDULING_MAJOR_FRAME == 20000000 ? 1 : -1];\n"
        "typedef char check_slots[sizeof slots / 8 == POK_CONFIG_SCHEDULING_NBSLOTS ? 1 : -1];\n"
        "typedef char check_ports[POK_CONFIG_NB_PORTS == 4 && beta_cmd_out == 2 ? 1 : -1];\n"
        "typedef char check_kind[POK_NEEDS_PORTS_QUEUEING && POK_NEEDS_PORTS_SAMPLING ? 1 : -1];\n"
        "uint64_t probe(void) { return slots[2] + alloc[2] + sizes[0]; }\n"
    )
    for source in (probe, tmp_path / "deployment.c"):
        subprocess.run(
            ["gcc", "-m32", "-ffreestanding", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c",
             f"-I{tmp_path}", str(source), "-o", str(tmp_path / "out.o")],
            check=True,
        )
    assert "POK_CONFIG_SCHEDULING_SLOTS {5000000, 5000000, 10000000}" in files["deployment.h"]
    assert "POK_CONFIG_SCHEDULING_SLOTS_ALLOCATION {0, 1, 2}" in files["deployment.h"]
    assert '{"temp_out", "temp_in", "cmd_out", "cmd_in"}' in files["deployment.c"]


def _read_symbol(path: Path, symbol: str, size: int) -> bytes:
    """The bytes at a symbol of a linked ELF, read independently with pyelftools."""
    with path.open("rb") as f:
        elf = ELFFile(f)
        table = elf.get_section_by_name(".symtab")
        address = next(s["st_value"] for s in table.iter_symbols() if s.name == symbol)
        data = elf.get_section_by_name(".data")
        start = address - data["sh_addr"]
        content: bytes = data.data()[start : start + size]
        return content


def test_a_linked_kernel_gets_its_partitions_rewritten_in_place(tmp_path: Path) -> None:
    kernel = link_fake_pok(tmp_path, [b"old-one" * 10, b"old-two" * 10])
    new = [b"N1" * 20, b"N2" * 5]
    out = tmp_path / "new.elf"
    out.write_bytes(rewrite_kernel(kernel, new, [4096, 4096], ["one", "two"]))
    blob, sizes = pack_archive(new)
    assert _read_symbol(out, "part_sizes", 8) == struct.pack("<2I", *sizes)
    assert _read_symbol(out, "__archive2_begin", len(blob)) == blob


def test_rewriting_refuses_another_partition_count_or_too_little_room(tmp_path: Path) -> None:
    kernel = link_fake_pok(tmp_path, [b"x" * 40, b"y" * 40], memory=8192)
    two, three = (["p", "q"], [8192] * 2), (["p", "q", "r"], [8192] * 3)
    with pytest.raises(PokError, match=r"linked for 2 partition\(s\), the module has 3; build"):
        rewrite_kernel(kernel, [b"a", b"b", b"c"], three[1], three[0])
    with pytest.raises(PokError, match=r"need 208 bytes, the kernel's archive holds 88; build"):
        rewrite_kernel(kernel, [b"a" * 100, b"b" * 100], two[1], two[0])
    (tmp_path / "not.elf").write_bytes(b"\x7fELF" + bytes(10))
    with pytest.raises(PokError, match="not a readable ELF file"):
        rewrite_kernel(tmp_path / "not.elf", [b"a"], [8192], ["p"])


def test_rewriting_refuses_a_kernel_whose_partitions_are_smaller(tmp_path: Path) -> None:
    kernel = link_fake_pok(tmp_path, [b"x" * 40, b"y" * 40], memory=8192)
    with pytest.raises(PokError, match=r"smaller than the module's: q needs 16384 bytes, the "
                                       r"kernel gives 8192; build the kernel"):
        rewrite_kernel(kernel, [b"a", b"b"], [8192, 16384], ["p", "q"])
    (tmp_path / "kernel" / "deployment.h").unlink()
    with pytest.raises(PokError, match=r"cannot tell the sizes of the kernel's partitions: .*"
                                       r"deployment.h: No such file"):
        rewrite_kernel(kernel, [b"a", b"b"], [8192, 8192], ["p", "q"])


@pytest.mark.parametrize("text, sizes", [
    ("#define POK_CONFIG_PARTITIONS_SIZE                                             \\\n"
     "  { 12 * 1024, 0x2000 }\n", (12288, 8192)),
    ("#define POK_CONFIG_PARTITIONS_SIZE {(1 << 1), 3}\n", None),
    ("#define POK_CONFIG_NB_PARTITIONS 2\n", None),
])
def test_the_kernel_s_partition_sizes_are_read_from_its_deployment(
    tmp_path: Path, text: str, sizes: tuple[int, ...] | None,
) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel" / "deployment.h").write_text(text)
    if sizes is not None:
        assert kernel_partition_sizes(tmp_path / "pok.elf") == sizes
    else:
        with pytest.raises(PokError, match=r"^pvgen: error: .*deployment.h: "):
            kernel_partition_sizes(tmp_path / "pok.elf")


def test_reading_an_image_is_bounded(tmp_path: Path) -> None:
    """No file that never ends, no FIFO waiting for a writer, no symbolic-link loop and no
    file larger than an image may be holds the reader: each is refused at once."""
    fifo = tmp_path / "fifo.img"
    os.mkfifo(fifo)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    huge = tmp_path / "huge.img"
    with huge.open("wb") as sparse:
        sparse.truncate(MAX_IMAGE_BYTES + 1)
    for path, message in ((Path("/dev/zero"), "not a regular file"),
                          (fifo, "not a regular file"),
                          (tmp_path / "a", "Too many levels of symbolic links"),
                          (huge, "larger than an image may be")):
        with pytest.raises(ImageError, match=message) as caught:
            read_image(path)
        assert str(caught.value).startswith(f"pvgen: error: {path}: ")
