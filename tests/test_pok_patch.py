"""``pvgen pok-patch``: the kernel side of a definition put into a copy of a real POK tree.

The files and edits are checked here, without building; tests/test_pok_system.py builds and
boots systems in a patched tree. POK comes from ``POK_SRC`` or the bundle in
``../shared/pok/``; without either the tests skip with one line saying so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pvgen.cli import main as pvgen_main
from pvgen.definition import load
from pvgen.pok.errors import PokError
from pvgen.pok.patch import EDITS, HOOKS, patch_tree, unserved_calls
from pvgen.pok.tree import locate
from tests.conftest import DEFINITION, ROOT

pytestmark = pytest.mark.pok


@pytest.fixture
def pok(tmp_path: Path) -> Path:
    """A copy of POK's tree, to be edited."""
    try:
        source = locate(None, ROOT)
    except PokError as exc:
        pytest.skip(str(exc))
    return Path(shutil.copytree(source, tmp_path / "pok", ignore=shutil.ignore_patterns(".git")))


def test_the_kernel_side_goes_in_once(pok: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pvgen_main(["pok-patch", "--pok", str(pok), "--def", str(DEFINITION)]) == 0
    out = capsys.readouterr().out
    for generated in ("kernel/core/hypercall_services.c", "kernel/core/hypercall_vcpu.c",
                      "kernel/arch/x86/hypercall_upcall.c", "kernel/include/core/hypercall.h"):
        assert (pok / generated).is_file() and generated in out
    for edit in EDITS:
        assert HOOKS.marker(edit) in (pok / edit.path).read_text()
    interrupt = (pok / "kernel/arch/x86/interrupt.c").read_text()
    assert interrupt.index("tss_set_esp0(") < interrupt.index("pok_hypercall_return_to_partition")
    assert patch_tree(pok, load(DEFINITION)) == []  # a second time changes nothing


def test_a_pok_that_differs_is_left_as_it_was(pok: Path) -> None:
    interrupt = pok / "kernel/arch/x86/interrupt.c"
    interrupt.write_text(interrupt.read_text().replace("tss_set_esp0(", "tss_set(", 1))
    makefile = (pok / "kernel/core/Makefile").read_text()
    with pytest.raises(PokError, match=r"interrupt\.c: the call of tss_set_esp0\(\) in "
                                       r"update_tss\(\) is not there"):
        patch_tree(pok, load(DEFINITION))
    assert (pok / "kernel/core/Makefile").read_text() == makefile  # no edit made


@pytest.mark.parametrize(("definition", "why"), [
    (ROOT / "examples/hypervisors/pok_x86.def", r"traps at POK's own system-call vector 42"),
    (ROOT / "tests/golden/mini.def", r"POK has no service for the hypercall\(s\) put, get"),
])
def test_a_definition_pok_cannot_serve_is_refused(pok: Path, definition: Path, why: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert pvgen_main(["pok-patch", "--pok", str(pok), "--def", str(definition)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    with pytest.raises(PokError, match=why):
        patch_tree(pok, load(definition))
    assert not (pok / "kernel/core/hypercall_services.c").exists()


def test_hypercalls_def_is_served_whole() -> None:
    """Every hypercall of the default definition has a handler on POK."""
    assert unserved_calls(load(DEFINITION)) == []


def test_a_directory_that_is_not_pok_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert pvgen_main(["pok-patch", "--pok", str(tmp_path)]) == 2
    assert "not a POK checkout" in capsys.readouterr().err
