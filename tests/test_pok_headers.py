"""The generated kernel side compiles against the real POK's headers, with POK's own flags.

tests/test_pok_kernel.py compiles and runs the kernel side against tests/pok_shim, a
stand-in; this compiles it inside a real POK tree, as POK's kernel rules compile a kernel
file (``misc/mk/rules-kernel.mk``: ``-W -Wall -Werror -nostdinc -ffreestanding`` and the
rest, the system's ``deployment.h`` included first), with a deployment of POK's own
testsuite, once with every feature the interface has and once with none. The generated
headers come first on the include path, so the POK tree is only read.

POK comes from ``POK_SRC`` (a checkout), else from the bundle in ``../shared/pok/``
beside the repository, cloned once into pvgen's cache (``pvgen.pok.tree``); without
either the tests skip with one line saying so.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pvgen.generate import render_all, write_artifacts
from pvgen.model import Interface
from pvgen.pok.errors import PokError
from pvgen.pok.patch import NEEDS
from pvgen.pok.tree import locate
from tests.conftest import ROOT

pytestmark = pytest.mark.pok

# POK's kernel flags (misc/mk/rules-kernel.mk), less its include and output options
POK_KERNEL_FLAGS = ("-W", "-Wall", "-g", "-m32", "-nostdinc", "-iwithprefix", "include",
                    "-fno-builtin", "-DPOK_ARCH_X86", "-O", "-Wuninitialized",
                    "-fno-stack-protector", "-ffreestanding", "-nostdlib", "-D__POK_C__",
                    "-Werror")
# A kernel deployment of POK's own testsuite: two partitions, threads, no ports
DEPLOYMENT = Path("testsuite/unitary_tests/limit_threads/kernel/deployment.h")
KERNEL_SOURCES = ("pok/kernel/core/hypercall.c", "pok/kernel/arch/x86/hypercall.c")


@pytest.fixture(scope="module")
def pok() -> Path:
    """POK's tree, only read here."""
    try:
        return locate(None, ROOT)
    except PokError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def gen(interface: Interface, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    write_artifacts(render_all(interface), out)
    return out


@pytest.mark.parametrize("source", KERNEL_SOURCES)
@pytest.mark.parametrize("configured", ["all-features", "no-features"])
def test_the_kernel_side_compiles_with_pok_s_headers_and_flags(
    pok: Path, gen: Path, interface: Interface, tmp_path: Path, source: str, configured: str,
) -> None:
    features = interface.features if configured == "all-features" else ()
    deployment = tmp_path / "deployment.h"
    deployment.write_text((pok / DEPLOYMENT).read_text(encoding="utf-8")
                          + "".join(f"#define {f} 1\n" for f in (NEEDS, *features)),
                          encoding="utf-8")
    source_path = gen / source
    # its quoted includes ("gdt.h") are POK's files beside it in the tree
    beside = pok / "kernel" / Path(source).relative_to("pok/kernel").parent
    done = subprocess.run(
        ["gcc", *POK_KERNEL_FLAGS, "-I", str(gen / "pok/kernel/include"),
         "-I", str(pok / "kernel/include"), "-iquote", str(beside),
         "-include", str(deployment), "-c", str(source_path), "-o", str(tmp_path / "k.o")],
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    symbols = subprocess.run(["nm", str(tmp_path / "k.o")], capture_output=True, text=True,
                             check=True).stdout
    assert " T pok_" in symbols  # compiled in: POK_NEEDS_PARAVIRT asked for it
