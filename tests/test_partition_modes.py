"""ARINC 653 partition modes (issue 6, point 4), in the style of the Xen Test Framework.

Tiny guests (``tests/mode_rules/*.c``) check from inside their partition each transition of
SET_PARTITION_MODE, the status and start condition a partition reads after each kind of
restart (its own, the health monitor's, the module's reset), what a warm start keeps (only the
sections its configuration names) and GET_TIME. Each prints one verdict between the RTEMS
banners; the tests read the verdicts, and what only the outside can see: the mode a partition
ended in, its restarts, and that an IDLE partition never ran again. Two modules: MODES, each
partition its own program and 5 ms window, and RESET, where one partition's MODULE-level
error resets both. Both run on x86 and ARM.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pvgen.cli import main as pvgen_main
from pvgen.config.model import KeptSection
from pvgen.diagnostics import Location
from pvgen.image.warm import KeptSectionError, kept_ranges
from tests.conftest import DEFINITION
from tests.emulator_harness import Builder, Part, Run, module_xml, rule_suite
from tests.modules import three_partitions

RULES = Path(__file__).parent / "mode_rules"
KEEP = (".warm",)

MODES = [
    Part(1, "normal", program="normal"),
    Part(2, "cold", program="cold", keeps=KEEP),
    Part(3, "warm", program="warm", keeps=KEEP),
    Part(4, "unkept", program="unkept"),
    Part(5, "hm_cold", {"APPLICATION_ERROR": "COLD_START"}, program="hm_cold", keeps=KEEP),
    Part(6, "hm_warm", {"MEMORY_VIOLATION": "WARM_START"}, program="hm_warm", keeps=KEEP),
    Part(7, "hm_idle", {"APPLICATION_ERROR": "IDLE"}, program="hm_idle"),
]
RESET = [Part(1, "bystander", program="bystander", keeps=KEEP),
         Part(2, "resetter", program="resetter", keeps=KEEP)]
PROGRAMS = sorted({p.program for p in MODES + RESET if p.program})


@dataclass(frozen=True)
class Booted:
    builder: Builder
    modes: Run
    reset: Run

    def partition(self, run: Run, name: str) -> tuple[str, int]:
        """The mode a partition ended in and its restarts, from the run's result."""
        assert run.result is not None
        summary = next(p for p in run.result.partitions if p.name == name)
        return summary.mode, summary.restarts


def verdict(name: str) -> list[str]:
    return [f"*** BEGIN OF TEST {name} ***", "Test result: SUCCESS", f"*** END OF TEST {name} ***"]


@pytest.fixture(scope="module", params=["x86", "arm"])
def booted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Booted:
    builder = rule_suite(request, tmp_path_factory, RULES, PROGRAMS)
    modes = builder.run(builder.image("modes", MODES), frames=8)
    reset = builder.run(builder.image("reset", RESET, levels={"APPLICATION_ERROR": "MODULE"},
                                      module_actions={"APPLICATION_ERROR": "RESET"}), frames=4)
    return Booted(builder, modes, reset)


def test_normal_idle_status_and_time(booted: Booted) -> None:
    """COLD_START -> NORMAL (OK) -> NORMAL (NO_ACTION); an unknown mode is INVALID_PARAM, an
    ignored ILLEGAL_REQUEST; GET_TIME in the window; IDLE: it never runs again."""
    assert booted.modes.console("normal") == verdict("normal"), booted.modes.stdout
    assert booted.modes.hm("normal") == [
        "ILLEGAL_REQUEST (hypercall 404 refused: bad_value) -> PARTITION IGNORE"]
    assert booted.partition(booted.modes, "normal") == ("IDLE", 0)


def test_a_cold_start_cannot_become_warm_and_keeps_nothing(booted: Booted) -> None:
    assert booted.modes.console("cold") == verdict("cold"), booted.modes.stdout
    assert booted.partition(booted.modes, "cold") == ("IDLE", 1)


def test_a_warm_start_keeps_what_the_configuration_says(booted: Booted) -> None:
    """NORMAL -> WARM_START -> WARM_START -> COLD_START: .warm kept twice, then reloaded."""
    assert booted.modes.console("warm") == verdict("warm"), booted.modes.stdout
    assert booted.partition(booted.modes, "warm") == ("IDLE", 3)


def test_a_warm_start_keeps_nothing_the_configuration_does_not_name(booted: Booted) -> None:
    assert booted.modes.console("unkept") == verdict("unkept"), booted.modes.stdout
    assert booted.partition(booted.modes, "unkept") == ("IDLE", 1)


def test_the_health_monitors_cold_start(booted: Booted) -> None:
    assert booted.modes.console("hm_cold") == verdict("hm_cold"), booted.modes.stdout
    assert booted.modes.hm("hm_cold") == [
        "APPLICATION_ERROR (sensor value out of range) -> PARTITION COLD_START"]
    assert booted.partition(booted.modes, "hm_cold") == ("IDLE", 1)


def test_the_health_monitors_warm_start(booted: Booted) -> None:
    """A WARM_START action restarts a partition still in COLD_START cold; from NORMAL, warm."""
    assert booted.modes.console("hm_warm") == verdict("hm_warm"), booted.modes.stdout
    hm = booted.modes.hm("hm_warm")
    assert [line.split(" (")[0] + " ->" + line.rsplit("->", 1)[1] for line in hm] == [
        "MEMORY_VIOLATION -> PARTITION WARM_START"] * 2
    assert booted.partition(booted.modes, "hm_warm") == ("IDLE", 2)


def test_the_health_monitors_idle(booted: Booted) -> None:
    assert booted.modes.console("hm_idle") == verdict("hm_idle"), booted.modes.stdout
    assert booted.modes.hm("hm_idle") == ["APPLICATION_ERROR (giving up) -> PARTITION IDLE"]
    assert booted.partition(booted.modes, "hm_idle") == ("IDLE", 0)


def test_every_partition_of_the_modes_module_ends(booted: Booted) -> None:
    assert booted.modes.result is not None
    assert booted.modes.result.ended_by == "all stopped", booted.modes.stdout


def test_a_module_reset_restarts_every_partition_with_hm_module_restart(booted: Booted) -> None:
    run = booted.reset
    for name in ("bystander", "resetter"):
        assert run.console(name) == verdict(name), run.stdout
        assert booted.partition(run, name) == ("IDLE", 1)
    assert run.hm("resetter") == ["APPLICATION_ERROR (module fault) -> MODULE RESET"]
    assert run.result is not None and run.result.ended_by == "all stopped"


# -- what the image builder checks and records ---------------------------------------------


def build(builder: Builder, name: str, keeps: tuple[str, ...]) -> tuple[int, str, str]:
    """`pvgen image` of the cold program's partition keeping `keeps`, then `pvgen inspect`
    of the image if it was built: the status, stderr, and inspect's output."""
    config = builder.root / f"{name}.xml"
    image = builder.root / f"{name}.img"
    config.write_text(module_xml(name, [Part(1, "cold", keeps=keeps)],
                                 f'Elf="{builder.elves["cold"].name}"', builder.arch),
                      encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        status = pvgen_main(["image", "--config", str(config), "--out", str(image),
                             "--def", str(DEFINITION), "--gen", str(builder.gen)])
    if status == 0:
        with redirect_stdout(out):
            assert pvgen_main(["inspect", str(image)]) == 0
    return status, err.getvalue(), out.getvalue()


def test_the_image_records_the_kept_section_and_inspect_lists_it(booted: Booted) -> None:
    """The section's address and size as the ELF's section header has them."""
    with booted.builder.elves["cold"].open("rb") as f:
        section = ELFFile(f).get_section_by_name(".warm")
        assert section is not None
        address, size = section["sh_addr"], section["sh_size"]
    status, err, listing = build(booted.builder, "kept", KEEP)
    assert status == 0, err
    [row] = [line.split() for line in listing.splitlines() if ".warm" in line]
    assert row == ["cold", ".warm", f"{address:#x}", "4"] and size == 4, listing  # a uint32_t


def test_a_kept_section_the_elf_lacks_or_clears_is_refused(booted: Booted) -> None:
    """Pointing at the Warm_Start_Keeps (file:line:col), naming the ELF; status 2."""
    status, err, _ = build(booted.builder, "missing", (".persist",))
    assert status == 2
    assert re.fullmatch(r"\S+missing\.xml:\d+:\d+: error: <Warm_Start_Keeps "
                        r"Section=\"\.persist\">: partition 'cold' has no allocated section "
                        r"'\.persist' in \S+cold-\w+\.elf\n", err), err
    status, err, _ = build(booted.builder, "cleared", (".bss",))
    assert status == 2
    assert "section '.bss' of" in err and "lies in .bss, which the start-up code clears" in err


def test_an_empty_kept_section_is_refused() -> None:
    """An allocated section of no bytes would keep nothing: refused, though it exists."""
    part = replace(three_partitions().partitions[0], warm_start_keeps=(
        KeptSection(".warm", Location("module.xml", 7, 30)),))
    with pytest.raises(KeptSectionError, match=r"^module\.xml:7:30: error: <Warm_Start_Keeps "
                       r"Section=\"\.warm\">: section '\.warm' of p\.elf is empty"):
        kept_ranges(part, "p.elf", {".warm": (0x1000, 0)}, {})
