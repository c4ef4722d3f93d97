"""Guests' rules on real POK: tests/vcpu_rules' tiny guests, mode_rules' cold start, the
privilege suite's thread pointer and forged upcall frame, and the emulator tests' behaviours
program (refused calls, stop, application errors, modes, a warm restart), on a POK tree
given hypercalls.def's kernel side (``pvgen pok-patch``), booted under QEMU.

Each guest checks one rule from inside its partition (masking, pending lines, ticks counted
while descheduled, nesting, irq_flash, the shared area's fast path...) and prints one
verdict line; on POK it must print what it prints in the emulator (``pvgen.pok.check``),
which tests/test_vcpu_rules.py holds to ``Test result: SUCCESS``. POK comes from
``POK_SRC`` or the bundle in ``../shared/pok/``; without it, or without what POK's build
needs from Debian, the tests skip with one line saying what is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pvgen.definition import load
from pvgen.pok.check import SystemCheck, check_system
from pvgen.pok.cli import report
from pvgen.pok.tree import work_tree
from tests.conftest import DEFINITION, ROOT, pok_source
from tests.emulator_harness import Builder, Part
from tests.test_privilege import write_programs

pytestmark = pytest.mark.pok

RULES = ROOT / "tests" / "vcpu_rules"
# bystander prints nothing: it only keeps descheduled_ticks out of the processor there
PROGRAMS = ("masked", "unmask", "disable_enable", "detach", "raised_in_handler", "nested_levels",
            "flash", "descheduled_ticks", "fastpath", "iret_nothing")


@pytest.fixture(scope="module")
def patched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return work_tree(pok_source(), tmp_path_factory.mktemp("pok"), load(DEFINITION))


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("vcpu_rules_x86"), "x86",
                   programs=[RULES / f"{name}.c" for name in (*PROGRAMS, "bystander")])


def on_pok(builder: Builder, name: str, parts: list[Part], work: Path, tree: Path) -> SystemCheck:
    """The module of these partitions built, run in the emulator and on POK, compared."""
    builder.image(name, parts)
    return check_system(builder.root / f"{name}.xml", DEFINITION, work, tree)


@pytest.mark.parametrize("name", PROGRAMS)
def test_on_real_pok_the_rule_holds_as_in_the_emulator(
    patched: Path, builder: Builder, tmp_path: Path, name: str,
) -> None:
    parts = [Part(1, name, {}, program=name)]
    if name == "descheduled_ticks":  # its module, as tests/test_vcpu_rules.py boots it
        parts = [Part(1, name, {}, window_ms=1, program=name),
                 Part(2, "bystander", {}, window_ms=9, program="bystander")]
    result = on_pok(builder, name, parts, tmp_path, patched)
    assert result.same, report(result)
    assert result.qemu.ended_by == "done", report(result)
    console = result.partitions[0].pok
    if name == "iret_nothing":  # the health monitor stops it after its banner
        assert console == ("*** BEGIN OF TEST iret_nothing ***",)
        assert result.kernel_lines == ("[KERNEL] [pv] partition 0: ILLEGAL_REQUEST: irq_return "
                                       "with no upcall to return from",)
    else:
        assert console[1] == "Test result: SUCCESS", report(result)
        assert result.kernel_lines == ()


def test_on_real_pok_a_partition_restarts_itself_cold(patched: Path, tmp_path: Path,
                                                      tmp_path_factory: pytest.TempPathFactory
                                                      ) -> None:
    """tests/mode_rules/cold.c: a partition asks for COLD_START, starts again from its entry
    with a new virtual CPU, and a cold start cannot become a warm one (INVALID_MODE)."""
    builder = Builder(tmp_path_factory.mktemp("mode_rules_x86"), "x86",
                      programs=[ROOT / "tests" / "mode_rules" / "cold.c"])
    result = on_pok(builder, "cold", [Part(1, "cold", {}, program="cold")], tmp_path, patched)
    assert result.same and result.qemu.ended_by == "done", report(result)
    assert result.partitions[0].pok[1] == "Test result: SUCCESS"


def test_on_real_pok_a_partition_s_life_goes_as_in_the_emulator(
    patched: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """tests/harness/behaviours.c, a partition per behaviour: a hypercall that does not
    exist, stop with an error code, raise_application_error, partition_set_mode NORMAL twice
    then IDLE, a warm restart, and shutdown from a partition that is not a SystemPartition.
    The consoles match; the health events are POK's [KERNEL] lines, and a stopped partition
    prints nothing more."""
    builder = Builder(tmp_path_factory.mktemp("behaviours_x86"), "x86")
    # the warm restart last: POK starts a partition that restarts itself again at once, in
    # the same window, where the emulator starts it at its next window
    behaviours = (18, 19, 20, 29, 31, 33)
    result = on_pok(builder, "behaviours", [Part(n, f"b{n}") for n in behaviours], tmp_path,
                    patched)
    assert result.same and result.qemu.ended_by == "done", report(result)
    consoles = {p.name: p.pok for p in result.partitions}
    assert consoles["b18"][1:] == ("hypercall 9999 returned 7", "resumed")  # ILLEGAL_REQUEST
    assert consoles["b19"] == ("run 41 mode 1 start 0",)  # stopped: nothing more
    assert "period 30000000 duration 5000000 identifier 31 mode 3 start 0 lock 0" in \
        consoles["b31"]  # partition_get_status in NORMAL
    assert consoles["b33"][1:] == ("set_mode WARM_START returned 5",  # not from a cold start
                                   "set_mode NORMAL returned 0",
                                   "run 41 mode 2 start 1")  # reloaded, WARM_START, restarted
    assert result.kernel_lines == (
        "[KERNEL] [pv] partition 0: ILLEGAL_REQUEST: hypercall 9999 refused",
        "[KERNEL] [pv] partition 1: APPLICATION_ERROR: stopped with error code 7",
        "[KERNEL] [pv] partition 2: APPLICATION_ERROR: oops",
        "[KERNEL] [pv] partition 3: ILLEGAL_REQUEST: shutdown from a partition that is not a "
        "SystemPartition")


def test_on_real_pok_a_system_partition_shuts_the_module_down(
    patched: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """shutdown from a SystemPartition: POK powers the machine off, and QEMU exits."""
    builder = Builder(tmp_path_factory.mktemp("shutdown_x86"), "x86")
    result = on_pok(builder, "shutdown", [Part(129, "owner", system=True)], tmp_path, patched)
    assert result.same and result.qemu.ended_by == "exited", report(result)
    assert result.partitions[0].pok == ("run 41 mode 1 start 0",)
    assert result.kernel_lines == ()


@pytest.mark.parametrize("name", ["thread_pointer", "forged_frame"])
def test_on_real_pok_the_privilege_rule_holds(patched: Path, tmp_path: Path, name: str,
                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    """thread_pointer: %gs:0 reads where thread_pointer_set pointed (POK's kernel loads the
    partition's own segment); forged_frame: an upcall frame whose saved EFLAGS asks for I/O
    privilege level 3 and virtual-8086 mode resumes with neither."""
    sources = tmp_path_factory.mktemp("privilege_sources")
    programs = [p for p in write_programs(sources, "x86") if p.stem == name]
    builder = Builder(tmp_path_factory.mktemp("privilege_x86"), "x86", programs=programs)
    result = on_pok(builder, name, [Part(1, name, {}, program=name)], tmp_path, patched)
    assert result.same and result.qemu.ended_by == "done", report(result)
    assert result.partitions[0].pok[1] == "Test result: SUCCESS"
