"""What pvgen emits for POK, built by the real POK's make rules and booted under QEMU.

Each module's ``NAME.pok/`` is built as it is emitted, in a private copy of a POK tree
(``pvgen.pok.tree``), with POK's own rules (``-Werror`` included); systems built against
POK's own system calls (``examples/hypervisors/pok_x86.def``) boot on the unmodified
kernel under ``qemu-system-i386`` and must print, partition by partition, what they print
in the emulator (``pvgen.pok.check``); systems built against hypercalls.def do the same on
a tree given its kernel side (``pvgen pok-patch``). POK comes from ``POK_SRC`` or the bundle in
``../shared/pok/``; without it, or without what POK's build needs from Debian, the tests
skip with one line saying what is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pvgen.definition import load
from pvgen.image.builder import build_image
from pvgen.pok.check import build_system, check_system
from pvgen.pok.cli import report
from pvgen.pok.errors import PokError
from pvgen.pok.kernel import rewrite_kernel
from pvgen.pok.tree import work_tree
from tests.conftest import DEFINITION, ROOT, pok_source

pytestmark = pytest.mark.pok

POK_PROFILE = ROOT / "examples" / "hypervisors" / "pok_x86.def"
# examples/rtems packs programs the RTEMS harness builds (tests/test_rtems.py boots them)
EXAMPLES = ("hello", "multi", "ticker", "ports", "health")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configured POK tree of this module's own."""
    return work_tree(pok_source(), tmp_path_factory.mktemp("pok"))


@pytest.fixture(scope="module")
def patched(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configured POK tree with hypercalls.def's kernel side (pvgen pok-patch)."""
    return work_tree(pok_source(), tmp_path_factory.mktemp("patched"), load(DEFINITION))


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_s_pok_system_builds_with_pok_s_rules(
    patched: Path, tmp_path: Path, example: str,
) -> None:
    """Built as emitted, no hand edits: POK's rules compile its kernel with -Werror, this
    deployment and hypercalls.def's kernel side, and link the partitions in."""
    built = build_image(ROOT / "examples" / example / "module.xml", tmp_path / f"{example}.img",
                        DEFINITION, tmp_path / "gen")
    assert built.pok_note is None
    build_system(built.pok_dir, patched)
    kernel = built.pok_dir / "pok.elf"
    symbols = subprocess.run(["nm", str(kernel)], capture_output=True, text=True,
                             check=True).stdout
    assert " __archive2_begin" in symbols and " pok_partition_init" in symbols
    assert " pok_hypercall_return_to_partition" in symbols  # the kernel side is in
    for partition in built.manifest.partitions:  # the emitted files are not padded in place
        assert (built.pok_dir / f"{partition.name}.elf").read_bytes() == \
            (tmp_path / f"{example}.build" / f"{partition.name}.elf").read_bytes()


@pytest.mark.parametrize("config", [
    ROOT / "examples" / "hello" / "module.xml",
    ROOT / "examples" / "multi" / "module.xml",
    ROOT / "tests" / "profiles" / "pokports.xml",
], ids=["hello", "multi", "pokports"])
def test_on_real_pok_each_partition_prints_what_it_prints_in_the_emulator(
    tree: Path, tmp_path: Path, config: Path,
) -> None:
    result = check_system(config, POK_PROFILE, tmp_path, tree)
    assert result.qemu.ended_by == "done", result.qemu.boot_log[-2000:]
    for partition in result.partitions:
        assert partition.emulator, partition.name  # it printed something to compare
        assert partition.pok == partition.emulator, partition.name
    assert result.unexpected == ()
    assert result.kernel_lines == ()  # no health event on POK either


@pytest.mark.parametrize("example", ["hello", "multi", "ticker", "ports", "health"])
def test_on_patched_pok_the_examples_print_what_they_print_in_the_emulator(
    patched: Path, tmp_path: Path, example: str,
) -> None:
    """hypercalls.def's guests on POK with pvgen's kernel side: console, time, idling, ports
    and the virtual CPU (ticker: every one of its 3500 timer ticks, delivered as upcalls);
    health, with the emulator serving health events as POK does (no HM tables), up to its
    first fault, after which neither prints more."""
    result = check_system(ROOT / "examples" / example / "module.xml", DEFINITION, tmp_path,
                          patched)
    assert result.qemu.ended_by == "done", result.qemu.boot_log[-2000:]
    for partition in result.partitions:
        assert partition.emulator, partition.name
        assert partition.pok == partition.emulator, "\n".join(partition.diff())
    assert result.unexpected == ()
    if example == "health":  # its application error, and the OS error the dispatch refuses
        assert result.kernel_lines == (
            "[KERNEL] [pv] partition 0: APPLICATION_ERROR: sensor value out of range",
            "[KERNEL] [pv] partition 0: ILLEGAL_REQUEST: hypercall 310 refused")
    else:
        assert result.kernel_lines == ()


def test_a_patched_tree_still_builds_pok_s_own_kind_of_system(patched: Path,
                                                              tmp_path: Path) -> None:
    """A system of POK's own system calls (no POK_NEEDS_PARAVIRT) in the patched tree: none of
    the kernel side is built in, and it runs as on the unmodified kernel."""
    result = check_system(ROOT / "examples" / "hello" / "module.xml", POK_PROFILE, tmp_path,
                          patched)
    assert result.same, report(result)
    symbols = subprocess.run(["nm", str(tmp_path / "hello.pok" / "pok.elf")],
                             capture_output=True, text=True, check=True).stdout
    assert "pok_hypercall" not in symbols


def test_a_real_kernel_gets_new_partitions_or_says_why_not(tree: Path, tmp_path: Path) -> None:
    """--kernel: hello's partition rewritten into the kernel POK built for hello gives that
    kernel back; larger or more partitions, or a kernel away from its system, are refused."""
    config = ROOT / "examples" / "hello" / "module.xml"
    first = check_system(config, POK_PROFILE, tmp_path / "first", tree)
    assert first.same
    kernel = tmp_path / "first" / "hello.pok" / "pok.elf"
    built = build_image(config, tmp_path / "again" / "hello.img", POK_PROFILE,
                        tmp_path / "again" / "gen", kernel=kernel)
    assert built.kernel is not None
    assert built.kernel.read_bytes() == kernel.read_bytes()  # the same partition, rewritten
    elf = (tmp_path / "again" / "hello.pok" / "hello.elf").read_bytes()
    with pytest.raises(PokError, match=r"hello needs 262144 bytes, the kernel gives 131072"):
        rewrite_kernel(kernel, [elf], [262144], ["hello"])
    with pytest.raises(PokError, match=r"linked for 1 partition\(s\), the module has 2"):
        rewrite_kernel(kernel, [elf, elf], [131072, 131072], ["hello", "other"])
    shutil.rmtree(tmp_path / "first" / "hello.pok" / "kernel")
    with pytest.raises(PokError, match=r"cannot tell the sizes of the kernel's partitions"):
        rewrite_kernel(kernel, [elf], [131072], ["hello"])
