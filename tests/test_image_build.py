"""`pvgen image` and `pvgen inspect` end to end, through the real command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pvgen.config.model import ToolchainConfig
from pvgen.image.read import read_image
from pvgen.image.toolchain import ToolchainError, resolve_compiler
from tests.conftest import DEFINITION, ROOT
from tests.pokfake import link_fake_pok

EXAMPLES = ROOT / "examples"


def pvgen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pvgen.cli", *args], capture_output=True, text=True,
        check=False, cwd=ROOT, env={**os.environ, **(env or {})},
    )


def build(
    config: Path, out: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return pvgen("image", "--config", str(config), "--out", str(out), "--def", str(DEFINITION),
                 "--gen", str(out.parent / "gen"), *extra, env=env)


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("multi") / "multi.img"
    result = build(EXAMPLES / "multi" / "module.xml", out)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_inspect_prints_the_table_the_build_printed(multi: tuple[Path, str]) -> None:
    image, build_output = multi
    inspected = pvgen("inspect", str(image))
    assert inspected.returncode == 0, inspected.stderr
    table = inspected.stdout.split("\n", 1)[1]  # after the "image …: N bytes" line
    assert table in build_output
    for row in ("1   alpha", "2   beta", "3   gamma", "alpha.temperature_out  beta.temperature_in",
                "module  POWER_FAIL", "major frame 20.000 ms"):
        assert row in table


def test_the_image_holds_the_built_elves_linked_at_zero(multi: tuple[Path, str]) -> None:
    image_path, _ = multi
    image = read_image(image_path)
    build_dir = image_path.parent / "multi.build"
    for index, entry in enumerate(image.manifest.partitions):
        elf_bytes = (build_dir / f"{entry.name}.elf").read_bytes()
        assert image.partition_elf(index) == elf_bytes
        with (build_dir / f"{entry.name}.elf").open("rb") as f:
            loads = [s for s in ELFFile(f).iter_segments() if s["p_type"] == "PT_LOAD"]
        assert min(s["p_vaddr"] for s in loads) == 0
        assert entry.image_end + entry.stack_size <= entry.memory_size


def test_a_pok_system_sits_beside_the_image(multi: tuple[Path, str]) -> None:
    """The same partitions, and a kernel configuration for them (tests/test_pok_system.py
    builds it with POK's own rules)."""
    image_path, _ = multi
    pok = image_path.parent / "multi.pok"
    image = read_image(image_path)
    for index, entry in enumerate(image.manifest.partitions):
        assert (pok / f"{entry.name}.elf").read_bytes() == image.partition_elf(index)
    assert "#define POK_CONFIG_NB_PARTITIONS 3" in (pok / "kernel/deployment.h").read_text()
    assert "PARTITIONS = staged/alpha.elf staged/beta.elf staged/gamma.elf" in (
        pok / "Makefile").read_text()


def test_the_pok_system_says_what_its_make_needs(multi: tuple[Path, str],
                                                 tmp_path: Path) -> None:
    """Before POK's rules run: POK_PATH must be given, and no path may have white space."""
    system = tmp_path / "a system"
    shutil.copytree(multi[0].parent / "multi.pok", system)
    unset = subprocess.run(["make", "-C", str(system)], capture_output=True, text=True,
                           check=False)
    assert unset.returncode != 0 and "POK_PATH is not set" in unset.stderr
    spaced = subprocess.run(["make", "-C", str(system), f"POK_PATH={tmp_path}"],
                            capture_output=True, text=True, check=False)
    assert spaced.returncode != 0
    assert "POK's make rules cannot build in a path with white space" in spaced.stderr


def test_a_prebuilt_elf_guest_and_a_linked_kernel(multi: tuple[Path, str], tmp_path: Path) -> None:
    """Guest Elf=... is packed as is, and --kernel rewrites a POK-shaped kernel in place."""
    built = multi[0].parent / "multi.build" / "alpha.elf"
    config = (EXAMPLES / "hello" / "module.xml").read_text().replace(
        'Sources="hello.c" Runtime="baremetal"', f'Elf="{built}"'
    )
    (tmp_path / "module.xml").write_text(config)
    (tmp_path / "kernel").mkdir()
    kernel = link_fake_pok(tmp_path / "kernel", [b"placeholder partition" * 1200])  # > the ELF
    result = build(tmp_path / "module.xml", tmp_path / "one.img", "--kernel", str(kernel))
    assert result.returncode == 0, result.stderr
    image = read_image(tmp_path / "one.img")
    assert image.partition_elf(0) == built.read_bytes()
    rewritten = (tmp_path / "one.pok" / "pok.elf").read_bytes()
    assert image.archive in rewritten


def test_a_kernel_linked_for_another_count_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    kernel = link_fake_pok(tmp_path / "kernel", [b"a" * 40000, b"b" * 40000])
    result = build(EXAMPLES / "hello" / "module.xml", tmp_path / "h.img", "--kernel", str(kernel))
    assert result.returncode == 2
    assert "linked for 2 partition(s), the module has 1; build the kernel" in result.stderr
    assert "Traceback" not in result.stderr


def test_arm_guests_build_with_the_arm_toolchain(tmp_path: Path) -> None:
    config = (EXAMPLES / "hello" / "module.xml").read_text().replace(
        "<Partition ", '<Toolchain Arch="arm"/>\n  <Partition ', 1
    )
    (tmp_path / "module.xml").write_text(config)
    shutil.copy(EXAMPLES / "hello" / "hello.c", tmp_path / "hello.c")
    result = build(tmp_path / "module.xml", tmp_path / "arm.img")
    assert result.returncode == 0, result.stderr
    image = read_image(tmp_path / "arm.img")
    assert (image.manifest.arch, image.manifest.abi) == ("arm", "svc_arm")
    with (tmp_path / "arm.build" / "hello.elf").open("rb") as f:
        assert ELFFile(f)["e_machine"] == "EM_ARM"


def test_a_guest_that_does_not_compile_shows_the_compiler_s_words(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "hello" / "module.xml", tmp_path / "module.xml")
    (tmp_path / "hello.c").write_text("int main(void) { return undeclared_thing; }\n")
    result = build(tmp_path / "module.xml", tmp_path / "bad.img")
    assert result.returncode == 3, "a build that failed"
    assert "pvgen: error: partition 'hello': compiling hello.c failed" in result.stderr
    assert "undeclared_thing" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_compiler_is_named_with_how_to_install_it(tmp_path: Path) -> None:
    result = build(EXAMPLES / "hello" / "module.xml", tmp_path / "x.img",
                   env={"PVGEN_CC": "/nonexistent/bin/cc -m32"})
    assert result.returncode == 2
    assert "the x86 compiler '/nonexistent/bin/cc' ($PVGEN_CC) was not found" in result.stderr
    with pytest.raises(ToolchainError, match="gcc-arm-none-eabi"):
        resolve_compiler(ToolchainConfig("arm", cross_prefix="/nowhere/arm-none-eabi-"), env={})
    with pytest.raises(ToolchainError, match="cannot build guests for architecture 'riscv32'"):
        resolve_compiler(ToolchainConfig("riscv32"), env={})


def test_the_toolchain_follows_environment_then_configuration_then_default() -> None:
    assert resolve_compiler(ToolchainConfig("x86"), env={}).command == ("gcc", "-m32")
    assert resolve_compiler(ToolchainConfig("x86", cc="gcc -m32 -g"), env={}).command == (
        "gcc", "-m32", "-g")
    chosen = resolve_compiler(ToolchainConfig("x86", cc="clang"), env={"PVGEN_CC": "gcc -m32 -Os"})
    assert (chosen.command, chosen.origin) == (("gcc", "-m32", "-Os"), "$PVGEN_CC")
